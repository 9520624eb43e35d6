"""The self-service portal and the knowledge base; change setup (CABs, standard-change templates), standard
changes from a template, and what change enablement adds to the ticket page: the vote, a change's tasks (add,
hand off, report), its rollback, "My change tasks", and the changes behind a rate; the change calendar (month
and week), blackout windows, a change's schedule and the iCalendar feeds."""

from calendar import monthrange
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from functools import partial
from typing import Any
from urllib.parse import urlencode, urlparse

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import BadRequest, PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import HttpResponseClientRedirect, reswap, retarget
from icalendar import Calendar as ICalendar
from icalendar import Event

from sla.dashboard import period_or_default
from tracker import access, extensions, selectors, services
from tracker.access import staff_only
from tracker.choices import Kind, Status
from tracker.errors import DomainError, StaleVersion, ValidationFailed
from tracker.forms import CommentForm
from tracker.models import Category, Service, Ticket
from tracker.templatetags.crossline import status_label
from tracker.views import (
    WORKSPACE,
    form_errors,
    move_forms,
    posted_version,
    ticket_or_404,
    workspace_context,
    workspace_response,
)

from . import health, ui
from . import selectors as q
from . import services as itsm
from .catalogue import follow as catalogue_follow
from .choices import CabRule, ChangeOutcome, Repeat, TaskState
from .forms import (
    COMMON_ZONES,
    AnalysisForm,
    BlackoutForm,
    CabForm,
    CalendarQueryForm,
    HandoffForm,
    PortalTicketForm,
    ProblemFromIncidentsForm,
    ProblemResolveForm,
    ReportForm,
    RollbackForm,
    ScheduleForm,
    StandardChangeForm,
    TaskForm,
    TemplateForm,
    VoteForm,
)
from .models import Blackout, Cab, ChangeTask, ChangeTemplate
from .templatetags.itsm_ui import span

# --- the self-service portal --------------------------------------------------------------------------


def portal(request):
    if access.is_staff_member(request.user) and request.GET.get("as") != "requester":
        return redirect("tracker:queue")
    page = Paginator(q.portal_tickets(user=request.user), 25).get_page(request.GET.get("page"))
    return render(
        request,
        "itsm/portal.html",
        {"nav": "portal", "tickets": page.object_list, "page": page, "faq": q.article_search()[:8]},
    )


def portal_new(request):
    if request.method == "POST":
        form = PortalTicketForm(request.POST)
        if form.is_valid():
            data = dict(form.cleaned_data)
            files = request.FILES.getlist("files")
            try:
                ticket = services.ticket_create(  # the request and its files, or neither
                    actor=request.user,
                    kind=data.pop("kind"),
                    title=data.pop("title"),
                    files=files,
                    **{k: v for k, v in data.items() if v not in (None, "")},
                )
            except DomainError as exc:
                form.add_error(None, exc.message)
            else:
                messages.success(
                    request, f"Thank you. {ticket.key} is raised; the service desk will answer here."
                )
                return redirect("itsm:portal-ticket", key=ticket.key)
    else:
        kind = request.GET.get("kind", Kind.INCIDENT)
        form = PortalTicketForm(
            initial={"kind": kind if kind in (Kind.INCIDENT, Kind.REQUEST) else Kind.INCIDENT,
                     # "Still need help" on an article: what they had typed, and their service, come back
                     "title": request.GET.get("title", "")[:200], "service": request.GET.get("service") or None}
        )
    return render(
        request,
        "itsm/portal_new.html",
        {"nav": "portal-new", "form": form},
        status=400 if form.is_bound else 200,
    )


def _portal_ticket(request, key):
    ticket = ticket_or_404(request.user, key)
    if not access.is_staff_member(request.user) and not q.portal_tickets(user=request.user).filter(
            pk=ticket.pk).exists():
        raise Http404("No such ticket.")  # a problem, defect or change they did not raise is not theirs
    return ticket


def portal_ticket(request, key, *, comment_form=None, status=200):
    ticket = _portal_ticket(request, key)
    files = selectors.ticket_attachments(ticket=ticket, user=request.user)  # a requester: never an internal one
    ctx = {
        "nav": "portal",
        "ticket": ticket,
        "timeline": selectors.with_comment_files([
            e
            for e in selectors.ticket_timeline(ticket=ticket, user=request.user)
            if e.kind in ("created", "comment", "status", "release")
        ], files),
        "attachments": files,
        "moves": move_forms(ticket, request.user),
        "comment_form": comment_form or CommentForm(),
        "problem": q.problem_behind(incident=ticket),  # its public status only: no link, no internal field
        "catalogue": catalogue_follow(ticket),  # a request ordered from the catalogue: item, answers, approval
    }
    return render(request, "itsm/portal_ticket.html", ctx, status=status)


@require_POST
def portal_reply(request, key):
    """The requester's reply, with its files; a refusal shows on the page with what they typed kept."""
    ticket = _portal_ticket(request, key)
    form = CommentForm(request.POST)
    if form.is_valid():
        try:
            services.ticket_comment(ticket=ticket, actor=request.user, body=form.cleaned_data["body"],
                                    files=request.FILES.getlist("files"))
        except DomainError as exc:
            form_errors(form, exc)
            return portal_ticket(request, key, comment_form=form, status=exc.status)
        messages.success(request, "Your reply was added.")
        return redirect("itsm:portal-ticket", key=ticket.key)
    return portal_ticket(request, key, comment_form=form, status=400)


@require_POST
def portal_transition(request, key):
    ticket = ticket_or_404(request.user, key)
    note = request.POST.get("resolution_note", "").strip()
    try:
        services.ticket_transition(
            ticket=ticket,
            to=request.POST.get("to", ""),
            actor=request.user,
            version=posted_version(request),
            values={"resolution_note": note} if note else None,
        )
        messages.success(request, f"{ticket.key} is now {ticket.get_status_display().lower()}.")
    except DomainError as exc:
        messages.error(request, exc.message)
    return redirect("itsm:portal-ticket", key=ticket.key)


