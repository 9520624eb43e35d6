"""Domain functions of the SLA engine: clocks follow their ticket; the sweep applies warnings and breaches.

- `clocks_sync` runs inside every ticket change (registered in `SlaConfig.ready`): it attaches the
  matching policy's clocks, pauses, resumes, stops, re-plans and starts new cycles, in the ticket's own
  transaction.
- `clocks_sweep` claims due clocks in batches (`SELECT ... FOR UPDATE SKIP LOCKED` of the clock and its
  ticket on PostgreSQL) and applies each warning/breach once: effect row (unique per clock and level),
  clock update, escalation, timeline row, in-app notifications and email outbox rows, all in the batch's
  transaction. A sweeper killed mid-batch rolls back and the next sweep redoes the batch.
- `outbox_deliver` sends queued email, then marks it sent, with a deterministic Message-ID.
"""

import logging
import socket
import time
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import connection, transaction
from django.db.models import Count, F, Q, QuerySet
from django.utils import timezone

from tracker import access
from tracker.choices import DONE_STATUSES, OPEN_STATUSES, EventKind, Status
from tracker.errors import AccessDenied, DomainError, ValidationFailed
from tracker.models import Ticket, TicketEvent
from tracker.services import escalation_target, event_record, ticket_escalate

from .calendars import BusinessCalendar, business_calendar, forget_calendar
from .choices import BREACH_LEVEL, ClockState, Metric, NotificationKind
from .models import (
    BacklogRollup,
    Calendar,
    Clock,
    ClockEffect,
    ClockRollup,
    EscalationRollup,
    Holiday,
    Notification,
    NotificationPreference,
    OutboxMessage,
    Policy,
    RollupDay,
    SweepHeartbeat,
    TierTarget,
    WorkingHours,
)
from .notifications import render_notification

log = logging.getLogger(__name__)
SWEEP_HEARTBEAT = "sla-sweep"
OUTBOX_HEARTBEAT = "outbox"
FAILED_CLOCK_RETRY = timedelta(seconds=60)


# --- claiming ---------------------------------------------------------------------------------------


def lock_skipping(qs: QuerySet, of: tuple[str, ...] = ("self",)) -> QuerySet:
    """Claim rows no other transaction holds: SKIP LOCKED where the backend has it (PostgreSQL).

    On SQLite writers are serialised (IMMEDIATE transactions), so a plain read is already exclusive.
    """
    if connection.features.has_select_for_update_skip_locked:
        return qs.select_for_update(skip_locked=True, of=of)
    return qs


# --- policies ---------------------------------------------------------------------------------------


# Every ticket change matches policies, so the active ones are kept per process. One query reads a stamp of
# all the rows a match and a plan read (policies, their targets and conditions, calendars, hours, holidays);
# any change to them changes the stamp, so the next ticket change in any process reloads. Saves in this
# process also drop the cache at once (signals in `SlaConfig.ready`).
_policy_cache: tuple[tuple, list[Policy]] | None = None
_STAMPED = (
    (Policy, ("COUNT(*)", "MAX(id)", "MAX(updated_at)")),
    (Calendar, ("COUNT(*)", "MAX(updated_at)")),
    (TierTarget, ("COUNT(*)", "MAX(id)", "SUM(goal_s)", "SUM(tier)")),
    (Policy.services.through, ("COUNT(*)", "MAX(id)")),
    (Policy.organisations.through, ("COUNT(*)", "MAX(id)")),
    (WorkingHours, ("COUNT(*)", "MAX(id)")),
    (Holiday, ("COUNT(*)", "MAX(id)")),
)


def _policies_stamp() -> tuple:
    """A fingerprint of the policy configuration in one round trip (tiny tables, a few rows each)."""
    columns = ", ".join(f"(SELECT {agg} FROM {connection.ops.quote_name(model._meta.db_table)})"
                        for model, aggs in _STAMPED for agg in aggs)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {columns}")
        return tuple(cursor.fetchone())


def _active_policies() -> list[Policy]:
    """The active policies by order, with conditions, targets and calendars; cached until the stamp changes."""
    global _policy_cache
    stamp = _policies_stamp()  # read before the rows: a change committed in between only costs a reload
    cached = _policy_cache
    if cached is not None and cached[0] == stamp:
        return cached[1]
    policies = list(
        Policy.objects.filter(active=True)
        .select_related("calendar")
        .prefetch_related("services", "organisations", "tier_targets", "calendar__hours", "calendar__holidays")
    )
    _policy_cache = (stamp, policies)
    return policies


