"""Reads of the self-service portal, the knowledge base, change enablement (CABs, templates, approval rounds),
the service-management panels of the ticket page, a change's tasks and rollbacks, the change success and
failure rates, and the change calendar (scheduled changes, blackout windows, collisions). Every ticket query
starts from `access.visible` when it answers a person."""

import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from urllib.parse import urlencode

from django.contrib.auth import get_user_model
from django.db import connection
from django.db.models import (
    Case,
    CharField,
    Count,
    Exists,
    F,
    IntegerField,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
    Window,
)
from django.db.models.functions import Coalesce, RowNumber, TruncMonth
from django.utils import timezone

from tracker import access
from tracker.choices import EventKind, ImplementationResult, Kind, LinkType, Role, Status
from tracker.forms import staff_users
from tracker.models import AssignmentGroup, Link, Ticket, TicketEvent
from tracker.precompiled import Precompiled

from . import search
from .choices import OPEN_TASK_STATES, ArticleState, ChangeOutcome, RoundStatus, TaskState, Vote
from .models import (
    Approval,
    ApprovalRound,
    Blackout,
    BlackoutOverride,
    Cab,
    CalendarFeed,
    ChangeRollback,
    ChangeTask,
    ChangeTemplate,
    ChangeTemplateVersion,
    Deflection,
    KnowledgeArticle,
    MajorIncident,
)

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
        .filter(raised_by_requester(user))
        .select_related("service")
        .order_by("-created_at", "-id")
    )


# Kinds a requester's portal lists only when they raised the ticket themselves: a problem, defect or change made
# by staff never shows up as "theirs", even when an older one names them as its requester.
STAFF_KINDS = (Kind.PROBLEM, Kind.DEFECT, Kind.CHANGE)


def raised_by_requester(user) -> Q:
    """Incidents and requests of theirs, and the other kinds only where they wrote the 'created' row."""
    raised = TicketEvent.objects.filter(ticket=OuterRef("pk"), kind=EventKind.CREATED, actor=user)
    return ~Q(kind__in=STAFF_KINDS) | Q(Exists(raised))


def article_search(*, text: str = "", limit: int = 30, user=None) -> list[KnowledgeArticle]:
    """Live articles this reader may read (public ones for requesters and anonymous readers): ranked against the
    query, each with its highlighted `snippet` (itsm.search); without a query, the frequent questions first, then
    the newest edits."""
    text = (text or "").strip()
    if text:
        hits = search.search(text=text, user=user, limit=limit)
        for hit in hits:
            hit.article.snippet = hit.snippet
        return [hit.article for hit in hits]
    return list(search.live_articles(user).prefetch_related("services").order_by("-faq", "-updated_at")[:limit])


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
    """A change's approval rounds, newest first, with their board and every approver's vote (two queries,
    compiled once per process: a change's page reads them)."""
    return _rounds(ticket_id=ticket.pk)


_rounds = Precompiled(lambda shape, *, ticket_id: ApprovalRound.objects.filter(ticket_id=ticket_id).select_related(
    "cab", "opened_by").prefetch_related(Prefetch("approvals", queryset=Approval.objects.select_related("approver")
                                                  .order_by("id"))).order_by("-number"))


def awaiting_vote(qs: QuerySet, *, user, now=None) -> QuerySet:
    """The tickets of `qs` whose open round waits for this user's vote ("My approvals")."""
    mine = Approval.objects.filter(round__ticket=OuterRef("pk"), round__status=RoundStatus.OPEN, approver=user,
                                   decision=Vote.PENDING)
    return qs.filter(Exists(mine))


def pending_approval_count(user) -> int:
    """How many changes wait for this person's vote (the top bar's approvals chip; index itsm_approval_pending)."""
    return Approval.objects.filter(approver=user, decision=Vote.PENDING, round__status=RoundStatus.OPEN).count()
# --- a change's tasks and rollbacks --------------------------------------------------------------------


def change_tasks(*, change: Ticket) -> list[ChangeTask]:
    """The change's tasks by planned start, with their owners (one query, compiled once per process)."""
    return _tasks(change_id=change.pk)


_tasks = Precompiled(lambda shape, *, change_id: ChangeTask.objects.filter(change_id=change_id).select_related(
    "assignee", "group").order_by("planned_start", "number"))


def change_task(*, user, key: str, number: int) -> ChangeTask | None:
    """One task of a change this user may see, with its change and owners; None when there is none."""
    visible = access.visible(user, Ticket.objects.filter(key=key.upper(), kind=Kind.CHANGE))
    return (ChangeTask.objects.filter(change__in=visible, number=number)
            .select_related("change", "assignee", "group").first())


