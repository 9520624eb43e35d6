"""What service management adds to the core's pages, through `tracker.extensions`: the portal and knowledge
base in the top bar, the requester's landing page and ticket page, the side panel of recent changes on the
ticket's service, and change enablement: the Approvals panel and the vote of a change's page, the approval
rows of its timeline, the "My approvals" queue view and its count in the top bar (on every landing page),
change setup in the top bar and the standard change on the new-ticket form."""

from django.urls import reverse
from django.utils.html import format_html

from tracker import extensions as ext
from tracker.choices import Kind, Role, Status

from . import selectors
from .choices import RoundStatus, Vote
from .forms import VoteForm
from .services import cab_for_change, rule_text

TONE = {Vote.APPROVED: "ok", Vote.REJECTED: "bad", Vote.CHANGES_REQUESTED: "warn",
        RoundStatus.SUPERSEDED: "status", RoundStatus.WITHDRAWN: "status", Vote.PENDING: "status"}


def recent_changes_panel(*, request, ticket, now):
    return {"changes": selectors.service_recent_changes(user=request.user, service_id=ticket.service_id, now=now)}


def article_hits(*, user, text, limit):
    """Published knowledge articles for the global search box: a title match ranks above a body match."""
    return [ext.SearchHit(kind="Article", title=a.title, url=reverse("itsm:kb-article", args=[a.pk]),
                          detail=a.service.name if a.service else "Knowledge base",
                          score=55 if text.lower() in a.title.lower() else 35, icon="book-open")
            for a in selectors.article_search(text=text, limit=limit)]


# --- change enablement --------------------------------------------------------------------------------


def _rounds(ticket) -> list:
    """The change's rounds, read once per page (the panel and the vote action share them)."""
    cached = getattr(ticket, "_approval_rounds", None)
    if cached is None:
        cached = ticket._approval_rounds = selectors.change_rounds(ticket)
    return cached


def vote_state(ticket, user) -> dict:
    """The open round this user is asked to vote in, with its rule as people say it (empty: nothing to vote)."""
    rounds = _rounds(ticket)
    current = rounds[0] if rounds and rounds[0].status == RoundStatus.OPEN else None
    if current is None:
        return {}
    mine = next((a for a in current.approvals.all() if a.approver_id == user.pk), None)
    if mine is None or mine.decision != Vote.PENDING:
        return {}
    approvals = list(current.approvals.all())
    return {"round": current, "rule": rule_text(current.rule, current.required, len(approvals))}


def approvals_panel(*, request, ticket, now):
    if ticket.kind != Kind.CHANGE:
        return None
    rows = []
    for approval_round in _rounds(ticket):
        approvals = list(approval_round.approvals.all())
        rows.append({"round": approval_round, "approvals": approvals,
                     "approved": sum(a.decision == Vote.APPROVED for a in approvals),
                     "rule": rule_text(approval_round.rule, approval_round.required, len(approvals)),
                     "tone": TONE.get(approval_round.status, "status")})
    ctx = {"rounds": rows, "origin": None, "next_cab": None}
    if not rows:
        if ticket.change_type == "standard":
            origin = getattr(ticket, "standard_origin", None)  # None: no row (a reverse one-to-one)
            ctx["origin"] = origin.template_version if origin is not None else None
        elif ticket.status == Status.NEW:
            ctx["next_cab"] = cab_for_change(ticket)
    return ctx


def vote_action(*, request, ticket, now):
    if ticket.kind != Kind.CHANGE:
        return None
    state = vote_state(ticket, request.user)
    return {"vote": {**state, "form": VoteForm()}} if state else None


_HEADINGS = {"round": "Approval round", "vote": "Vote", "outcome": "CAB decision", "template": "Standard change",
             "emergency": "Emergency start"}


def approval_row(event) -> str:
    heading = _HEADINGS.get(event.field, "Approval")
    if event.field in ("vote", "outcome") and event.new in TONE:
        label = Vote(event.new).label if event.field == "vote" else RoundStatus(event.new).label
        return format_html('<strong>{}</strong> <span class="badge {}">{}</span> · {}', heading, TONE[event.new],
                           label, event.note)
    return format_html("<strong>{}</strong> · {}", heading, event.note)


def register() -> None:
    ext.register(
        ext.Panel("recent-changes", "itsm/panel_changes.html", recent_changes_panel, order=40),
        ext.Panel("approvals", "itsm/panel_approvals.html", approvals_panel, order=15),
        ext.Action("vote", "itsm/action_vote.html", vote_action, order=10),
        ext.TimelineRenderer("approval", approval_row),
        ext.QueueView("approvals", "My approvals", selectors.awaiting_vote, order=5,
                      empty="No change is waiting for your vote."),
        ext.TopbarItem("itsm/approvals_chip.html", order=5),
        ext.NavLink("portal", "My tickets", "itsm:portal", audience="requester", order=10, icon="inbox"),
        ext.NavLink("change-setup", "Change setup", "itsm:cabs", order=35, icon="shield-check"),
        ext.NavLink("kb", "Knowledge base", "itsm:kb", audience="public", order=50, icon="book-open"),
        ext.NavLink("portal-new", "Report a problem", "itsm:portal-new", audience="requester",
                    query="?kind=incident", order=60, icon="life-buoy"),
        ext.CreateShortcut("standard-change", Kind.CHANGE, "New standard change from a template",
                           "itsm:change-templates", hint="pre-approved by the change manager, no CAB", icon="layers"),
        ext.Home(Role.REQUESTER, "itsm:portal"),
        ext.RequesterPage("itsm:portal-ticket"),
        ext.SearchProvider("articles", article_hits, order=10),
    )