def forget_policies(**_signal_kwargs) -> None:
    """Drop this process's cached policies (connected to saves of policies, targets and calendars)."""
    global _policy_cache
    _policy_cache = None


def policy_matches(policy: Policy, ticket: Ticket) -> bool:
    """All of the policy's conditions hold for the ticket; an empty condition matches anything."""
    if policy.kinds and ticket.kind not in policy.kinds:
        return False
    if policy.priorities and ticket.priority not in [int(p) for p in policy.priorities]:
        return False
    services = {s.pk for s in policy.services.all()}
    if services and ticket.service_id not in services:
        return False
    organisations = {o.pk for o in policy.organisations.all()}
    if organisations or policy.sites:
        requester = ticket.requester
        if organisations and requester.organisation_id not in organisations:
            return False
        if policy.sites and requester.site not in policy.sites:
            return False
    return True


def policy_for(ticket: Ticket, policies: list[Policy] | None = None) -> Policy | None:
    """The first active policy, by order, that matches the ticket."""
    for policy in _active_policies() if policies is None else policies:
        if policy_matches(policy, ticket):
            return policy
    return None


def _goal(policy: Policy, metric: str, tier: int | None) -> int | None:
    if metric == Metric.RESPONSE:
        return policy.response_s
    if metric == Metric.RESOLUTION:
        return policy.resolution_s
    for target in policy.tier_targets.all():
        if target.tier == tier:
            return target.goal_s
    return None


def _levels(policy: Policy) -> list[int]:
    warn = sorted({int(p) for p in policy.warn_percents or [] if 0 < int(p) < BREACH_LEVEL})
    return [*warn, BREACH_LEVEL]


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


def _label(clock: Clock) -> str:
    if clock.metric == Metric.PICK:
        return f"L{clock.tier} pick"
    return Metric(clock.metric).label.lower()


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
) -> list[Clock]:
    """Bring the ticket's clocks in line with the ticket; call inside the transaction that changed it.

    Attaches the first matching policy's clocks, stops response on the first response and resolution
    when done, cancels a pick clock when the ticket leaves the tier, pauses in the policy's pause
    statuses, re-plans (keeping the time already counted) when the policy or priority changes, and
    starts a new resolution cycle on reopen. Writes one SLA timeline row when anything changed.
    `clocks`: the ticket's clocks when the caller knows them (none for a ticket created just now).
    """
    changes = changes or {}
    if clocks is None:
        clocks = list(Clock.objects.filter(ticket=ticket).select_related("policy__calendar"))
    policy = policy_for(ticket, policies)
    if policy is None and not any(c.is_active for c in clocks):
        return []
    sync = _Sync(ticket=ticket, now=now)
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
        return clocks

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
    return clocks + sync.new


def _save(sync: _Sync, policy: Policy | None = None) -> None:
    if sync.dirty:
        Clock.objects.bulk_update(list(sync.dirty.values()), CLOCK_SYNC_FIELDS)
    if sync.new:
        Clock.objects.bulk_create(sync.new)
    if sync.notes:
        prefix = f"SLA {policy.name}: " if policy else "SLA: "
        event_record(
            ticket=sync.ticket,
            actor=None,
            kind=EventKind.SLA,
            now=sync.now,
            field="sla",
            note=prefix + "; ".join(sync.notes),
            internal=True,
        )


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
    """Registered with `tracker.hooks`: keep the clocks in step and tell new owners."""
    ticket = change.ticket
    clocks_sync(ticket=ticket, now=change.now, changes=change.changes,
                clocks=[] if change.reason == "created" else None)
    if change.reason == "assigned":
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
                context={"actor": change.actor, "status": new, "status_label": Status(new).label,
                         "old_label": Status(old).label},
            )
    elif change.reason == "escalated":
        old_group, group = change.changes.get("group", (None, None))
        if group is not None:
            users = list(group.members.all())
            _notify(
                ticket=ticket,
                users=[u for u in users if u != change.actor],
                kind=NotificationKind.ESCALATION,
                now=change.now,
                key=f"escalated:{ticket.pk}:v{ticket.version}",
                context={"old_group": old_group, "group": group, "actor": change.actor},
            )


