"""Reads of the agent queue, the ticket workspace and the portal. Every query starts from `access.visible`."""

import base64
import binascii
import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.contrib.auth import get_user_model
from django.db.models import Case, Exists, F, OuterRef, Prefetch, Q, QuerySet, Subquery, When
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from tracker import access
from tracker.choices import OPEN_STATUSES, Kind, Role, Tier
from tracker.models import Ticket

from .models import KnowledgeArticle

try:  # the SLA engine's clocks; the pages show empty states until it is installed
    from sla.models import Clock
except ImportError:  # pragma: no cover - only before the SLA app has its models
    Clock = None

CLOCK_LIVE = ("running", "paused")
BREACHING_SOON = timedelta(hours=2)


def sla_enabled() -> bool:
    return Clock is not None


def with_clocks(qs: QuerySet) -> QuerySet:
    """Prefetch every ticket's SLA clocks of the current cycle in one query (badges, side panel)."""
    if Clock is None:
        return qs
    return qs.prefetch_related(Prefetch("sla_clocks", queryset=Clock.objects.order_by("metric", "-cycle")))


def _live_clocks():
    return Clock.objects.filter(ticket=OuterRef("pk"), state__in=CLOCK_LIVE)


# --- saved views --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SavedView:
    slug: str
    label: str
    sort: str = "-created"


SAVED_VIEWS = (
    SavedView("open", "All open"),
    SavedView("mine", "My open", "priority"),
    SavedView("my-group", "My group"),
    SavedView("unassigned-l1", "Unassigned L1", "created"),
    SavedView("breaching", "Breaching soon", "due"),
    SavedView("breached", "Breached"),  # newest first: ordering every breached ticket by due is a full sort
    SavedView("all", "Everything"),
)
VIEWS_BY_SLUG = {v.slug: v for v in SAVED_VIEWS}


def saved_view(qs: QuerySet, *, view: str, user, now: datetime) -> QuerySet:
    if view != "all":
        qs = qs.filter(status__in=OPEN_STATUSES)
    if view == "mine":
        return qs.filter(assignee=user)
    if view == "my-group":
        return qs.filter(group__in=user.assignment_groups.values("pk"))
    if view == "unassigned-l1":
        return qs.filter(group__tier=Tier.L1, assignee__isnull=True)
    if view == "breaching":
        if Clock is None:
            return qs.none()
        # Ids first, from the few clocks about to breach (index sla_clock_breaching): as a semi-join the
        # planner would rather scan every open ticket.
        soon = Clock.objects.filter(state="running", breached=False, due_at__lte=now + BREACHING_SOON)
        return qs.filter(pk__in=list(soon.order_by().values_list("ticket_id", flat=True)))
    if view == "breached":
        if Clock is None:
            return qs.none()
        return qs.filter(Exists(_live_clocks().filter(breached=True)))
    return qs


# --- sorting and keyset pagination --------------------------------------------------------------------

SORTS = {  # public name -> (column, label)
    "created": ("created_at", "Created"),
    "updated": ("updated_at", "Updated"),
    "priority": ("priority", "Priority"),
    "due": ("next_due", "SLA due"),
}


def parse_sort(raw: str | None, default: str) -> tuple[str, bool]:
    raw = (raw or default).strip()
    desc = raw.startswith("-")
    name = raw.lstrip("-")
    if name not in SORTS or (name == "due" and Clock is None):
        return parse_sort(default if raw != default else "-created", "-created")
    return name, desc


def _encode(value, pk: int) -> str:
    text = f"{value.isoformat() if isinstance(value, datetime) else ('' if value is None else value)}|{pk}"
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def _decode(cursor: str, name: str):
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        raw, pk = text.rsplit("|", 1)
        if name in ("created", "updated", "due"):
            value = parse_datetime(raw) if raw else None
        else:
            value = int(raw)
        return value, int(pk)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        return None


@dataclass
class Page:
    rows: list
    next_cursor: str | None
    total_hint: str
    sort: str
    desc: bool


