"""Reads of the core: tickets, their timeline and links, and the queue. Every ticket query starts from
`access.visible(user)`."""

import base64
import binascii
import re
from dataclasses import dataclass
from datetime import datetime
from functools import cache

from django.contrib.auth import get_user_model
from django.db import connection
from django.db.models import Case, Exists, F, OuterRef, Prefetch, Q, QuerySet, Sum, When, prefetch_related_objects
from django.http import QueryDict
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from . import access, extensions
from .choices import LINK_INVERSE_LABEL, OPEN_STATUSES, Priority, Role, Tier
from .errors import NotFound
from .filtersets import TicketFilterSet, config_rows
from .forms import staff_users
from .models import (
    AssignmentGroup,
    Attachment,
    Contributor,
    ExternalRef,
    Link,
    Macro,
    QueueView,
    Service,
    Ticket,
    TicketEvent,
    WorkLog,
)
from .precompiled import Precompiled, prefetch_compiled

LIST_RELATED = ("requester", "group", "owner", "assignee", "service", "category")


def _sla_clocks() -> Prefetch:
    """A ticket's SLA clocks with their policy and calendar (what the `sla` field reads), in one query."""
    clocks = Ticket._meta.get_field("sla_clocks").related_model.objects.select_related("policy__calendar")
    # A plain list attribute: reading it per row builds no QuerySet (a clone per row cost ~10 ms a page).
    return Prefetch("sla_clocks", queryset=clocks.order_by("metric", "tier", "cycle"), to_attr="sla_clock_list")


def ticket_list(*, user) -> QuerySet:
    """Tickets this user may see, with what a list row shows fetched in one query (and one for SLA clocks)."""
    return access.visible(user, Ticket.objects.all()).select_related(*LIST_RELATED).prefetch_related(_sla_clocks())


def ticket_with_clocks(ticket: Ticket) -> Ticket:
    """Fetch the SLA clocks of a ticket about to be shown in one query, instead of three per clock."""
    prefetch_related_objects([ticket], _sla_clocks())
    return ticket


def with_known_external_refs(ticket: Ticket, refs: list) -> Ticket:
    """Give a ticket just created the external references just written, so showing it reads none back. Without
    any (most creates) the ticket has none at all: an empty result, without building a filter."""
    cached = ExternalRef.objects.filter(ticket=ticket) if refs else ExternalRef.objects.none()
    cached._result_cache = sorted(refs, key=lambda r: (r.system, r.external_id))
    cached._prefetch_done = True
    ticket._prefetched_objects_cache = {**getattr(ticket, "_prefetched_objects_cache", {}), "external_refs": cached}
    return ticket


PAGE_RELATED = (*LIST_RELATED, "group__escalates_to", "service__intake_group")


def _page_ticket(shape, *, key):
    return extensions.prefetch(Ticket.objects.select_related(*PAGE_RELATED)).filter(key=key).order_by()[:2]


# The ticket page's ticket as staff read it (every ticket visible): compiled once, it is the page's costliest
# query to build (seven joins and the apps' prefetches).
_staff_page_ticket = Precompiled(_page_ticket)


def ticket_for_user(user, key: str, *, for_update: bool = False, page: bool = False) -> Ticket:
    """The ticket by its human key, or NotFound (also when it exists but is not visible: keys do not leak).
    `page=True` also fetches what the apps' badges and panels read (`tracker.extensions.prefetch`)."""
    if page and access.is_staff_member(user):
        found = _staff_page_ticket(key=key.upper())
        if len(found) == 1:
            return found[0]
        raise NotFound(f"No ticket {key} that you can see.")
    qs = access.visible(user, Ticket.objects.select_related(*PAGE_RELATED))
    if page:
        qs = extensions.prefetch(qs)
    try:
        return qs.get(key=key.upper())
    except Ticket.DoesNotExist:
        raise NotFound(f"No ticket {key} that you can see.") from None


def ticket_timeline(*, ticket: Ticket, user) -> QuerySet:
    """History and conversation, oldest first; requesters never see internal notes or internal events."""
    return _timeline(ticket.pk, staff=access.is_staff_member(user))


def _timeline(pk: int, *, staff: bool) -> QuerySet:
    events = TicketEvent.objects.filter(ticket_id=pk).select_related("actor", "comment", "comment__author")
    if not staff:
        events = events.filter(internal=False)
    return events.order_by("created_at", "id")


# The ticket page's reads as staff read them (every ticket, internal notes and files included): the same SQL
# for every staff member, compiled once per process.
_staff_timeline = Precompiled(lambda shape, *, pk: _timeline(pk, staff=True))
_staff_files = Precompiled(lambda shape, *, pk: _attachments(pk, staff=True))


