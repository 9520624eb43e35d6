"""Domain functions of the change calendar: blackout windows, scheduling a change (with a change manager's
override of a blackout), the calendar feeds; and the guard and observer through which the calendar's rules hold
for every write of a change window, the ticket API's PATCH included.

Each function is keyword-only, takes `actor`, owns its transaction, writes the timeline rows in it and raises a
`tracker.errors.DomainError` whose message says what to fix.
"""

import calendar as months
import secrets
from datetime import date, datetime, timedelta

from django.db import transaction
from django.utils import timezone

from tracker import access, hooks
from tracker import services as core
from tracker.choices import EventKind, Kind, Status
from tracker.errors import AccessDenied, Conflict, ValidationFailed
from tracker.models import Service, Ticket
from tracker.timezones import zone_named

from .. import selectors
from ..choices import Repeat
from ..models import LONGEST, Blackout, BlackoutOverride, CalendarFeed
from ..templatetags.itsm_ui import span
from .approvals import _require_change_manager

WINDOW_FIELDS = frozenset({"window_start", "window_end", "service"})


class BlackoutHit(Conflict):
    """A change window falls into a blackout that no change manager has overridden for it."""

    code = "blackout"


# --- blackout windows ---------------------------------------------------------------------------------------

def _last_workday(day: date) -> date:
    last = day.replace(day=months.monthrange(day.year, day.month)[1])
    while last.weekday() >= 5:
        last -= timedelta(days=1)
    return last


def _checked(values: dict) -> dict:
    """The blackout's values, trimmed and checked together; ValidationFailed names each field and what to fix."""
    errors: dict[str, list[str]] = {}
    name = (values.get("name") or "").strip()
    reason = (values.get("reason") or "").strip()
    start, end = values.get("starts_at"), values.get("ends_at")
    repeat = values.get("repeat") or Repeat.NEVER
    until = values.get("repeat_until")
    zone_name = values.get("time_zone") or "UTC"
    if not name:
        errors["name"] = ["Give the blackout a name, e.g. “Year-end change freeze”."]
    elif len(name) > 120:
        errors["name"] = ["Keep the name to 120 characters."]
    if not reason:
        errors["reason"] = ["Say why changes stop here; whoever schedules into it reads this."]
    if zone_named(zone_name) is None:
        errors["time_zone"] = [f"“{zone_name}” is not a time zone; use an IANA name such as Europe/London."]
    if repeat not in Repeat.values:
        errors["repeat"] = [f"Use one of: {', '.join(Repeat.values)}."]
    if start is None:
        errors["starts_at"] = ["When does it start?"]
    if end is None:
        errors["ends_at"] = ["When does it end?"]
    if errors.keys() & {"starts_at", "ends_at", "repeat", "time_zone"}:
        raise _refusal(errors)
    if end <= start:
        errors["ends_at"] = ["The blackout must end after it starts."]
    zone = zone_named(zone_name)
    local_start = start.astimezone(zone)
    if repeat != Repeat.NEVER and "ends_at" not in errors:
        length = end.astimezone(zone).replace(tzinfo=None) - local_start.replace(tzinfo=None)
        if length > LONGEST[repeat]:
            period = {Repeat.DAILY: "a day", Repeat.WEEKLY: "a week", Repeat.MONTHLY: "28 days",
                      Repeat.MONTHLY_LAST_WORKDAY: "26 days", Repeat.YEARLY: "a year"}[repeat]
            errors["ends_at"] = [f"“{Repeat(repeat).label}” needs each occurrence to end within {period} of its "
                                 "start, before the next one begins; for a longer freeze add a dated blackout."]
    if repeat == Repeat.MONTHLY_LAST_WORKDAY and local_start.date() != _last_workday(local_start.date()):
        last = _last_workday(local_start.date())
        errors["starts_at"] = [f"{local_start:%a %-d %b} is not the last working day of its month; that is "
                               f"{last:%a %-d %b}. Start the first occurrence then."]
    if repeat == Repeat.NEVER:
        until = None
    elif until is not None and until < local_start.date():
        errors["repeat_until"] = ["“Repeat until” cannot be before the first occurrence."]
    if errors:
        raise _refusal(errors)
    return {"name": name, "reason": reason, "service": values.get("service"), "starts_at": start, "ends_at": end,
            "repeat": repeat, "repeat_until": until, "time_zone": zone_name}


LABELS = {"name": "name", "reason": "reason", "service": "service", "starts_at": "start", "ends_at": "end",
          "repeat": "repeat", "repeat_until": "“repeat until” date", "time_zone": "time zone"}