# --- change setup: CABs and standard-change templates (the change manager writes, staff read) -------------


def _manager_only(request) -> None:
    if not itsm.may_manage_changes(request.user):
        raise PermissionDenied("Only the change manager (or an administrator) sets up CABs and templates.")


@staff_only
@require_GET
def cabs(request):
    return render(request, "itsm/cabs.html", {"nav": "changes", "tab": "cabs", "cabs": q.cab_list(),
                                              "can_manage": itsm.may_manage_changes(request.user)})


@staff_only
def cab_form(request, pk=None):
    """New CAB (no pk) or an existing one: name, scope, rule, approvers."""
    _manager_only(request)
    cab = get_object_or_404(Cab.objects.prefetch_related("members"), pk=pk) if pk else None
    if request.method == "POST":
        form = CabForm(request.POST)
        if form.is_valid():
            try:
                saved = itsm.cab_save(actor=request.user, cab=cab, **form.cleaned_data)
            except DomainError as exc:
                form_errors(form, exc)
                return _cab_page(request, form, cab, status=exc.status)
            messages.success(request, f"Saved the CAB “{saved.name}”.")
            return redirect("itsm:cabs")
        return _cab_page(request, form, cab, status=400)
    initial = {"rule": CabRule.MAJORITY, "quorum": 1, "active": True}
    if cab is not None:
        initial = {"name": cab.name, "service": cab.service_id, "emergency": cab.emergency, "rule": cab.rule,
                   "quorum": cab.quorum, "members": [m.pk for m in cab.members.all()], "active": cab.active}
    elif request.GET.get("emergency") == "1":
        initial.update(emergency=True, rule=CabRule.ANY, name="Emergency CAB")
    return _cab_page(request, CabForm(initial=initial), cab)


def _cab_page(request, form, cab, status=200):
    return render(request, "itsm/cab_form.html", {"nav": "changes", "tab": "cabs", "form": form, "cab": cab},
                  status=status)


@staff_only
@require_GET
def change_templates(request):
    retired = request.GET.get("retired") == "1"
    return render(request, "itsm/change_templates.html", {
        "nav": "changes", "tab": "templates", "retired": retired, "templates": q.template_list(retired=retired),
        "can_manage": itsm.may_manage_changes(request.user)})


@staff_only
def change_template_form(request, pk=None):
    """New template (no pk) or a new version of one; the page lists its versions."""
    _manager_only(request)
    template = get_object_or_404(ChangeTemplate, pk=pk) if pk else None
    if request.method == "POST":
        form = TemplateForm(request.POST)
        if form.is_valid():
            try:
                if template is None:
                    template = itsm.template_create(actor=request.user, **form.values())
                    messages.success(request, f"Template “{template.title}” is live (version 1).")
                else:
                    itsm.template_update(actor=request.user, template=template, changes=form.values(),
                                         note=form.cleaned_data["note"])
                    messages.success(request, f"Saved “{template.title}” as version {template.version}.")
                return redirect("itsm:change-templates")
            except DomainError as exc:
                form_errors(form, exc)
                return _template_page(request, form, template, status=exc.status)
        return _template_page(request, form, template, status=400)
    initial = {"risk": "low"}
    if template is not None:
        initial = {name: getattr(template, name) for name in itsm.TEMPLATE_FIELDS}
        initial["service"] = template.service_id
    return _template_page(request, TemplateForm(initial=initial), template)


def _template_page(request, form, template, status=200):
    ctx = {"nav": "changes", "tab": "templates", "form": form, "template": template,
           "versions": q.template_versions(template) if template is not None else []}
    return render(request, "itsm/change_template_form.html", ctx, status=status)
# --- a change's tasks and rollback (the ticket page's Tasks panel) and "My change tasks" -------------------

PANEL = "itsm/panel_tasks.html"
MY_TASKS = "itsm/my_tasks.html"


def _task_or_404(user, key, number) -> ChangeTask:
    task = q.change_task(user=user, key=key, number=number)
    if task is None:
        raise Http404(f"{key} has no task T{number} that you can see.")
    return task


def task_rows(user, tasks, *, coordinator=None) -> list:
    """Mark what this user may do on each task (one read of their groups for the whole list)."""
    group_ids = set(user.assignment_groups.values_list("pk", flat=True))
    for task in tasks:
        task.can_report = itsm.owns_task(user, task, group_ids=group_ids)
        task.can_coordinate = (coordinator if coordinator is not None
                               else itsm.may_coordinate(user, task.change, group_ids=group_ids))
    return tasks


def _actions(request, task, *, status=200, error="", note="", opened="", where="change"):
    """A task's actions cell again, with the refusal's message, the form it came from open and what was typed."""
    ctx = {"t": task_rows(request.user, [task])[0], "ticket": task.change, "error": error, "typed_note": note,
           "opened": opened, "where": where, **q.handoff_choices()}
    return render(request, "itsm/_task_actions.html", ctx, status=status)


def _my_row(request, task, *, notice="", error="", status=200, note="", opened=""):
    ctx = {"t": task_rows(request.user, [task])[0], "where": "mine", "row_notice": notice, "error": error,
           "typed_note": note, "opened": opened, "now": timezone.now(), **q.handoff_choices()}
    response = render(request, f"{MY_TASKS}#task-row", ctx, status=status)
    retarget(response, f"#task-row-{task.pk}")
    reswap(response, "outerHTML")
    return response


def _done(request, task, notice: str, where: str):
    if where == "mine":
        if request.htmx:
            return _my_row(request, task, notice=notice)
        messages.success(request, notice)
        return redirect("itsm:my-tasks")
    return workspace_response(request, task.change, notice=notice)


