"""Reads of the self-service portal, the knowledge base, the service-management panels of the ticket page and
the change calendar (scheduled changes, blackout windows, collisions). Every ticket query starts from
`access.visible` when it answers a person."""

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db.models import Q
from django.db.models.functions import Coalesce

from tracker import access
from tracker.choices import Kind, Status
from tracker.models import Ticket

from .models import Blackout, BlackoutOverride, CalendarFeed, KnowledgeArticle

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
        .select_related("service")
        .order_by("-created_at", "-id")
    )


def article_search(*, text: str = "", limit: int = 30) -> list[KnowledgeArticle]:
    qs = KnowledgeArticle.objects.filter(published=True).select_related("service")
    text = (text or "").strip()
    if text:
        cond = Q(title__icontains=text) | Q(body__icontains=text)
        for word in _WORD.findall(text)[:5]:
            cond |= Q(title__icontains=word)
        qs = qs.filter(cond)
    return list(qs.order_by("-updated_at")[:limit])


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
    return list(BlackoutOverride.objects.filter(ticket=ticket).select_related("actor").order_by("created_at", "id"))


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
