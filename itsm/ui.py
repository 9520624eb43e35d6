"""What service management adds to the core's pages, through `tracker.extensions`: the portal and knowledge
base in the top bar, the requester's landing page and ticket page, the side panel of recent changes on the
ticket's service, and the change calendar: its top-bar link, a change's Schedule panel and the timeline's
schedule rows (overrides, collisions)."""

from datetime import datetime

from django.urls import reverse
from django.utils.html import format_html

from tracker import access
from tracker import extensions as ext
from tracker.choices import Kind, Role
from tracker.templatetags.icons import icon

from . import selectors, services
from .forms import ScheduleForm
from .templatetags.itsm_ui import span


def recent_changes_panel(*, request, ticket, now):
    return {"changes": selectors.service_recent_changes(user=request.user, service_id=ticket.service_id, now=now)}


def schedule_panel(*, request, ticket, now):
    """A change's window, its collisions and the blackouts it falls into, and the form to (re)schedule it."""
    if ticket.kind != Kind.CHANGE:
        return None
    return {
        "schedule": selectors.change_schedule(ticket=ticket, user=request.user),
        "form": ScheduleForm(initial={"window_start": ticket.window_start, "window_end": ticket.window_end}),
        "can_edit": access.may(request.user, "edit", ticket),
        "can_override": services.is_change_manager(request.user),
    }


def schedule_row(event) -> str:
    """A schedule event on the timeline: a blackout overridden (with the reason), or a collision."""
    if event.field == "override":
        when = ""
        if "/" in event.old:
            start, end = (datetime.fromisoformat(part) for part in event.old.split("/", 1))
            when = f" ({span(start, end)})"
        return format_html("{} <strong>Blackout overridden</strong> · “{}”{}: {}", icon("shield-check"), event.new,
                           when, event.note)
    if event.field == "collision":
        return format_html('{} <strong>Collision</strong> · the window overlaps <a class="key" href="{}">{}</a> {} '
                           "on the same service", icon("triangle-alert"),
                           reverse("tracker:ticket", args=[event.new]), event.new, event.note)
    return format_html("<strong>Schedule</strong> · {}", event.note or event.new)


def article_hits(*, user, text, limit):
    """Published knowledge articles for the global search box: a title match ranks above a body match."""
    return [ext.SearchHit(kind="Article", title=a.title, url=reverse("itsm:kb-article", args=[a.pk]),
                          detail=a.service.name if a.service else "Knowledge base",
                          score=55 if text.lower() in a.title.lower() else 35, icon="book-open")
            for a in selectors.article_search(text=text, limit=limit)]


def register() -> None:
    ext.register(
        ext.Panel("recent-changes", "itsm/panel_changes.html", recent_changes_panel, order=40),
        ext.Panel("schedule", "itsm/panel_schedule.html", schedule_panel, order=15),
        ext.TimelineRenderer("schedule", schedule_row),
        ext.NavLink("portal", "My tickets", "itsm:portal", audience="requester", order=10, icon="inbox"),
        ext.NavLink("calendar", "Change calendar", "itsm:calendar", order=35, icon="calendar-days"),
        ext.NavLink("kb", "Knowledge base", "itsm:kb", audience="public", order=50, icon="book-open"),
        ext.NavLink("portal-new", "Report a problem", "itsm:portal-new", audience="requester",
                    query="?kind=incident", order=60, icon="life-buoy"),
        ext.Home(Role.REQUESTER, "itsm:portal"),
        ext.RequesterPage("itsm:portal-ticket"),
        ext.SearchProvider("articles", article_hits, order=10),
    )