def _refusal(errors: dict[str, list[str]]) -> ValidationFailed:
    first = next(iter(errors))
    return ValidationFailed(f"Check the {', '.join(LABELS.get(n, n) for n in errors)}: {errors[first][0]}",
                            fields=errors)


def blackout_create(*, actor, name: str, reason: str, starts_at: datetime, ends_at: datetime,
                    service: Service | None = None, repeat: str = Repeat.NEVER, repeat_until: date | None = None,
                    time_zone: str = "", now: datetime | None = None) -> Blackout:
    """Add a blackout (change managers only). A repeating one keeps the wall clock of `time_zone` (by default the
    actor's own zone). Changes already scheduled into it are not moved: the calendar flags them."""
    now = now or timezone.now()
    _require_change_manager(actor, "add blackout windows")
    values = _checked({"name": name, "reason": reason, "service": service, "starts_at": starts_at,
                       "ends_at": ends_at, "repeat": repeat, "repeat_until": repeat_until,
                       "time_zone": time_zone or _zone_of(actor)})
    return Blackout.objects.create(**values, created_by=actor, created_at=now, updated_at=now)


def blackout_update(*, blackout: Blackout, actor, now: datetime | None = None, **changes) -> Blackout:
    """Change a blackout (change managers only). Overrides already recorded stay as they were decided."""
    now = now or timezone.now()
    _require_change_manager(actor, "change blackout windows")
    unknown = set(changes) - set(LABELS)
    if unknown:
        raise ValidationFailed(f"A blackout has no {', '.join(sorted(unknown))}.",
                               fields={n: ["Unknown field."] for n in sorted(unknown)})
    current = {n: getattr(blackout, n) for n in LABELS}
    values = _checked({**current, **changes})
    Blackout.objects.filter(pk=blackout.pk).update(**values, updated_at=now)
    for name, value in values.items():
        setattr(blackout, name, value)
    blackout.updated_at = now
    return blackout


def blackout_delete(*, blackout: Blackout, actor) -> None:
    """Remove a blackout (change managers only); the overrides recorded against it keep its name."""
    _require_change_manager(actor, "remove blackout windows")
    blackout.delete()


def _zone_of(user) -> str:
    name = getattr(user, "time_zone", "") or ""
    return name if zone_named(name) else "UTC"


# --- scheduling a change ------------------------------------------------------------------------------------

def _refuse_blackout(ticket: Ticket, hit: selectors.Occurrence, start: datetime, end: datetime | None,
                     *, more: int = 0) -> BlackoutHit:
    blackout = hit.blackout
    also = f" (and {more} more blackout{'s' if more > 1 else ''})" if more else ""
    return BlackoutHit(
        f"The window {span(start, end)} of {ticket.key} falls into the blackout “{blackout.name}” "
        f"({hit.scope}, {span(hit.start, hit.end)}){also}: {blackout.reason} Choose a window outside it, or a "
        "change manager may schedule it there with an override and a reason.",
        fields={"window_start": [f"Falls into the blackout “{blackout.name}”."]})


def change_schedule(*, ticket: Ticket, actor, start: datetime | None, end: datetime | None,
                    override_reason: str = "", version: int | None = None,
                    now: datetime | None = None) -> list[BlackoutOverride]:
    """Set, move or clear (both None) a change's window; atomic, under the ticket's optimistic lock.

    A window in a blackout is refused (BlackoutHit, 409) unless a change manager gives `override_reason`: then each
    blackout it falls into gets an override row and a timeline row, in the same transaction as the window (the
    guard accepts a window that has them). Someone else's override is refused (AccessDenied, 403). Returns the
    overrides recorded (none when none was needed); the window itself is written by `ticket_update`."""
    now = now or timezone.now()
    if ticket.kind != Kind.CHANGE:
        raise ValidationFailed(f"{ticket.key} is not a change; only a change has a change window.")
    access.require(actor, "edit", ticket)
    if (start is None) != (end is None):
        missing = "window_end" if end is None else "window_start"
        raise ValidationFailed("Give both the start and the end of the window (or neither, to clear it).",
                               fields={missing: ["Required with the other end of the window."]})
    if start is not None and end <= start:
        raise ValidationFailed("The change window must end after it starts.",
                               fields={"window_end": ["Must be after the start."]})
    reason = (override_reason or "").strip()
    pending = []
    if start is not None:
        done = selectors.overridden_blackout_ids(ticket=ticket, start=start, end=end)
        pending = [h for h in selectors.blackouts_hit(service_id=ticket.service_id, start=start, end=end)
                   if h.blackout.pk not in done]
    if pending and reason:
        _require_change_manager(actor, f"override the blackout “{pending[0].blackout.name}”; ask one to schedule "
                                       f"{ticket.key} there, or choose a window outside it")
    elif pending:
        raise _refuse_blackout(ticket, pending[0], start, end, more=len(pending) - 1)
    with transaction.atomic():
        made = []
        for hit in pending:
            made.append(BlackoutOverride.objects.create(
                ticket=ticket, blackout=hit.blackout, blackout_name=hit.blackout.name, window_start=start,
                window_end=end, reason=reason, actor=actor, created_at=now))
            core.event_record(ticket=ticket, actor=actor, kind=EventKind.SCHEDULE, now=now, field="override",
                              new=hit.blackout.name, old=f"{hit.start.isoformat()}/{hit.end.isoformat()}", note=reason)
        core.ticket_update(ticket=ticket, actor=actor, version=ticket.version if version is None else version,
                           changes={"window_start": start, "window_end": end}, now=now)
    return made