def ticket_timeline_rows(*, ticket: Ticket, user) -> list:
    """`ticket_timeline` read as a list (the ticket page's; staff's compiled once per process)."""
    if access.is_staff_member(user):
        return _staff_timeline(pk=ticket.pk)
    return list(ticket_timeline(ticket=ticket, user=user))


def _links(pk: int, visible=lambda qs: qs) -> QuerySet:
    """Links in both directions of the ticket `pk` whose other ticket passes `visible`, in one query."""
    # The other ticket's visibility is asked per link (a lookup by key), not as "in every visible ticket",
    # which the database answers by reading the whole table.
    def sees(other: str) -> Exists:
        return Exists(visible(Ticket.objects.filter(pk=OuterRef(other))))

    both = Link.objects.filter(Q(sees("target_id"), source_id=pk) | Q(sees("source_id"), target_id=pk))
    return both.select_related("source", "target").order_by("id")  # one query for both directions


# Staff see every ticket (`access.visible` leaves their queryset as it is): one SQL for all of them.
_staff_links = Precompiled(lambda shape, *, pk: _links(pk))


def escalation_groups(ticket: Ticket) -> list[AssignmentGroup]:
    """The groups a ticket may be handed to by name: every group but its own, in their listed order (tier, name,
    as the configuration cache read them), shared and read-only; not a query on every ticket page."""
    return [group for group in config_rows(AssignmentGroup).values() if group.pk != ticket.group_id]


def ticket_links(*, ticket: Ticket, user) -> list[dict]:
    """Links in both directions, each with the other ticket and its label as this ticket reads it (a problem
    "caused" the incident that is "caused by" it), filtered to what the user may see."""
    if access.is_staff_member(user):
        links = _staff_links(pk=ticket.pk)
    else:
        links = list(_links(ticket.pk, lambda qs: access.visible(user, qs)))
    rows = [{"link": link, "direction": "out", "other": link.target, "label": link.get_type_display()}
            for link in links if link.source_id == ticket.pk]
    rows += [{"link": link, "direction": "in", "other": link.source, "label": LINK_INVERSE_LABEL[link.type]}
             for link in links if link.source_id != ticket.pk]
    return rows


def ticket_with_watchers(ticket: Ticket) -> Ticket:
    return Ticket.objects.prefetch_related(Prefetch("watchers")).get(pk=ticket.pk)


# --- the queue ----------------------------------------------------------------------------------------
# Saved views and sort keys of the core; apps add theirs through `tracker.extensions` (e.g. SLA views).


# The core's views and sorts are the same types the apps register (tracker.extensions.QueueView/QueueSort).
CORE_VIEWS = (
    extensions.QueueView("open", "All open"),
    extensions.QueueView("mine", "My open", lambda qs, *, user, now: qs.filter(assignee=user), sort="priority"),
    # Touch and hold: the open tickets I am accountable for, whoever works them now.
    extensions.QueueView("owned", "Owned by me", lambda qs, *, user, now: qs.filter(owner=user), sort="priority"),
    extensions.QueueView("my-group", "My group",
                         lambda qs, *, user, now: qs.filter(group__in=user.assignment_groups.values("pk"))),
    extensions.QueueView("unassigned-l1", "Unassigned L1",
                         lambda qs, *, user, now: qs.filter(group__tier=Tier.L1, assignee__isnull=True),
                         sort="created"),
)
ALL_VIEW = extensions.QueueView("all", "Everything")


def _swarming(qs, *, user, now):
    """Tickets this person helps on now, personally or through one of their groups (an active contribution)."""
    helping = Contributor.objects.filter(left_at__isnull=True).filter(
        Q(user=user) | Q(group__in=user.assignment_groups.values("pk")))
    return qs.filter(pk__in=helping.values("ticket_id"))


# Swarming: the tickets I was brought onto as a contributor (tracker.services, "swarming and work logs").
CORE_VIEWS = (*CORE_VIEWS, extensions.QueueView("swarming", "Swarming", _swarming, sort="priority",
                                                empty="You are not contributing to any open ticket."))


def saved_views() -> list:
    """The queue's views: the core's, then the apps' (e.g. "Breaching soon"), then Everything."""
    return [*CORE_VIEWS, *extensions.registry.queue_views, ALL_VIEW]


def saved_view(slug: str | None):
    views = {v.slug: v for v in saved_views()}
    return views.get(slug or "open", views["open"])


CORE_SORTS = {
    "created": extensions.QueueSort("created", "Created", "created_at"),
    "updated": extensions.QueueSort("updated", "Updated", "updated_at"),
    "priority": extensions.QueueSort("priority", "Priority", "priority"),
}


def sorts() -> dict:
    return {**CORE_SORTS, **extensions.registry.queue_sorts}


def parse_sort(raw: str | None, default: str) -> tuple[extensions.QueueSort, bool]:
    known = sorts()
    raw = (raw or default).strip()
    desc = raw.startswith("-")
    name = raw.lstrip("-")
    if name not in known:
        return parse_sort(default if raw != default else "-created", "-created")
    return known[name], desc


