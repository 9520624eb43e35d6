"""What development adds to the core's pages, through `tracker.extensions`: the 3rd-line queue in the top bar
and as the engineers' landing page, "Create defect" on incidents and problems, releases shipped to the
ticket's service, and the timeline's release rows."""

from django.utils.html import format_html

from tracker import access
from tracker import extensions as ext
from tracker.choices import Kind, Role, Status

from . import selectors


def defect_action(*, request, ticket, now):
    if ticket.kind not in (Kind.INCIDENT, Kind.PROBLEM) or not ticket.is_open:
        return None
    if not access.may(request.user, "link", ticket):
        return None
    return {}


def releases_panel(*, request, ticket, now):
    """What changed on this service: releases whose notes reached the desk or that shipped in 14 days."""
    if not ticket.service_id:
        return None
    return {"releases": selectors.recent_notes(service_id=ticket.service_id, now=now)}


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


# --- releases: "Add to release" on defects and changes, and the Releases page in the top bar -----------------

def add_to_release_action(*, request, ticket, now):
    from .services import releases as rel

    if ticket.kind not in rel.RELEASE_KINDS or ticket.status in (Status.CLOSED, Status.CANCELLED) \
            or not rel.may_manage(request.user):
        return None
    carried = set(ticket.releases.values_list("pk", flat=True))
    choices = [r for r in selectors.open_releases(service_id=ticket.service_id) if r.pk not in carried]
    return {"releases": choices} if choices else None


def register_releases() -> None:
    from .services.releases import RELEASE_MANAGERS

    ext.register(
        ext.Action("add-to-release", "devflow/action_release.html", add_to_release_action, order=55),
        ext.NavLink("releases", "Releases", "devflow:releases", order=22, icon="package",
                    roles=tuple(sorted(RELEASE_MANAGERS | {Role.AGENT_L1}))),
    )