def _refused_task(request, task, exc: DomainError, where: str, note: str = "", opened: str = ""):
    """A refused report or hand-off: the message in that task's row, the form it came from open, the note
    kept (htmx: just the row or cell; without JavaScript: the whole page)."""
    if request.htmx:
        if where == "mine":
            return _my_row(request, task, error=exc.message, status=exc.status, note=note, opened=opened)
        return _actions(request, task, status=exc.status, error=exc.message, note=note, opened=opened)
    refused = {"task": task.pk, "error": exc.message, "note": note, "opened": opened}
    if where == "mine":
        return my_tasks(request, refused=refused, status=exc.status)
    return workspace_response(request, task.change, status=exc.status, task_refused=refused)


@staff_only
@require_POST
def change_template_retire(request, pk):
    template = get_object_or_404(ChangeTemplate, pk=pk)
    try:
        itsm.template_retire(actor=request.user, template=template)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"Retired “{template.title}”: it makes no new change.")
    return redirect("itsm:change-templates")


@staff_only
def standard_change_new(request, pk):
    """Raise a standard change from a live template: pre-approved, its plan as the template says."""
    template = get_object_or_404(ChangeTemplate.objects.select_related("service"), pk=pk)
    if request.method == "POST":
        form = StandardChangeForm(request.POST)
        if form.is_valid():
            try:
                ticket = itsm.standard_change_create(template=template, actor=request.user, **form.cleaned_data)
            except DomainError as exc:
                form_errors(form, exc)
                status = exc.status
            else:
                messages.success(request, f"{ticket.key} raised from “{template.title}” (version {template.version}).")
                return redirect("tracker:ticket", key=ticket.key)
        else:
            status = 400
    else:
        form = StandardChangeForm(initial={"title": template.title, "description": template.description})
        status = 200
    return render(request, "itsm/standard_change_new.html",
                  {"nav": "changes", "tab": "templates", "form": form, "template": template}, status=status)


@staff_only
@require_GET
def my_approvals(request):
    """The top bar's approvals chip, loaded after the page (so no page pays its query): how many changes wait
    for my vote, linked to "My approvals"; nothing when none do."""
    return render(request, "itsm/approvals_chip.html#chip", {"count": q.pending_approval_count(request.user)})


# --- the vote on a change's page -------------------------------------------------------------------------


@staff_only
@require_POST
def change_vote(request, key):
    """Cast a vote from the ticket page; a refusal shows in the vote form, with what was typed."""
    ticket = ticket_or_404(request.user, key)
    form = VoteForm(request.POST)
    if form.is_valid():
        try:
            itsm.approval_vote(ticket=ticket, actor=request.user, **form.cleaned_data)
        except DomainError as exc:
            form_errors(form, exc)
            status = exc.status
        else:
            said = dict(form.fields["decision"].choices)[form.cleaned_data["decision"]].lower()
            response = workspace_response(request, ticket, notice=f"Your vote on {ticket.key}: {said}.")
            if request.htmx:  # the top bar's count of my approvals follows
                response.content += render_to_string("itsm/approvals_chip.html#chip", {
                    "count": q.pending_approval_count(request.user), "oob": True}, request=request).encode()
            return response
    else:
        status = 400
    vote = {**ui.vote_state(ticket, request.user), "form": form}
    if request.htmx:
        return render(request, "itsm/action_vote.html#vote-form", {"ticket": ticket, "vote": vote}, status=status)
    return workspace_response(request, ticket, status=status, vote_refused=vote)


def task_add(request, key):
    change = ticket_or_404(request.user, key)
    form = TaskForm(request.POST)
    status = 400
    if form.is_valid():
        try:
            task = itsm.task_add(change=change, actor=request.user, **form.cleaned_data)
        except DomainError as exc:
            form_errors(form, exc)
            status = exc.status
        else:
            return workspace_response(request, change, notice=f"Added {task.label} to {change.key}.")
    if request.htmx:
        ctx = {"ticket": change, "panel": {"add_form": form, "zones": COMMON_ZONES}}
        return render(request, f"{PANEL}#add-form", ctx, status=status)
    return workspace_response(request, change, status=status, add_form=form)


@staff_only
@require_POST
def task_report(request, key, number):
    task = _task_or_404(request.user, key, number)
    form = ReportForm(request.POST)
    where = request.POST.get("where", "change")
    note = request.POST.get("note", "")
    try:
        if not form.is_valid():
            raise ValidationFailed("Choose what to report: start, done, failed or cancel.")
        itsm.task_report(task=task, actor=request.user, state=form.cleaned_data["state"],
                         note=form.cleaned_data["note"], version=posted_version(request))
    except DomainError as exc:
        opened = "failed" if request.POST.get("state") == TaskState.FAILED else ""
        return _refused_task(request, _task_or_404(request.user, key, number), exc, where, note, opened)
    verb = {TaskState.IN_PROGRESS: "started", TaskState.DONE: "done", TaskState.FAILED: "failed",
            TaskState.CANCELLED: "cancelled"}[task.state]
    extra = " The go-live is marked failed: run the backout plan and record the rollback." \
        if task.state == TaskState.FAILED else ""
    return _done(request, task, f"{task.change.key} {task.label} is {verb}.{extra}", where)


@staff_only
@require_POST
def task_handoff(request, key, number):
    task = _task_or_404(request.user, key, number)
    form = HandoffForm(request.POST)
    where = request.POST.get("where", "change")
    try:
        if not form.is_valid():
            raise ValidationFailed("Choose a person or a group from the lists.")
        itsm.task_handoff(task=task, actor=request.user, assignee=form.cleaned_data["assignee"],
                          group=form.cleaned_data["group"], note=form.cleaned_data["note"],
                          version=posted_version(request))
    except DomainError as exc:
        return _refused_task(request, _task_or_404(request.user, key, number), exc, where,
                             request.POST.get("note", ""), "handoff")
    owner = itsm.owner_text(task.assignee, task.group)
    return _done(request, task, f"{task.change.key} {task.label} is now with {owner}.", where)