def _encode(value, pk: int) -> str:
    text = f"{value.isoformat() if isinstance(value, datetime) else ('' if value is None else value)}|{pk}"
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def _decode(cursor: str, sort: extensions.QueueSort):
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        raw, pk = text.rsplit("|", 1)
        if sort.slug == "priority":
            value = int(raw)
        else:
            value = parse_datetime(raw) if raw else None
        return value, int(pk)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        return None


@dataclass
class Page:
    rows: list
    next_cursor: str | None
    sort: extensions.QueueSort
    desc: bool


def paginate(qs: QuerySet, *, sort: extensions.QueueSort, desc: bool, after: str | None, size: int = 50,
             shape: "QueueShape | None" = None, user=None) -> Page:
    """Keyset pagination on (sort column, id): page 20,000 costs what page 1 costs; no OFFSET, no COUNT(*).
    A nullable sort reads the rows with a value first and, when they do not fill the page, those without
    (by id) in a second statement: each of the two can be read in an index's order (`_keyset`).
    With a `shape` (`queue_shape`) and a core sort, the rows are read by SQL compiled once for that shape."""
    column = sort.column
    if sort.annotate:
        qs = sort.annotate(qs)
    # The apps' prefetches run once, for the rows shown (not the one read to know there is a next page).
    lookups, qs = qs._prefetch_related_lookups, qs.prefetch_related(None)
    decoded = _decode(after, sort) if after else None
    cursor, rows = _cursor_key(decoded), None
    if shape is not None and CORE_SORTS.get(sort.slug) is sort and cursor is not None:
        values = _viewer(shape, user)
        if decoded:
            values["after_pk"] = decoded[1]
            if cursor == "value":
                values["after_value"] = decoded[0]
        rows = _compiled_rows((shape, sort.slug, desc, "page", size, cursor), **values)
    if rows is None and not sort.nullable:  # not compiled: the ORM reads the page
        rows = list(_keyset(qs, column, desc, decoded)[: size + 1])
    elif rows is None:  # rows without a value (e.g. no running clock) go last either way
        rows = []
        if decoded is None or decoded[0] is not None:
            valued = qs.filter(**{f"{column}__isnull": False})
            rows = list(_keyset(valued, column, desc, decoded)[: size + 1])
        if len(rows) <= size:
            unvalued = qs.filter(**{f"{column}__isnull": True}).order_by("-id" if desc else "id")
            if decoded and decoded[0] is None:  # inside the trailing block without values
                unvalued = unvalued.filter(**{f"id__{'lt' if desc else 'gt'}": decoded[1]})
            rows += list(unvalued[: size + 1 - len(rows)])
    more = len(rows) > size
    rows = with_config_rows(rows[:size])
    prefetch_related_objects(rows, *prefetch_compiled(rows, lookups))
    next_cursor = _encode(getattr(rows[-1], column), rows[-1].pk) if more and rows else None
    return Page(rows=rows, next_cursor=next_cursor, sort=sort, desc=desc)




def _keyset(qs: QuerySet, column: str, desc: bool, decoded) -> QuerySet:
    """The rows after the cursor `decoded` (value, id) in plain ASC/DESC order of (column, id), so ORDER BY
    matches the (-created_at, -id)-style indexes and the scan starts at the cursor."""
    qs = qs.order_by(F(column).desc() if desc else F(column).asc(), "-id" if desc else "id")
    if decoded:
        value, pk = decoded
        cmp = "lt" if desc else "gt"
        if value is None:
            qs = qs.filter(**{f"{column}__isnull": True, f"id__{cmp}": pk})
        else:
            # The bound on the column alone (implied by the OR) is what an index scan can start from.
            qs = qs.filter(Q(**{f"{column}__{cmp}e": value}),
                           Q(**{f"{column}__{cmp}": value}) | Q(**{column: value, f"id__{cmp}": pk}))
    return qs


def page_total(qs: QuerySet, page: Page, *, first: bool, shape: "QueueShape | None" = None, user=None) -> str:
    """The queue's total: a first page that holds every match is its own count, with no query. With a `shape`,
    the ids of up to 1,001 matches are read by SQL compiled once for that shape, and their number is the count."""
    if first and page.next_cursor is None:
        return f"{len(page.rows):,}"
    n = None if shape is None else _compiled_count((shape, "", False, "count", COUNT_CAP, ""), **_viewer(shape, user))
    if n is not None:
        return f"{COUNT_CAP:,}+" if n > COUNT_CAP else f"{n:,}"
    return count_hint(qs)


COUNT_CAP = 1000


