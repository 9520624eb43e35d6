"""The sweep: claim due clocks, apply each warning or breach exactly once, escalate, notify.

- `clocks_sweep` claims due clocks in batches (`SELECT ... FOR UPDATE SKIP LOCKED` of the clock and its
  ticket on PostgreSQL, through `lock_skipping`) and applies each warning/breach once: effect row (unique
  per clock and level), clock update, escalation, timeline row, in-app notifications and email outbox
  rows, all in the batch's transaction. A sweeper killed mid-batch rolls back and the next sweep redoes
  the batch.
- Functional escalation rule: **each breached target moves the ticket up one tier**, applied after the
  batch's effects in the order the targets were due, each from the tier the ticket is at by then. A
  response breach takes an L1 ticket to L2 and a later resolution breach takes it to L3, whether one
  late sweep sees both breaches or two sweeps see one each. A pick target's breach escalates only while
  the ticket is still at that target's tier (an earlier escalation would have cancelled the clock had the
  sweep been on time). At the last tier, or when the move is refused, the effect records why instead.
- `heartbeat_record` stamps each periodic job's last run, for the liveness probe and the dashboard.
"""

import gc
import logging
import socket
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from django.db import connection, connections, transaction
from django.db.models import F, QuerySet
from django.db.models.base import ModelState
from django.db.models.query import ModelIterable
from django.db.models.signals import post_init, pre_init
from django.utils import timezone
from psycopg.adapt import Loader
from psycopg.types.datetime import TimestamptzLoader

from tracker.choices import PROCESS_MANAGER, EventKind, Role
from tracker.errors import DomainError
from tracker.inserts import copy_rows
from tracker.models import AssignmentGroup, Ticket, TicketEvent, User
from tracker.services import tickets_escalate

from ..calendars import BusinessCalendar, business_calendar
from ..choices import BREACH_LEVEL, Metric, NotificationKind
from ..models import Clock, ClockEffect, Policy, SweepHeartbeat
from .clocks import _fmt, _label, _levels, _plan, clocks_held
from .notifications import ClockTexts, _Outgoing, _preferences, _queue, array_literal

log = logging.getLogger(__name__)
SWEEP_HEARTBEAT = "sla-sweep"
FAILED_CLOCK_RETRY = timedelta(seconds=60)
# On PostgreSQL the database fills in a batch's notification and mail texts (`ClockTexts.write`); False writes
# them from Python, row by row (as on SQLite): the reference the tests compare the set-based rows with.
FILL_IN_DB = True


# --- claiming ---------------------------------------------------------------------------------------


def lock_skipping(qs: QuerySet, of: tuple[str, ...] = ("self",)) -> QuerySet:
    """Claim rows no other transaction holds: SKIP LOCKED where the backend has it (PostgreSQL).

    On SQLite writers are serialised (IMMEDIATE transactions), so a plain read is already exclusive.
    """
    if connection.features.has_select_for_update_skip_locked:
        return qs.select_for_update(skip_locked=True, of=of)
    return qs

# --- the sweep --------------------------------------------------------------------------------------


@dataclass
class _Effect:
    clock: Clock
    level: int
    due_at: datetime
    escalate: bool = False
    notes: list[str] = field(default_factory=list)
    hierarchical: bool = False  # `_hierarchical`, asked once per effect
    tells_requester: bool = False  # `_tells_requester`, likewise


def _due_effect(clock: Clock, cal: BusinessCalendar, now: datetime) -> _Effect | None:
    """The one effect to apply now: the breach if it passed, else the highest passed warning."""
    passed = None
    for level in _levels(clock.policy):
        if level <= clock.warned_percent or (level == BREACH_LEVEL and clock.breached):
            continue
        at = (
            clock.due_at
            if level == BREACH_LEVEL and clock.due_at
            else cal.threshold_at(
                resumed_at=clock.resumed_at, elapsed_s=clock.elapsed_s, goal_s=clock.goal_s, percent=level
            )
        )
        if at <= now:
            passed = (level, at)
    return _Effect(clock, passed[0], passed[1]) if passed else None


def _recipients(ticket: Ticket, group_members: dict[int, list]) -> list:
    if ticket.assignee_id:
        return [ticket.assignee]
    return list(group_members.get(ticket.group_id, []))


