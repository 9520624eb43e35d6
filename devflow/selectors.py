"""Reads of the 3rd-line queue and of releases."""

from datetime import datetime, timedelta

from django.db.models import Exists, F, OuterRef, Q, QuerySet

from sla.models import Clock
from sla.selectors import with_clocks
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
    """Open L3 work of these teams, riskiest first: nearest running SLA due, then priority, then age.

    Driven from the clocks: running clocks are walked in due order (index sla_clock_running_by_due) and
    the first `limit` distinct matching tickets kept, so the page reads ~`limit` rows, not every open
    ticket; tickets without a running clock follow, by priority and age.
    """
    qs = access.visible(
        user, Ticket.objects.filter(group_id__in=team_ids, kind__in=L3_KINDS, status__in=OPEN_STATUSES)
    )
    if mine:
        qs = qs.filter(assignee=user)
    order = [F("priority").asc(), F("created_at").asc()]
    due: dict[int, object] = {}
    clocks = Clock.objects.filter(state="running", due_at__isnull=False, ticket__in=qs.values("pk"))
    # Batches of `limit`: most tickets have one running clock, so one batch usually fills the page, and
    # a LIMIT that small keeps the walk a plain index scan (a larger one tips it into a parallel plan
    # whose worker start-up costs more than the walk).
    batch, after = limit, None
    while len(due) < limit:
        page = clocks.filter(Q(due_at__gt=after[0]) | Q(due_at=after[0], id__gt=after[1])) if after else clocks
        rows = list(page.order_by("due_at", "id").values_list("ticket_id", "due_at", "id")[:batch])
        for ticket_id, due_at, _ in rows:
            due.setdefault(ticket_id, due_at)
        if len(rows) < batch:
            break
        after = rows[-1][1:]
    ids = list(due)[:limit]
    tickets = list(with_clocks(qs.select_related(*LIST_RELATED).filter(pk__in=ids)).order_by())
    for t in tickets:
        t.next_due = due[t.pk]
    tickets.sort(key=lambda t: (t.next_due, t.priority, t.created_at))
    if len(tickets) < limit:
        running = Exists(Clock.objects.filter(ticket=OuterRef("pk"), state="running", due_at__isnull=False))
        rest = with_clocks(qs.select_related(*LIST_RELATED).filter(~running)).order_by(*order)
        tickets += list(rest[: limit - len(tickets)])
    return tickets


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


# --- releases: the list, one release's page, what the desk reads --------------------------------------------

RELEASE_RELATED = ("service", "created_by", "notes_edited_by", "notes_reviewed_by", "uat_signed_by",
                   "published_by", "shipped_by")


def release_list(*, service_id: int | None = None, limit: int = 100) -> tuple[list[Release], list[Release]]:
    """(planned, shipped) releases, of one service or all: planned by date, shipped newest first."""
    from django.db.models import Count

    qs = Release.objects.select_related("service").annotate(ticket_count=Count("tickets"))
    if service_id:
        qs = qs.filter(service_id=service_id)
    planned = list(qs.filter(shipped_at__isnull=True).order_by(F("planned_for").asc(nulls_last=True), "id")[:limit])
    shipped = list(qs.filter(shipped_at__isnull=False).order_by("-shipped_at", "-id")[:limit])
    return planned, shipped


def release_get(pk: int) -> Release | None:
    return Release.objects.select_related(*RELEASE_RELATED).filter(pk=pk).first()


def release_tickets(release: Release) -> list[Ticket]:
    return list(release.tickets.select_related("assignee", "service").order_by("kind", "id"))


def incidents_since(release: Release, *, limit: int = 25) -> list[Ticket]:
    """Incidents raised on the release's service since it shipped: the desk's "a bug, or the new feature?"."""
    if release.shipped_at is None:
        return []
    return list(Ticket.objects.filter(kind=Kind.INCIDENT, service_id=release.service_id,
                                      created_at__gte=release.shipped_at)
                .select_related("requester", "assignee").order_by("-created_at")[:limit])


def open_releases(*, service_id: int | None) -> list[Release]:
    """Releases of this service not shipped yet: where a defect or change can still go."""
    if not service_id:
        return []
    return list(Release.objects.filter(service_id=service_id, shipped_at__isnull=True)
                .order_by(F("planned_for").asc(nulls_last=True), "id"))


def recent_notes(*, service_id: int | None, now: datetime, days: int = 14, limit: int = 5) -> list[Release]:
    """Releases of this service whose notes reached the desk (published) or that shipped in the last `days`."""
    if not service_id:
        return []
    since = now - timedelta(days=days)
    return list(Release.objects.filter(Q(published_at__gte=since) | Q(shipped_at__gte=since), service_id=service_id)
                .order_by(F("shipped_at").desc(nulls_first=True), "-published_at", "-id")[:limit])
