"""Reads of the 3rd-line queue and of releases."""

from datetime import UTC, date, datetime, timedelta

from django.db.models import Exists, F, OuterRef, Q, QuerySet
from django.utils import timezone

from sla.models import Clock
from sla.selectors import with_clocks
from tracker import access
from tracker.choices import OPEN_STATUSES, Kind, Role, Tier
from tracker.models import AssignmentGroup, Ticket
from tracker.precompiled import Precompiled
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
    return _recent_notes(limit, service_id=service_id, since=now - timedelta(days=days))


def _recent_notes_query(limit: int, *, service_id: int, since: datetime):
    return (Release.objects.filter(Q(published_at__gte=since) | Q(shipped_at__gte=since), service_id=service_id)
            .order_by(F("shipped_at").desc(nulls_first=True), "-published_at", "-id")[:limit])


_recent_notes = Precompiled(_recent_notes_query)  # the ticket page's Releases panel: compiled once per process
# --- team backlog, support capacity and time logs ---------------------------------------------------------

BACKLOG_KINDS = (Kind.DEFECT, Kind.CHANGE)
# Support work is 3rd-line work for the desk: incidents, problems and requests. Defects and changes are the
# team's project work (they are planned in its backlog), so their time does not count against the share.
SUPPORT_KINDS = (Kind.INCIDENT, Kind.PROBLEM, Kind.REQUEST)
LOAD_KINDS = (Kind.INCIDENT, Kind.PROBLEM)
_SEVERITY_ORDER = {"s1": 1, "s2": 2, "s3": 3, "s4": 4, "": 5}


def team_for_user(user, group_id: int) -> AssignmentGroup:
    """A development team this user may look at (their own L3 team, any L3 team for managers, admins and the
    process managers); NotFound otherwise."""
    from tracker.errors import NotFound

    team = AssignmentGroup.objects.filter(pk=group_id, tier=Tier.L3).select_related("manager").first()
    if team is None or not (
        access.role_of(user) in CAPACITY_ROLES or team.manager_id == user.pk
        or team.members.filter(pk=user.pk).exists()
    ):
        raise NotFound(f"No development team {group_id} for you.")
    return team


CAPACITY_ROLES = (Role.MANAGER, Role.ADMIN, Role.CHANGE_MANAGER, Role.INCIDENT_MANAGER, Role.PROBLEM_MANAGER)


def teams_for_user(user) -> QuerySet:
    """The development teams this user may open a backlog or capacity page of."""
    groups = AssignmentGroup.objects.filter(tier=Tier.L3).select_related("manager").order_by("name")
    if access.role_of(user) in CAPACITY_ROLES:
        return groups
    return groups.filter(Q(members=user) | Q(manager=user)).distinct()


def team_backlog(*, team: AssignmentGroup, kind: str = "", component: str = "", status: str = "") -> list[Ticket]:
    """The team's open defects and changes in backlog order: the team lead's ranks first, then by priority,
    severity and age. Each ticket carries `rank` (its position, or None) and `release` (the planned one)."""
    from .models import BacklogRank

    qs = Ticket.objects.filter(group=team, kind__in=BACKLOG_KINDS, status__in=OPEN_STATUSES)
    if kind in BACKLOG_KINDS:
        qs = qs.filter(kind=kind)
    if component:
        qs = qs.filter(component=component)
    if status:
        qs = qs.filter(status=status)
    tickets = list(qs.select_related("assignee", "service").prefetch_related("releases"))
    ranks = dict(BacklogRank.objects.filter(group=team, ticket__in=[t.pk for t in tickets])
                 .values_list("ticket_id", "position"))
    for t in tickets:
        t.rank = ranks.get(t.pk)
        planned = [r for r in t.releases.all() if r.shipped_at is None]
        t.release = planned[0] if planned else None
    tickets.sort(key=backlog_key)
    return tickets


def backlog_key(t: Ticket) -> tuple:
    return (t.rank is None, t.rank or 0, t.priority, _SEVERITY_ORDER.get(t.severity, 5), t.created_at, t.pk)


def backlog_components(team: AssignmentGroup) -> list[str]:
    return list(Ticket.objects.filter(group=team, kind__in=BACKLOG_KINDS, status__in=OPEN_STATUSES)
                .exclude(component="").order_by("component").values_list("component", flat=True).distinct())


def week_start(day: date) -> date:
    return day - timedelta(days=day.weekday())


def team_capacity(*, team: AssignmentGroup, now: datetime, weeks: int = 9) -> dict:
    """Per ISO week (the last `weeks - 1` and the current one): the team's hours, the share reserved for
    support, the support time logged (incidents, problems, requests) and the project time (defects, changes),
    with the decisions to go over the share; and the open 3rd-line load now. Constant queries."""
    from datetime import datetime as dt
    from datetime import time as tm

    from django.db.models import Count, Sum
    from django.db.models.functions import TruncDate

    from tracker.models import WorkLog

    from .models import CapacityDecision

    members = team.members.count()
    hours = members * team.member_hours
    reserved = round(hours * team.support_share / 100, 1)
    this_monday = week_start(timezone.localdate(now, UTC))
    first = this_monday - timedelta(weeks=weeks - 1)
    since = dt.combine(first, tm(0), UTC)
    by_day = (WorkLog.objects.filter(group=team, worked_at__gte=since, worked_at__lte=now)
              .annotate(day=TruncDate("worked_at", tzinfo=UTC)).values("day", "ticket__kind")
              .annotate(minutes=Sum("minutes")).order_by())
    rows = {first + timedelta(weeks=i): {"support": 0, "project": 0} for i in range(weeks)}
    for r in by_day:
        bucket = rows.get(week_start(r["day"]))
        if bucket is not None:
            bucket["support" if r["ticket__kind"] in SUPPORT_KINDS else "project"] += r["minutes"]
    decisions: dict = {}
    for d in (CapacityDecision.objects.filter(group=team, week__gte=first)
              .select_related("decided_by", "agreed_with", "ticket").order_by("week", "decided_at")):
        decisions.setdefault(d.week, []).append(d)
    out = []
    for monday, m in rows.items():
        iso = monday.isocalendar()
        support_h = round(m["support"] / 60, 1)
        out.append({
            "week": monday, "label": f"{iso.year}-W{iso.week:02d}", "current": monday == this_monday,
            "team_hours": hours, "reserved_hours": reserved, "support_hours": support_h,
            "project_hours": round(m["project"] / 60, 1), "over": support_h > reserved,
            "percent": round(100 * support_h / reserved) if reserved else None,
            "decisions": decisions.get(monday, []),
        })
    load = dict(Ticket.objects.filter(group=team, kind__in=LOAD_KINDS, status__in=OPEN_STATUSES)
                .values_list("kind").annotate(n=Count("id")).order_by())
    return {"team": team, "members": members, "team_hours": hours, "reserved_hours": reserved,
            "weeks": out, "open_load": sum(load.values()), "open_by_kind": load}


def time_logs(*, user, user_id: int | None = None, group_id: int | None = None, since=None, until=None
              ) -> QuerySet:
    """Time logged on tickets this staff member may see, newest first, filtered by person, team and period."""
    from tracker.models import WorkLog

    qs = WorkLog.objects.filter(ticket__in=access.visible(user, Ticket.objects.all()).values("pk"))
    if user_id:
        qs = qs.filter(user_id=user_id)
    if group_id:
        qs = qs.filter(group_id=group_id)
    if since:
        qs = qs.filter(worked_at__gte=since)
    if until:
        qs = qs.filter(worked_at__lte=until)
    return qs.select_related("user", "group", "ticket").order_by("-worked_at", "-id")