def _apply_due(clocks: list[Clock], now: datetime) -> int:
    """Apply due effects of claimed clocks; the caller holds their rows (and tickets) in its transaction."""
    tickets = {clock.ticket_id: clock.ticket for clock in clocks}  # one instance per ticket (`_claim`)
    group_ids = {t.group_id for t in tickets.values() if t.group_id and not t.assignee_id}
    members: dict[int, list] = {}
    if group_ids:
        through = Ticket.group.field.related_model.members.through
        for row in through.objects.filter(assignmentgroup_id__in=group_ids).select_related("user"):
            members.setdefault(row.assignmentgroup_id, []).append(row.user)

    effects: list[_Effect] = []
    for clock in clocks:
        cal = business_calendar(clock.policy.calendar)
        effect = _due_effect(clock, cal, now)
        if effect is None:  # re-planned since it was due: just look again later
            _plan(clock, cal)
            continue
        ticket = clock.ticket
        if effect.level == BREACH_LEVEL:
            clock.breached = True
            clock.breached_at = effect.due_at
            clock.group_id = ticket.group_id
            effect.escalate = clock.policy.functional_escalation
        else:
            clock.warned_percent = effect.level
        _plan(clock, cal)
        effects.append(effect)

    _update_swept(clocks)
    for e in effects:
        e.hierarchical, e.tells_requester = _hierarchical(e), _tells_requester(e)

    texts = ClockTexts()  # each distinct text rendered once per batch, filled in per ticket (by PostgreSQL: `write`)
    out = _Outgoing(ids=False, filled=texts if FILL_IN_DB and connection.vendor == "postgresql" else None)
    process_managers = _process_managers([e for e in effects if e.hierarchical])
    users = [u for t in tickets.values() for u in [t.assignee, t.group.manager if t.group_id else None] if u]
    users += [u for ms in members.values() for u in ms]
    users += [u for ms in process_managers.values() for u in ms]
    users += [e.clock.ticket.requester for e in effects if e.tells_requester]
    prefs = _preferences(u.id for u in users)
    labels: dict[tuple, str] = {}
    # A batch's timeline texts repeat a few targets, due times and groups: each piece is written once per batch.
    goals: dict[int, str] = {}
    stamps: dict[datetime, str] = {}
    managers: dict[int, str] = {}
    for e in effects:
        clock, ticket = e.clock, e.clock.ticket
        if (label := labels.get((clock.metric, clock.tier))) is None:
            label = labels[clock.metric, clock.tier] = _label(clock)
        group = ticket.group
        breach = e.level == BREACH_LEVEL
        kind = NotificationKind.BREACH if breach else NotificationKind.WARNING
        recipients = _recipients(ticket, members)
        if e.tells_requester:  # "it is late, and what happens next", in the requester's own words
            recipients.append(ticket.requester)
        told = []  # the process managers who receive this hierarchical escalation
        if e.hierarchical:
            recipients.append(group.manager)
            told = process_managers.get(PROCESS_MANAGER.get(ticket.kind), [])
            recipients += told
        context = {
            "clock": clock,
            "label": label,
            "level": e.level,
            "group": group,
            "due_at": clock.due_at,
        }
        _queue(
            out,
            ticket=ticket,
            users=recipients,
            kind=kind,
            now=now,
            key=f"clock{clock.id}:L{e.level}",
            context=context,
            prefs=prefs,
            texts=texts,
        )
        if (goal := goals.get(clock.goal_s)) is None:
            goal = goals[clock.goal_s] = _fmt(clock.goal_s)
        at = e.due_at if breach else clock.due_at
        if (stamp := stamps.get(at)) is None:
            stamp = stamps[at] = f"{at:%Y-%m-%d %H:%M:%S} UTC"
        what = (f"{label} target breached ({goal} reached at {stamp})" if breach
                else f"{label} at {e.level}% of {goal}, due {stamp}")
        if breach and clock.policy.hierarchical_escalation and group is not None and group.manager_id:
            if (manager := managers.get(group.id)) is None:
                manager = managers[group.id] = f"; manager {group.manager} notified"
            what += manager
        if told:
            role = told[0].get_role_display().lower()
            what += f"; {role}{'s' if len(told) > 1 else ''} {', '.join(str(u) for u in told)} notified"
        out.event_rows.append(  # EVENT_COLUMNS
            (ticket.id, None, EventKind.SLA, clock.metric, "breached" if breach else f"{e.level}%", f"SLA: {what}",
             True, now)
        )
    out.flush()
    from .webhooks import webhooks_for_effects

    webhooks_for_effects(effects, now)  # sla.warning / sla.breach: one read and one insert per batch

    # Functional escalation last (its hook re-syncs the ticket's clocks from the rows above), one tier per
    # breach in the order the targets were due, each from wherever the ticket is by then: the rule in the
    # module docstring, so a late sweep that sees two breaches at once ends where two on-time sweeps would.
    escalating = sorted((e for e in effects if e.escalate), key=lambda e: (e.due_at, e.clock.pk))
    rounds: list[list[_Effect]] = []  # a ticket's first breach in the first round, its second in the next...
    seen: dict[int, int] = {}
    for e in escalating:
        n = seen[e.clock.ticket_id] = seen.get(e.clock.ticket_id, -1) + 1
        if n == len(rounds):
            rounds.append([])
        rounds[n].append(e)
    escalated: dict[int, int] = {}  # clock id -> the group its breach moved the ticket to
    refused: dict[int, str] = {}  # clock id -> why its breach did not move the ticket
    for effects_ in rounds:
        moved, why = _escalate(effects_, now)
        escalated.update(moved)
        refused.update(why)
    # The effect rows last, with what the escalation made of each breach: written once, not updated afterwards
    # (nothing above reads them; the batch's transaction makes them and the rest one change all the same).
    copy_rows(ClockEffect, _EFFECT_COLUMNS, [
        (e.clock.pk, e.clock.ticket_id, e.level, e.due_at, now,
         *((escalated.get(e.clock.pk), refused.get(e.clock.pk, "")) if e.level == BREACH_LEVEL else (None, "")))
        for e in effects])
    return len(effects)