@staff_only
@require_POST
def rollback_add(request, key):
    change = ticket_or_404(request.user, key)
    form = RollbackForm(request.POST)
    status = 400
    if form.is_valid():
        try:
            itsm.rollback_record(change=change, actor=request.user, **form.cleaned_data)
        except DomainError as exc:
            form_errors(form, exc)
            status = exc.status
        else:
            return workspace_response(request, change, notice=f"Rollback of {change.key} recorded.")
    if request.htmx:
        return render(request, f"{PANEL}#rollback-form", {"ticket": change, "panel": {"rollback_form": form}},
                      status=status)
    return workspace_response(request, change, status=status, rollback_form=form)


@staff_only
def my_tasks(request, refused=None, status=200):
    """The change tasks this person owns (or their groups hold unassigned), open first; `?scope=open` lists
    every open task of every change."""
    scope = "open" if request.GET.get("scope") == "open" else "mine"
    tasks = task_rows(request.user, q.my_tasks(user=request.user, scope=scope))
    ctx = {"nav": "changes", "tasks": tasks, "scope": scope, "refused": refused, "now": timezone.now(),
           "where": "mine", **q.handoff_choices()}
    return render(request, MY_TASKS, ctx, status=status)


@staff_only
@require_GET
def change_outcomes(request):
    """The changes behind a change success or failure rate of the dashboard (same period and filters)."""
    now = timezone.now()
    period, error = period_or_default(request.GET, now)
    params = {k: request.GET.get(k, "") for k in ("service", "group", "month", "outcome")}
    if params["outcome"] not in ChangeOutcome.values:
        params["outcome"] = ""
    rows = q.change_outcomes(user=request.user, start=period.start, end=period.end, **params)
    page = Paginator(rows, 50).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    back = reverse("sla:dashboard") + "?" + "&".join(f"{k}={v}" for k, v in request.GET.items()
                                                     if k in ("days", "start", "end"))
    return render(request, "itsm/change_outcomes.html", {
        "nav": "dashboard", "page": page, "period": period, "error": error, "params": params,
        "query": query.urlencode(), "back": back, "title": _outcomes_title(params, page.object_list)},
        status=400 if error else 200)


def _outcomes_title(params, rows) -> str:
    what = {"failed": "Failed changes", "successful": "Successful changes"}.get(params["outcome"], "Changes")
    first = rows[0] if rows else None
    if params["service"] and first is not None:
        what += f" on {first.service.name if first.service else 'no service'}"
    if params["group"] and first is not None:
        what += f" by {first.group.name if first.group else 'no team'}"
    if params["month"]:
        what += f" in {params['month']}"
    return what


# --- the change calendar ------------------------------------------------------------------------------------

CALENDAR = "itsm/calendar.html"
MONTH_CELL = 4  # changes listed in a day of the month view; the week view lists them all


@dataclass
class DayItem:
    """A change or a blackout as one day shows it: with the part of its window that falls on that day."""

    thing: Any  # a selectors.Entry or a selectors.Occurrence
    label: str


@dataclass
class Day:
    date: date
    in_period: bool
    today: bool
    changes: list[DayItem] = field(default_factory=list)
    blackouts: list[DayItem] = field(default_factory=list)

    @property
    def collisions(self) -> int:
        return sum(1 for item in self.changes if item.thing.collisions)

    @property
    def shown(self) -> list[DayItem]:
        return self.changes[:MONTH_CELL]

    @property
    def more(self) -> int:
        return max(0, len(self.changes) - MONTH_CELL)


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=timezone.get_current_timezone())


def _period(view: str, day: date) -> tuple[date, date, date, date]:
    """The days the page shows (whole weeks, Monday first) and the period they stand for (month or week):
    (first shown, last shown, period start, period end)."""
    if view == "week":
        first = day - timedelta(days=day.weekday())
        return first, first + timedelta(days=6), first, first + timedelta(days=6)
    start = day.replace(day=1)
    end = start.replace(day=monthrange(start.year, start.month)[1])
    return start - timedelta(days=start.weekday()), end + timedelta(days=6 - end.weekday()), start, end


def _part(start: datetime, end: datetime, day: date) -> str:
    """The part of a window that falls on `day`: "19:00–21:00", "22:00 →", "→ 04:00" or "all day"."""
    a, b = timezone.localtime(start), timezone.localtime(end)
    begins, ends = a.date() == day, b.date() == day or (b.date() == day + timedelta(days=1) and b.time() == time.min)
    if begins and ends:
        return f"{a:%H:%M}" if a == b else f"{a:%H:%M}–{b:%H:%M}" if b.date() == day else f"{a:%H:%M}–24:00"
    if begins:
        return f"{a:%H:%M} →"
    if ends and b.date() == day:
        return f"→ {b:%H:%M}"
    return "all day"


def _days_of(start: datetime, end: datetime, first: date, last: date):
    """The shown days a window touches (a window ending at midnight does not touch the next day)."""
    a = timezone.localtime(start).date()
    b = timezone.localtime(end - timedelta(microseconds=1) if end > start else end).date()
    day = max(a, first)
    while day <= min(b, last):
        yield day
        day += timedelta(days=1)


def _grid(data, first: date, last: date, period_start: date, period_end: date) -> list[Day]:
    today = timezone.localdate()
    days = {first + timedelta(days=n): None for n in range((last - first).days + 1)}
    for d in days:
        days[d] = Day(d, period_start <= d <= period_end, d == today)
    for entry in data.entries:
        for d in _days_of(entry.start, entry.end, first, last):
            days[d].changes.append(DayItem(entry, _part(entry.start, entry.end, d)))
    for occurrence in data.occurrences:
        for d in _days_of(occurrence.start, occurrence.end, first, last):
            days[d].blackouts.append(DayItem(occurrence, _part(occurrence.start, occurrence.end, d)))
    return list(days.values())


def _calendar_url(view: str, day: date | None, service) -> str:
    params = {"view": view}
    if day is not None:
        params["date"] = day.isoformat()
    if service is not None:
        params["service"] = service.pk
    return f"{reverse('itsm:calendar')}?{urlencode(params)}"