def count_hint(qs: QuerySet, cap: int = COUNT_CAP) -> str:
    """'37' or '1,000+': a bounded count, so a filter matching 900,000 rows stays cheap."""
    n = qs.order_by().values("pk")[: cap + 1].count()
    return f"{cap:,}+" if n > cap else f"{n:,}"


# --- the queue's usual requests, compiled once per process and shape ------------------------------------------
# Turning the queue's QuerySet into SQL (joins, narrowed columns, filters, keyset order) cost more CPU than the
# database spent answering it. A request that picks a core view, the choice filters and a core sort has SQL that
# differs only by the viewer and the cursor: it is compiled once per `QueueShape` with marker values for those and
# filled in per request (`tracker.precompiled`). Anything else (text, people, dates and SLA filters, the apps' views
# and sorts) is built by the ORM on every request, as before; a test compares both ways on every core view.

# Filters whose values the form checks against a closed list (choices, the configuration's groups and services):
# they are part of the shape, so the shapes stay few.
SHAPE_FILTERS = ("kind", "status", "priority", "group", "tier", "service")
_SHAPE_PARAMS = {"view", "sort", "after", "saved", *SHAPE_FILTERS}  # `saved` picks columns, already in `related`
COMPILED_MAX = 256  # queries compiled per process (a few dozen in use); past them the ORM builds the others


@dataclass(frozen=True)
class QueueShape:
    """What decides the text of a queue's SQL besides its sort: the view, the choice filters' values, the chosen
    columns' joins, and whether the view reads the viewer (then their id is a value of the SQL)."""

    view: str
    filters: tuple
    related: tuple
    by_user: bool


def queue_shape(*, user, view: extensions.QueueView, params: QueryDict, related: tuple = ()) -> QueueShape | None:
    """The shape of a staff member's queue request whose SQL is compiled once per process, or None when the ORM
    builds it (the filters must have been found valid)."""
    if not access.is_staff_member(user) or not any(view is core for core in (*CORE_VIEWS, ALL_VIEW)):
        return None
    given = {name for name, values in params.lists() if any(values)}  # an empty field filters nothing
    if not given <= _SHAPE_PARAMS:
        return None
    filters = tuple((name, tuple(sorted(v for v in params.getlist(name) if v)))
                    for name in SHAPE_FILTERS if name in given)
    return QueueShape(view.slug, filters, tuple(related), _reads_viewer(view.slug))


@cache
def _reads_viewer(slug: str) -> bool:
    """Whether a core view's SQL names the viewer ("My open", "My group"): its SQL for two people differs."""
    user = get_user_model()
    view = saved_view(slug)
    return len({str(queue(user=user(pk=pk, role=Role.AGENT_L1), view=view).query) for pk in (1, 2)}) > 1


def _viewer(shape: QueueShape, user) -> dict:
    return {"user_id": user.pk} if shape.by_user else {}


def _cursor_key(decoded):
    """How a cursor enters the compiled page's key: "" (first page), "value" (a date: a value of the SQL), a
    priority itself (Django leaves a number outside a small column's range out of the SQL, so it cannot be a
    value), or None (the ORM reads that page)."""
    if decoded is None:
        return ""
    value = decoded[0]
    if isinstance(value, datetime):
        return "value"
    return value if type(value) is int and value in Priority.values else None


def _compiled_queue_qs(key, *, user_id=None, after_value=None, after_pk=None) -> QuerySet:
    """The queue's page (or the ids it counts) for a `QueueShape`, built the ORM's way with marker values."""
    shape, sort_slug, desc, part, size, cursor = key
    if cursor not in ("", "value"):
        after_value = cursor
    # Every staff role sees every ticket (`access.visible`); a view that reads the viewer reads only their id.
    viewer = get_user_model()(pk=user_id, role=Role.AGENT_L1)
    params = QueryDict(mutable=True)
    for name, values in shape.filters:
        params.setlist(name, list(values))
    filterset = TicketFilterSet(params, queryset=queue(user=viewer, view=saved_view(shape.view),
                                                         related=shape.related))
    if not filterset.is_valid():
        raise ValueError(f"the filters of a queue shape are not valid: {filterset.errors}")
    qs = filterset.qs.prefetch_related(None)
    if part == "count":
        return qs.order_by().values_list("pk", flat=True)[: size + 1]
    decoded = (after_value, after_pk) if after_pk is not None else None
    return _keyset(qs, CORE_SORTS[sort_slug].column, desc, decoded)[: size + 1]


_compiled_queue = Precompiled(_compiled_queue_qs)
_compiled_keys: set = set()


def _compiled_rows(key, **values) -> list | None:
    """The rows of the compiled queue query `key`, or None when COMPILED_MAX others are compiled already (each
    one is kept for the process's life: a bound on memory, whatever filters people combine)."""
    return _compiled_queue(key, **values) if _may_compile(key) else None