def _tells_requester(e: _Effect) -> bool:
    """The requester hears of a breach only where the policy says so, only of the resolution target, and only
    when they are not staff themselves (a colleague raising a ticket reads the staff's breach notice)."""
    clock = e.clock
    return (e.level == BREACH_LEVEL and clock.metric == Metric.RESOLUTION and clock.policy.tell_requester
            and clock.ticket.requester.role == Role.REQUESTER)


def _hierarchical(e: _Effect) -> bool:
    """A breach, or the last warning before it, escalates hierarchically: to the group's manager and to the
    process managers of the ticket's kind (the incident manager for an incident)."""
    clock, ticket = e.clock, e.clock.ticket
    if not clock.policy.hierarchical_escalation or ticket.group_id is None:
        return False
    return e.level == BREACH_LEVEL or e.level == _levels(clock.policy)[-2]


def _process_managers(effects: list[_Effect]) -> dict[str, list]:
    """The active process managers of the kinds these effects concern, by role: one query per batch."""
    roles = {PROCESS_MANAGER[e.clock.ticket.kind] for e in effects if e.clock.ticket.kind in PROCESS_MANAGER}
    found: dict[str, list] = {}
    if roles:
        for user in User.objects.filter(role__in=roles, is_active=True).order_by("username"):
            found.setdefault(user.role, []).append(user)
    return found


