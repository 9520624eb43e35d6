"""Clocks follow their ticket: policy matching, start, pause, resume, stop, re-plan and new cycles.

- `clocks_sync` runs inside every ticket change (registered in `SlaConfig.ready` through
  `on_ticket_change`): it attaches the matching policy's clocks, pauses, resumes, stops, re-plans and
  starts new cycles, in the ticket's own transaction, and writes one SLA timeline row.
- Active policies are cached per process behind a one-query stamp of the configuration.
- `_plan` / `_bank` are the arithmetic every other module reuses to place a clock's next check.
"""

from collections.abc import Callable
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache

from django.db import connection
from django.utils.translation import get_language

from tracker import config_cache, inserts
from tracker.choices import DONE_STATUSES, EventKind, Status
from tracker.inserts import insert_rows
from tracker.models import Ticket, TicketEvent
from tracker.services import event_record, rows_defer

from ..calendars import BusinessCalendar, business_calendar
from ..choices import BREACH_LEVEL, ClockState, Metric, NotificationKind
from ..models import Calendar, Clock, Holiday, Policy, TierTarget, WorkingHours
from .notifications import (
    EscalationTexts,
    _followers,
    _notify,
    _Outgoing,
    _preferences,
    _queue,
    _queue_rendered,
    acknowledge,
    array_literal,
)

# --- policies ---------------------------------------------------------------------------------------


# Every ticket change matches policies, so the active ones are kept per process until a row a match or a plan
# reads (policies, their targets and conditions, calendars, hours, holidays) changes in any process
# (`tracker.config_cache`, whose one-query stamp covers them). Saves in this process drop the cache at once.
config_cache.watch(Policy, Calendar, TierTarget, Policy.services.through, Policy.organisations.through,
                   WorkingHours, Holiday)


def _policies_load() -> list[Policy]:
    return list(
        Policy.objects.filter(active=True)
        .select_related("calendar")
        .prefetch_related("services", "organisations", "tier_targets", "calendar__hours", "calendar__holidays")
    )


_policies = config_cache.Cached(_policies_load)


def _active_policies() -> list[Policy]:
    """The active policies by order, with conditions, targets and calendars; cached until the stamp changes."""
    return _policies.get()


def forget_policies(**_signal_kwargs) -> None:
    """Drop this process's cached policies (connected to saves of policies, targets and calendars)."""
    _policies.forget()


def policy_matches(policy: Policy, ticket: Ticket) -> bool:
    """All of the policy's conditions hold for the ticket; an empty condition matches anything."""
    if policy.kinds and ticket.kind not in policy.kinds:
        return False
    if policy.priorities and ticket.priority not in [int(p) for p in policy.priorities]:
        return False
    services, organisations = _condition_ids(policy)
    if services and ticket.service_id not in services:
        return False
    if organisations or policy.sites:
        requester = ticket.requester
        if organisations and requester.organisation_id not in organisations:
            return False
        if policy.sites and requester.site not in policy.sites:
            return False
    return True


def _condition_ids(policy: Policy) -> tuple[set[int], set[int]]:
    """The ids of the policy's services and organisations; kept on the instance when they were prefetched (the
    cached active policies), as a batch matches the same policy for every ticket."""
    ids = getattr(policy, "_condition_ids", None)
    if ids is None:
        ids = ({s.pk for s in policy.services.all()}, {o.pk for o in policy.organisations.all()})
        prefetched = getattr(policy, "_prefetched_objects_cache", {})
        if "services" in prefetched and "organisations" in prefetched:
            policy._condition_ids = ids
    return ids


# Apps that pin a ticket to a policy of their own choosing (a catalogue item's SLA policy): each chooser
# returns the id of the policy for the ticket, or None to leave it to the policies' conditions.
_choosers: list[Callable[[Ticket], int | None]] = []


def register_policy_chooser(chooser: Callable[[Ticket], int | None]) -> None:
    if chooser not in _choosers:
        _choosers.append(chooser)


