"""Reads of the process managers' landing pages: the health of the incident process (open by tier, the oldest,
the clocks breached now, the open major incidents) and of the problem process (open by status, the oldest,
problems without a root cause past N days, known errors). A fixed number of queries each, whatever the load."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Count, Q

from sla.choices import ClockState
from sla.models import Clock
from tracker import access
from tracker.choices import OPEN_STATUSES, Kind, LinkType, Role, Status, Tier
from tracker.models import Ticket

from .models import MajorIncident

# Who opens each landing page: its process manager, managers and admins.
INCIDENT_HEALTH_ROLES = (Role.INCIDENT_MANAGER, Role.MANAGER, Role.ADMIN)
PROBLEM_HEALTH_ROLES = (Role.PROBLEM_MANAGER, Role.MANAGER, Role.ADMIN)
OLDEST = 10
LISTED = 20  # breaches and problems without a root cause listed; the count says how many there are


def _open(user, kind: str):
    return access.visible(user, Ticket.objects.filter(kind=kind, status__in=OPEN_STATUSES))


@dataclass
class IncidentHealth:
    by_tier: list[dict]  # {"label", "count", "tier"} for L1, L2, L3, then "No group"
    total: int
    oldest: list[Ticket]
    breached: list[Clock]
    breached_count: int
    majors: list[MajorIncident]


def incident_health(*, user, now: datetime) -> IncidentHealth:
    """Open incidents by tier, the oldest ten, the clocks of open incidents breached and still running, and the
    open major incidents with their number of children (5 queries)."""
    base = _open(user, Kind.INCIDENT)
    counts = dict(base.order_by().values_list("group__tier").annotate(n=Count("id")).values_list("group__tier", "n"))
    by_tier = [{"label": Tier(t).label, "count": counts.get(t, 0), "tier": t} for t in Tier.values]
    by_tier.append({"label": "No group", "count": counts.get(None, 0), "tier": None})
    oldest = list(base.select_related("group", "assignee", "service").order_by("created_at", "id")[:OLDEST])
    clocks = Clock.objects.filter(breached=True, state=ClockState.RUNNING, ticket__in=base)
    breached = list(clocks.select_related("ticket", "ticket__group").order_by("breached_at", "id")[:LISTED])
    breached_count = len(breached) if len(breached) < LISTED else clocks.count()
    visible = access.visible(user, Ticket.objects.all())
    majors = list(MajorIncident.objects.filter(ended_at__isnull=True, ticket__in=visible)
                  .select_related("ticket", "ticket__service", "declared_by")
                  .annotate(children=Count("ticket__links_out", filter=Q(ticket__links_out__type=LinkType.PARENT_OF)))
                  .order_by("-declared_at", "-id"))
    return IncidentHealth(by_tier=by_tier, total=sum(counts.values()), oldest=oldest, breached=breached,
                          breached_count=breached_count, majors=majors)


@dataclass
class ProblemHealth:
    by_status: list[dict]  # {"label", "count", "status"}
    total: int
    oldest: list[Ticket]
    without_cause: list[Ticket]
    without_cause_count: int
    known_errors: int
    days: int


def problem_health(*, user, now: datetime, days: int) -> ProblemHealth:
    """Open problems by status, the oldest ten, those still without a root cause `days` after they were raised,
    and the open known errors (4 queries, 5 when more than 20 lack a root cause)."""
    base = _open(user, Kind.PROBLEM)
    counts = dict(base.order_by().values_list("status").annotate(n=Count("id")).values_list("status", "n"))
    by_status = [{"label": Status(s).label, "count": n, "status": s}
                 for s, n in sorted(counts.items(), key=lambda item: Status.values.index(item[0]))]
    oldest = list(base.select_related("group", "assignee", "service").order_by("created_at", "id")[:OLDEST])
    stale = base.filter(root_cause="", created_at__lt=now - timedelta(days=days))
    without_cause = list(stale.select_related("group", "assignee").order_by("created_at", "id")[:LISTED])
    count = len(without_cause) if len(without_cause) < LISTED else stale.count()
    known = base.filter(Q(known_error=True) | Q(status=Status.KNOWN_ERROR)).count()
    return ProblemHealth(by_status=by_status, total=sum(counts.values()), oldest=oldest, without_cause=without_cause,
                         without_cause_count=count, known_errors=known, days=days)