# --- notifications ----------------------------------------------------------------------------------


def _followers(ticket: Ticket, *, actor, staff_only: bool = False) -> list:
    """Who hears about a ticket's replies and moves: its requester, assignee and watchers, not the actor.

    Internal notes (`staff_only`) never reach the requester."""
    people = [ticket.assignee, *ticket.watchers.all()]
    if not staff_only:
        people.insert(0, ticket.requester)
    actor_pk = getattr(actor, "pk", None)
    return [p for p in people if p is not None and p.pk != actor_pk
            and (not staff_only or access.is_staff_member(p))]


def _preferences(user_ids) -> dict[tuple[int, str], NotificationPreference]:
    return {(p.user_id, p.kind): p for p in NotificationPreference.objects.filter(user_id__in=set(user_ids))}


@dataclass
class _Outgoing:
    notifications: list[Notification] = field(default_factory=list)
    outbox: list[OutboxMessage] = field(default_factory=list)
    events: list[TicketEvent] = field(default_factory=list)

    def flush(self) -> None:
        if self.events:
            TicketEvent.objects.bulk_create(self.events)
        if self.notifications:
            Notification.objects.bulk_create(self.notifications, ignore_conflicts=True)
        if self.outbox:
            OutboxMessage.objects.bulk_create(self.outbox, ignore_conflicts=True)


def _queue(out: _Outgoing, *, ticket, users, kind: str, now: datetime, key: str, context: dict, prefs: dict) -> None:
    """In-app rows and email outbox rows for each user, honouring preferences; keys make repeats no-ops."""
    seen = set()
    title, body = render_notification(kind, {"ticket": ticket, **context})
    for user in users:
        if user is None or user.pk in seen or not user.is_active:
            continue
        seen.add(user.pk)
        pref = prefs.get((user.pk, kind))
        url = f"/tickets/{ticket.key}/" if ticket is not None else ""
        if pref is None or pref.in_app:
            out.notifications.append(
                Notification(
                    recipient=user,
                    ticket=ticket,
                    kind=kind,
                    key=key,
                    title=title,
                    body=body,
                    url=url,
                    created_at=now,
                )
            )
        if (pref is None or pref.email) and user.email:
            mkey = f"{key}:{user.pk}:email"
            out.outbox.append(
                OutboxMessage(
                    key=mkey,
                    kind=kind,
                    recipient=user,
                    ticket=ticket,
                    to_address=user.email,
                    subject=title,
                    body=f"{body}\n\n{settings.CROSSLINE_BASE_URL}{url}\n",
                    created_at=now,
                    available_at=now,
                    message_id=f"<{mkey.replace(':', '.')}@crossline>",
                )
            )


def _notify(*, ticket, users, kind: str, now: datetime, key: str, context: dict) -> None:
    out = _Outgoing()
    _queue(
        out,
        ticket=ticket,
        users=users,
        kind=kind,
        now=now,
        key=key,
        context=context,
        prefs=_preferences(u.pk for u in users if u),
    )
    out.flush()


def notification_mark_read(*, user, ids: list[int] | None = None, now: datetime | None = None) -> int:
    """Mark the user's notifications read (all unread ones when `ids` is None); returns how many changed."""
    now = now or timezone.now()
    qs = Notification.objects.filter(recipient=user, read_at__isnull=True)
    if ids is not None:
        qs = qs.filter(pk__in=ids)
    return qs.update(read_at=now)


def preference_set(*, user, kind: str, email: bool | None = None, in_app: bool | None = None) -> NotificationPreference:
    if kind not in NotificationKind.values:
        raise ValidationFailed(
            f"Unknown notification kind {kind!r}; use one of: {', '.join(NotificationKind.values)}.",
            fields={"kind": ["Unknown kind."]},
        )
    pref, _ = NotificationPreference.objects.get_or_create(user=user, kind=kind)
    if email is not None:
        pref.email = email
    if in_app is not None:
        pref.in_app = in_app
    pref.save()
    return pref


# --- the sweep --------------------------------------------------------------------------------------