def policy_for(ticket: Ticket, policies: list[Policy] | None = None) -> Policy | None:
    """The policy an app's chooser pins the ticket to, if it is active; otherwise the first active policy, by
    order, that matches the ticket."""
    policies = _active_policies() if policies is None else policies
    for chooser in _choosers:
        pinned = chooser(ticket)
        if pinned is not None:
            for policy in policies:
                if policy.pk == pinned:
                    return policy
    for policy in policies:
        if policy_matches(policy, ticket):
            return policy
    return None


def _goal(policy: Policy, metric: str, tier: int | None) -> int | None:
    if metric == Metric.RESPONSE:
        return policy.response_s
    if metric == Metric.RESOLUTION:
        return policy.resolution_s
    return _tier_goals(policy).get(tier)


def _tier_goals(policy: Policy) -> dict[int, int]:
    """The policy's pick goals by tier (the first target of a tier); kept on the instance when its targets were
    prefetched (the cached active policies), as a batch asks the same policy for every ticket and a related
    manager's all() builds a queryset each time."""
    goals = getattr(policy, "_tier_goals", None)
    if goals is None:
        goals = {}
        for target in policy.tier_targets.all():
            goals.setdefault(target.tier, target.goal_s)
        if "tier_targets" in getattr(policy, "_prefetched_objects_cache", {}):
            policy._tier_goals = goals
    return goals


def _levels(policy: Policy) -> tuple[int, ...]:
    """The policy's warning percents in order, then the breach."""
    return _levels_of(tuple(policy.warn_percents or ()))


@lru_cache(maxsize=64)
def _levels_of(warn_percents: tuple) -> tuple[int, ...]:
    warn = sorted({int(p) for p in warn_percents if 0 < int(p) < BREACH_LEVEL})
    return (*warn, BREACH_LEVEL)


# --- planning one clock -----------------------------------------------------------------------------


def _plan(clock: Clock, cal: BusinessCalendar) -> None:
    """Recompute `due_at` and `next_check_at` of a running clock from its banked time and goal."""
    if clock.state != ClockState.RUNNING:
        clock.due_at = clock.due_at if clock.state == ClockState.MET else None
        clock.next_check_at = None
        return
    left = clock.goal_s - clock.elapsed_s
    clock.due_at = cal.add(clock.resumed_at, left) if left > 0 else clock.resumed_at
    pending = [p for p in _levels(clock.policy) if p > clock.warned_percent] if not clock.breached else []
    if not pending:
        clock.next_check_at = None
    elif pending[0] == BREACH_LEVEL:
        clock.next_check_at = clock.due_at
    else:
        clock.next_check_at = cal.threshold_at(
            resumed_at=clock.resumed_at, elapsed_s=clock.elapsed_s, goal_s=clock.goal_s, percent=pending[0]
        )


def _bank(clock: Clock, cal: BusinessCalendar, now: datetime) -> None:
    """Add the running segment to `elapsed_s` and restart the segment at `now`."""
    if clock.state == ClockState.RUNNING and clock.resumed_at is not None:
        clock.elapsed_s += cal.seconds_between(clock.resumed_at, now)
        clock.resumed_at = now


_labels: dict[tuple[str, str | None], str] = {}


def _label(clock: Clock) -> str:
    if clock.metric == Metric.PICK:
        return f"L{clock.tier} pick"
    key = (clock.metric, get_language())  # a create names two clocks: translated once per metric and language
    label = _labels.get(key)
    if label is None:
        label = _labels[key] = str(Metric(clock.metric).label).lower()
    return label


def _fmt(seconds: int) -> str:
    sign = "-" if seconds < 0 else ""
    seconds = abs(int(seconds))
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    return f"{sign}{h}h{m:02d}m" if h else f"{sign}{m}m{s:02d}s"


@dataclass
class _Sync:
    ticket: Ticket
    now: datetime
    notes: list[str] = field(default_factory=list)
    dirty: dict[int, Clock] = field(default_factory=dict)
    new: list[Clock] = field(default_factory=list)
    reason: str = ""


