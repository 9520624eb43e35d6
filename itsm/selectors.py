"""Reads of the self-service portal, the knowledge base, change enablement (CABs, templates, approval rounds)
and the service-management panels of the ticket page. Every ticket query starts from `access.visible`."""

import re
from datetime import datetime, timedelta

from django.contrib.auth import get_user_model
from django.db.models import Count, Exists, OuterRef, Prefetch, Q, QuerySet

from tracker import access
from tracker.choices import Kind
from tracker.models import Ticket

from .choices import RoundStatus, Vote
from .models import Approval, ApprovalRound, Cab, ChangeTemplate, ChangeTemplateVersion, KnowledgeArticle

_WORD = re.compile(r"[\w-]{4,}")


def service_recent_changes(
    *, user, service_id: int | None, now: datetime, days: int = 14, limit: int = 10
) -> list[Ticket]:
    """Changes on this service touched in the last `days` (index tracker_ticket_service_recent)."""
    if not service_id:
        return []
    since = now - timedelta(days=days)
    return list(
        access.visible(
            user, Ticket.objects.filter(service_id=service_id, kind=Kind.CHANGE, updated_at__gte=since)
        ).order_by("-updated_at")[:limit]
    )


# --- the portal ---------------------------------------------------------------------------------------


def portal_tickets(*, user):
    """A requester's own tickets (visible() already keeps them to their own), newest first; the page
    paginates it (index tracker_ticket_requester)."""
    return (
        access.visible(user, Ticket.objects.filter(requester=user))
        .select_related("service")
        .order_by("-created_at", "-id")
    )


def article_search(*, text: str = "", limit: int = 30) -> list[KnowledgeArticle]:
    qs = KnowledgeArticle.objects.filter(published=True).select_related("service")
    text = (text or "").strip()
    if text:
        cond = Q(title__icontains=text) | Q(body__icontains=text)
        for word in _WORD.findall(text)[:5]:
            cond |= Q(title__icontains=word)
        qs = qs.filter(cond)
    return list(qs.order_by("-updated_at")[:limit])


# --- change enablement ------------------------------------------------------------------------------------


def cab_list() -> list[Cab]:
    """Every CAB with its service and approvers (two queries, whatever the number of boards)."""
    members = Prefetch("members", queryset=get_user_model().objects.order_by("username"))
    boards = Cab.objects.select_related("service").prefetch_related(members)
    return list(boards.order_by("-active", "emergency", "name"))


def template_list(*, retired: bool = False) -> list[ChangeTemplate]:
    """Live templates (or the retired ones) with their service and how many changes each made (one query)."""
    qs = ChangeTemplate.objects.filter(retired_at__isnull=not retired).select_related("service", "retired_by")
    return list(qs.annotate(used=Count("versions__changes")).order_by("title"))


def template_versions(template: ChangeTemplate) -> list[ChangeTemplateVersion]:
    return list(template.versions.select_related("created_by", "service").annotate(used=Count("changes"))
                .order_by("-number"))


def change_rounds(ticket: Ticket) -> list[ApprovalRound]:
    """A change's approval rounds, newest first, with their board and every approver's vote (three queries)."""
    approvals = Prefetch("approvals", queryset=Approval.objects.select_related("approver").order_by("id"))
    return list(ApprovalRound.objects.filter(ticket=ticket).select_related("cab", "opened_by")
                .prefetch_related(approvals).order_by("-number"))


def awaiting_vote(qs: QuerySet, *, user, now=None) -> QuerySet:
    """The tickets of `qs` whose open round waits for this user's vote ("My approvals")."""
    mine = Approval.objects.filter(round__ticket=OuterRef("pk"), round__status=RoundStatus.OPEN, approver=user,
                                   decision=Vote.PENDING)
    return qs.filter(Exists(mine))


def pending_approval_count(user) -> int:
    """How many changes wait for this person's vote (the top bar's approvals chip; index itsm_approval_pending)."""
    return Approval.objects.filter(approver=user, decision=Vote.PENDING, round__status=RoundStatus.OPEN).count()