@dataclass
class _Effect:
    clock: Clock
    level: int
    due_at: datetime
    escalate_to: object = None
    notes: list[str] = field(default_factory=list)


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
    tickets: dict[int, Ticket] = {}
    for clock in clocks:  # one instance per ticket, so a second clock sees the first one's escalation
        clock.ticket = tickets.setdefault(clock.ticket_id, clock.ticket)
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
            if clock.policy.functional_escalation and ticket.is_open:
                effect.escalate_to = escalation_target(ticket)
        else:
            clock.warned_percent = effect.level
        _plan(clock, cal)
        effects.append(effect)

    ClockEffect.objects.bulk_create(
        [
            ClockEffect(
                clock=e.clock,
                ticket_id=e.clock.ticket_id,
                level=e.level,
                due_at=e.due_at,
                created_at=now,
                escalated_to=e.escalate_to,
            )
            for e in effects
        ]
    )
    _update_swept(clocks)

    out = _Outgoing()
    users = [u for t in tickets.values() for u in [t.assignee, t.group.manager if t.group_id else None] if u]
    users += [u for ms in members.values() for u in ms]
    prefs = _preferences(u.pk for u in users)
    for e in effects:
        clock, ticket = e.clock, e.clock.ticket
        group = ticket.group
        breach = e.level == BREACH_LEVEL
        kind = NotificationKind.BREACH if breach else NotificationKind.WARNING
        recipients = _recipients(ticket, members)
        last_warning = not breach and e.level == _levels(clock.policy)[-2]
        if clock.policy.hierarchical_escalation and group is not None and (breach or last_warning):
            recipients.append(group.manager)
        context = {
            "clock": clock,
            "label": _label(clock),
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
            key=f"clock{clock.pk}:L{e.level}",
            context=context,
            prefs=prefs,
        )
        what = (
            f"{_label(clock)} target breached ({_fmt(clock.goal_s)} reached at {e.due_at:%Y-%m-%d %H:%M:%S} UTC)"
            if breach
            else f"{_label(clock)} at {e.level}% of {_fmt(clock.goal_s)}, due {clock.due_at:%Y-%m-%d %H:%M:%S} UTC"
        )
        if breach and clock.policy.hierarchical_escalation and group is not None and group.manager_id:
            what += f"; manager {group.manager} notified"
        out.events.append(
            TicketEvent(
                ticket=ticket,
                actor=None,
                kind=EventKind.SLA,
                field=clock.metric,
                new="breached" if breach else f"{e.level}%",
                note=f"SLA: {what}",
                internal=True,
                created_at=now,
            )
        )
    out.flush()

    for e in effects:  # functional escalation last: its hook re-syncs the ticket's clocks from the rows above
        if e.level != BREACH_LEVEL or not e.clock.policy.functional_escalation or not e.clock.ticket.is_open:
            continue
        ticket = e.clock.ticket
        try:
            with transaction.atomic():
                ticket_escalate(
                    ticket=ticket,
                    actor=None,
                    automatic=True,
                    to_group=e.escalate_to,
                    now=now,
                    note=f"SLA {_label(e.clock)} target breached",
                )
        except DomainError as exc:  # already at the last tier, or moved meanwhile: record, do not fail
            ClockEffect.objects.filter(clock=e.clock, level=e.level).update(escalated_to=None, note=exc.message)
            event_record(
                ticket=ticket,
                actor=None,
                kind=EventKind.SLA,
                now=now,
                field=e.clock.metric,
                note=f"SLA: no functional escalation — {exc.message}",
                internal=True,
            )
    return len(effects)


_SWEPT_FIELDS = ["warned_percent", "breached", "breached_at", "next_check_at", "due_at", "group_id"]
_SWEPT_TYPES = ["smallint", "boolean", "timestamptz", "timestamptz", "timestamptz", "bigint"]


