"""What service management adds to the core's pages, through `tracker.extensions`: the portal and knowledge
base in the top bar, the requester's landing page and ticket page, and the side panel of recent changes on
the ticket's service."""

from django.urls import reverse

from tracker import extensions as ext
from tracker.choices import Role

from . import selectors


def recent_changes_panel(*, request, ticket, now):
    return {"changes": selectors.service_recent_changes(user=request.user, service_id=ticket.service_id, now=now)}


def article_hits(*, user, text, limit):
    """Published knowledge articles for the global search box: a title match ranks above a body match."""
    return [ext.SearchHit(kind="Article", title=a.title, url=reverse("itsm:kb-article", args=[a.pk]),
                          detail=a.service.name if a.service else "Knowledge base",
                          score=55 if text.lower() in a.title.lower() else 35, icon="book-open")
            for a in selectors.article_search(text=text, limit=limit)]


def register() -> None:
    ext.register(
        ext.Panel("recent-changes", "itsm/panel_changes.html", recent_changes_panel, order=40),
        ext.NavLink("portal", "My tickets", "itsm:portal", audience="requester", order=10, icon="inbox"),
        ext.NavLink("kb", "Knowledge base", "itsm:kb", audience="public", order=50, icon="book-open"),
        ext.NavLink("portal-new", "Report a problem", "itsm:portal-new", audience="requester",
                    query="?kind=incident", order=60, icon="life-buoy"),
        ext.Home(Role.REQUESTER, "itsm:portal"),
        ext.RequesterPage("itsm:portal-ticket"),
        ext.SearchProvider("articles", article_hits, order=10),
    )