def handoff_choices() -> dict:
    """The people and groups a task can be handed to, read once for every row's hand-off form."""
    return {"staff": list(staff_users()), "groups": list(AssignmentGroup.objects.order_by("tier", "name"))}


def change_rollbacks(*, change: Ticket) -> list[ChangeRollback]:
    """The rollbacks recorded on a change, in the order they ran, with who ran and recorded them (one query,
    compiled once per process)."""
    return _rollbacks(change_id=change.pk)


_rollbacks = Precompiled(lambda shape, *, change_id: ChangeRollback.objects.filter(change_id=change_id)
                         .select_related("run_by", "recorded_by").order_by("ran_at", "id"))


def my_tasks(*, user, scope: str = "mine", limit: int = 200) -> list[ChangeTask]:
    """Change tasks for this person: held by them, or unassigned in one of their groups (`scope="mine"`),
    or every open task (`"open"`); open ones by planned start, then what they finished in the last week
    (indexes itsm_changetask_assignee / _group)."""
    visible = access.visible(user, Ticket.objects.filter(kind=Kind.CHANGE)).values("pk")
    qs = ChangeTask.objects.filter(change__in=visible).select_related("change", "assignee", "group")
    if scope == "open":
        return list(qs.filter(state__in=OPEN_TASK_STATES).order_by("planned_start", "id")[:limit])
    mine = Q(assignee=user) | Q(assignee__isnull=True, group__in=user.assignment_groups.values("pk"))
    recent = Q(finished_at__gte=timezone.now() - timedelta(days=7))
    rows = list(qs.filter(mine).filter(Q(state__in=OPEN_TASK_STATES) | recent).order_by("planned_start", "id")[:limit])
    return [t for t in rows if t.is_open] + [t for t in rows if not t.is_open]


TASK_STATES = tuple(TaskState.values)


def task_list(*, user, owner: str = "", state: str = "", change: str = "") -> QuerySet:
    """Change tasks for the API, filtered by owner (`me` or a username), state and change key."""
    visible = access.visible(user, Ticket.objects.filter(kind=Kind.CHANGE)).values("pk")
    qs = ChangeTask.objects.filter(change__in=visible).select_related("change", "assignee", "group")
    if owner == "me":
        qs = qs.filter(Q(assignee=user) | Q(assignee__isnull=True, group__in=user.assignment_groups.values("pk")))
    elif owner:
        qs = qs.filter(assignee__username=owner)
    if state == "open":
        qs = qs.filter(state__in=OPEN_TASK_STATES)
    elif state:
        qs = qs.filter(state=state)
    if change:
        qs = qs.filter(change__key=change.upper())
    return qs.order_by("planned_start", "id")


# --- change success and failure rates ---------------------------------------------------------------------

FAILED_RESULTS = (ImplementationResult.FAILED, ImplementationResult.ROLLED_BACK)


def _caused_incident():
    return Exists(Link.objects.filter(target=OuterRef("pk"), type=LinkType.CAUSED_BY, source__kind=Kind.INCIDENT))


def _failed() -> Q:
    """A change counts as failed when its go-live failed, it was rolled back, or it caused an incident."""
    return Q(implementation_result__in=FAILED_RESULTS) | Q(_caused_incident())


def went_live(*, user, start: datetime, end: datetime) -> QuerySet:
    """Changes whose implementation was recorded (a result and a resolution time) in [start, end)."""
    return access.visible(user, Ticket.objects.filter(
        kind=Kind.CHANGE, resolved_at__gte=start, resolved_at__lt=end).exclude(implementation_result=""))


@dataclass
class RateRow:
    label: str
    params: dict  # what the list behind the figures filters by (service, group or month)
    total: int = 0
    failed: int = 0

    @property
    def query(self) -> str:
        return urlencode(self.params)

    @property
    def successful(self) -> int:
        return self.total - self.failed

    @property
    def success_rate(self) -> str:
        return f"{100 * self.successful / self.total:.0f}" if self.total else "—"

    @property
    def failure_rate(self) -> str:
        return f"{100 * self.failed / self.total:.0f}" if self.total else "—"


@dataclass
class Rates:
    overall: RateRow
    by_service: list[RateRow] = field(default_factory=list)
    by_team: list[RateRow] = field(default_factory=list)
    by_month: list[RateRow] = field(default_factory=list)