def _calendar_context(request, **extra) -> tuple[dict, int]:
    query = CalendarQueryForm(request.GET)
    error = ""
    if not query.is_valid():
        error = "; ".join(f"{query.fields[n].label or n}: {' '.join(e)}" for n, e in query.errors.items())
        error = f"Check the calendar's address ({error}). Showing this month of every service instead."
        cleaned = {}
    else:
        cleaned = query.cleaned_data
    view = cleaned.get("view") or "month"
    day = cleaned.get("date") or timezone.localdate()
    service = cleaned.get("service")
    first, last, period_start, period_end = _period(view, day)
    data = q.calendar(user=request.user, start=_midnight(first), end=_midnight(last + timedelta(days=1)),
                      service_id=service.pk if service else None)
    days = _grid(data, first, last, period_start, period_end)
    if view == "week":
        step_back, step_on = day - timedelta(days=7), day + timedelta(days=7)
        title = f"Week of {first:%-d %b %Y}"
    else:
        step_back = (period_start - timedelta(days=1)).replace(day=1)
        step_on = period_end + timedelta(days=1)
        title = f"{period_start:%B %Y}"
    since, until = _midnight(period_start), _midnight(period_end + timedelta(days=1))
    in_period = [e for e in data.entries if q.overlaps(e.start, e.end, since, until)]
    ctx = {
        "nav": "changes", "view": view, "day": day, "service": service, "title": title, "days": days,
        "weeks": [days[i:i + 7] for i in range(0, len(days), 7)], "error": error,
        "services": Service.objects.order_by("name"), "calendar": data, "changes_count": len(in_period),
        "blocked": [e for e in data.entries if e.blocked],
        "prev_url": _calendar_url(view, step_back, service), "next_url": _calendar_url(view, step_on, service),
        "today_url": _calendar_url(view, None, service),
        "month_url": _calendar_url("month", day, service), "week_url": _calendar_url("week", day, service),
        "ics_url": reverse("itsm:calendar-ics") + (f"?service={service.pk}" if service else ""),
        "feed": q.calendar_feed_of(request.user), "can_manage": itsm.may_manage_changes(request.user),
        **extra,
    }
    return ctx, 400 if error else 200


@staff_only
@require_GET
def change_calendar(request):
    ctx, status = _calendar_context(request)
    return render(request, CALENDAR, ctx, status=status)


# --- iCalendar: the feed, a person's secret feed address, one change -----------------------------------------

FEED_PAST, FEED_AHEAD = timedelta(days=30), timedelta(days=180)
ICS_STATUS = {Status.CANCELLED: "CANCELLED", Status.NEW: "TENTATIVE", Status.REVIEW: "TENTATIVE",
              Status.REJECTED: "TENTATIVE"}


def _host() -> str:
    return urlparse(settings.CROSSLINE_BASE_URL).hostname or "crossline"


def _ics_calendar(name: str) -> ICalendar:
    cal = ICalendar()
    cal.add("prodid", "-//Crossline//Change calendar//EN")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    cal.add("x-wr-calname", name)
    cal.add("refresh-interval", timedelta(hours=1), parameters={"VALUE": "DURATION"})
    cal.add("x-published-ttl", "PT1H")
    return cal


def _change_event(request, ticket, start, end, collisions=(), hits=()) -> Event:
    """A change as a calendar event. Its UID is the change's key, so a calendar app updates the event it already
    has when the window moves; SEQUENCE follows the ticket's version."""
    url = request.build_absolute_uri(reverse("tracker:ticket", args=[ticket.key]))
    lines = [f"Service: {ticket.service.name if ticket.service_id else '—'}",
             f"Risk: {ticket.get_risk_display() or '—'}", f"Type: {ticket.get_change_type_display() or '—'}",
             f"State: {status_label(ticket.status)}"]
    lines += [f"Collides with {other.key} {other.title}" for other in collisions]
    lines += [f"In the blackout “{h.blackout.name}”" + (f" (overridden: {h.override.reason})" if h.override
                                                        else " (not overridden)") for h in hits]
    event = Event()
    event.add("uid", f"{ticket.key.lower()}@{_host()}")
    event.add("dtstamp", ticket.updated_at)
    event.add("last-modified", ticket.updated_at)
    event.add("sequence", ticket.version)
    event.add("dtstart", start)
    event.add("dtend", end if end > start else start + timedelta(minutes=1))
    event.add("summary", f"{ticket.key} {ticket.title}" + (" (collision)" if collisions else ""))
    event.add("description", "\n".join([*lines, url]))
    event.add("url", url)
    event.add("status", ICS_STATUS.get(ticket.status, "CONFIRMED"))
    event.add("categories", ["Change", *([ticket.service.name] if ticket.service_id else [])])
    return event


def _blackout_event(occurrence) -> Event:
    blackout = occurrence.blackout
    event = Event()
    event.add("uid", f"blackout-{blackout.pk}-{occurrence.start:%Y%m%dT%H%M%SZ}@{_host()}")
    event.add("dtstamp", blackout.updated_at)
    event.add("dtstart", occurrence.start)
    event.add("dtend", occurrence.end)
    event.add("summary", f"Blackout: {blackout.name} ({occurrence.scope})")
    event.add("description", blackout.reason)
    event.add("transp", "OPAQUE")
    event.add("categories", ["Blackout"])
    return event


def _feed(request, user, service) -> HttpResponse:
    """The change calendar as iCalendar: scheduled changes and blackouts from 30 days ago to 180 days ahead."""
    now = timezone.now()
    data = q.calendar(user=user, start=now - FEED_PAST, end=now + FEED_AHEAD,
                      service_id=service.pk if service else None)
    cal = _ics_calendar("Crossline changes" + (f" · {service.name}" if service else ""))
    for entry in data.entries:
        cal.add_component(_change_event(request, entry.ticket, entry.start, entry.end, entry.collisions,
                                        entry.hits))
    for occurrence in data.occurrences:
        cal.add_component(_blackout_event(occurrence))
    return HttpResponse(cal.to_ical(), content_type="text/calendar; charset=utf-8")


