"""The self-service portal and the knowledge base; change setup (CABs, standard-change templates), standard
changes from a template, and what change enablement adds to the ticket page: the vote, a change's tasks (add,
hand off, report), its rollback, "My change tasks", and the changes behind a rate."""

from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
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
from . import ui
from .choices import CabRule, ChangeOutcome, TaskState
from .forms import (
    COMMON_ZONES,
    CabForm,
    HandoffForm,
    PortalTicketForm,
    ReportForm,
    RollbackForm,
    StandardChangeForm,
    TaskForm,
    TemplateForm,
    VoteForm,
)
from .models import Cab, ChangeTask, ChangeTemplate, KnowledgeArticle

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


# --- change setup: CABs and standard-change templates (the change manager writes, staff read) -------------


def _manager_only(request) -> None:
    if not itsm.may_manage_changes(request.user):
        raise PermissionDenied("Only the change manager (or an administrator) sets up CABs and templates.")


def _refuse(form, exc: DomainError) -> None:
    """A refusal's message above the form, its per-field messages next to the fields; what was typed stays."""
    form.add_error(None, exc.message)
    for name, errors in exc.fields.items():
        if name in form.fields:
            for err in errors:
                form.add_error(name, err)


@staff_only
@require_GET
def cabs(request):
    return render(request, "itsm/cabs.html", {"nav": "change-setup", "tab": "cabs", "cabs": q.cab_list(),
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
                _refuse(form, exc)
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
    return render(request, "itsm/cab_form.html", {"nav": "change-setup", "tab": "cabs", "form": form, "cab": cab},
                  status=status)


@staff_only
@require_GET
def change_templates(request):
    retired = request.GET.get("retired") == "1"
    return render(request, "itsm/change_templates.html", {
        "nav": "change-setup", "tab": "templates", "retired": retired, "templates": q.template_list(retired=retired),
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
                _refuse(form, exc)
                return _template_page(request, form, template, status=exc.status)
        return _template_page(request, form, template, status=400)
    initial = {"risk": "low"}
    if template is not None:
        initial = {name: getattr(template, name) for name in itsm.TEMPLATE_FIELDS}
        initial["service"] = template.service_id
    return _template_page(request, TemplateForm(initial=initial), template)


def _template_page(request, form, template, status=200):
    ctx = {"nav": "change-setup", "tab": "templates", "form": form, "template": template,
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
                _refuse(form, exc)
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
                  {"nav": "change-setup", "tab": "templates", "form": form, "template": template}, status=status)


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
            _refuse(form, exc)
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
