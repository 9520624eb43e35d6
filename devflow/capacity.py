"""Support capacity pages: a development team's support time per week against its reserved share (with the
decisions to go over it, a chart and a CSV) and the team chooser. Time is logged with the ticket page's own
"Log work" form (tracker)."""

import csv

from django import forms
from django.contrib import messages
from django.db.models import Q
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import HttpResponseClientRedirect

from tracker.access import staff_only
from tracker.choices import OPEN_STATUSES, ChangeType, Kind
from tracker.errors import DomainError, NotFound
from tracker.forms import staff_users
from tracker.models import Ticket, User
from tracker.views import form_errors, ticket_or_404

from . import selectors as q
from .services import capacity_decision_record, may_decide_capacity, may_rank_backlog

CAPACITY = "devflow/capacity.html"
# --- the team chooser and the capacity page ----------------------------------------------------------------


def _team(request, group_id):
    try:
        return q.team_for_user(request.user, group_id)
    except NotFound as exc:
        raise Http404(exc.message) from exc


@staff_only
@require_GET
def teams(request):
    """The development teams this person may look at, each with its backlog and capacity."""
    return render(request, "devflow/backlog_teams.html", {"nav": "dev-teams", "teams": q.teams_for_user(request.user)})


class DecisionForm(forms.Form):
    ticket = forms.CharField(label="P1 incident or emergency change", max_length=20)
    agreed_with = forms.ModelChoiceField(queryset=User.objects.none(), required=False, label="Agreed with")
    week = forms.DateField(label="Week of", required=False, widget=forms.DateInput(attrs={"type": "date"}),
                           help_text="Any day of the week; empty: this week.")
    note = forms.CharField(label="What was agreed", max_length=4000, required=False,
                           widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["agreed_with"].queryset = staff_users()
        self.fields["agreed_with"].empty_label = "—"


def _candidates(team):
    """The tickets at the team that may take it over its share: P1 incidents and emergency changes, open first."""
    return list(Ticket.objects.filter(group=team).filter(
        Q(kind=Kind.INCIDENT, priority=1) | Q(kind=Kind.CHANGE, change_type=ChangeType.EMERGENCY))
        .filter(status__in=OPEN_STATUSES).order_by("-created_at")[:30])


def _capacity_context(request, team, **extra):
    now = timezone.now()
    data = q.team_capacity(team=team, now=now)
    return {"nav": "dev-teams", "now": now, **data, "chart": _chart(data["weeks"], data["reserved_hours"]),
            "can_decide": may_decide_capacity(request.user, team), "candidates": _candidates(team),
            "can_rank": may_rank_backlog(request.user, team), **extra}


@staff_only
@require_GET
def capacity(request, group_id):
    team = _team(request, group_id)
    return render(request, CAPACITY, _capacity_context(request, team, form=DecisionForm()))


@staff_only
@require_GET
def capacity_csv(request, group_id):
    team = _team(request, group_id)
    data = q.team_capacity(team=team, now=timezone.now())
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="capacity-{team.pk}.csv"'
    out = csv.writer(response)
    out.writerow(["week", "monday", "team_hours", "reserved_hours", "support_hours", "project_hours", "over_share",
                  "decisions"])
    for w in data["weeks"]:
        out.writerow([w["label"], w["week"].isoformat(), w["team_hours"], w["reserved_hours"], w["support_hours"],
                      w["project_hours"], "yes" if w["over"] else "no",
                      "; ".join(f"{d.ticket.key} by {d.decided_by.display_name}" for d in w["decisions"])])
    return response


@staff_only
@require_POST
def capacity_decide(request, group_id):
    """Record a decision to go over the share; the page again, the refusal in the form with what was typed."""
    team = _team(request, group_id)
    form = DecisionForm(request.POST)
    status = 400
    if form.is_valid():
        key = form.cleaned_data["ticket"].strip().upper()
        try:
            ticket = ticket_or_404(request.user, key)
        except Http404:  # a key not found (or not visible) reads as a form error
            form.add_error("ticket", f"No ticket {key}; check the key.")
        else:
            try:
                decision = capacity_decision_record(group=team, ticket=ticket, actor=request.user,
                                                    note=form.cleaned_data["note"],
                                                    agreed_with=form.cleaned_data["agreed_with"],
                                                    week=form.cleaned_data["week"])
            except DomainError as exc:
                form_errors(form, exc)
                status = exc.status
            else:
                messages.success(request, f"Recorded: {team.name} works over its share for {ticket.key} "
                                          f"(week of {decision.week:%d %b}).")
                url = reverse("devflow:capacity", args=[team.pk])
                return HttpResponseClientRedirect(url) if request.htmx else redirect(url)
    if request.htmx:
        return render(request, f"{CAPACITY}#decision-form", _capacity_context(request, team, form=form), status=status)
    return render(request, CAPACITY, _capacity_context(request, team, form=form), status=status)


def _chart(weeks: list[dict], reserved: float) -> dict:
    """Geometry of the server-drawn SVG: one bar of support hours per week, the reserved share as a line."""
    width, height, pad = 640, 200, 28
    top = max([reserved, *(w["support_hours"] for w in weeks)], default=0) or 1
    step = (width - 2 * pad) / max(len(weeks), 1)

    def y(v):
        return round(height - pad - (height - 2 * pad) * v / top, 1)

    bars = [{"x": round(pad + i * step + step * 0.15, 1), "w": round(step * 0.7, 1), "y": y(w["support_hours"]),
             "h": round(y(0) - y(w["support_hours"]), 1), "label": w["label"][-3:],
             "lx": round(pad + (i + .5) * step, 1), "value": w["support_hours"], "over": w["over"]}
            for i, w in enumerate(weeks)]
    return {"width": width, "height": height, "bars": bars, "line_y": y(reserved), "x0": pad, "x1": width - pad,
            "base": y(0), "label_y": height - 8, "reserved": reserved}