def _feed_service(request):
    query = CalendarQueryForm(request.GET)
    if not query.is_valid():
        raise BadRequest("Unknown service: use the id of a service, or leave it out for every service.")
    return query.cleaned_data.get("service")


@staff_only
@require_GET
def calendar_ics(request):
    """The calendar as a file to import (signed in); `?service=` keeps one service."""
    response = _feed(request, request.user, _feed_service(request))
    response["Content-Disposition"] = 'attachment; filename="crossline-changes.ics"'
    return response


@login_not_required
@require_GET
def calendar_feed(request, token):
    """A person's secret feed address, for calendar apps (no sign-in): what that person may see."""
    feed = q.calendar_feed_by_token(token)
    if feed is None:
        raise Http404("No calendar feed at this address (it may have been replaced or turned off).")
    response = _feed(request, feed.user, _feed_service(request))
    itsm.calendar_feed_used(feed=feed)
    response["Cache-Control"] = "private, max-age=300"
    return response


@staff_only
@require_GET
def change_ics(request, key):
    """One change's window as an .ics file to add to one's own calendar."""
    ticket = ticket_or_404(request.user, key)
    if ticket.kind != Kind.CHANGE or ticket.window_start is None:
        raise Http404(f"{ticket.key} is not a scheduled change.")
    schedule = q.change_schedule(ticket=ticket, user=request.user)
    start, end = q.window_of(ticket)
    cal = _ics_calendar(ticket.key)
    cal.add_component(_change_event(request, ticket, start, end, schedule.collisions, schedule.hits))
    response = HttpResponse(cal.to_ical(), content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{ticket.key}.ics"'
    return response


def _subscription(request, token: str = "", notice: str = "", status: int = 200):
    ctx = {"feed": q.calendar_feed_of(request.user), "notice": notice, "ics_url": reverse("itsm:calendar-ics")}
    if token:
        ctx["feed_url"] = request.build_absolute_uri(reverse("itsm:calendar-feed", args=[token]))
        ctx["webcal_url"] = "webcal://" + ctx["feed_url"].split("://", 1)[1]
    if request.htmx:
        return render(request, f"{CALENDAR}#subscription", ctx, status=status)
    ctx.pop("ics_url")  # the page's own, which keeps its service filter
    page, _ = _calendar_context(request, **ctx)
    return render(request, CALENDAR, page, status=status)


@staff_only
@require_POST
def calendar_feed_new(request):
    """A new secret feed address for me (the old one, if any, stops working)."""
    replaced = q.calendar_feed_of(request.user) is not None
    token = itsm.calendar_feed_create(actor=request.user)
    return _subscription(request, token, "Your new feed address is below; the old one no longer works."
                         if replaced else "Your feed address is below.")


@staff_only
@require_POST
def calendar_feed_delete(request):
    itsm.calendar_feed_revoke(actor=request.user)
    return _subscription(request, notice="Your feed address is turned off; calendar apps using it get nothing more.")


# --- the Schedule panel of a change --------------------------------------------------------------------------

SCHEDULE_PANEL = "itsm/panel_schedule.html"


def _refusal_in(form, exc: DomainError) -> None:
    """A refusal's message goes above the form; its per-field messages next to the fields it names."""
    form.add_error(None, exc.message)
    for name, errors in exc.fields.items():
        if name in form.fields:
            form.add_error(name, errors)


def _workspace(request, key: str, *, status: int = 200, **extra):
    """The ticket page's workspace, re-read: after a write (htmx swaps it whole), or with a refusal in it when the
    browser runs no JavaScript."""
    ticket = selectors.ticket_for_user(request.user, key, page=True)
    ctx = workspace_context(request, ticket, **extra)
    if not request.htmx:
        return render(request, WORKSPACE, ctx, status=status)
    response = render(request, f"{WORKSPACE}#workspace", ctx, status=status)
    retarget(response, "#workspace")
    reswap(response, "outerHTML")
    return response


@staff_only
@require_POST
def change_schedule(request, key):
    """Set or move a change's window from its Schedule panel; a refusal shows in the panel's form, with what was
    typed, and the next submit works (the version is unchanged by a refusal)."""
    ticket = ticket_or_404(request.user, key)
    form = ScheduleForm(request.POST)
    status = 400
    if form.is_valid():
        data = form.cleaned_data
        try:
            made = itsm.change_schedule(
                ticket=ticket, actor=request.user, start=data["window_start"], end=data["window_end"],
                override_reason=data["override_reason"] if data["override"] else "",
                version=posted_version(request))
        except StaleVersion as exc:
            return _workspace(request, ticket.key, status=exc.status, stale=exc)
        except DomainError as exc:
            _refusal_in(form, exc)
            status = exc.status
        else:
            if ticket.window_start is None:
                notice = f"{ticket.key} has no window now."
            else:
                notice = f"{ticket.key} is scheduled for {span(ticket.window_start, ticket.window_end)}."
            notice += "".join(f" Blackout “{o.blackout_name}” overridden." for o in made)
            return _workspace(request, ticket.key, notice=notice)
    if request.htmx:
        ctx = {"ticket": ticket, "form": form, "panel": {"can_override": itsm.may_manage_changes(
            request.user), "can_edit": True}}
        return render(request, f"{SCHEDULE_PANEL}#schedule-form", ctx, status=status)
    return _workspace(request, ticket.key, status=status, schedule_form=form)


# --- blackout windows --------------------------------------------------------------------------------------

BLACKOUTS = "itsm/blackouts.html"
BLACKOUT_AHEAD = timedelta(days=90)


def _blackout_rows(request) -> list[dict]:
    """Every blackout with its next occurrence and the changes scheduled into it in the next 90 days."""
    now = timezone.now()
    ahead = q.calendar(user=request.user, start=now, end=now + BLACKOUT_AHEAD)
    inside: dict[int, list] = {}
    for entry in ahead.entries:
        for hit in entry.hits:
            found = inside.setdefault(hit.blackout.pk, [])
            if all(e.ticket.pk != entry.ticket.pk for e, _ in found):
                found.append((entry, hit))
    rows = []
    for blackout in q.blackout_list():
        upcoming = blackout.occurrences(now, now + timedelta(days=400))
        rows.append({"blackout": blackout, "next": upcoming[0] if upcoming else None,
                     "changes": inside.get(blackout.pk, [])})
    return rows


def _blackout_form_response(request, form, blackout, status):
    """A refused blackout form: with htmx just the form again (messages next to the fields, what was typed kept);
    without, the whole page."""
    if request.htmx:
        return render(request, f"{BLACKOUTS}#blackout-form", {"form": form, "blackout": blackout}, status=status)
    if blackout is not None:
        return render(request, "itsm/blackout_edit.html", {"nav": "changes", "form": form, "blackout": blackout},
                      status=status)
    return render(request, BLACKOUTS, {"nav": "changes", "rows": _blackout_rows(request), "form": form,
                                       "can_manage": itsm.may_manage_changes(request.user)}, status=status)


def _blackout_submit(request, save, blackout=None):
    """Check the posted blackout form and save it through `save` (a domain function); a refusal comes back in
    the form, what was typed kept."""
    form = BlackoutForm(request.POST)
    status = 400
    if form.is_valid():
        data = dict(form.cleaned_data)
        data["repeat"] = data.get("repeat") or Repeat.NEVER
        try:
            saved = save(actor=request.user, **data)
        except DomainError as exc:
            _refusal_in(form, exc)
            status = exc.status
        else:
            messages.success(request, f"{'Saved' if blackout else 'Added'} the blackout “{saved.name}”.")
            if request.htmx:
                return HttpResponseClientRedirect(reverse("itsm:blackouts"))
            return redirect("itsm:blackouts")
    return _blackout_form_response(request, form, blackout, status)


@staff_only
def blackouts(request):
    """Every blackout window, with what is scheduled into it; change managers add them here."""
    if request.method == "POST":
        return _blackout_submit(request, itsm.blackout_create)
    can_manage = itsm.may_manage_changes(request.user)
    return render(request, BLACKOUTS, {"nav": "changes", "rows": _blackout_rows(request),
                                       "form": BlackoutForm() if can_manage else None, "can_manage": can_manage})


@staff_only
def blackout_edit(request, pk):
    blackout = get_object_or_404(Blackout.objects.select_related("service"), pk=pk)
    if not itsm.may_manage_changes(request.user):
        raise PermissionDenied("Only a change manager may change blackout windows.")
    if request.method == "POST":
        return _blackout_submit(request, partial(itsm.blackout_update, blackout=blackout), blackout)
    form = BlackoutForm(initial={name: getattr(blackout, name) for name in BlackoutForm.base_fields})
    return render(request, "itsm/blackout_edit.html", {"nav": "changes", "form": form, "blackout": blackout})


@staff_only
@require_POST
def blackout_delete(request, pk):
    blackout = get_object_or_404(Blackout, pk=pk)
    try:
        itsm.blackout_delete(blackout=blackout, actor=request.user)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"Removed the blackout “{blackout.name}”; overrides recorded against it stay on "
                                  "their changes' timelines.")
    if request.htmx:
        return HttpResponseClientRedirect(reverse("itsm:blackouts"))
    return redirect("itsm:blackouts")