def _start(
    sync: _Sync,
    policy: Policy,
    cal: BusinessCalendar,
    metric: str,
    goal: int,
    *,
    tier=None,
    cycle: int = 1,
    paused: bool = False,
) -> Clock:
    t = sync.ticket
    clock = Clock(
        ticket=t,
        policy=policy,
        metric=metric,
        tier=tier,
        cycle=cycle,
        goal_s=goal,
        started_at=sync.now,
        group_id=t.group_id,
        priority=t.priority,
        state=ClockState.PAUSED if paused else ClockState.RUNNING,
        resumed_at=None if paused else sync.now,
        paused_at=sync.now if paused else None,
    )
    _plan(clock, cal)
    sync.new.append(clock)
    when = f"due {clock.due_at:%Y-%m-%d %H:%M:%S} UTC" if clock.due_at else "paused"
    sync.notes.append(
        f"{_label(clock)} clock started{f' (cycle {cycle})' if cycle > 1 else ''}, target {_fmt(goal)}, {when}"
    )
    return clock


def _stop(sync: _Sync, clock: Clock, cal: BusinessCalendar, state: str, why: str) -> None:
    _bank(clock, cal, sync.now)
    clock.state = state
    clock.stopped_at = sync.now
    clock.resumed_at = None
    clock.next_check_at = None
    if state == ClockState.CANCELLED:
        clock.due_at = None
    if clock.elapsed_s >= clock.goal_s and not clock.breached:
        # Stopped late before a sweep saw it: the record says breached, without after-the-fact effects.
        clock.breached = True
        clock.breached_at = clock.due_at or sync.now
    sync.dirty[clock.pk] = clock
    verdict = "breached" if clock.breached else "met"
    if state == ClockState.CANCELLED:
        sync.notes.append(f"{_label(clock)} clock cancelled ({why})")
    else:
        sync.notes.append(
            f"{_label(clock)} clock stopped ({why}): {verdict}, {_fmt(clock.elapsed_s)} of {_fmt(clock.goal_s)}"
        )


def _pause(sync: _Sync, clock: Clock, cal: BusinessCalendar) -> None:
    _bank(clock, cal, sync.now)
    clock.state = ClockState.PAUSED
    clock.paused_at = sync.now
    clock.resumed_at = None
    _plan(clock, cal)
    sync.dirty[clock.pk] = clock
    sync.notes.append(
        f"{_label(clock)} clock paused ({sync.ticket.get_status_display().lower()}), "
        f"{_fmt(clock.goal_s - clock.elapsed_s)} left"
    )


def _resume(sync: _Sync, clock: Clock, cal: BusinessCalendar) -> None:
    clock.state = ClockState.RUNNING
    clock.paused_at = None
    clock.resumed_at = sync.now
    _plan(clock, cal)
    sync.dirty[clock.pk] = clock
    sync.notes.append(f"{_label(clock)} clock resumed, due {clock.due_at:%Y-%m-%d %H:%M:%S} UTC")


def _replan(sync: _Sync, clock: Clock, policy: Policy, goal: int, cal_old, cal_new, why: str) -> None:
    _bank(clock, cal_old, sync.now)
    old_goal = clock.goal_s
    clock.policy = policy
    clock.goal_s = goal
    clock.priority = sync.ticket.priority
    _plan(clock, cal_new)
    sync.dirty[clock.pk] = clock
    due = f", due {clock.due_at:%Y-%m-%d %H:%M:%S} UTC" if clock.due_at else ""
    sync.notes.append(
        f"{_label(clock)} clock re-planned ({why}): target {_fmt(old_goal)} -> {_fmt(goal)}, "
        f"{_fmt(clock.elapsed_s)} already counted{due}"
    )


CLOCK_SYNC_FIELDS = [
    "policy",
    "goal_s",
    "state",
    "elapsed_s",
    "resumed_at",
    "paused_at",
    "due_at",
    "stopped_at",
    "next_check_at",
    "breached",
    "breached_at",
    "priority",
    "group",
]