def _compiled_count(key, **values) -> int | None:
    """How many rows the compiled queue query `key` gives (the ids a total counts, up to its cap), counted by the
    database; None as `_compiled_rows`."""
    return _compiled_queue.count(key, **values) if _may_compile(key) else None


def _may_compile(key) -> bool:
    if key not in _compiled_keys:
        if len(_compiled_keys) >= COMPILED_MAX:
            return False
        _compiled_keys.add(key)
    return True


QUEUE_RELATED = ("group", "assignee")  # what a queue row shows; fewer joins to plan and rows to build
# The ticket's columns a queue row reads (its cells, its actions, the sort keys); the rest (descriptions, plans,
# reviews) stays in the database. A column read anyway is fetched on first use, so nothing shows wrong.
QUEUE_ROW_FIELDS = ("id", "kind", "key", "title", "status", "priority", "version", "created_at", "updated_at",
                    "requester", "group", "owner", "assignee", "service", "category")
PEOPLE = ("requester", "owner", "assignee")
PERSON_FIELDS = ("first_name", "last_name", "username")  # a person's display_name


def _row_columns(qs: QuerySet) -> QuerySet:
    """Read only what a row shows: the ticket's QUEUE_ROW_FIELDS, of each person joined the name, and whatever
    else is joined (the apps' badges join theirs: `extensions.prefetch`) whole."""
    joined = qs.query.select_related if isinstance(qs.query.select_related, dict) else {}
    people = [f"{rel}__{name}" for rel in joined if rel in PEOPLE for name in PERSON_FIELDS]
    return qs.only(*QUEUE_ROW_FIELDS, *joined, *people)


# Groups and services are configuration, kept per process (`filtersets.config_rows`): a queue row takes its group
# and service from there instead of a join building the same few objects again for every row.
CONFIG_RELATED = {"group": AssignmentGroup, "service": Service}


def _config_unjoined(qs: QuerySet) -> QuerySet:
    """The queryset without the joins of CONFIG_RELATED (unless something is joined through them)."""
    joined = qs.query.select_related
    if not isinstance(joined, dict):
        return qs
    kept = {name: deeper for name, deeper in joined.items() if deeper or name not in CONFIG_RELATED}
    if kept == joined:
        return qs
    qs = qs._chain()
    qs.query.select_related = kept or False
    return qs


def with_config_rows(rows: list) -> list:
    """Give each row its group and service from the configuration cache (what `_config_unjoined` left out); one
    the cache does not know yet (created this instant) is read when shown, as without the cache."""
    by_name = {name: config_rows(model) for name, model in CONFIG_RELATED.items()}
    for row in rows:
        cache = row._state.fields_cache
        for name, objs in by_name.items():
            if name in cache:
                continue
            pk = getattr(row, f"{name}_id")
            if pk is None or pk in objs:
                cache[name] = objs.get(pk)
    return rows


def _queue_rows(qs: QuerySet) -> QuerySet:
    """The queue's read of its rows: the apps' joins and prefetches, configuration from its cache, the columns
    a row shows."""
    return _row_columns(_config_unjoined(extensions.prefetch(qs)))


def queue_row(*, user, pk: int, related: tuple = ()) -> Ticket:
    """One queue row as the queue shows it (after a row action): same joins, same prefetches."""
    qs = access.visible(user, Ticket.objects.filter(pk=pk)).select_related(*QUEUE_RELATED, *related)
    return with_config_rows([_queue_rows(qs).get()])[0]


def queue(*, user, view: extensions.QueueView, now: datetime | None = None, related: tuple = ()) -> QuerySet:
    """The queue's base queryset: visible tickets of a saved view, with what a row shows (`related`: what the
    chosen columns read besides the group and the assignee, joined in the same query). Its rows take their group
    and service from the configuration cache when read through `paginate` (or given to `with_config_rows`)."""
    now = now or timezone.now()
    qs = access.visible(user, Ticket.objects.all()).select_related(*QUEUE_RELATED, *related)
    if view.slug != "all":
        qs = qs.filter(status__in=OPEN_STATUSES)
    if view.apply is not None:
        qs = view.apply(qs, user=user, now=now)
    return _queue_rows(qs)


# --- the ticket page and the new-ticket form ----------------------------------------------------------


# As staff count them (every ticket visible): up to 101 of the requester's open tickets, read from the partial
# index tracker_ticket_open_requester. The open statuses are written into the statement as constants: as
# parameters, the plan PostgreSQL keeps for a prepared statement could not know the index's condition holds and
# would filter the requester's every ticket instead (~1.5 ms against ~0.2 for a requester with 30,000).
assert all(re.fullmatch(r"[a-z_]+", status) for status in OPEN_STATUSES)
_REQUESTER_OPEN_SQL = (
    f"SELECT COUNT(*) FROM (SELECT 1 FROM {Ticket._meta.db_table} WHERE requester_id = %s AND status IN "
    f"({', '.join(repr(str(status)) for status in sorted(OPEN_STATUSES))}) LIMIT 101) open_tickets")


