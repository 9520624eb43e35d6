"""What development adds to the core's pages, through `tracker.extensions`: the 3rd-line queue in the top bar
and as the engineers' landing page, team backlogs and capacity, releases; on the ticket page "Create defect"
on incidents and problems, "Add to release" on defects and changes, what changed on the ticket's
service; the timeline's release and capacity rows."""

from django.utils.html import format_html

from tracker import access
from tracker import extensions as ext
from tracker.choices import Kind, Role

from . import selectors


def releases_panel(*, request, ticket, now):
    """What changed on this service: releases whose notes reached the desk or that shipped in 14 days."""
    if not ticket.service_id:
        return None
    return {"releases": selectors.recent_notes(service_id=ticket.service_id, now=now)}


def release_row(event) -> str:
    return format_html("<strong>Release</strong> · {}", event.note or event.new or "")


# --- releases: "Add to release" on defects and changes, and the Releases page in the top bar -----------------

def add_to_release_action(*, request, ticket, now):
    from .services import releases as rel

    if not rel.may_add_ticket(request.user, ticket):
        return None
    carried = set(ticket.releases.values_list("pk", flat=True))
    choices = [r for r in selectors.open_releases(service_id=ticket.service_id) if r.pk not in carried]
    return {"releases": choices} if choices else None


# --- defects, team backlog, time logging and support capacity -------------------------------------------------

def capacity_row(event) -> str:
    return format_html("<strong>Support capacity</strong> · {}", event.note or "")


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


def register() -> None:
    from . import views
    from .services.releases import RELEASE_MANAGERS

    ext.register(
        ext.Action("create-defect", "devflow/action_defect.html", views.defect_action, order=50),
        ext.Action("add-to-release", "devflow/action_release.html", add_to_release_action, order=55),
        ext.Panel("releases", "devflow/panel_releases.html", releases_panel, order=50),
        ext.TimelineRenderer("release", release_row),
        ext.TimelineRenderer("capacity", capacity_row),
        ext.Panel("code", "devflow/panel_code.html", code_panel, order=55),
        ext.TimelineRenderer("code", code_row),
        ext.NavLink("repositories", "Repositories", "devflow:repositories", order=95, icon="git-branch",
                    roles=(Role.ADMIN,)),
        ext.NavLink("dev", "3rd line", "devflow:queue", order=20, icon="wrench"),
        ext.NavLink("dev-teams", "Teams", "devflow:teams", order=21, icon="users", roles=(
            Role.ENGINEER_L3, Role.MANAGER, Role.ADMIN, Role.CHANGE_MANAGER, Role.INCIDENT_MANAGER,
            Role.PROBLEM_MANAGER)),
        ext.NavLink("releases", "Releases", "devflow:releases", order=22, icon="package",
                    roles=tuple(sorted(RELEASE_MANAGERS))),
        ext.Home(Role.ENGINEER_L3, "devflow:queue"),
    )