def clocks_sync(
    *,
    ticket: Ticket,
    now: datetime,
    changes: dict | None = None,
    policies: list[Policy] | None = None,
    clocks: list[Clock] | None = None,
    reason: str = "",
) -> list[Clock]:
    """Bring the ticket's clocks in line with the ticket; call inside the transaction that changed it.

    Attaches the first matching policy's clocks, stops response on the first response and resolution
    when done, cancels a pick clock when the ticket leaves the tier, pauses in the policy's pause
    statuses, re-plans (keeping the time already counted) when the policy or priority changes, and
    starts a new resolution cycle on reopen. Writes one SLA timeline row when anything changed.
    `clocks`: the ticket's clocks when the caller knows them (none for a ticket created just now);
    `reason`: why, when the change is not the ticket's own (it opens the timeline row).
    """
    changes = changes or {}
    if clocks is None:
        clocks = list(Clock.objects.filter(ticket=ticket).select_related("policy__calendar"))
    policy = policy_for(ticket, policies)
    if policy is None and not any(c.is_active for c in clocks):
        _known(ticket, clocks)
        return []
    sync = _Sync(ticket=ticket, now=now, reason=reason)
    cal = business_calendar(policy.calendar) if policy else None
    done = ticket.status in DONE_STATUSES
    tier = ticket.group.tier if ticket.group_id else None

    # Policy or priority changed: keep the counted time, swap the goal (or cancel what no longer applies).
    for clock in [c for c in clocks if c.is_active]:
        old_cal = business_calendar(clock.policy.calendar)
        goal = _goal(policy, clock.metric, clock.tier) if policy else None
        if goal is None:
            _stop(sync, clock, old_cal, ClockState.CANCELLED, "no policy target applies any more")
        elif clock.policy_id != policy.pk:
            _replan(sync, clock, policy, goal, old_cal, cal, f"policy {policy.name}")
        elif "priority" in changes or goal != clock.goal_s:
            _replan(sync, clock, policy, goal, old_cal, cal, f"priority P{ticket.priority}")
    if policy is None:
        _save(sync)
        return _known(ticket, clocks)

    active = {(c.metric, c.tier): c for c in clocks if c.is_active}
    pause = ticket.status in (policy.pause_statuses or [])
    latest_cycle: dict[tuple, int] = {}
    for c in clocks:
        latest_cycle[(c.metric, c.tier)] = max(latest_cycle.get((c.metric, c.tier), 0), c.cycle)

    # First response.
    response = active.get((Metric.RESPONSE, None))
    if response is not None and (ticket.first_response_at is not None or done):
        _stop(sync, response, cal, ClockState.MET, "responded" if ticket.first_response_at else "done")
    elif (
        response is None
        and policy.response_s
        and ticket.first_response_at is None
        and not done
        and (Metric.RESPONSE, None) not in latest_cycle
    ):
        _start(sync, policy, cal, Metric.RESPONSE, policy.response_s, paused=pause)

    # Resolution: one cycle per time the ticket is open; a reopen starts the next cycle.
    resolution = active.get((Metric.RESOLUTION, None))
    if resolution is not None and done:
        cancelled = ticket.status == Status.CANCELLED
        _stop(
            sync,
            resolution,
            cal,
            ClockState.CANCELLED if cancelled else ClockState.MET,
            "cancelled" if cancelled else ticket.get_status_display().lower(),
        )
    elif resolution is None and policy.resolution_s and not done:
        cycle = latest_cycle.get((Metric.RESOLUTION, None), 0) + 1
        _start(sync, policy, cal, Metric.RESOLUTION, policy.resolution_s, cycle=cycle, paused=pause)

    # Per-tier pick targets: run while the ticket waits unassigned at a tier that has one.
    for (metric, clock_tier), clock in active.items():
        if metric != Metric.PICK:
            continue
        if done or clock_tier != tier:
            _stop(sync, clock, cal, ClockState.CANCELLED, "left the tier" if not done else "done")
        elif ticket.assignee_id is not None:
            _stop(sync, clock, cal, ClockState.MET, f"picked by {ticket.assignee}")
    pick_goal = _goal(policy, Metric.PICK, tier) if tier else None
    if pick_goal and not done and ticket.assignee_id is None and (Metric.PICK, tier) not in active:
        cycle = latest_cycle.get((Metric.PICK, tier), 0) + 1
        _start(sync, policy, cal, Metric.PICK, pick_goal, tier=tier, cycle=cycle, paused=pause)

    # Pause / resume on the policy's pause statuses.
    for clock in active.values():
        if clock.state == ClockState.RUNNING and pause:
            _pause(sync, clock, cal)
        elif clock.state == ClockState.PAUSED and not pause:
            _resume(sync, clock, cal)

    _save(sync, policy)
    return _known(ticket, clocks + sync.new)