def requester_open_count(ticket: Ticket, user) -> str:
    """The requester's open tickets, counted up to 100 (a bounded scan of tracker_ticket_open_requester)."""
    if ticket.requester_id is not None and access.is_staff_member(user):
        with connection.cursor() as cursor:
            cursor.execute(_REQUESTER_OPEN_SQL, [ticket.requester_id])
            n = cursor.fetchone()[0]
        return "100+" if n > 100 else f"{n:,}"
    qs = access.visible(user, Ticket.objects.filter(requester_id=ticket.requester_id))
    return count_hint(qs.filter(status__in=OPEN_STATUSES), cap=100)


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


# --- global search ------------------------------------------------------------------------------------

KEY_PATTERN = re.compile(r"^\s*([A-Za-z]{3})-(\d{1,9})\s*$")


def _ticket_hits(*, user, text: str, limit: int) -> list:
    """Tickets by exact key (100), then title words (60 when the title starts with the text, else 40), then
    description (20); newest first within a score. Requesters find only their own."""
    hits: list = []
    visible = access.visible(user, Ticket.objects.all())
    key = KEY_PATTERN.match(text)
    if key:
        exact = visible.filter(key=f"{key.group(1).upper()}-{int(key.group(2))}").first()
        if exact is not None:
            hits.append(_ticket_hit(user, exact, 100))
    words = text.split()[:4]
    if words:
        in_title = Q()
        for word in words:
            in_title &= Q(title__icontains=word)
        for t in visible.filter(in_title).order_by("-created_at")[:limit]:
            hits.append(_ticket_hit(user, t, 60 if t.title.lower().startswith(text.lower()) else 40))
        if len(hits) < limit:
            seen = [h.url for h in hits]
            for t in visible.filter(description__icontains=text).exclude(in_title).order_by("-created_at")[:limit]:
                hit = _ticket_hit(user, t, 20)
                if hit.url not in seen:
                    hits.append(hit)
    unique = {h.url: h for h in reversed(hits)}  # an exact key also found by title keeps its higher score
    return sorted(unique.values(), key=lambda h: -h.score)[:limit]


def _ticket_hit(user, ticket: Ticket, score: int):
    return extensions.SearchHit(
        kind="Ticket", title=f"{ticket.key} {ticket.title}", url=extensions.ticket_url(user, ticket.key),
        detail=f"{ticket.get_kind_display()} · {ticket.get_status_display()}", score=score, icon="inbox")


def _people_hits(*, user, text: str, limit: int) -> list:
    queue = reverse("tracker:queue")
    return [extensions.SearchHit(kind="Person", title=p.display_name, url=f"{queue}?view=all&requester={p.pk}",
                                 detail=f"{p.username} · {p.get_role_display()}" + (f" · {p.email}" if p.email else ""),
                                 score=50 if p.username.lower() == text.lower() else 30, icon="user")
            for p in requester_search(user=user, text=text, limit=limit)]


def _service_hits(*, user, text: str, limit: int) -> list:
    if not access.is_staff_member(user):
        return []
    services = Service.objects.filter(name__icontains=text).order_by("name")[:limit]
    queue = reverse("tracker:queue")
    return [extensions.SearchHit(kind="Service", title=s.name, url=f"{queue}?view=open&service={s.pk}",
                                 detail="open tickets on this service"
                                 + ("" if s.is_operational else f" · {s.get_lifecycle_display().lower()}"),
                                 score=45 if s.name.lower() == text.lower() else 25, icon="layers")
            for s in services]


CORE_SEARCH = (_ticket_hits, _people_hits, _service_hits)


def global_search(*, user, text: str, limit: int = 8) -> list:
    """One box for everything: tickets, people, services and what the apps register (articles, ...),
    ranked by score. At most `limit` of each kind; nothing for fewer than two characters (or a key)."""
    text = (text or "").strip()[:100]
    if len(text) < 2:
        return []
    finders = [*CORE_SEARCH, *(p.search for p in extensions.registry.search)]
    hits = [hit for find in finders for hit in find(user=user, text=text, limit=limit)]
    return sorted(hits, key=lambda h: -h.score)


def macros_for(user) -> list:
    """The macros this agent may use: their own, then their teams', by name."""
    if not access.is_staff_member(user):
        return []
    return _macros(user_id=user.pk)


def _macros_of(user) -> QuerySet:
    return Macro.objects.filter(access.own_or_team(user)).select_related("group", "to_group").order_by("group_id",
                                                                                                        "name")


_macros = Precompiled(lambda shape, *, user_id: _macros_of(get_user_model()(pk=user_id)))  # the ticket page's


# --- saved queue views and their counts -------------------------------------------------------------------