def change_rates(*, user, start: datetime, end: datetime) -> Rates:
    """Change success and failure rates of the changes that went live in [start, end), overall and per
    service, team (the change's assignment group) and month (of the go-live, in the reporting zone). One
    query, grouped by (service, team, month); the three tables are its sums."""
    zone = timezone.get_default_timezone()
    cells = (went_live(user=user, start=start, end=end)
             .annotate(month=TruncMonth("resolved_at", tzinfo=zone))
             .values("service_id", "service__name", "group_id", "group__name", "month")
             .annotate(total=Count("id"), failed=Count("id", filter=_failed()))
             .order_by())
    overall = RateRow("All changes", {})
    tables: dict[str, dict] = {"service": {}, "group": {}, "month": {}}
    for c in cells:
        month = c["month"].date() if isinstance(c["month"], datetime) else c["month"]
        keys = {
            "service": (c["service_id"], c["service__name"] or "No service", {"service": c["service_id"] or "none"}),
            "group": (c["group_id"], c["group__name"] or "No team", {"group": c["group_id"] or "none"}),
            "month": (month, f"{month:%B %Y}", {"month": f"{month:%Y-%m}"}),
        }
        for table, (key, label, params) in keys.items():
            row = tables[table].setdefault(key, RateRow(label, params))
            row.total += c["total"]
            row.failed += c["failed"]
        overall.total += c["total"]
        overall.failed += c["failed"]
    # Services and teams by name ("No service" last), months in time order.
    return Rates(
        overall=overall,
        by_service=sorted(tables["service"].values(), key=lambda r: (r.params["service"] == "none", r.label)),
        by_team=sorted(tables["group"].values(), key=lambda r: (r.params["group"] == "none", r.label)),
        by_month=[tables["month"][k] for k in sorted(tables["month"])],
    )


