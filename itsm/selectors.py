"""Reads of the self-service portal, the knowledge base and the service-management panels of the ticket page.
Every ticket query starts from `access.visible`."""

import re
from datetime import datetime, timedelta

from django.db.models import Q

from tracker import access
from tracker.choices import Kind
from tracker.models import Ticket

from .models import KnowledgeArticle

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