def queue_views_for(user) -> list:
    """The views this agent saved, then those of their teams, by name (one query)."""
    if not access.is_staff_member(user):
        return []
    return _queue_views(user_id=user.pk)


def _queue_views_of(user) -> QuerySet:
    return QueueView.objects.filter(access.own_or_team(user)).select_related("group").order_by("group_id", "name")


# Every queue page and the top bar's pins read them: compiled once per process.
_queue_views = Precompiled(lambda shape, *, user_id: _queue_views_of(get_user_model()(pk=user_id)))


def groups_of(user) -> list[AssignmentGroup]:
    """The assignment groups this person is a member of, by tier and name (one query, compiled once)."""
    return _groups_of(user_id=user.pk) if user.pk is not None else []


_groups_of = Precompiled(lambda shape, *, user_id: get_user_model()(pk=user_id).assignment_groups.all())


def staff_names() -> list[tuple]:
    """(id, first name, last name, username) of everyone a ticket can be assigned to (the bulk bar's people), as
    `tracker.forms.staff_users` orders them; one query compiled once per process."""
    return _staff_names()


_staff_names = Precompiled(lambda shape: staff_users().values_list("pk", "first_name", "last_name", "username"))


def view_ref(view) -> str:
    """How a view is named in counts and pins: a built-in view by its slug, a saved one as "saved-<id>"."""
    return view.slug if isinstance(view, extensions.QueueView) else f"saved-{view.pk}"


def view_counts(*, user, now: datetime, saved: list, only: set | None = None) -> dict:
    """Open tickets per view (by `view_ref`), each a bounded count ("1,000+"); `only` limits it to some views.
    Served apart from the pages (their own request), so a page's queries stay constant."""
    counts = {}
    for view in saved_views():
        if only is None or view.slug in only:
            counts[view.slug] = count_hint(queue(user=user, view=view, now=now))
    for stored in saved:
        if only is not None and view_ref(stored) not in only:
            continue
        params = QueryDict(stored.query)
        base = saved_view(params.get("view"))
        filterset = TicketFilterSet(params, queryset=queue(user=user, view=base, now=now))
        counts[f"saved-{stored.pk}"] = count_hint(filterset.qs) if filterset.is_valid() else "?"
    return counts


# --- pinned views: the top bar's views with their counts ----------------------------------------------------

PIN_LIMIT = 6


def pinned_refs(user, saved: list) -> list[str]:
    """The views this person pinned to the top bar; until they choose, My open and the views they or their
    teams saved (up to PIN_LIMIT)."""
    if user.queue_pins is None:
        return ["mine", *(view_ref(q) for q in saved)][:PIN_LIMIT]
    return list(user.queue_pins)


def pinned_views(user, saved: list) -> list[dict]:
    """The pinned views that still exist, each with its label and link (a deleted saved view drops out)."""
    queue_url = reverse("tracker:queue")
    known = {v.slug: (v.label, f"{queue_url}?view={v.slug}", False) for v in saved_views()}
    known.update({view_ref(q): (q.name, f"{queue_url}?{q.query}&saved={q.pk}", bool(q.group_id)) for q in saved})
    return [{"ref": ref, "label": known[ref][0], "url": known[ref][1], "shared": known[ref][2]}
            for ref in pinned_refs(user, saved) if ref in known]


# --- the queue's columns --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    """A column of the queue: one of the core's, or a badge an app registered (`tracker.extensions.Badge`)."""

    slug: str
    label: str
    sort: str | None = None  # the QueueSort its heading sorts by
    default: bool = True  # shown to someone who has not chosen their own columns
    related: str | None = None  # the relation its cells read, joined only while the column is shown
    wide: bool = False  # left out on narrow screens and in the split view's narrow list
    badge: extensions.Badge | None = None


KEY_COLUMN = "key"  # always shown, first: the row's link and the keyboard's focus
CORE_COLUMNS = (
    Column("title", "Title"),
    Column("status", "Status"),
    Column("priority", "Priority", sort="priority"),
    # the apps' badge columns come here (the SLA badges)
    Column("kind", "Kind", default=False),
    Column("group", "Group", wide=True),
    Column("owner", "Owner", default=False, related="owner", wide=True),
    Column("assignee", "Responsible", wide=True),
    Column("requester", "Requester", default=False, related="requester", wide=True),
    Column("service", "Service", default=False, related="service", wide=True),
    Column("category", "Category", default=False, related="category", wide=True),
    Column("created", "Created", sort="created", wide=True),
    Column("updated", "Updated", sort="updated"),
)


def queue_columns() -> list[Column]:
    """Every column the queue can show, in their default order: the core's, with the badges after priority."""
    core = {c.slug for c in CORE_COLUMNS} | {KEY_COLUMN}
    badges = [Column(b.slug, b.label, sort=b.sort, default=b.default_column, badge=b)
              for b in extensions.registry.badges if b.slug not in core]
    return [*CORE_COLUMNS[:3], *badges, *CORE_COLUMNS[3:]]


