"""Reads of the 3rd-line queue and of releases."""

from datetime import datetime, timedelta

from django.db.models import F, Min, Q, QuerySet

from itsm.selectors import Clock, with_clocks
from tracker import access
from tracker.choices import OPEN_STATUSES, Kind, Role, Tier
from tracker.models import AssignmentGroup, Ticket
from tracker.selectors import LIST_RELATED

from .models import Release

L3_KINDS = (Kind.INCIDENT, Kind.PROBLEM, Kind.DEFECT)


def teams_of(user) -> QuerySet:
    """The L3 teams whose queue this user works: their own, or every L3 team for managers and admins."""
    groups = AssignmentGroup.objects.filter(tier=Tier.L3)
    if access.role_of(user) in (Role.MANAGER, Role.ADMIN):
        return groups
    return groups.filter(members=user)


def l3_queue(*, user, team_ids: list[int], mine: bool = False, limit: int = 100) -> list[Ticket]:
    """Open L3 work of these teams, riskiest first: nearest running SLA due, then priority, then age."""
    qs = access.visible(
        user, Ticket.objects.filter(group_id__in=team_ids, kind__in=L3_KINDS, status__in=OPEN_STATUSES)
    ).select_related(*LIST_RELATED)
    if mine:
        qs = qs.filter(assignee=user)
    order = [F("priority").asc(), F("created_at").asc()]
    if Clock is not None:
        qs = qs.annotate(next_due=Min("sla_clocks__due_at", filter=Q(sla_clocks__state="running")))
        order.insert(0, F("next_due").asc(nulls_last=True))
    return list(with_clocks(qs).order_by(*order)[:limit])


def service_releases(
    *, service_id: int | None, now: datetime, days: int = 14, limit: int = 10
) -> list[Release]:
    """Releases shipped to this service in the last `days` (index devflow_release_recent)."""
    if not service_id:
        return []
    return list(
        Release.objects.filter(service_id=service_id, shipped_at__gte=now - timedelta(days=days)).order_by(
            "-shipped_at"
        )[:limit]
    )
