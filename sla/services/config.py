"""SLA configuration writes: calendars (holiday import, change, delete) and policies (save, delete).

Every change that moves deadlines re-plans the running clocks it touches (`clocks_replan`).
Only users allowed to 'configure' may call these.
"""

from datetime import datetime

from django.db import transaction
from django.utils import timezone

from tracker import access
from tracker.errors import AccessDenied, ValidationFailed
from tracker.models import Ticket

from ..calendars import business_calendar, forget_calendar
from ..choices import ClockState
from ..models import Calendar, Clock, Holiday, Policy
from .clocks import _bank, _goal, _plan, clocks_sync, forget_policies
from .sweep import lock_skipping


def calendar_is_open(*, always_open: bool, hours) -> bool:
    """A calendar counts time if it is 24x7 or has at least one non-empty interval in its week.

    `hours`: (start, end) pairs; an end of 00:00 is midnight at the end of the day.
    """
    return always_open or any(end.hour == end.minute == end.second == 0 or end > start for start, end in hours)


def calendar_require_open(*, calendar: Calendar) -> None:
    """Refuse (ValidationFailed) a calendar, as stored now, with no open time in its week unless it is 24x7."""
    if not calendar_is_open(always_open=calendar.always_open, hours=calendar.hours.values_list("start", "end")):
        raise ValidationFailed(
            f"Calendar {calendar.name} would be never open: add working hours or set always_open (24x7).",
            fields={"hours": ["Add at least one interval, or set always_open."]},
        )


def policy_require_open_calendar(*, policy: Policy) -> None:
    """Refuse (ValidationFailed) a policy whose calendar is never open: no ticket it matches could be planned."""
    calendar = Calendar.objects.get(pk=policy.calendar_id)
    if not calendar_is_open(always_open=calendar.always_open, hours=calendar.hours.values_list("start", "end")):
        raise ValidationFailed(
            f"Calendar {calendar.name} is never open; give it working hours or choose another calendar.",
            fields={"calendar": ["Never open."]},
        )


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
    calendar_require_open(calendar=calendar)
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
    """After a policy is saved: stamp it and re-plan its running clocks; returns how many clocks moved.

    An inactive policy keeps no clocks: each ticket whose running or paused clocks are on it is re-matched
    at once (its clocks move to the next matching policy, keeping the time counted, or are cancelled), with
    a timeline row, in the caller's transaction when there is one.
    """
    _require_admin(actor)
    policy_require_open_calendar(policy=policy)
    now = now or timezone.now()
    with transaction.atomic():
        Policy.objects.filter(pk=policy.pk).update(updated_at=now)
        forget_policies()
        if Policy.objects.filter(pk=policy.pk, active=False).exists():
            return _clocks_leave(policy=policy, now=now, reason=f"policy {policy.name} deactivated")
        return clocks_replan(policies=[policy], now=now)


def _clocks_leave(*, policy: Policy, now: datetime, reason: str) -> int:
    """Re-match every ticket with active clocks on `policy` (no longer active) and sync its clocks."""
    active = Clock.objects.filter(policy=policy, state__in=[ClockState.RUNNING, ClockState.PAUSED])
    count = active.count()
    # Wait for a sweeper holding one of these tickets (rather than skip it): the move must not be lost.
    tickets = Ticket.objects.select_for_update(of=("self",)).filter(pk__in=active.values("ticket_id"))
    for ticket in tickets.select_related("group", "requester").order_by("pk"):
        clocks_sync(ticket=ticket, now=now, reason=reason)
    return count


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