def paginate(qs: QuerySet, *, sort: str, desc: bool, after: str | None, size: int = 50) -> Page:
    """Keyset pagination on (sort column, id): page 20,000 costs what page 1 costs; no OFFSET, no COUNT(*)."""
    column = SORTS[sort][0]
    if sort == "due":  # a per-ticket lookup (sla_clock_running_due), not a GROUP BY over every ticket
        earliest = Clock.objects.filter(ticket=OuterRef("pk"), state="running", due_at__isnull=False)
        qs = qs.annotate(next_due=Subquery(earliest.order_by("due_at").values("due_at")[:1]))
    if sort == "due":  # the only nullable sort key: tickets without a running clock go last
        order = F(column).desc(nulls_last=True) if desc else F(column).asc(nulls_last=True)
    else:  # plain ASC/DESC, so ORDER BY matches the (-created_at, -id)-style indexes
        order = F(column).desc() if desc else F(column).asc()
    qs = qs.order_by(order, "-id" if desc else "id")
    if after:
        decoded = _decode(after, sort)
        if decoded:
            value, pk = decoded
            cmp = "lt" if desc else "gt"
            if value is None:  # inside the trailing NULLs block
                qs = qs.filter(**{f"{column}__isnull": True, f"id__{cmp}": pk})
            else:
                qs = qs.filter(
                    Q(**{f"{column}__{cmp}": value})
                    | Q(**{column: value, f"id__{cmp}": pk})
                    | Q(**{f"{column}__isnull": True})
                )
    rows = list(qs[: size + 1])
    more = len(rows) > size
    rows = rows[:size]
    next_cursor = _encode(getattr(rows[-1], column), rows[-1].pk) if more and rows else None
    return Page(rows=rows, next_cursor=next_cursor, total_hint="", sort=sort, desc=desc)


def page_total(qs: QuerySet, page: Page, *, first: bool) -> str:
    """The queue's total: a first page that holds every match is its own count, with no query."""
    if first and page.next_cursor is None:
        return f"{len(page.rows):,}"
    return count_hint(qs)


def count_hint(qs: QuerySet, cap: int = 1000) -> str:
    """'37' or '1,000+': a bounded count, so a filter matching 900,000 rows stays cheap."""
    n = qs.order_by().values("pk")[: cap + 1].count()
    return f"{cap:,}+" if n > cap else f"{n:,}"


QUEUE_RELATED = ("group", "assignee")  # what a queue row shows; fewer joins to plan and rows to build


def queue_row(*, user, pk: int) -> Ticket:
    """One queue row as the queue shows it (after a row action): same joins, same clocks prefetch."""
    qs = access.visible(user, Ticket.objects.filter(pk=pk)).select_related(*QUEUE_RELATED)
    return with_clocks(qs).get()


def queue(*, user, now: datetime | None = None, view: str = "open") -> QuerySet:
    """The queue's base queryset: visible tickets of a saved view, with what a row shows."""
    now = now or timezone.now()
    qs = access.visible(user, Ticket.objects.all()).select_related(*QUEUE_RELATED)
    return with_clocks(saved_view(qs, view=view, user=user, now=now))


# --- the workspace ------------------------------------------------------------------------------------


def ticket_clocks(ticket: Ticket) -> list:
    if Clock is None:
        return []
    return list(Clock.objects.filter(ticket=ticket).order_by("-cycle", "metric", "tier"))


def requester_open_count(ticket: Ticket, user) -> str:
    """The requester's open tickets, counted up to 100 (a bounded scan of tracker_ticket_requester)."""
    qs = access.visible(user, Ticket.objects.filter(requester_id=ticket.requester_id))
    return count_hint(qs.filter(status__in=OPEN_STATUSES), cap=100)


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


_WORD = re.compile(r"[\w-]{4,}")


def similar_open(
    *, user, title: str, service_id: int | None = None, exclude_pk: int | None = None, limit: int = 5
) -> list[Ticket]:
    """Open tickets whose title shares the longest words of `title` (duplicate suggestions)."""
    words = sorted(set(w.lower() for w in _WORD.findall(title or "")), key=len, reverse=True)[:3]
    if not words:
        return []
    cond = Q()
    for word in words:
        cond |= Q(title__icontains=word)
    qs = access.visible(user, Ticket.objects.filter(status__in=OPEN_STATUSES)).filter(cond)
    if service_id:
        qs = qs.filter(service_id=service_id)
    if exclude_pk:
        qs = qs.exclude(pk=exclude_pk)
    return list(qs.select_related("group").order_by("-created_at")[:limit])


def requester_search(*, user, text: str, limit: int = 10) -> list:
    """People a ticket can be raised for, matching a part of their username, name or email (staff only).

    Requesters come first: they are whom the desk raises tickets for; staff can be affected too."""
    words = (text or "").split()[:3]
    if not words or not access.is_staff_member(user):
        return []
    cond = Q()
    for word in words:
        cond &= (
            Q(username__icontains=word)
            | Q(first_name__icontains=word)
            | Q(last_name__icontains=word)
            | Q(email__icontains=word)
        )
    people = get_user_model().objects.filter(cond, is_active=True)
    requester_first = Case(When(role=Role.REQUESTER, then=0), default=1)
    return list(people.order_by(requester_first, "first_name", "last_name", "username")[:limit])


# --- the portal ---------------------------------------------------------------------------------------


def portal_tickets(*, user, limit: int = 50) -> list[Ticket]:
    """A requester's own tickets (visible() already keeps them to their own), newest first."""
    return list(
        access.visible(user, Ticket.objects.filter(requester=user))
        .select_related("service")
        .order_by("-created_at")[:limit]
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