def _escalate(effects: list[_Effect], now: datetime) -> tuple[dict[int, int], dict[int, str]]:
    """Move each breached clock's ticket (one breach per ticket) up one tier in one batch (`tickets_escalate`);
    returns the group each clock's ticket went to and why the others did not move (by clock id), and records on
    the timeline why a ticket did not move."""
    refused: dict[int, str] = {}  # clock id -> why its ticket did not move
    moving: dict[int, _Effect] = {}  # ticket id -> its breach
    for e in effects:
        clock, ticket = e.clock, e.clock.ticket
        if not ticket.is_open:
            continue
        if clock.metric == Metric.PICK and (ticket.group.tier if ticket.group_id else None) != clock.tier:
            # An earlier breach already moved the ticket on; had the sweep been on time, this clock would have
            # been cancelled when the ticket left the tier, so it does not push the ticket a second time.
            refused[clock.pk] = DomainError(f"{ticket.key} has already left L{clock.tier}.").message
            continue
        moving[ticket.pk] = e
    notes = {pk: f"SLA {_label(e.clock)} target breached" for pk, e in moving.items()}
    with clocks_held([e.clock for e in effects]):  # as just written: the clocks' re-plan need not read them again
        refusals = tickets_escalate(tickets=[e.clock.ticket for e in moving.values()], actor=None, automatic=True,
                                    now=now, notes=notes)
    moved: dict[int, int] = {}
    for ticket_id, e in moving.items():
        if ticket_id in refusals:  # already at the last tier, or moved meanwhile: record, do not fail
            refused[e.clock.pk] = refusals[ticket_id].message
        else:
            moved[e.clock.pk] = e.clock.ticket.group_id
    if refused:
        clocks = {e.clock.pk: e.clock for e in effects}
        TicketEvent.objects.bulk_create([
            TicketEvent(ticket=clocks[pk].ticket, actor=None, kind=EventKind.SLA, field=clocks[pk].metric,
                        note=f"SLA: no functional escalation — {why}", internal=True, created_at=now)
            for pk, why in refused.items()])
    return moved, refused


_EFFECT_COLUMNS = ["clock_id", "ticket_id", "level", "due_at", "created_at", "escalated_to_id", "note"]
_SWEPT_FIELDS = ["warned_percent", "breached", "breached_at", "next_check_at", "due_at", "group_id"]
_SWEPT_TYPES = ["smallint", "boolean", "timestamptz", "timestamptz", "timestamptz", "bigint"]


