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


# --- VCS: the code that mentions a ticket, on its page and its timeline ---------------------------------------

def code_panel(*, request, ticket, now):
    from .services.vcs import ticket_code_links

    # On defects, where the fix is awaited; other kinds show their code on the timeline and in the API (the
    # incident page keeps its query budget).
    if ticket.kind != Kind.DEFECT or not access.is_staff_member(request.user):
        return None
    return {"links": ticket_code_links(ticket=ticket)}


def code_row(event) -> str:
    return format_html("<strong>Code</strong> · {}", event.note or event.new or "")


def register_vcs() -> None:
    ext.register(
        ext.Panel("code", "devflow/panel_code.html", code_panel, order=55),
        ext.TimelineRenderer("code", code_row),
        ext.NavLink("repositories", "Repositories", "devflow:repositories", order=95, icon="git-branch",
                    roles=(Role.ADMIN,)),
    )


_register_before_vcs = register


def register() -> None:  # noqa: F811 (the app's ready() calls register(): VCS joins what was there)
    _register_before_vcs()
    register_vcs()
