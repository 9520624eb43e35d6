"""A development team's backlog page: its open defects and changes in order, which its lead re-orders."""

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from tracker.access import staff_only
from tracker.choices import OPEN_STATUSES, Kind, Status
from tracker.errors import DomainError, NotFound
from tracker.models import Ticket

from . import selectors as q
from .services import backlog_move, may_rank_backlog

BACKLOG = "devflow/backlog.html"


def _team(request, group_id):
    try:
        return q.team_for_user(request.user, group_id)
    except NotFound as exc:
        raise Http404(exc.message) from exc


def _context(request, team, **extra):
    kind = request.GET.get("kind", "")
    component = request.GET.get("component", "")
    status = request.GET.get("status", "")
    rows = q.team_backlog(team=team, kind=kind, component=component, status=status)
    filtered = bool(kind or component or status)
    return {
        "nav": "dev-teams", "now": timezone.now(), "team": team, "rows": rows, "filtered": filtered,
        "kind": kind, "component": component, "status": status,
        "kinds": [(k, Kind(k).label) for k in q.BACKLOG_KINDS],
        "components": q.backlog_components(team),
        "statuses": [(s, Status(s).label) for s in OPEN_STATUSES],
        # re-ordering works on the whole backlog, so it is offered on the unfiltered list only
        "can_rank": may_rank_backlog(request.user, team) and not filtered,
        **extra,
    }


@staff_only
@require_GET
def backlog(request, group_id):
    team = _team(request, group_id)
    ctx = _context(request, team)
    if request.htmx and request.htmx.target == "backlog-results":
        return render(request, f"{BACKLOG}#results", ctx)
    return render(request, BACKLOG, ctx)


@staff_only
@require_POST
def backlog_reorder(request, group_id):
    """Move one ticket to a position (1 = top); the list again, or the refusal above it."""
    team = _team(request, group_id)
    key = request.POST.get("key", "")
    position = request.POST.get("position", "")
    try:
        ticket = Ticket.objects.filter(key=key).first()
        if ticket is None:
            raise NotFound(f"No ticket {key} in the backlog.")
        to = backlog_move(group=team, ticket=ticket, actor=request.user,
                          to=int(position) if position.lstrip("-").isdigit() else 0)
    except DomainError as exc:
        ctx = _context(request, team, flash=exc.message, flash_tone="error")
        template = f"{BACKLOG}#results" if request.htmx else BACKLOG
        return render(request, template, ctx, status=exc.status)
    flash = f"{ticket.key} is now #{to}."
    if request.htmx:
        return render(request, f"{BACKLOG}#results", _context(request, team, flash=flash, flash_tone="ok"))
    messages.success(request, flash)
    return redirect(reverse("devflow:backlog", args=[team.pk]))
