"""The 3rd-line queue: a development team's L3 work, riskiest first, with an atomic Pick."""

from django import forms
from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST
from django_htmx.http import HttpResponseClientRedirect

from tracker import services
from tracker.access import staff_only
from tracker.choices import Severity
from tracker.errors import DomainError
from tracker.form_html import FAST
from tracker.views import form_errors, ticket_or_404, workspace_response

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


class DefectForm(forms.Form):
    title = forms.CharField(label="Defect title", max_length=200, required=False,
                            help_text="Empty: the incident's title.")
    severity = forms.ChoiceField(label="Severity", required=False, choices=[("", "— from the incident's priority")]
                                 + list(Severity.choices))
    component = forms.CharField(label="Component", max_length=80, required=False,
                                help_text="The part of the product at fault.")
    affected_version = forms.CharField(label="Affected version", max_length=40, required=False)


def defect_action(*, request, ticket, now):
    """"Create defect" on open incidents and problems, for those who may link them."""
    if not dev_services.may_raise_defect(request.user, ticket):
        return None
    return {"form": DefectForm(auto_id="id_defect_%s", renderer=FAST)}


@staff_only
@require_POST
def defect_from(request, key):
    """A defect for this incident, linked to it, then open the defect; a refusal shows in the form, as typed."""
    ticket = ticket_or_404(request.user, key)
    form = DefectForm(request.POST, auto_id="id_defect_%s")
    status = 400
    if form.is_valid():
        try:
            defect = dev_services.defect_from_incident(incident=ticket, actor=request.user, **form.cleaned_data)
        except DomainError as exc:
            form_errors(form, exc)
            status = exc.status
        else:
            messages.success(request, f"{defect.key} raised from {ticket.key} and linked to it.")
            url = reverse("tracker:ticket", args=[defect.key])
            return HttpResponseClientRedirect(url) if request.htmx else redirect(url)
    if request.htmx:
        return render(request, "devflow/action_defect.html#defect-form",
                      {"ticket": ticket, "defect_form": form, "panel": {"form": form}}, status=status)
    return workspace_response(request, ticket, status=status, defect_form=form)
