"""The self-service portal and the knowledge base, and what service management adds to the ticket page: a
change's tasks (add, hand off, report), its rollback, "My change tasks", and the changes behind a rate."""

from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import reswap, retarget

from sla.dashboard import period_or_default
from tracker import access, selectors, services
from tracker.access import staff_only
from tracker.choices import Kind
from tracker.errors import DomainError, ValidationFailed
from tracker.forms import CommentForm
from tracker.views import form_errors, move_forms, posted_version, ticket_or_404, workspace_response

from . import selectors as q
from . import services as itsm
from .choices import ChangeOutcome, TaskState
from .forms import COMMON_ZONES, HandoffForm, PortalTicketForm, ReportForm, RollbackForm, TaskForm
from .models import ChangeTask, KnowledgeArticle

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
            try:
                ticket = services.ticket_create(
                    actor=request.user,
                    kind=data.pop("kind"),
                    title=data.pop("title"),
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
            initial={"kind": kind if kind in (Kind.INCIDENT, Kind.REQUEST) else Kind.INCIDENT}
        )
    return render(
        request,
        "itsm/portal_new.html",
        {"nav": "portal-new", "form": form},
        status=400 if form.is_bound else 200,
    )


def portal_ticket(request, key):
    ticket = ticket_or_404(request.user, key)
    ctx = {
        "nav": "portal",
        "ticket": ticket,
        "timeline": [
            e
            for e in selectors.ticket_timeline(ticket=ticket, user=request.user)
            if e.kind in ("created", "comment", "status", "release")
        ],
        "moves": move_forms(ticket, request.user),
        "comment_form": CommentForm(),
    }
    return render(request, "itsm/portal_ticket.html", ctx)


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


@login_not_required
def kb(request):
    text = request.GET.get("q", "")
    ctx = {"nav": "kb", "q": text, "articles": q.article_search(text=text)}
    if request.htmx and request.htmx.target == "kb-results":
        return render(request, "itsm/kb.html#results", ctx)
    return render(request, "itsm/kb.html", ctx)


@login_not_required
def kb_article(request, pk):
    article = get_object_or_404(KnowledgeArticle.objects.select_related("service"), pk=pk, published=True)
    return render(request, "itsm/kb_article.html", {"nav": "kb", "article": article})


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
    ctx = {"nav": "my-tasks", "tasks": tasks, "scope": scope, "refused": refused, "now": timezone.now(),
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