def _update_swept(clocks: list[Clock]) -> None:
    """Write the swept fields of a batch in one statement (Django's bulk_update CASE chain is slow at 500 rows)."""
    if not clocks:
        return
    if connection.vendor != "postgresql":
        Clock.objects.bulk_update(clocks, [f.removesuffix("_id") for f in _SWEPT_FIELDS])
        return
    sets = ", ".join(f"{f} = v.{f}::{t}" for f, t in zip(_SWEPT_FIELDS, _SWEPT_TYPES, strict=True))
    row = "(" + ", ".join(["%s"] * (len(_SWEPT_FIELDS) + 1)) + ")"
    params = [v for c in clocks for v in (c.pk, *(getattr(c, f) for f in _SWEPT_FIELDS))]
    sql = (
        f"UPDATE {Clock._meta.db_table} AS c SET {sets} "
        f"FROM (VALUES {', '.join([row] * len(clocks))}) AS v(id, {', '.join(_SWEPT_FIELDS)}) "
        "WHERE c.id = v.id::bigint"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def _claim(now: datetime, batch: int) -> list[Clock]:
    qs = (
        Clock.objects.due(now)
        .order_by("next_check_at")
        .select_related("ticket__group__manager", "ticket__assignee", "policy__calendar")
    )
    # Lock the ticket too: a sweeper skips a ticket an agent is saving, so it never waits or deadlocks.
    return list(lock_skipping(qs, of=("self", "ticket"))[:batch])


def clocks_sweep(*, now: datetime | None = None, batch: int = 1000, max_batches: int = 100) -> int:
    """Apply due warning/breach effects exactly once; safe to run in parallel and to repeat.

    Each batch is one transaction. A batch that fails is redone clock by clock, and a clock that still
    fails is logged and looked at again a minute later instead of blocking the queue.
    """
    started = time.monotonic()
    total = 0
    for _ in range(max_batches):
        at = now or timezone.now()
        try:
            with transaction.atomic():
                claimed = _claim(at, batch)
                total += _apply_due(claimed, at)
        except DomainError:
            raise
        except Exception:
            log.exception("SLA sweep batch failed; retrying its clocks one by one")
            claimed = _sweep_one_by_one(at, batch)
        if len(claimed) < batch:
            break
    heartbeat_record(name=SWEEP_HEARTBEAT, processed=total, duration_s=time.monotonic() - started)
    return total


def _sweep_one_by_one(at: datetime, batch: int) -> list:
    ids = list(Clock.objects.due(at).order_by("next_check_at").values_list("pk", flat=True)[:batch])
    for pk in ids:
        try:
            with transaction.atomic():
                claimed = [c for c in _claim(at, batch) if c.pk == pk] or list(
                    lock_skipping(
                        Clock.objects.due(at)
                        .filter(pk=pk)
                        .select_related("ticket__group__manager", "ticket__assignee", "policy__calendar"),
                        of=("self", "ticket"),
                    )
                )
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


# --- the outbox relay -------------------------------------------------------------------------------


def outbox_deliver(*, now: datetime | None = None, batch: int = 100) -> int:
    """Send pending email: claim, send, mark sent. A failure is retried later with back-off.

    Send-then-mark: a crash between the two resends once, with the same Message-ID, which mail
    clients and our tests recognise as the same message.
    """
    started = time.monotonic()
    now = now or timezone.now()
    sent = 0
    with transaction.atomic():
        rows = list(
            lock_skipping(
                OutboxMessage.objects.filter(sent_at__isnull=True, available_at__lte=now).order_by("available_at", "id")
            )[:batch]
        )
        for msg in rows:
            try:
                EmailMessage(
                    subject=msg.subject,
                    body=msg.body,
                    to=[msg.to_address],
                    from_email=settings.DEFAULT_FROM_EMAIL,
                    headers={"Message-ID": msg.message_id},
                ).send()
            except Exception as exc:  # SMTP down, address refused: keep it queued, back off
                msg.attempts += 1
                msg.last_error = f"{type(exc).__name__}: {exc}"[:2000]
                msg.available_at = now + timedelta(seconds=min(3600, 30 * 2 ** min(msg.attempts, 7)))
                msg.save(update_fields=["attempts", "last_error", "available_at"])
                log.warning("Outbox %s failed (attempt %s): %s", msg.key, msg.attempts, exc)
                continue
            msg.attempts += 1
            msg.sent_at = timezone.now()
            msg.save(update_fields=["attempts", "sent_at"])
            sent += 1
    heartbeat_record(name=OUTBOX_HEARTBEAT, processed=sent, duration_s=time.monotonic() - started)
    return sent


# --- calendars and policies (admin writes) ----------------------------------------------------------


def _require_admin(actor) -> None:
    if not access.may(actor, "configure"):
        raise AccessDenied("Only administrators may change SLA calendars and policies.")


def calendar_import_holidays(
    *, calendar: Calendar, actor, country: str, years: list[int], subdivision: str = ""
) -> int:
    """Add a country's public holidays (the `holidays` package) for the given years; returns how many new."""
    import holidays as holidays_lib

    _require_admin(actor)
    try:
        table = holidays_lib.country_holidays(country.upper(), subdiv=subdivision or None, years=years)
    except NotImplementedError:
        raise ValidationFailed(f"No holiday set for country {country!r}.", fields={"country": ["Unknown."]}) from None
    with transaction.atomic():
        existing = set(Holiday.objects.filter(calendar=calendar).values_list("date", flat=True))
        rows = [
            Holiday(calendar=calendar, date=d, name=str(name)[:120])
            for d, name in sorted(table.items())
            if d not in existing
        ]
        Holiday.objects.bulk_create(rows)
        Calendar.objects.filter(pk=calendar.pk).update(
            holiday_country=country.upper(), holiday_subdivision=subdivision, updated_at=timezone.now()
        )
    forget_calendar(calendar.pk)
    calendar.refresh_from_db()
    return len(rows)


def calendar_changed(*, calendar: Calendar, actor, now: datetime | None = None) -> int:
    """After hours or holidays change: bump the version and re-plan the running clocks that use it."""
    _require_admin(actor)
    now = now or timezone.now()
    Calendar.objects.filter(pk=calendar.pk).update(updated_at=now)
    forget_calendar(calendar.pk)
    calendar.refresh_from_db()
    return clocks_replan(policies=list(calendar.policies.all()), now=now)


def clocks_replan(*, policies: list[Policy], now: datetime) -> int:
    """Recompute due times of the running clocks under these policies (after a calendar or target edit)."""
    count = 0
    with transaction.atomic():
        for policy in policies:
            policy = Policy.objects.select_related("calendar").prefetch_related("tier_targets").get(pk=policy.pk)
            cal = business_calendar(policy.calendar)
            rows = list(lock_skipping(Clock.objects.filter(policy=policy, state=ClockState.RUNNING)))
            for clock in rows:
                clock.policy = policy
                _bank(clock, cal, now)
                clock.goal_s = _goal(policy, clock.metric, clock.tier) or clock.goal_s
                _plan(clock, cal)
            Clock.objects.bulk_update(
                rows, ["elapsed_s", "resumed_at", "goal_s", "due_at", "next_check_at"], batch_size=1000
            )
            count += len(rows)
    return count


def policy_saved(*, policy: Policy, actor, now: datetime | None = None) -> int:
    """After a policy's targets change: stamp it and re-plan its running clocks."""
    _require_admin(actor)
    now = now or timezone.now()
    Policy.objects.filter(pk=policy.pk).update(updated_at=now)
    return clocks_replan(policies=[policy], now=now)


def policy_delete(*, policy: Policy, actor) -> None:
    _require_admin(actor)
    if policy.clocks.exists():
        raise ValidationFailed(
            f"Policy {policy.name} has clocks; deactivate it instead of deleting it.",
            fields={"active": ["Set to false."]},
        )
    policy.delete()


def calendar_delete(*, calendar: Calendar, actor) -> None:
    _require_admin(actor)
    if calendar.policies.exists():
        raise ValidationFailed(
            f"Calendar {calendar.name} is used by a policy; move the policy first.",
            fields={"calendar": ["In use."]},
        )
    calendar.delete()


# --- dashboard roll-up --------------------------------------------------------------------------------

ROLLUP_HEARTBEAT = "sla-rollup"
# Look back this much before the last run for SLA changes, so a transaction that committed late is seen.
ROLLUP_MARGIN = timedelta(minutes=10)


def rollup_refresh(*, day: date, now: datetime | None = None) -> int:
    """Recompute the dashboard roll-up of one day from its clocks, effects and escalations; idempotent.

    Atomic: the day's rows are replaced and the day is stamped refreshed at `now` (taken before reading,
    so a change committed meanwhile is picked up by the next refresh). Returns the number of cells.
    """
    from .dashboard import day_start, decided_cells

    now = now or timezone.now()
    ranges = [(day_start(day), day_start(day + timedelta(days=1)))]
    cells: dict[tuple, ClockRollup] = {}

    def cell(group_id, priority, kind, metric) -> ClockRollup:
        key = (group_id, priority, kind, metric)
        if key not in cells:
            cells[key] = ClockRollup(day=day, group_id=group_id, priority=priority, kind=kind, metric=metric)
        return cells[key]

    for c in decided_cells(ranges):
        row = cell(c["group_id"], c["priority"], c["ticket__kind"], c["metric"])
        row.decided, row.breached, row.met, row.met_time = c["total"], c["breached_n"], c["met_n"], c["met_time"]
    effects = (
        ClockEffect.objects.filter(created_at__gte=ranges[0][0], created_at__lt=ranges[0][1])
        .values("clock__group_id", "clock__priority", "ticket__kind", "clock__metric")
        .annotate(
            breaches=Count("id", filter=Q(level__gte=BREACH_LEVEL)),
            warnings=Count("id", filter=Q(level__lt=BREACH_LEVEL)),
        )
        .order_by()
    )
    for e in effects:
        row = cell(e["clock__group_id"], e["clock__priority"], e["ticket__kind"], e["clock__metric"])
        row.warnings, row.breaches = e["warnings"], e["breaches"]
    escalations = [
        EscalationRollup(day=day, to_group=e["new"], escalations=e["n"], automatic=e["auto"])
        for e in TicketEvent.objects.filter(
            kind=EventKind.ESCALATION, created_at__gte=ranges[0][0], created_at__lt=ranges[0][1]
        )
        .values("new")
        .annotate(n=Count("id"), auto=Count("id", filter=Q(actor__isnull=True)))
        .order_by()
    ]
    RollupDay.objects.get_or_create(day=day, defaults={"refreshed_at": now})
    with transaction.atomic():
        RollupDay.objects.select_for_update().get(day=day)  # two refreshes of one day take turns
        ClockRollup.objects.filter(day=day).delete()
        EscalationRollup.objects.filter(day=day).delete()
        ClockRollup.objects.bulk_create(cells.values(), batch_size=1000)
        EscalationRollup.objects.bulk_create(escalations, batch_size=1000)
        RollupDay.objects.filter(day=day).update(refreshed_at=now)
    return len(cells)


def backlog_snapshot(*, now: datetime | None = None) -> int:
    """Count open tickets per kind created before the start of the day 31 days ago (all > 30 days old).

    Idempotent; one grouped scan of the open tickets. Returns the number of open tickets counted.
    """
    from .dashboard import day_start, local_date

    now = now or timezone.now()
    before = day_start(local_date(now) - timedelta(days=31))
    counts = dict(
        Ticket.objects.filter(status__in=OPEN_STATUSES, created_at__lt=before)
        .values("kind")
        .annotate(n=Count("id"))
        .order_by()
        .values_list("kind", "n")
    )
    with transaction.atomic():
        BacklogRollup.objects.exclude(kind__in=list(counts)).delete()
        for kind, n in counts.items():
            BacklogRollup.objects.update_or_create(
                kind=kind, defaults={"created_before": before, "open": n, "taken_at": now}
            )
    return sum(counts.values())


def rollup_refresh_recent(*, now: datetime | None = None) -> list[date]:
    """Refresh yesterday, every day since the last run, and every earlier day whose decided clocks an SLA
    change touched since then (a stop, cancel or re-plan of a clock breached that day); then the backlog
    snapshot. Today is not rolled up: the dashboard reads the current day live.
    """
    from .dashboard import local_date

    started = time.monotonic()
    now = now or timezone.now()
    today = local_date(now)
    last = SweepHeartbeat.objects.filter(name=ROLLUP_HEARTBEAT).values_list("last_run_at", flat=True).first()
    since = (last or now - timedelta(days=1)) - ROLLUP_MARGIN
    days = {local_date(since) + timedelta(days=i) for i in range((today - local_date(since)).days + 1)}
    touched = TicketEvent.objects.filter(kind=EventKind.SLA, created_at__gte=since).values("ticket_id")
    for stopped, breached in (
        Clock.objects.filter(ticket__in=touched)
        .filter(Q(stopped_at__isnull=False) | Q(breached=True))
        .values_list("stopped_at", "breached_at")
    ):
        days.update(local_date(at) for at in (stopped, breached) if at is not None)
    days = sorted(d for d in days | {today - timedelta(days=1)} if d < today)
    for day in days:
        rollup_refresh(day=day, now=now)
    backlog_snapshot(now=now)
    heartbeat_record(name=ROLLUP_HEARTBEAT, processed=len(days), duration_s=time.monotonic() - started, now=now)
    return days