def _known(ticket: Ticket, clocks: list[Clock]) -> list[Clock]:
    """Give the ticket its clocks as just written, in the order the selectors read them (`sla_clock_list`), so
    showing it reads none back."""
    ticket.sla_clock_list = sorted(clocks, key=lambda c: (c.metric, c.tier or 0, c.cycle))
    return clocks


def _save(sync: _Sync, policy: Policy | None = None) -> None:
    if (deferred := _deferred_saves.get()) is not None:  # a batch writes every ticket's clocks at once
        deferred.append((sync, policy))
        return
    if sync.dirty:
        Clock.objects.bulk_update(list(sync.dirty.values()), CLOCK_SYNC_FIELDS)
    if sync.new and not rows_defer(sync.ticket, sync.new):  # a new ticket's clocks go with its other rows
        inserts.insert(sync.new)
    if sync.notes:
        event_record(ticket=sync.ticket, actor=None, kind=EventKind.SLA, now=sync.now, field="sla",
                     note=_sync_note(sync, policy), internal=True)


def _sync_note(sync: _Sync, policy: Policy | None) -> str:
    """The SLA timeline row's text of one ticket's clock changes."""
    prefix = (f"SLA {policy.name}: " if policy else "SLA: ") + (f"{sync.reason}; " if sync.reason else "")
    return prefix + "; ".join(sync.notes)


def clocks_start_bulk(
    *, tickets: list[Ticket], policy: Policy, now: datetime, metrics=None, batch_size: int = 5000
) -> int:
    """Attach a policy's response/resolution clocks to many open tickets at once (seed and bench).

    Clocks count from `now`. No timeline rows and no policy matching: for loading data, not for live tickets.
    """
    cal = business_calendar(policy.calendar)
    metrics = metrics or [Metric.RESPONSE, Metric.RESOLUTION]
    rows = []
    for t in tickets:
        for metric in metrics:
            goal = _goal(policy, metric, None)
            if not goal or (metric == Metric.RESPONSE and t.first_response_at):
                continue
            start = now
            clock = Clock(
                ticket=t,
                policy=policy,
                metric=metric,
                goal_s=goal,
                started_at=start,
                resumed_at=start,
                group_id=t.group_id,
                priority=t.priority,
            )
            _plan(clock, cal)
            rows.append(clock)
    Clock.objects.bulk_create(rows, batch_size=batch_size)
    return len(rows)


# --- the reaction to ticket changes -----------------------------------------------------------------