# --- problem management: problems from incidents, root cause analysis, the known-error database -----------


@staff_only
@require_POST
def problem_from(request, key):
    """"Create problem from this incident" (and the other keys typed): the problem's page on success; a refusal
    shows in the action's form, with what was typed."""
    ticket = ticket_or_404(request.user, key)
    form = ProblemFromIncidentsForm(request.POST)
    status = 400
    if form.is_valid():
        keys = [k for k in form.key_list() if k != ticket.key]
        found = {t.key: t for t in selectors.ticket_list(user=request.user).filter(key__in=keys)}
        try:
            missing = [k for k in keys if k not in found]
            if missing:
                raise ValidationFailed(f"No ticket {', '.join(missing)}; check the keys.",
                                       fields={"keys": ["Unknown."]})
            problem = itsm.problem_from_incidents(incidents=[ticket, *(found[k] for k in keys)], actor=request.user,
                                                  title=form.cleaned_data["title"])
        except DomainError as exc:
            form_errors(form, exc)
            status = exc.status
        else:
            messages.success(request, f"{problem.key} raised; {ticket.key} is an instance of it.")
            url = reverse("tracker:ticket", args=[problem.key])
            return HttpResponseClientRedirect(url) if request.htmx else redirect(url)
    if request.htmx:
        return render(request, "itsm/action_problem_from.html#problem-from-form",
                      {"ticket": ticket, "problem_form": form}, status=status)
    return workspace_response(request, ticket, status=status, problem_form=form)


@staff_only
@require_POST
def known_error_apply(request, key, problem):
    """The banner's one click: link the incident to the known error and send its workaround to the requester."""
    ticket = ticket_or_404(request.user, key)
    known = ticket_or_404(request.user, problem)
    try:
        itsm.known_error_apply(incident=ticket, problem=known, actor=request.user)
    except DomainError as exc:
        return workspace_response(request, ticket, error=exc)
    return workspace_response(request, ticket, notice=f"{ticket.key} is linked to {known.key}; the workaround was "
                                                      f"sent to {ticket.requester.display_name}.")


@staff_only
@require_POST
def problem_analysis(request, key):
    """Save a problem's root cause analysis from its Analysis panel (under the optimistic lock)."""
    ticket = ticket_or_404(request.user, key)
    form = AnalysisForm(request.POST, instance=Ticket(kind=ticket.kind))
    status = 400
    if form.is_valid():
        changes = {n: form.cleaned_data[n] for n in AnalysisForm.Meta.fields}
        try:
            services.ticket_update(ticket=ticket, actor=request.user, version=form.cleaned_data["version"],
                                   changes=changes)
        except DomainError as exc:
            if isinstance(exc, StaleVersion):
                return workspace_response(request, ticket, error=exc)
            form_errors(form, exc)
            status = exc.status
        else:
            return workspace_response(request, ticket, notice=f"The analysis of {ticket.key} is saved.")
    return workspace_response(request, ticket, status=status, analysis_form=form)