# --- the rules for every write of a window (tracker.hooks) ------------------------------------------------------

def _window_after(change: hooks.TicketChange) -> tuple:
    """The change's window and service as the write would leave them."""
    ticket, changes = change.ticket, change.changes

    def new(name):
        return changes[name][1] if name in changes else getattr(ticket, name)

    service = new("service")
    return new("window_start"), new("window_end"), getattr(service, "pk", service)


def schedule_guard(change: hooks.TicketChange) -> None:
    """Refuse a create, edit or move that puts a change's window into a blackout without a recorded override
    (the UI's inline edit and the API's PATCH alike); `change_schedule` records the override first."""
    ticket = change.ticket
    if ticket.kind != Kind.CHANGE or not WINDOW_FIELDS & change.changes.keys():
        return
    start, end, service_id = _window_after(change)
    if start is None:
        return
    hits = selectors.blackouts_hit(service_id=service_id, start=start, end=end)
    if not hits:
        return
    done = selectors.overridden_blackout_ids(ticket=ticket, start=start, end=end) if ticket.pk else set()
    pending = [h for h in hits if h.blackout.pk not in done]
    if pending:
        raise _refuse_blackout(ticket, pending[0], start, end, more=len(pending) - 1)


def schedule_observer(change: hooks.TicketChange) -> None:
    """When a change's window or service changes and it now overlaps other changes on its service that it did
    not overlap before, say so on both timelines, in the same transaction."""
    ticket = change.ticket
    if ticket.kind != Kind.CHANGE or ticket.window_start is None or ticket.status == Status.CANCELLED:
        return
    if change.reason == "created":
        before: set[int] = set()
    elif WINDOW_FIELDS & change.changes.keys():
        def old(name):
            return change.changes[name][0] if name in change.changes else getattr(ticket, name)

        service = old("service")
        start = old("window_start")
        before = {t.pk for t in selectors.change_collisions(
            ticket=ticket, start=start, end=old("window_end"), service_id=getattr(service, "pk", service))} \
            if start else set()
    else:
        return
    for other in selectors.change_collisions(ticket=ticket):
        if other.pk in before:
            continue
        for this, that in ((ticket, other), (other, ticket)):
            core.event_record(ticket=this, actor=change.actor, kind=EventKind.SCHEDULE, now=change.now,
                              field="collision", new=that.key, note=that.title)


# --- the personal calendar feed ---------------------------------------------------------------------------------

def calendar_feed_create(*, actor, now: datetime | None = None) -> str:
    """Give the actor a new secret address of the change calendar feed and return its token (shown once; only
    its hash is kept). An address they had before stops working."""
    now = now or timezone.now()
    if not access.is_staff_member(actor):
        raise AccessDenied("The change calendar is for staff.")
    token = secrets.token_urlsafe(24)
    CalendarFeed.objects.update_or_create(user=actor, defaults={
        "token_hash": CalendarFeed.hash(token), "created_at": now, "last_used_at": None})
    return token


def calendar_feed_revoke(*, actor) -> bool:
    """Turn the actor's feed address off; True if they had one."""
    deleted, _ = CalendarFeed.objects.filter(user=actor).delete()
    return bool(deleted)


def calendar_feed_used(*, feed: CalendarFeed, now: datetime | None = None) -> None:
    """Note when a calendar app last fetched the feed (at most one write in ten minutes)."""
    now = now or timezone.now()
    if feed.last_used_at is None or now - feed.last_used_at > timedelta(minutes=10):
        CalendarFeed.objects.filter(pk=feed.pk).update(last_used_at=now)


def register() -> None:
    # The change calendar's rules hold for every write of a change window (UI, API, other apps).
    hooks.register_guard(schedule_guard)
    hooks.register(schedule_observer)
