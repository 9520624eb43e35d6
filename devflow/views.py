"""The 3rd-line queue: a development team's L3 work, riskiest first, with an atomic Pick."""

from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from tracker import services
from tracker.access import staff_only
from tracker.errors import DomainError
from tracker.views import ticket_or_404

from . import selectors as q
from . import services as dev_services

QUEUE = "devflow/queue.html"


def _context(request, **extra):
    teams = list(q.teams_of(request.user))
    chosen = request.GET.get("team", "")
    team_ids = (
        [int(chosen)]
        if chosen.isdigit() and any(t.pk == int(chosen) for t in teams)
        else [t.pk for t in teams]
    )
    mine = request.GET.get("mine") == "1"
    return {
        "nav": "dev",
        "now": timezone.now(),
        "teams": teams,
        "team": chosen,
        "mine": mine,
        "rows": q.l3_queue(user=request.user, team_ids=team_ids, mine=mine),
        **extra,
    }


@staff_only
def queue(request):
    ctx = _context(request)
    if request.htmx and request.htmx.target == "dev-results":
        return render(request, f"{QUEUE}#results", ctx)
    return render(request, QUEUE, ctx)


@staff_only
@require_POST
def pick(request, key):
    """Claim a ticket; of two engineers picking at once, the second is told who won."""
    ticket = ticket_or_404(request.user, key)
    try:
        services.ticket_claim(ticket=ticket, actor=request.user)
    except DomainError as exc:
        ctx = _context(request, flash=exc.message, flash_tone="error")
        return (
            render(request, f"{QUEUE}#results", ctx, status=exc.status)
            if request.htmx
            else render(request, QUEUE, ctx, status=exc.status)
        )
    flash = f"You picked {ticket.key}."
    if request.htmx:
        return render(request, f"{QUEUE}#results", _context(request, flash=flash, flash_tone="ok"))
    messages.success(request, flash)
    return redirect("devflow:queue")


@staff_only
@require_POST
def defect_from(request, key):
    """One step: a defect for this incident, linked to it, then open the defect."""
    ticket = ticket_or_404(request.user, key)
    try:
        defect = dev_services.defect_from_incident(
            incident=ticket,
            actor=request.user,
            title=request.POST.get("title", ""),
            severity=request.POST.get("severity", ""),
        )
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect("tracker:ticket", key=ticket.key)
    messages.success(request, f"{defect.key} raised from {ticket.key} and linked to it.")
    return redirect("tracker:ticket", key=defect.key)