def on_ticket_change(change) -> None:
    """Registered with `tracker.hooks`: keep the clocks in step, acknowledge a new ticket to its requester, and
    tell followers of replies and moves (the requester in their own words) and new owners of hand-offs."""
    ticket = change.ticket
    if change.reason == "swarm":  # no field of the ticket changed: nothing for its clocks
        _notify_swarm(change)
        return
    clocks_sync(ticket=ticket, now=change.now, changes=change.changes,
                clocks=[] if change.reason == "created" else None)
    if change.quiet:  # a step of a larger change that tells people once itself
        return
    if change.reason == "created":  # the requester hears we have it, whoever raised it and however
        acknowledge(ticket=ticket, actor=change.actor, now=change.now)
    if change.reason == "assigned" or (change.reason == "updated" and "assignee" in change.changes):
        new = change.changes.get("assignee", (None, None))[1]
        if new is not None and new != change.actor:
            _notify(
                ticket=ticket,
                users=[new],
                kind=NotificationKind.ASSIGNMENT,
                now=change.now,
                key=f"assigned:{ticket.pk}:v{ticket.version}",
                context={"actor": change.actor},
            )
        _tell_owner(change, NotificationKind.ASSIGNMENT, responsible=new)
    elif change.reason == "claimed":
        _tell_owner(change, NotificationKind.ASSIGNMENT, responsible=change.actor)
    elif change.reason == "owner":
        new = change.changes["owner"][1]
        if new is not None and new != change.actor:
            _notify(ticket=ticket, users=[new], kind=NotificationKind.ASSIGNMENT, now=change.now,
                    key=f"owner:{ticket.pk}:v{ticket.version}", context={"actor": change.actor, "owned": True})
    elif change.reason == "comment":
        comment = change.changes.get("comment", (None, None))[1]
        if comment is not None:
            _notify(
                ticket=ticket,
                users=_followers(ticket, actor=change.actor, staff_only=comment.internal),
                kind=NotificationKind.UPDATE,
                now=change.now,
                key=f"comment:{comment.pk}",
                context={"actor": change.actor, "comment": comment},
            )
    elif change.reason == "transition":
        old, new = change.changes.get("status", (None, None))
        if new is not None:
            _notify(
                ticket=ticket,
                users=_followers(ticket, actor=change.actor),
                kind=NotificationKind.UPDATE,
                now=change.now,
                key=f"status:{ticket.pk}:v{ticket.version}",
                context={"actor": change.actor, "status": new, "old": old, "status_label": Status(new).label,
                         "old_label": Status(old).label},
            )
    elif change.reason == "escalated":
        for notice in _escalation_notices(change):
            _notify(ticket=ticket, now=change.now, **notice)


def _escalation_notices(change, members: dict[int, list] | None = None) -> list[dict]:
    """Who hears of an escalation and what: the new group's members, and the owner (`_owner_notice`).
    `members`: the members by group when the caller read them for a batch."""
    ticket = change.ticket
    old_group, group = change.changes.get("group", (None, None))
    if group is None:
        return []
    users = list(group.members.all()) if members is None else members.get(group.pk, [])
    notices = [{"users": [u for u in users if u != change.actor], "kind": NotificationKind.ESCALATION,
                "key": f"escalated:{ticket.pk}:v{ticket.version}",
                "context": {"old_group": old_group, "group": group, "actor": change.actor}}]
    handed_over = change.changes.get("owner", (None, None))[1] is None and "owner" in change.changes
    owner = _owner_notice(change, NotificationKind.ESCALATION, old_group=old_group, group=group,
                          handed_over=handed_over)
    return notices + ([owner] if owner else [])


def _tell_owner(change, kind: str, **context) -> None:
    """Touch and hold: the owner hears of every hand-off of their ticket (a new responsible, an escalation;
    status changes reach them as a follower), unless they made it or are the new responsible themselves. On a
    hand-over escalation the owner who just gave the ticket up is told."""
    notice = _owner_notice(change, kind, **context)
    if notice is not None:
        _notify(ticket=change.ticket, now=change.now, **notice)


def _owner_notice(change, kind: str, **context) -> dict | None:
    ticket = change.ticket
    owner = ticket.owner or change.changes.get("owner", (None, None))[0]
    if owner is None or owner == change.actor or owner == context.get("responsible"):
        return None
    return {"users": [owner], "kind": kind, "key": f"owner-{change.reason}:{ticket.pk}:v{ticket.version}",
            "context": {"actor": change.actor, "for_owner": True, **context}}