def month_range(text: str) -> tuple[datetime, datetime] | None:
    """'2026-11' -> the month's start and the next month's start in the reporting zone; None if malformed."""
    try:
        first = date.fromisoformat(f"{text}-01")
    except ValueError:
        return None
    after = date(first.year + first.month // 12, first.month % 12 + 1, 1)
    zone = timezone.get_default_timezone()
    return (datetime.combine(first, datetime.min.time(), zone), datetime.combine(after, datetime.min.time(), zone))


def change_outcomes(*, user, start: datetime, end: datetime, service: str = "", group: str = "", month: str = "",
                    outcome: str = "") -> QuerySet:
    """The changes behind a rate: went live in the period, on a service / team / month, successful or failed;
    each with its count of incidents caused, newest go-live first."""
    qs = went_live(user=user, start=start, end=end)
    for name, value in (("service", service), ("group", group)):
        if value == "none":
            qs = qs.filter(**{f"{name}__isnull": True})
        elif value.isdigit():
            qs = qs.filter(**{f"{name}_id": int(value)})
    if month:
        bounds = month_range(month)
        if bounds:
            qs = qs.filter(resolved_at__gte=bounds[0], resolved_at__lt=bounds[1])
    if outcome == ChangeOutcome.FAILED:
        qs = qs.filter(_failed())
    elif outcome == ChangeOutcome.SUCCESSFUL:
        qs = qs.exclude(_failed())
    incidents = Link.objects.filter(target=OuterRef("pk"), type=LinkType.CAUSED_BY, source__kind=Kind.INCIDENT)
    counted = incidents.order_by().values("target").annotate(n=Count("id")).values("n")
    return (qs.select_related("service", "group")
            .annotate(incidents=Coalesce(Subquery(counted, output_field=IntegerField()), 0))
            .order_by("-resolved_at", "-id"))


# --- the change calendar: scheduled changes, blackouts, collisions -------------------------------------------

@dataclass(frozen=True)
class Occurrence:
    """One occurrence of a blackout: a dated blackout has one, a repeating one many."""

    blackout: Blackout
    start: datetime
    end: datetime

    @property
    def scope(self) -> str:
        return self.blackout.service.name if self.blackout.service_id else "All services"


@dataclass
class Hit:
    """A blackout occurrence that a change's window falls into, and the override that lets it run there."""

    occurrence: Occurrence
    override: BlackoutOverride | None = None

    @property
    def blackout(self) -> Blackout:
        return self.occurrence.blackout


@dataclass
class Entry:
    """A change on the calendar: its window, the changes it collides with, the blackouts it falls into."""

    ticket: Ticket
    start: datetime
    end: datetime
    collisions: list[Ticket] = field(default_factory=list)
    hits: list[Hit] = field(default_factory=list)

    @property
    def blocked(self) -> bool:
        """It is still to run and falls into a blackout that nobody overrode (one added after it was scheduled)."""
        return self.ticket.is_open and any(h.override is None for h in self.hits)


@dataclass
class Calendar:
    start: datetime
    end: datetime
    entries: list[Entry]
    occurrences: list[Occurrence]
    collisions: list[tuple[Entry, Ticket]]  # each colliding pair once


def overlaps(a_start: datetime, a_end: datetime, b_start: datetime, b_end: datetime) -> bool:
    """Whether two windows share time. Windows are half-open ([start, end)); a window without length is a moment,
    inside a window that starts at or before it and ends after it."""
    if a_start == a_end and b_start == b_end:
        return a_start == b_start
    if a_start == a_end:
        return b_start <= a_start < b_end
    if b_start == b_end:
        return a_start <= b_start < a_end
    return a_start < b_end and b_start < a_end


def window_of(ticket: Ticket) -> tuple[datetime | None, datetime | None]:
    """A change's window; a window with a start but no end is the moment it starts."""
    return ticket.window_start, ticket.window_end or ticket.window_start


def _scheduled(user, start: datetime, end: datetime, *, service_ids=None):
    """Scheduled changes whose window may overlap [start, end] (callers filter with `overlaps`): the range test
    reads the index tracker_ticket_change_window (or ..._change_service with a service)."""
    qs = (Ticket.objects.filter(kind=Kind.CHANGE, window_start__isnull=False, window_start__lte=end)
          .alias(window_until=Coalesce("window_end", "window_start")).filter(window_until__gte=start))
    if service_ids is not None:
        qs = qs.filter(service_id__in=service_ids)
    return access.visible(user, qs)


def blackout_list(*, service_id: int | None = None, every_service: bool = True) -> list[Blackout]:
    """Blackouts, the global ones with those of one service (`service_id`) or, by default, of every service."""
    qs = Blackout.objects.select_related("service", "created_by")
    if service_id is not None:
        qs = qs.filter(Q(service__isnull=True) | Q(service_id=service_id))
    elif not every_service:
        qs = qs.filter(service__isnull=True)
    return list(qs.order_by("starts_at", "id"))


def blackout_occurrences(blackouts, start: datetime, end: datetime) -> list[Occurrence]:
    """Every occurrence of these blackouts that overlaps [start, end), by start."""
    out = [Occurrence(b, s, e) for b in blackouts for s, e in b.occurrences(start, end)]
    return sorted(out, key=lambda o: (o.start, o.blackout.pk))


def blackouts_hit(*, service_id: int | None, start: datetime, end: datetime | None,
                  blackouts: list[Blackout] | None = None) -> list[Occurrence]:
    """The blackout occurrences (global, or of the change's service) that a window falls into."""
    end = end or start
    if blackouts is None:
        blackouts = blackout_list(service_id=service_id, every_service=False)
    # A moment has no length: widen the search by a second and let `overlaps` decide.
    found = blackout_occurrences(blackouts, start, max(end, start + timedelta(seconds=1)))
    return [o for o in found if (not o.blackout.service_id or o.blackout.service_id == service_id)
            and overlaps(start, end, o.start, o.end)]


def change_collisions(*, ticket: Ticket | None, user=None, start: datetime | None = None,
                      end: datetime | None = None, service_id: int | None = None) -> list[Ticket]:
    """The other changes on the same service whose windows overlap this change's window (or the window and service
    given: `ticket=None` asks about a window being planned), cancelled changes left out. A change without a service
    or a window collides with nothing."""
    if start is None and ticket is not None:
        start, end = window_of(ticket)
        service_id = ticket.service_id
    end = end or start
    if start is None or not service_id:
        return []
    qs = Ticket.objects.filter(kind=Kind.CHANGE, window_start__isnull=False, service_id=service_id,
                               window_start__lte=end).alias(window_until=Coalesce("window_end", "window_start"))
    qs = qs.filter(window_until__gte=start).exclude(status=Status.CANCELLED)
    if ticket is not None:
        qs = qs.exclude(pk=ticket.pk)
    if user is not None:
        qs = access.visible(user, qs)
    return [t for t in qs.select_related("service").order_by("window_start", "id")
            if overlaps(start, end, *window_of(t))]


def overrides_of(*, ticket: Ticket) -> list[BlackoutOverride]:
    """The blackout overrides recorded on a change, oldest first (one query, compiled once per process)."""
    return _overrides(ticket_id=ticket.pk)


_overrides = Precompiled(lambda shape, *, ticket_id: BlackoutOverride.objects.filter(ticket_id=ticket_id)
                         .select_related("actor").order_by("created_at", "id"))


def _matching_override(overrides, ticket_id: int, blackout_id: int, start, end) -> BlackoutOverride | None:
    return next((o for o in overrides if o.ticket_id == ticket_id and o.blackout_id == blackout_id
                 and o.window_start == start and o.window_end == end), None)


def overridden_blackout_ids(*, ticket: Ticket, start: datetime, end: datetime | None) -> set[int]:
    """The blackouts a change manager has let this change run in, for exactly this window."""
    return set(BlackoutOverride.objects.filter(ticket=ticket, window_start=start, window_end=end)
               .values_list("blackout_id", flat=True))


@dataclass
class Schedule:
    """What the ticket page's Schedule panel shows of one change."""

    start: datetime | None
    end: datetime | None
    collisions: list[Ticket]
    hits: list[Hit]
    overrides: list[BlackoutOverride]


def change_schedule(*, ticket: Ticket, user) -> Schedule:
    """A change's window with its collisions, the blackouts it falls into (each with its override, if one was
    recorded for this window) and every override recorded on it: three queries."""
    overrides = overrides_of(ticket=ticket)
    if ticket.window_start is None:
        return Schedule(None, None, [], [], overrides)
    start, end = window_of(ticket)
    hits = [Hit(o, _matching_override(overrides, ticket.pk, o.blackout.pk, ticket.window_start, ticket.window_end))
            for o in blackouts_hit(service_id=ticket.service_id, start=start, end=end)]
    return Schedule(ticket.window_start, ticket.window_end, change_collisions(ticket=ticket, user=user), hits,
                    overrides)


# What the calendar, its feed and the API read of each change (not its plans and notes: a month holds 1,000).
CALENDAR_COLUMNS = ("kind", "key", "title", "status", "risk", "change_type", "requester_id", "service_id",
                    "service__name", "window_start", "window_end", "version", "updated_at")


def calendar(*, user, start: datetime, end: datetime, service_id: int | None = None) -> Calendar:
    """The scheduled changes whose windows overlap [start, end), each with its collisions and the blackouts it
    falls into, and the blackout occurrences of the period. At most four queries, whatever the number of
    changes: the changes, the changes just outside the period that collide with them, the blackouts, the
    overrides."""
    only = [service_id] if service_id else None
    rows = list(_scheduled(user, start, end, service_ids=only).select_related("service").only(*CALENDAR_COLUMNS)
                .order_by("window_start", "id"))
    entries = [Entry(t, *window_of(t)) for t in rows]
    entries = [e for e in entries if overlaps(e.start, e.end, start, end)]
    lo = min([start, *(e.start for e in entries)])
    hi = max([end, *(e.end for e in entries)])
    others: list[Ticket] = []
    if lo < start or hi > end:  # a window that crosses the period's edge may collide with one outside it
        shown = {e.ticket.pk for e in entries}
        services = {e.ticket.service_id for e in entries if e.ticket.service_id}
        others = [t for t in _scheduled(user, lo, hi, service_ids=services).select_related("service")
                  .only(*CALENDAR_COLUMNS) if t.pk not in shown]
    blackouts = blackout_list(service_id=service_id) if service_id else blackout_list()
    occurrences = blackout_occurrences(blackouts, lo, hi)
    overrides = list(BlackoutOverride.objects.filter(window_start__gte=lo, window_start__lte=hi)) if entries else []

    pairs = _collide(entries, others)
    by_scope: dict[int | None, list[Occurrence]] = {}
    for occurrence in occurrences:
        by_scope.setdefault(occurrence.blackout.service_id, []).append(occurrence)
    for entry in entries:
        t = entry.ticket
        for occurrence in by_scope.get(None, []) + (by_scope.get(t.service_id, []) if t.service_id else []):
            if overlaps(entry.start, entry.end, occurrence.start, occurrence.end):
                override = _matching_override(overrides, t.pk, occurrence.blackout.pk, t.window_start, t.window_end)
                entry.hits.append(Hit(occurrence, override))
    shown_occurrences = [o for o in occurrences if o.start < end and start < o.end]
    return Calendar(start, end, entries, shown_occurrences, pairs)


def _collide(entries: list[Entry], others: list[Ticket]) -> list[tuple[Entry, Ticket]]:
    """Flag every pair of changes on one service whose windows overlap, on both (a sweep by start per service);
    return each pair once."""
    by_service: dict[int, list] = {}
    for entry in entries:
        if entry.ticket.service_id and entry.ticket.status != Status.CANCELLED:
            by_service.setdefault(entry.ticket.service_id, []).append(entry)
    for t in others:
        if t.service_id in by_service and t.status != Status.CANCELLED:
            by_service[t.service_id].append(Entry(t, *window_of(t)))
    shown = {id(entry) for entry in entries}
    pairs = []
    for items in by_service.values():
        items.sort(key=lambda e: (e.start, e.ticket.pk))
        running: list[Entry] = []
        for item in items:
            running = [r for r in running if r.end >= item.start]
            for other in running:
                if overlaps(other.start, other.end, item.start, item.end):
                    other.collisions.append(item.ticket)
                    item.collisions.append(other.ticket)
                    if id(other) in shown:
                        pairs.append((other, item.ticket))
                    elif id(item) in shown:
                        pairs.append((item, other.ticket))
            running.append(item)
    return pairs


def calendar_feed_of(user) -> CalendarFeed | None:
    return CalendarFeed.objects.filter(user=user).first()


def calendar_feed_by_token(token: str) -> CalendarFeed | None:
    """The feed of a secret address, if it is still valid and its owner still works on changes."""
    if not token or len(token) > 100:
        return None
    feed = CalendarFeed.objects.select_related("user").filter(token_hash=CalendarFeed.hash(token)).first()
    if feed is None or not feed.user.is_active or not access.is_staff_member(feed.user):
        return None
    return feed


# --- problem management: the known-error database, the banner on incidents, a problem's analysis -----------


def _known_errors():
    from .services import KNOWN_ERROR_Q  # services import this module: read it when called

    return Ticket.objects.filter(KNOWN_ERROR_Q)


def known_error_list(*, user, text: str = "", service_id: int | None = None, category_id: int | None = None,
                     limit: int = 200) -> list[Ticket]:
    """The known-error database: open known errors, newest first, matching `text` in the title, root cause or
    workaround, by service and category, each with `incident_count` (its incidents), in one query."""
    qs = access.visible(user, _known_errors())
    text = (text or "").strip()
    if text:
        qs = qs.filter(Q(title__icontains=text) | Q(root_cause__icontains=text) | Q(workaround__icontains=text)
                       | Q(key__iexact=text))
    if service_id:
        qs = qs.filter(service_id=service_id)
    if category_id:
        qs = qs.filter(category_id=category_id)
    return list(qs.select_related("service", "category")
                .annotate(incident_count=Count("links_in", filter=Q(links_in__type=LinkType.INSTANCE_OF)))
                .order_by("-updated_at", "-id")[:limit])


# What the ticket page's service-management panels read about the tickets around one ticket, and how many rows
# of each they show: the changes on its service (Recent changes), the open known errors an open incident may be an
# instance of (the banner), a problem's incidents (Analysis, Resolve with incidents), and the major incident an
# incident is a child of (the Major incident panel).
NEIGHBOUR_LIMITS = {"changes": 10, "known": 5, "instances": 500, "major": 1}
# What those panels show of each row (and sort by): a problem may list hundreds of incidents, and loading whole
# tickets and requesters into model instances cost the page more than reading them.
NEIGHBOUR_FIELDS = ("kind", "number", "key", "title", "status", "implementation_result", "workaround",
                    "created_at", "updated_at", "requester__username", "requester__first_name",
                    "requester__last_name")


def _neighbour_shape(ticket: Ticket, now: datetime | None, days: int) -> tuple[tuple[str, ...], dict]:
    """Which parts apply to this ticket (the query's shape) and the values they read."""
    names, values = [], {"pk": ticket.pk}
    if ticket.service_id:
        names.append("changes")
        values["service_id"] = ticket.service_id
        values["since"] = (now or timezone.now()) - timedelta(days=days)
    if ticket.kind == Kind.INCIDENT and ticket.is_open and (ticket.service_id or ticket.category_id):
        if ticket.service_id:
            names.append("known")
        else:
            names.append("known-by-category")
            values["category_id"] = ticket.category_id
    if ticket.kind == Kind.INCIDENT:  # the major incident it is a child of
        names.append("major")
    if ticket.kind == Kind.PROBLEM:
        names.append("instances")
    return tuple(names), values


def _neighbour_rows(names: tuple[str, ...], *, pk: int, service_id: int = 0, category_id: int = 0,
                    since: datetime | None = None, visible=lambda qs: qs) -> QuerySet:
    """The parts `names` in ONE query: each part is a condition, rows are tagged with their part and numbered
    within it (a window), and each part keeps its first rows by last update."""
    parts: dict[str, Q] = {}
    for name in names:
        if name == "changes":
            parts["changes"] = Q(service_id=service_id, kind=Kind.CHANGE, updated_at__gte=since)
        elif name in ("known", "known-by-category"):
            from .services import KNOWN_ERROR_Q  # services import this module: read it when called

            match = Q(service_id=service_id) if name == "known" else Q(category_id=category_id)
            parts["known"] = KNOWN_ERROR_Q & match
        elif name == "major":
            parents = Link.objects.filter(target_id=pk, type=LinkType.PARENT_OF).values("source_id")
            parts["major"] = Q(pk__in=MajorIncident.objects.filter(ticket_id__in=parents).values("ticket_id"))
        elif name == "instances":
            parts["instances"] = Q(pk__in=Link.objects.filter(target_id=pk, type=LinkType.INSTANCE_OF)
                                   .values("source_id"))
    linked = Link.objects.filter(source_id=pk, target=OuterRef("pk"), type=LinkType.INSTANCE_OF)
    if connection.features.supports_slicing_ordering_in_compound:
        # Each part is its own indexed query with its own limit, glued by UNION ALL: an OR of the parts (with
        # subqueries) would make PostgreSQL scan the whole ticket table.
        firsts = [visible(Ticket.objects.filter(cond))
                  .annotate(part=Value(name, output_field=CharField()), linked=Exists(linked))
                  .select_related("requester").only(*NEIGHBOUR_FIELDS)
                  .order_by("-updated_at", "-id")[:NEIGHBOUR_LIMITS[name]]
                  for name, cond in parts.items()]
        return firsts[0].union(*firsts[1:], all=True) if len(firsts) > 1 else firsts[0]
    # SQLite cannot limit the parts of a UNION: one query, the parts numbered by a window
    any_part = Q()
    for cond in parts.values():
        any_part |= cond
    return (visible(Ticket.objects.filter(any_part))
            .annotate(part=Case(*[When(cond, then=Value(name)) for name, cond in parts.items()],
                                output_field=CharField()),
                      linked=Exists(linked))
            .annotate(rank=Window(RowNumber(), partition_by=[F("part")],
                                  order_by=[F("updated_at").desc(), F("id").desc()]))
            .filter(rank__lte=max(NEIGHBOUR_LIMITS[name] for name in parts))
            .select_related("requester").only(*NEIGHBOUR_FIELDS).order_by("-updated_at", "-id"))


# Staff see every ticket (`access.visible` leaves their queryset as it is): the same SQL for all of them for the
# same parts, compiled once per process (building it cost the ticket page more than running it).
_staff_neighbours = Precompiled(lambda names, **values: _neighbour_rows(names, **values))


def ticket_neighbours(*, ticket: Ticket, user, now: datetime | None = None, days: int = 14) -> dict[str, list]:
    """The lists above in ONE query (the ticket page's budget): the changes on its service, the known errors an
    open incident may be an instance of, the major incident it is a child of, a problem's incidents."""
    names, values = _neighbour_shape(ticket, now, days)
    out: dict[str, list] = {name: [] for name in NEIGHBOUR_LIMITS}
    if not names:
        return out
    if access.is_staff_member(user):
        rows = _staff_neighbours(names, **values)
    else:
        rows = _neighbour_rows(names, **values, visible=lambda qs: access.visible(user, qs))
    for row in rows:
        if len(out[row.part]) < NEIGHBOUR_LIMITS[row.part]:
            out[row.part].append(row)
    for part in ("changes", "known", "major"):
        out[part].sort(key=lambda t: (t.updated_at, t.pk), reverse=True)
    out["instances"].sort(key=lambda t: (t.created_at, t.pk))
    return out


def known_errors_for(*, ticket: Ticket, user) -> list[Ticket]:
    """The open known errors an open incident may be an instance of: same service (or, without a service, same
    category), each with `linked` (this incident is already an instance of it)."""
    return ticket_neighbours(ticket=ticket, user=user)["known"]


def problem_behind(*, incident: Ticket) -> Ticket | None:
    """The problem an incident is an instance of (an open one first, else the newest), for its requester's page."""
    if incident.kind != Kind.INCIDENT:
        return None
    problems = list(Ticket.objects.filter(links_in__source=incident, links_in__type=LinkType.INSTANCE_OF,
                                          kind=Kind.PROBLEM).order_by("-created_at", "-id")[:5])
    return next((p for p in problems if p.is_open), problems[0] if problems else None)


# --- knowledge management ---------------------------------------------------------------------------------


def article_list(*, user, state: str = "") -> list[KnowledgeArticle]:
    """Staff's list of articles in a state (drafts, in review, published, retired), newest edit first; requesters
    and anonymous readers only ever get live public ones."""
    if not access.is_staff_member(user):
        return article_search(user=user, limit=100)
    qs = KnowledgeArticle.objects.select_related("author", "updated_by", "submitted_by").prefetch_related("services")
    if state in ArticleState.values:
        qs = qs.filter(state=state)
    return list(qs.order_by("-updated_at")[:200])


def article_state_counts() -> dict[str, int]:
    rows = KnowledgeArticle.objects.values("state").annotate(n=Count("id"))
    counts = {s: 0 for s in ArticleState.values}
    counts.update({r["state"]: r["n"] for r in rows})
    return counts


def article_uses(*, article: KnowledgeArticle, user) -> list:
    """The tickets an article helped (linked, replied, drafted from), as this staff member may see them."""
    if not access.is_staff_member(user):
        return []
    visible = access.visible(user, Ticket.objects.all()).values("pk")
    return list(article.uses.filter(ticket__in=visible).select_related("ticket", "actor").order_by("-created_at")[:50])


@dataclass
class DiffLine:
    tone: str  # same | added | removed
    old: int | None
    new: int | None
    text: str


def article_diff(old, new) -> list[DiffLine]:
    """Two versions' texts line by line (the title first): kept, removed and added lines with their numbers."""
    import difflib

    a = [f"# {old.title}", *old.body.splitlines()]
    b = [f"# {new.title}", *new.body.splitlines()]
    out = []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(a=a, b=b, autojunk=False).get_opcodes():
        if tag == "equal":
            out += [DiffLine("same", i1 + k + 1, j1 + k + 1, a[i1 + k]) for k in range(i2 - i1)]
            continue
        out += [DiffLine("removed", i + 1, None, a[i]) for i in range(i1, i2)]
        out += [DiffLine("added", None, j + 1, b[j]) for j in range(j1, j2)]
    return out


@dataclass
class DeflectionRates:
    by_service: list[dict]
    by_article: list[dict]
    total: int
    raised: int


def _rate(part: int, whole: int) -> str:
    return f"{100 * part / whole:.0f}" if whole else "—"


def deflection_rates(*, start: datetime, end: datetime) -> DeflectionRates:
    """Self-service deflection in [start, end): per service, deflections and the tickets requesters raised on
    it themselves (rate = deflections / (deflections + raised)); per article, deflections against its views
    (rate = deflections / views, its views of all time). Three grouped queries, whatever the volume."""
    period = Q(created_at__gte=start, created_at__lt=end)
    deflected = {r["service_id"]: r for r in Deflection.objects.filter(period).values(
        "service_id", name=F("service__name")).annotate(n=Count("id"))}
    # incidents and requests raised by requesters themselves (the portal's), per service
    by_self = TicketEvent.objects.filter(ticket=OuterRef("pk"), kind=EventKind.CREATED, actor=OuterRef("requester"))
    raised = {r["service_id"]: r for r in Ticket.objects.filter(
        period, Exists(by_self), kind__in=[Kind.INCIDENT, Kind.REQUEST], requester__role=Role.REQUESTER,
    ).values("service_id", name=F("service__name")).annotate(n=Count("id"))}
    rows = []
    for sid in {*deflected, *raised}:
        d = deflected.get(sid, {}).get("n", 0)
        r = raised.get(sid, {}).get("n", 0)
        name = (deflected.get(sid) or raised.get(sid))["name"] or "No service named"
        rows.append({"label": name, "deflected": d, "raised": r, "rate": _rate(d, d + r)})
    rows.sort(key=lambda row: (-row["deflected"], row["label"]))
    articles = [{"label": r["title"], "pk": r["article_id"], "deflected": r["n"], "views": r["views"],
                 "rate": _rate(r["n"], r["views"])}
                for r in Deflection.objects.filter(period).values("article_id", title=F("article__title"),
                                                                  views=F("article__views"))
                .annotate(n=Count("id")).order_by("-n", "title")]
    total = sum(r["deflected"] for r in rows)
    return DeflectionRates(by_service=rows, by_article=articles, total=total, raised=sum(r["raised"] for r in rows))
