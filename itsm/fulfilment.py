"""Pages of catalogue requests after the order: the approval page where the appointed approver (a line manager
may be a requester, who cannot open the ticket page) approves or rejects a request, the list of requests
waiting for them and its chip in the top bar; and the forms of the request's Fulfilment panel on the ticket
page: take a task, mark it done or cancelled, run a failed automation again. Each view parses, calls one
domain function of `itsm.services.fulfilment` and renders; a refusal shows in place with what was typed."""

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from tracker.access import staff_only
from tracker.errors import DomainError
from tracker.views import posted_version, ticket_or_404, workspace_response

from .choices import TaskState
from .models import FulfilmentTask
from .services import catalogue, fulfilment

NOTE_MAX = 4000


def _approval_context(request, catalog_request, **extra) -> dict:
    return {"nav": "request-approvals", "req": catalog_request, "ticket": catalog_request.ticket,
            "answers": catalogue.answers_read(catalog_request),
            "may_decide": fulfilment.may_decide(request.user, catalog_request), **extra}


def request_approval(request, key):
    """The approval page of one request: the item, the answers, the requester; approve or reject (GET shows,
    POST decides). Its approver, staff and the requester may read it; anyone else gets a 404."""
    catalog_request = fulfilment.request_for_approver(user=request.user, key=key)
    if catalog_request is None:
        raise Http404(f"No request {key} waiting for you.")
    if request.method != "POST":
        return render(request, "itsm/fulfilment/approval.html", _approval_context(request, catalog_request))
    decision = request.POST.get("decision", "")
    note = request.POST.get("note", "")[:NOTE_MAX]
    try:
        fulfilment.request_decide(request=catalog_request, actor=request.user, decision=decision, note=note)
    except DomainError as exc:
        ctx = _approval_context(request, catalog_request, error=exc.message, typed_note=note,
                                field_errors=exc.fields, may_decide=True)
        template = "itsm/fulfilment/approval.html#decide-form" if request.htmx else "itsm/fulfilment/approval.html"
        return render(request, template, ctx, status=exc.status)
    key = catalog_request.ticket.key
    said = "approved: its fulfilment has begun" if decision == "approve" else "not approved; the requester is told " \
                                                                             "why"
    notice = f"{key} is {said}."
    if request.htmx:
        catalog_request = fulfilment.request_for_approver(user=request.user, key=key)
        ctx = _approval_context(request, catalog_request, notice=notice,
                                count=fulfilment.pending_approval_count(request.user), oob=True)
        return render(request, "itsm/fulfilment/approval.html#decided", ctx)
    messages.success(request, notice)
    return redirect("itsm:request-approval", key=key)


def request_approvals(request):
    """The requests waiting for my decision ("Requests to approve")."""
    return render(request, "itsm/fulfilment/approvals.html",
                  {"nav": "request-approvals", "waiting": list(fulfilment.pending_approvals(request.user))})


def request_approvals_chip(request):
    """The top bar's chip, loaded after the page: how many requests wait for my decision; nothing when none."""
    return render(request, "itsm/fulfilment/approvals_chip.html#chip",
                  {"count": fulfilment.pending_approval_count(request.user)})


# --- the Fulfilment panel's forms on the ticket page ---------------------------------------------------------


def _task_or_404(user, key, number) -> FulfilmentTask:
    ticket = ticket_or_404(user, key)
    task = FulfilmentTask.objects.filter(request=ticket, number=number).select_related("request", "group").first()
    if task is None:
        raise Http404(f"{ticket.key} has no task T{number}.")
    return task


def _refused(request, task, exc: DomainError, note: str = "", opened: str = ""):
    """The ticket page again, the message in that task's row, the form it came from open, the note kept."""
    return workspace_response(request, task.request, status=exc.status, fulfilment_refused={
        "task": task.pk, "error": exc.message, "note": note, "opened": opened})


@staff_only
@require_POST
def task_take(request, key, number):
    """Take a fulfilment task (assign it to me); `release` gives it back to its group."""
    task = _task_or_404(request.user, key, number)
    release = request.POST.get("release") == "1"
    try:
        fulfilment.task_assign(task=task, actor=request.user, assignee=None if release else request.user,
                               version=posted_version(request))
    except DomainError as exc:
        return _refused(request, task, exc)
    said = "is back with its group" if release else "is yours"
    return workspace_response(request, task.request, notice=f"{task.request.key} T{task.number} {said}.")


@staff_only
@require_POST
def task_finish(request, key, number):
    """Mark a fulfilment task done (optional note) or cancelled (with why)."""
    task = _task_or_404(request.user, key, number)
    state = request.POST.get("state", "")
    note = request.POST.get("note", "")[:NOTE_MAX]
    try:
        fulfilment.task_finish(task=task, actor=request.user, state=state, note=note,
                               version=posted_version(request))
    except DomainError as exc:
        return _refused(request, task, exc, note, opened=state)
    ticket = task.request
    ticket.refresh_from_db(fields=["status"])
    said = "done" if state == TaskState.DONE else "cancelled"
    extra = " Every step is done: the request is resolved and its requester told." if ticket.status == "resolved" \
        else ""
    return workspace_response(request, ticket, notice=f"{ticket.key} T{task.number} is {said}.{extra}")


@staff_only
@require_POST
def automation_again(request, key):
    """Run a failed fulfilment handler again."""
    ticket = ticket_or_404(request.user, key)
    catalog_request = fulfilment.request_of(ticket)
    if catalog_request is None:
        raise Http404(f"{ticket.key} is not a catalogue request.")
    try:
        fulfilment.automation_retry(request=catalog_request, actor=request.user)
    except DomainError as exc:
        return workspace_response(request, ticket, status=exc.status, error=exc)
    return workspace_response(request, ticket, notice=f"The automation of {ticket.key} is queued to run again.")
