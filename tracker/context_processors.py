"""The top bar of every page: the core's links and the apps' (`tracker.extensions`), for this user."""

from django.utils import timezone

from . import access, extensions

CORE_NAV = (
    extensions.NavLink("queue", "Queue", "tracker:queue", order=0, icon="inbox"),
    extensions.NavLink("new", "New ticket", "tracker:ticket-new", order=30, icon="plus"),
)


def top_bar(request) -> dict:
    user = getattr(request, "user", None)
    public = [link for link in extensions.registry.nav if link.audience == "public"]
    if user is None or not user.is_authenticated:
        return {"public_links": public}
    audience = {"all", "public", "staff" if access.is_staff_member(user) else "requester"}
    links = sorted((*CORE_NAV, *extensions.registry.nav), key=lambda link: link.order)
    return {
        "nav_links": [link for link in links if link.audience in audience
                      and (not link.roles or access.role_of(user) in link.roles)],
        "topbar_items": extensions.registry.topbar,
        "time_zone_name": timezone.get_current_timezone_name(),
        "public_links": public,
        "show_pins": access.is_staff_member(user),  # the pinned views, with counts loaded after the page
    }