def default_columns() -> list[str]:
    return [c.slug for c in queue_columns() if c.default]


def columns_for(user, saved=None) -> list[Column]:
    """The columns the queue shows this person, in order: a saved view's own columns while it is open, else
    their choice, else the defaults. Names no longer known (an app removed) are left out."""
    known = {c.slug: c for c in queue_columns()}
    names = (saved.columns if saved is not None else None) or user.queue_columns or default_columns()
    return [known[n] for n in names if n in known] or [known[n] for n in default_columns()]


def column_choices(shown: list[Column]) -> list[dict]:
    """The column picker's list: the shown columns in their order, then the others in the default order."""
    slugs = [c.slug for c in shown]
    rest = [c for c in queue_columns() if c.slug not in slugs]
    return [{"column": c, "shown": True} for c in shown] + [{"column": c, "shown": False} for c in rest]


def columns_related(columns: list[Column]) -> tuple:
    return tuple(c.related for c in columns if c.related)


def saved_in_use(saved: list, raw_id) -> QueueView | None:
    """The saved view the queue was opened from (`?saved=<id>`), among the viewer's own and their teams'."""
    return next((q for q in saved if str(q.pk) == str(raw_id or "")), None)


# --- the queue's ticket preview (split view) ------------------------------------------------------------------


def ticket_latest_events(*, ticket: Ticket, user, limit: int = 5) -> list:
    """The latest entries of the ticket's timeline, oldest of them first, in one query however long it is."""
    latest = ticket_timeline(ticket=ticket, user=user).order_by("-created_at", "-id")[:limit]
    return list(reversed(latest))


# --- swarming and work logs -------------------------------------------------------------------------------------


def ticket_contributors(*, ticket: Ticket, user) -> list[Contributor]:
    """Everyone who contributes or contributed to the ticket, oldest first, in one query; `mine` says whether
    `user` is a member of a contributing group (a group's contribution is left by any of its members)."""
    if user.pk is None:
        return list(_contributors_of(ticket.pk, None))
    return _contributors(pk=ticket.pk, user_id=user.pk)


def _contributors_of(pk: int, user_id: int) -> QuerySet:
    member = AssignmentGroup.members.through.objects.filter(assignmentgroup_id=OuterRef("group_id"), user_id=user_id)
    return (Contributor.objects.filter(ticket_id=pk).select_related("user", "group", "invited_by")
            .annotate(mine=Exists(member)).order_by("joined_at", "id"))


_contributors = Precompiled(lambda shape, *, pk, user_id: _contributors_of(pk, user_id))  # the ticket page's


def ticket_work_minutes(*, ticket: Ticket) -> int:
    return WorkLog.objects.filter(ticket=ticket).aggregate(total=Sum("minutes"))["total"] or 0


def ticket_work_logs(*, ticket: Ticket) -> QuerySet:
    return WorkLog.objects.filter(ticket=ticket).select_related("user", "group").order_by("worked_at", "id")


# --- attachments ------------------------------------------------------------------------------------------------


def ticket_attachments(*, ticket: Ticket, user) -> list[Attachment]:
    """The ticket's files this user may see (a requester: no internal one), oldest first, with who added each,
    in one query; the ticket page's panel and its timeline (a comment's files) both read this list."""
    staff = access.is_staff_member(user)
    files = _staff_files(pk=ticket.pk) if staff else list(_attachments(ticket.pk, staff=False))
    for attachment in files:
        attachment.ticket = ticket  # who may remove it reads the ticket: no query back
    return files


def _attachments(pk: int, *, staff: bool) -> QuerySet:
    files = Attachment.objects.filter(ticket_id=pk).select_related("uploaded_by")
    if not staff:
        files = files.filter(internal=False)
    return files.order_by("created_at", "id")


def with_comment_files(events, files: list[Attachment]) -> list:
    """The timeline with each comment's files on it (`event.files`), from the list already read."""
    by_comment: dict[int, list[Attachment]] = {}
    for attachment in files:
        if attachment.comment_id:
            by_comment.setdefault(attachment.comment_id, []).append(attachment)
    events = list(events)
    for event in events:
        event.files = by_comment.get(event.comment_id, []) if event.comment_id else []
    return events


def attachment_for_user(user, pk) -> Attachment:
    """One file by its id, as this user may see it, or NotFound (also when it exists: ids do not leak)."""
    from .services import may_see_attachment  # the rule lives beside the domain functions, which read us

    attachment = Attachment.objects.select_related("ticket", "uploaded_by").filter(pk=pk).first()
    if attachment is None or not may_see_attachment(user, attachment):
        raise NotFound(f"No file {pk} that you can see.")
    return attachment
