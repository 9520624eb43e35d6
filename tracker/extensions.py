"""The one extension point of the core's pages: how the apps above `tracker` add to them.

Imports point one way (`itsm`, `devflow` -> `sla` -> `tracker`), so the ticket page, the queue and the top
bar cannot name what the apps add. Each app registers its contributions once, in `AppConfig.ready()`:

- `Panel`: a card in the ticket page's side column (the SLA clocks, releases on the service, ...), or with
  `column="main"` a wide card in the main column, under the details (a change's tasks), or with
  `column="top"` a banner above the whole ticket, under the page's messages (a known error that applies);
- `Action`: a button with its form in the ticket page's action bar ("Create defect", ...);
- `Badge`: a badge in the ticket header and a column of the queue that people may show, hide and move like
  the core's columns (the SLA badges); its `slug` names the column;
- `TimelineRenderer`: how an event kind of the app reads on the timeline ("sla", "release", ...);
- `QueueView`: a saved view of the queue ("Breaching soon"), `QueueSort`: a sort key ("SLA due");
- `NavLink`: an entry of the top bar (the portal, the 3rd-line queue, the dashboard), `TopbarItem`: a
  widget of the top bar (the notifications bell), `Home`: where a role lands after signing in;
- `Prefetch`: what a page of tickets needs fetched once for the badges above (no query per row);
- `RequesterPage`: the page a requester reads their own ticket on (the portal's);
- `SearchProvider`: what the global search box finds besides tickets, people and services (articles, ...);
- `CreateShortcut`: another way to raise a ticket of a kind, offered on the new-ticket form for that kind
  (a standard change from a change manager's template).
- `DashboardSection`: a section of the manager dashboard under its key figures (change success rates, ...);
  the page that shows the dashboard renders every registered section with the period being looked at.
- `BulkAction`: an action of the queue's bulk bar that works on the ticked tickets as one set ("Create
  problem from incidents", "Link to major incident"), with its own inputs in the bar.

The core renders every registered item in `order`; an app that is not installed simply adds nothing.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.urls import reverse

# (request, ticket, now) -> the template's context, or None to leave the item out for this ticket/user
ContextFn = Callable[..., dict | None]


@dataclass(frozen=True)
class Panel:
    slug: str
    template: str  # rendered with the page's context plus `panel` (what `context` returned)
    context: ContextFn
    order: int = 100
    column: str = "side"  # side | main (wide content: a table) | top (a banner above the ticket)


@dataclass(frozen=True)
class Action:
    slug: str
    template: str  # the button and its form; context as for Panel
    context: ContextFn
    order: int = 100


@dataclass(frozen=True)
class Badge:
    slug: str
    label: str  # the queue column's heading
    render: Callable[[Any, Any], str]  # (ticket, now) -> safe HTML, from prefetched data only
    sort: str | None = None  # a QueueSort slug the column heading sorts by
    order: int = 100
    default_column: bool = True  # among the queue's columns of someone who has not chosen their own


@dataclass(frozen=True)
class TimelineRenderer:
    kind: str  # a TicketEvent.kind
    render: Callable[[Any], str]  # (event) -> safe HTML


@dataclass(frozen=True)
class QueueView:
    slug: str
    label: str
    apply: Callable[..., Any] | None = None  # (qs, user=, now=) -> qs; None: every open ticket
    sort: str = "-created"
    order: int = 100
    empty: str = ""  # what the empty queue says


@dataclass(frozen=True)
class QueueSort:
    slug: str
    label: str
    column: str  # the column (or annotated attribute) the keyset pages on
    annotate: Callable[[Any], Any] | None = None  # qs -> qs with `column`, when it is not a field
    nullable: bool = False  # rows without a value go last either way


@dataclass(frozen=True)
class NavLink:
    nav: str  # the page's `nav` value that marks the link current
    label: str
    url_name: str
    audience: str = "staff"  # staff | requester | all | public (also signed out)
    query: str = ""
    order: int = 100
    icon: str = ""  # a name in static/icons/sprite.svg
    roles: tuple[str, ...] = ()  # only people of these roles (a superuser counts as admin); empty: the audience


@dataclass(frozen=True)
class TopbarItem:
    template: str
    order: int = 100


@dataclass(frozen=True)
class Home:
    role: str
    url_name: str
    query: str = ""


@dataclass(frozen=True)
class RequesterPage:
    url_name: str  # takes the ticket key


@dataclass(frozen=True)
class SearchHit:
    kind: str  # what it is, as the results say it: "Ticket", "Article", "Person", "Service"
    title: str
    url: str
    detail: str = ""
    score: int = 0  # higher first; an exact ticket key scores 100
    icon: str = ""


@dataclass(frozen=True)
class SearchProvider:
    slug: str
    search: Callable[..., list]  # (user=, text=, limit=) -> list[SearchHit]
    order: int = 100


@dataclass(frozen=True)
class CreateShortcut:
    slug: str
    kind: str  # the kind the new-ticket form shows it for
    label: str
    url_name: str  # takes no arguments
    hint: str = ""
    icon: str = ""
    order: int = 100


@dataclass(frozen=True)
class DashboardSection:
    slug: str
    template: str  # rendered with the dashboard's context plus `section` (what `context` returned)
    context: Callable[..., dict | None]  # (request=, period=, now=) -> context, or None to leave it out
    order: int = 100


@dataclass(frozen=True)
class BulkAction:
    slug: str
    label: str
    # (request=, tickets=[Ticket, ...] in the order ticked, data=request.POST) -> what was done, for the flash;
    # raises a tracker.errors.DomainError to refuse (its message is shown in the bar, nothing is kept).
    run: Callable[..., str]
    template: str = ""  # the action's own inputs in the bulk bar (ids prefixed "bulk-<slug>-")
    order: int = 100


@dataclass
class Registry:
    panels: list[Panel] = field(default_factory=list)
    actions: list[Action] = field(default_factory=list)
    badges: list[Badge] = field(default_factory=list)
    timeline: dict[str, TimelineRenderer] = field(default_factory=dict)
    queue_views: list[QueueView] = field(default_factory=list)
    queue_sorts: dict[str, QueueSort] = field(default_factory=dict)
    nav: list[NavLink] = field(default_factory=list)
    topbar: list[TopbarItem] = field(default_factory=list)
    homes: dict[str, Home] = field(default_factory=dict)
    prefetches: list[Callable[[Any], Any]] = field(default_factory=list)
    requester_page: RequesterPage | None = None
    search: list[SearchProvider] = field(default_factory=list)
    create_shortcuts: list[CreateShortcut] = field(default_factory=list)
    dashboard: list[DashboardSection] = field(default_factory=list)
    bulk_actions: list[BulkAction] = field(default_factory=list)


registry = Registry()


# Where each kind of item goes: ordered lists (by `order`, one per slug), or maps by a key.
_LISTS = {Panel: "panels", Action: "actions", Badge: "badges", QueueView: "queue_views", NavLink: "nav",
          TopbarItem: "topbar", SearchProvider: "search", CreateShortcut: "create_shortcuts",
          DashboardSection: "dashboard", BulkAction: "bulk_actions"}
_MAPS = {TimelineRenderer: ("timeline", "kind"), QueueSort: ("queue_sorts", "slug"), Home: ("homes", "role")}


def register(*items) -> None:
    """Add items of any of the kinds above; registering the same item twice is harmless."""
    for item in items:
        kind = type(item)
        if kind in _LISTS:
            _add(getattr(registry, _LISTS[kind]), item)
        elif kind in _MAPS:
            name, key = _MAPS[kind]
            getattr(registry, name)[getattr(item, key)] = item
        elif kind is RequesterPage:
            registry.requester_page = item
        elif callable(item):
            if item not in registry.prefetches:
                registry.prefetches.append(item)
        else:
            raise TypeError(f"Not an extension item: {item!r}")


def _add(items: list, item) -> None:
    kept = [i for i in items if getattr(i, "slug", None) != getattr(item, "slug", object()) and i != item]
    kept.append(item)
    kept.sort(key=lambda i: i.order)
    items[:] = kept


def prefetch(qs):
    """A ticket queryset with what every registered badge reads (one query each, never one per row)."""
    for fn in registry.prefetches:
        qs = fn(qs)
    return qs


def dashboard_sections(*, request, period, now) -> list[dict]:
    """The registered dashboard sections that apply, each with its template and context (`section`)."""
    out = []
    for item in registry.dashboard:
        ctx = item.context(request=request, period=period, now=now)
        if ctx is not None:
            out.append({"slug": item.slug, "template": item.template, "ctx": ctx})
    return out


def home_url(user) -> str:
    """Where this user's work is: the Home registered for their role, else the queue (staff) or the sign-in."""
    from .access import is_staff_member, role_of  # access imports this module: read it when called

    home = registry.homes.get(role_of(user))
    if home is not None:
        return reverse(home.url_name) + home.query
    return reverse("tracker:queue") if is_staff_member(user) else reverse("login")


def ticket_url(user, key: str) -> str:
    """Where this user reads a ticket: the ticket page for staff, the requester's own page for requesters."""
    from .access import is_staff_member

    page = registry.requester_page
    if page is not None and not is_staff_member(user):
        return reverse(page.url_name, args=[key])
    return reverse("tracker:ticket", args=[key])