@staff_only
@require_POST
def problem_resolve(request, key):
    """Resolve a problem with the linked open incidents ticked; a refusal keeps the note and the ticks."""
    ticket = ticket_or_404(request.user, key)
    form = ProblemResolveForm(request.POST)
    chosen = [k.strip().upper() for k in request.POST.getlist("incidents") if k.strip()][:200]
    status = 400
    if form.is_valid():
        found = {t.key: t for t in selectors.ticket_list(user=request.user).filter(key__in=chosen)}
        try:
            done = itsm.problem_resolve(problem=ticket, actor=request.user, note=form.cleaned_data["resolution_note"],
                                        incidents=[found[k] for k in chosen if k in found],
                                        version=form.cleaned_data["version"])
        except DomainError as exc:
            form_errors(form, exc)
            status = exc.status
        else:
            said = f" with {', '.join(i.key for i in done)}" if done else ""
            return workspace_response(request, ticket, notice=f"{ticket.key} is resolved{said}.")
    return workspace_response(request, ticket, status=status, resolve_form=form, resolve_chosen=chosen)


@staff_only
@require_GET
def known_errors(request):
    """The known-error database: open known errors with their workaround and incidents, searchable and by
    service and category."""
    text = request.GET.get("q", "")[:200]
    service_id = request.GET.get("service", "")
    category_id = request.GET.get("category", "")
    ctx = {
        "nav": "known-errors", "q": text,
        "service_id": int(service_id) if service_id.isdigit() else None,
        "category_id": int(category_id) if category_id.isdigit() else None,
        "services": Service.objects.order_by("name"), "categories": Category.objects.order_by("name"),
    }
    ctx["known"] = q.known_error_list(user=request.user, text=text, service_id=ctx["service_id"],
                                      category_id=ctx["category_id"])
    if request.htmx and request.htmx.target == "ke-results":
        return render(request, "itsm/known_errors.html#results", ctx)
    return render(request, "itsm/known_errors.html", ctx)


# --- major incidents: declare, link children, resolve with children (forms of the ticket page) -------------


def _major_form(request, ticket, *, refused: dict, status: int):
    """A refused major-incident form: with htmx that form again (message and typed values), else the page."""
    if request.htmx:  # the resolve form lists the open children from the ticket's links
        links = selectors.ticket_links(ticket=ticket, user=request.user)
        return render(request, "itsm/action_major.html#major-form", {"ticket": ticket, "form": refused,
                                                                     "links": links}, status=status)
    return workspace_response(request, ticket, status=status, major_refused=refused)


@staff_only
@require_POST
def major_declare(request, key):
    """Declare the incident major; a refusal (a P3, no reason) shows in the form with the reason kept."""
    ticket = ticket_or_404(request.user, key)
    reason = request.POST.get("reason", "")[:4000]
    try:
        itsm.major_declare(ticket=ticket, actor=request.user, reason=reason)
    except DomainError as exc:
        return _major_form(request, ticket, status=exc.status,
                           refused={"what": "declare", "error": exc.message, "reason": reason})
    return workspace_response(request, ticket, notice=f"{ticket.key} is now a major incident; the incident "
                                                      "managers and the service's owners have been told.")


@staff_only
@require_POST
def major_link(request, key):
    """Link incidents, named by key, as children of this major incident."""
    ticket = ticket_or_404(request.user, key)
    keys = request.POST.get("keys", "")[:2000]
    try:
        children = itsm.major_children_by_keys(user=request.user, keys=keys)
        itsm.major_link_children(major_ticket=ticket, children=children, actor=request.user)
    except DomainError as exc:
        if request.htmx:
            return render(request, "itsm/panel_major.html#link-form", {"ticket": ticket, "link_error": exc.message,
                                                                        "typed_keys": keys}, status=exc.status)
        return workspace_response(request, ticket, status=exc.status, major_link_refused={
            "error": exc.message, "keys": keys})
    linked = ", ".join(c.key for c in children)
    return workspace_response(request, ticket, notice=f"Linked {linked} to the major incident {ticket.key}.")


@staff_only
@require_POST
def major_resolve(request, key):
    """Resolve the major incident with the children ticked, one note to all their requesters."""
    ticket = ticket_or_404(request.user, key)
    note = request.POST.get("note", "")[:8000]
    ticked = [k for k in request.POST.getlist("children") if k][:500]
    try:
        children = itsm.major_children_by_keys(user=request.user, keys=ticked) if ticked else []
        resolved = itsm.major_resolve(major_ticket=ticket, actor=request.user, note=note, children=children)
    except DomainError as exc:
        return _major_form(request, ticket, status=exc.status,
                           refused={"what": "resolve", "error": exc.message, "note": note, "ticked": set(ticked)})
    with_children = f" with {', '.join(c.key for c in resolved)}" if resolved else ""
    return workspace_response(request, ticket, notice=f"Resolved {ticket.key}{with_children}.")


# --- the process managers' landing pages ----------------------------------------------------------------


@staff_only
@require_GET
def incident_health(request):
    """The incident process at a glance, for the incident manager, managers and admins."""
    if access.role_of(request.user) not in health.INCIDENT_HEALTH_ROLES:
        return redirect(extensions.home_url(request.user))
    now = timezone.now()
    return render(request, "itsm/health_incidents.html", {
        "nav": "incident-health", "now": now, "health": health.incident_health(user=request.user, now=now)})


@staff_only
@require_GET
def problem_health(request):
    """The problem process at a glance, for the problem manager, managers and admins."""
    if access.role_of(request.user) not in health.PROBLEM_HEALTH_ROLES:
        return redirect(extensions.home_url(request.user))
    now = timezone.now()
    return render(request, "itsm/health_problems.html", {
        "nav": "problem-health", "now": now,
        "health": health.problem_health(user=request.user, now=now, days=settings.CROSSLINE_PROBLEM_RCA_DAYS)})