def _notify_swarm(change) -> None:
    """A swarm step: invitees are asked in (a person, or every member of a group); the help a contributor
    recorded and a contributor leaving reach the ticket's staff followers (never the requester)."""
    ticket, actor = change.ticket, change.actor
    contributor = change.changes["contributor"][1]
    event = change.changes["event"][1]
    if event.field == "invited":
        if contributor.user_id:
            invited = [contributor.user]
        else:  # a member already on the swarm in person was asked in already
            invited = list(contributor.group.members.exclude(
                contributions__ticket=ticket, contributions__left_at__isnull=True))
        users = [u for u in invited if u != actor]
        kind, key = NotificationKind.ASSIGNMENT, f"swarm:{contributor.pk}:invited"
    else:
        users = _followers(ticket, actor=actor, staff_only=True)
        kind, key = NotificationKind.UPDATE, f"swarm:{event.pk}"
    _notify(ticket=ticket, users=users, kind=kind, now=change.now, key=key,
            context={"actor": actor, "swarm": event.field, "who": event.new, "note": event.note,
                     "group": contributor.group})


# --- many changes at once (`tracker.hooks.tickets_changed`) ---------------------------------------------

# Set while `clocks_sync_bulk` runs: `_save` collects each ticket's writes here instead of writing them.
_deferred_saves: ContextVar[list | None] = ContextVar("sla_deferred_saves", default=None)
# Set by a caller that holds some clocks of the batch as they are in the database (the sweep: the clocks it
# claimed and has just written): `clocks_sync_bulk` re-plans those instances and reads only the others.
_held_clocks: ContextVar[dict[int, Clock] | None] = ContextVar("sla_held_clocks", default=None)


@contextmanager
def clocks_held(clocks: list[Clock]):
    """Within the block, `clocks_sync_bulk` takes these clocks (each as its row stands now, with its ticket's
    instance) instead of reading them again."""
    token = _held_clocks.set({c.pk: c for c in clocks})
    try:
        yield
    finally:
        _held_clocks.reset(token)


def _clocks_of(tickets: dict[int, Ticket]) -> dict[int, list[Clock]]:
    """The clocks of these tickets by ticket: those held (`clocks_held`) and the rest in one query,
    each with its policy and calendar (the cached active policies; any other policy in one more query)."""
    held = {pk: c for pk, c in (_held_clocks.get() or {}).items() if c.ticket_id in tickets}
    if connection.vendor == "postgresql":  # two arrays, not a parameter per ticket and per clock held
        # NOT IN a subquery is checked against a hash of the held ids; NOT (id = ANY(array)) compared every row
        # with each of a sweep batch's thousand ids.
        columns = ", ".join(f.column for f in Clock._meta.concrete_fields)
        rest = Clock.objects.raw(f"SELECT {columns} FROM {Clock._meta.db_table} WHERE ticket_id = ANY(%s::bigint[]) "
                                 "AND id NOT IN (SELECT unnest(%s::bigint[]))",
                                 [array_literal(tickets), array_literal(held)])
    else:
        rest = Clock.objects.filter(ticket_id__in=list(tickets)).exclude(pk__in=list(held)).order_by()
    # A ticket's clocks in the model's order (`Clock.Meta.ordering` within a ticket), as `clocks_sync` reads them.
    found = sorted([*held.values(), *rest], key=lambda c: (c.metric, c.tier or 0, c.cycle))
    bare = [c for c in found if not Clock.policy.is_cached(c)]
    if bare:
        policies = {p.pk: p for p in _active_policies()}
        missing = {c.policy_id for c in bare} - policies.keys()
        if missing:  # a policy no longer active still plans the clocks it started, until they are re-planned
            policies.update(Policy.objects.select_related("calendar").in_bulk(missing))
        for clock in bare:
            clock.policy = policies[clock.policy_id]
    clocks: dict[int, list[Clock]] = {pk: [] for pk in tickets}
    for clock in found:
        clock.ticket = tickets[clock.ticket_id]
        clocks[clock.ticket_id].append(clock)
    return clocks