def _update_swept(clocks: list[Clock]) -> None:
    """Write the swept fields of a batch in one statement (Django's bulk_update CASE chain is slow at 500 rows)."""
    if not clocks:
        return
    if connection.vendor != "postgresql":
        Clock.objects.bulk_update(clocks, [f.removesuffix("_id") for f in _SWEPT_FIELDS])
        return
    # One array per column (unnest): seven parameters whatever the batch, not seven per clock to parse.
    sets = ", ".join(f"{f} = v.{f}" for f in _SWEPT_FIELDS)
    arrays = ", ".join(f"%s::{t}[]" for t in ["bigint", *_SWEPT_TYPES])
    params = [array_literal(c.pk for c in clocks), *(array_literal(getattr(c, f) for c in clocks)
                                                     for f in _SWEPT_FIELDS)]
    sql = (
        f"UPDATE {Clock._meta.db_table} AS c SET {sets} "
        f"FROM unnest({arrays}) AS v(id, {', '.join(_SWEPT_FIELDS)}) WHERE c.id = v.id"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


class _ClockWithTicket(ModelIterable):
    """`select_related("ticket")` rows as clocks with their tickets, each ticket one instance per batch, built
    without `Model.__init__`: a claim builds a 17-column clock and a 44-column ticket per row, and the generic
    constructor (a loop over the fields and two signals each) was a third of the sweep's Python. The instances are
    those `from_db` makes (every column loaded, not adding, the query's database); a model with init signals
    listened to is built by `from_db` itself."""

    def __iter__(self):
        queryset = self.queryset
        db = queryset.db
        compiler = queryset.query.get_compiler(using=db)
        sql, params = compiler.as_sql()
        with connections[db].cursor() as cursor:
            _parse_times_fast(cursor)
            cursor.execute(sql, params)
            results = [cursor.fetchall()]
        clock_info = compiler.klass_info
        (ticket_info,) = clock_info["related_klass_infos"]
        clock_at, ticket_at = clock_info["select_fields"], ticket_info["select_fields"]
        select = compiler.select
        clock_names = [select[i][0].target.attname for i in clock_at]
        ticket_names = [select[i][0].target.attname for i in ticket_at]
        (ticket_id_at,) = [i for i, name in zip(ticket_at, ticket_names, strict=True) if name == "id"]
        build_clock, build_ticket = _builder(Clock, db, clock_names), _builder(Ticket, db, ticket_names)
        cache_ticket = Clock.ticket.field.set_cached_value
        tickets: dict[int, Ticket] = {}
        c0, c1, t0, t1 = clock_at[0], clock_at[-1] + 1, ticket_at[0], ticket_at[-1] + 1
        for row in compiler.results_iter(results):
            clock = build_clock(row[c0:c1])
            ticket = tickets.get(row[ticket_id_at])
            if ticket is None:
                ticket = tickets[row[ticket_id_at]] = build_ticket(row[t0:t1])
            cache_ticket(clock, ticket)
            yield clock


class _UtcTimestamptzLoader(Loader):
    """timestamptz as Django's loader reads it on a UTC connection (aware, `datetime.timezone.utc`), parsed by
    `datetime.fromisoformat` in C: Django's loader parses in Python, and a claim reads six times per clock. A text
    that is not `... +00` (another zone, infinity, a BC date, a five-digit year) goes to Django's loader."""

    def __init__(self, oid, context=None):
        super().__init__(oid, context)
        self._python = TimestamptzLoader(oid, context)

    def load(self, data):
        text = bytes(data).decode()
        if text.endswith("+00"):
            try:
                return datetime.fromisoformat(text)
            except ValueError:
                pass
        return self._python.load(data).replace(tzinfo=UTC)  # what Django's loader does on a UTC connection


def _parse_times_fast(cursor) -> None:
    """Read this cursor's timestamptz values with `_UtcTimestamptzLoader` (PostgreSQL, connection in UTC)."""
    if cursor.db.vendor == "postgresql" and cursor.db.timezone is UTC:
        cursor.cursor.adapters.register_loader("timestamptz", _UtcTimestamptzLoader)


def _builder(model, db: str, attnames: list[str]):
    """`values -> instance` of `model` as `model.from_db(db, attnames, values)` makes it."""
    if pre_init.has_listeners(model) or post_init.has_listeners(model):
        return lambda values: model.from_db(db, attnames, values)
    new = model.__new__

    def build(values):
        obj = new(model)
        obj.__dict__.update(zip(attnames, values, strict=True))
        state = obj._state = ModelState()
        state.adding, state.db = False, db
        return obj

    return build


def _claim(now: datetime, batch: int, *, pk: int | None = None) -> list[Clock]:
    qs = Clock.objects.due(now).order_by("next_check_at").select_related("ticket")
    if pk is not None:
        qs = qs.filter(pk=pk)
    # Lock the ticket too: a sweeper skips a ticket an agent is saving, so it never waits or deadlocks.
    qs = lock_skipping(qs, of=("self", "ticket"))[:batch]
    qs._iterable_class = _ClockWithTicket
    return _attach(list(qs))


def _attach(clocks: list[Clock]) -> list[Clock]:
    """Give claimed clocks what their effects, notifications and escalation read: policy and calendar, the
    ticket's group (and its manager), assignee and requester. Each distinct row is read once per batch and
    shared by the clocks and tickets that name it (joined to every claimed row, they were one object each)."""
    if not clocks:
        return clocks
    # One instance per ticket (`_ClockWithTicket` shares them), so a second clock sees the first one's escalation.
    tickets = {clock.ticket_id: clock.ticket for clock in clocks}.values()
    policies = Policy.objects.select_related("calendar").in_bulk({c.policy_id for c in clocks})
    groups = AssignmentGroup.objects.in_bulk({t.group_id for t in tickets if t.group_id})
    users = User.objects.in_bulk({u for t in tickets for u in (t.assignee_id, t.requester_id) if u}
                                 | {g.manager_id for g in groups.values() if g.manager_id})
    # Cached as select_related caches them (the ids are already these rows'): a descriptor's assignment per
    # relation and ticket cost more than the reads.
    cache = {name: field.set_cached_value for name, field in (
        ("manager", AssignmentGroup.manager.field), ("group", Ticket.group.field),
        ("assignee", Ticket.assignee.field), ("requester", Ticket.requester.field), ("policy", Clock.policy.field))}
    for group in groups.values():
        cache["manager"](group, users[group.manager_id] if group.manager_id else None)
    for ticket in tickets:
        cache["group"](ticket, groups[ticket.group_id] if ticket.group_id else None)
        cache["assignee"](ticket, users[ticket.assignee_id] if ticket.assignee_id else None)
        cache["requester"](ticket, users[ticket.requester_id] if ticket.requester_id else None)
    for clock in clocks:
        cache["policy"](clock, policies[clock.policy_id])
    return clocks


def clocks_sweep(
    *, now: datetime | None = None, batch: int = 1000, max_batches: int = 100, on_full_batch=None
) -> int:
    """Apply due warning/breach effects exactly once; safe to run in parallel and to repeat.

    Each batch is one transaction. A batch that fails is redone clock by clock, and a clock that still
    fails is logged and looked at again a minute later instead of blocking the queue. `on_full_batch()`, if
    given, is called once, after the first batch that came back full has committed: more may be due (the
    Celery task queues more sweeps then, so idle workers join in).
    """
    started = time.monotonic()
    total = 0
    for _ in range(max_batches):
        at = now or timezone.now()
        try:
            with _collector_paused():
                claimed, applied = _sweep_batch(at, batch)
            total += applied
        except DomainError:
            raise
        except Exception:
            log.exception("SLA sweep batch failed; retrying its clocks one by one")
            claimed = len(_sweep_one_by_one(at, batch))
        if claimed < batch:
            break
        if on_full_batch is not None:
            on_full_batch()
            on_full_batch = None
    heartbeat_record(name=SWEEP_HEARTBEAT, processed=total, duration_s=time.monotonic() - started)
    return total


def _sweep_batch(at: datetime, batch: int) -> tuple[int, int]:
    """Claim a batch and apply its effects in one transaction: (clocks claimed, effects applied). Its instances
    are freed when this returns, before the caller turns the garbage collector back on (`_collector_paused`)."""
    with transaction.atomic():
        claimed = _claim(at, batch)
        return len(claimed), _apply_due(claimed, at)


@contextmanager
def _collector_paused():
    """Python's cyclic garbage collector off for one batch, as it was before afterwards. A batch keeps thousands
    of instances alive until it ends, and each full collection their allocations set off walks them and every
    other object of the process to find no garbage (about 100 ms each, two or three per 5,000 breaches: a sixth
    of the sweep's CPU); they are freed by reference counting when the batch ends, before the collector is back
    (else its first collection would find them alive and keep them for a full one), and any cycle the batch made
    is collected once it is back."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def sweep_warm_up() -> None:
    """Load once, when a sweeping process starts, what its first batch would otherwise load while it holds its
    clocks: the template engine (its first use imports every installed app's template libraries, about a quarter
    of a second) and the breach and warning notices' templates and mail layout. The Celery worker calls it in each
    pool process as it starts (`sla.tasks`); the texts stay the same, they are only compiled sooner."""
    from ..notifications import _layout, _template

    for kind in (NotificationKind.BREACH, NotificationKind.WARNING):
        _template(kind)
    _layout()


def _sweep_one_by_one(at: datetime, batch: int) -> list:
    ids = list(Clock.objects.due(at).order_by("next_check_at").values_list("pk", flat=True)[:batch])
    for pk in ids:
        try:
            with transaction.atomic():
                claimed = [c for c in _claim(at, batch) if c.pk == pk] or _claim(at, 1, pk=pk)
                _apply_due(claimed, at)
        except Exception:
            log.exception("SLA clock %s failed; deferring it", pk)
            Clock.objects.filter(pk=pk).update(next_check_at=at + FAILED_CLOCK_RETRY)
    return ids


def heartbeat_record(*, name: str, processed: int, duration_s: float, now: datetime | None = None) -> None:
    now = now or timezone.now()
    updated = SweepHeartbeat.objects.filter(pk=name).update(
        last_run_at=now,
        last_processed=processed,
        last_duration_ms=int(duration_s * 1000),
        runs=F("runs") + 1,
        hostname=socket.gethostname()[:120],
    )
    if not updated:
        SweepHeartbeat.objects.get_or_create(
            pk=name,
            defaults={
                "last_run_at": now,
                "last_processed": processed,
                "last_duration_ms": int(duration_s * 1000),
                "runs": 1,
                "hostname": socket.gethostname()[:120],
            },
        )
