"""What development adds to the core's pages, through `tracker.extensions`: the 3rd-line queue in the top bar
and as the engineers' landing page, "Create defect" on incidents and problems, releases shipped to the
ticket's service, and the timeline's release rows."""

from django.utils.html import format_html

from tracker import access
from tracker import extensions as ext
from tracker.choices import Kind, Role

from . import selectors


def defect_action(*, request, ticket, now):
    if ticket.kind not in (Kind.INCIDENT, Kind.PROBLEM) or not ticket.is_open:
        return None
    if not access.may(request.user, "link", ticket):
        return None
    return {}


def releases_panel(*, request, ticket, now):
    if not ticket.service_id:
        return None
    return {"releases": selectors.service_releases(service_id=ticket.service_id, now=now)}


def release_row(event) -> str:
    return format_html("<strong>Release</strong> · {}", event.note or event.new or "")


def register() -> None:
    ext.register(
        ext.Action("create-defect", "devflow/action_defect.html", defect_action, order=50),
        ext.Panel("releases", "devflow/panel_releases.html", releases_panel, order=50),
        ext.TimelineRenderer("release", release_row),
        ext.NavLink("dev", "3rd line", "devflow:queue", order=20, icon="wrench"),
        ext.Home(Role.ENGINEER_L3, "devflow:queue"),
    )


# --- defects, team backlog, time logging and support capacity -------------------------------------------------
_register_releases_and_queue = register


def register() -> None:  # noqa: F811 - extends the registration above
    from . import capacity, views

    _register_releases_and_queue()
    ext.register(
        ext.Action("create-defect", "devflow/action_defect.html", views.defect_action, order=50),
        ext.Action("log-time", "devflow/action_worklog.html", capacity.worklog_action, order=70),
        ext.TimelineRenderer("capacity", capacity_row),
        ext.NavLink("dev-teams", "Teams", "devflow:teams", order=21, icon="users", roles=(
            Role.ENGINEER_L3, Role.MANAGER, Role.ADMIN, Role.CHANGE_MANAGER, Role.INCIDENT_MANAGER,
            Role.PROBLEM_MANAGER)),
    )


def capacity_row(event) -> str:
    return format_html("<strong>Support capacity</strong> · {}", event.note or "")