def clocks_sync_bulk(*, changes: list, now: datetime) -> None:
    """`clocks_sync` for the tickets of many changes in a constant number of statements: their clocks read in one
    query (none for those the caller holds, `clocks_held`), each ticket re-planned by `clocks_sync` itself (cached
    policies and calendars), then every changed clock written in one update, new clocks in one insert and the SLA
    timeline rows in one insert (COPY on PostgreSQL; the new clocks' ids are not read back)."""
    tickets = {c.ticket.pk: c.ticket for c in changes}
    clocks = _clocks_of(tickets)
    deferred: list = []
    token = _deferred_saves.set(deferred)
    try:
        for change in changes:
            clocks_sync(ticket=change.ticket, now=now, changes=change.changes, clocks=clocks[change.ticket.pk])
    finally:
        _deferred_saves.reset(token)
    dirty = [c for sync, _ in deferred for c in sync.dirty.values()]
    new = [c for sync, _ in deferred for c in sync.new]
    events = []
    for sync, policy in deferred:
        if sync.notes:
            events.append(TicketEvent(ticket=sync.ticket, actor=None, kind=EventKind.SLA, field="sla",
                                      note=_sync_note(sync, policy), internal=True, created_at=sync.now))
    _clocks_update(dirty)
    insert_rows(new)  # nobody reads their ids back: a later batch reads the rows again
    insert_rows(events)


def _clocks_update(clocks: list[Clock]) -> None:
    """Write the re-planned fields (`CLOCK_SYNC_FIELDS`) of many clocks in one statement: on PostgreSQL from one
    array per column (Django's bulk_update builds a CASE of a WHEN per clock and column, seconds at 1,000 clocks)."""
    if not clocks:
        return
    if connection.vendor != "postgresql":
        Clock.objects.bulk_update(clocks, CLOCK_SYNC_FIELDS)
        return
    fields = [Clock._meta.get_field(name) for name in CLOCK_SYNC_FIELDS]
    arrays = ", ".join(f"%s::{f.db_type(connection)}[]" for f in [Clock._meta.pk, *fields])
    names = ", ".join(f.column for f in fields)
    sql = (f"UPDATE {Clock._meta.db_table} AS c SET {', '.join(f'{f.column} = v.{f.column}' for f in fields)} "
           f"FROM unnest({arrays}) AS v(id, {names}) WHERE c.id = v.id")
    with connection.cursor() as cursor:
        cursor.execute(sql, [[c.pk for c in clocks], *([getattr(c, f.attname) for c in clocks] for f in fields)])


def on_tickets_change(changes: list) -> None:
    """Registered with `tracker.hooks` as the batch variant of `on_ticket_change`: escalations in a constant
    number of statements (clocks, then every notice of the batch with one read of the members of the groups and
    of preferences, one insert per kind of row); other changes one by one."""
    escalated = [c for c in changes if c.reason == "escalated"]
    for change in changes:
        if change.reason != "escalated":
            on_ticket_change(change)
    if not escalated:
        return
    for now in dict.fromkeys(c.now for c in escalated):
        clocks_sync_bulk(changes=[c for c in escalated if c.now == now], now=now)
    loud = [c for c in escalated if not c.quiet]
    group_ids = {g.pk for c in loud if (g := c.changes.get("group", (None, None))[1]) is not None}
    members: dict[int, list] = {pk: [] for pk in group_ids}
    if group_ids:
        through = Ticket.group.field.related_model.members.through
        for row in through.objects.filter(assignmentgroup_id__in=group_ids).select_related("user").order_by("pk"):
            members[row.assignmentgroup_id].append(row.user)
    notices = [(c, n) for c in loud for n in _escalation_notices(c, members) if n["users"]]  # nobody: no rows
    if not notices:
        return
    prefs = _preferences(u.pk for _, n in notices for u in n["users"] if u)
    out = _Outgoing(ids=False)
    texts = EscalationTexts()  # each distinct text rendered once per batch, filled in per ticket
    for change, notice in notices:
        fill = texts.for_notice(notice["kind"], change.ticket, notice["context"], change.now)
        if fill is None:
            _queue(out, ticket=change.ticket, now=change.now, prefs=prefs, **notice)
        else:
            _queue_rendered(out, ticket=change.ticket, now=change.now, prefs=prefs, fill=fill, **notice)
    out.flush()
