"""Fulfilment of catalogue requests: who approves a request and their decision, what happens once it may be
fulfilled (its fulfilment tasks made from the item's templates, its fulfilment handler queued for the workers),
the work on the tasks, the handler's runs, and the request resolving itself when all of it is done.

The rules hold for every front end through `tracker.hooks` (registered by `register()`): `request_guard`
refuses a request's move that would skip them (approved by a move instead of by its approver, started or
resolved while it waits for its approval, resolved by hand while fulfilment tasks are open), and
`request_observer` cancels the open tasks of a cancelled request. Every function owns its transaction, writes
the timeline rows in it and raises `tracker.errors` refusals that say what to fix.
"""

from contextvars import ContextVar
from datetime import datetime

from django.db import transaction
from django.db.models import Exists, F, OuterRef, Q
from django.utils import timezone

from sla.choices import NotificationKind
from sla.services import notification_send
from tracker import access, hooks
from tracker import services as core
from tracker.choices import EventKind, Kind, Role, Status
from tracker.errors import AccessDenied, Conflict, StaleVersion, TransitionRefused, ValidationFailed
from tracker.models import Ticket
from tracker.workflows import AGENTS

from .. import handlers
from ..choices import OPEN_TASK_STATES, ApprovalMode, ApprovalState, AutomationState, TaskState
from ..models import CatalogItem, CatalogRequest, FulfilmentTask

DECISIONS = ("approve", "reject")
# Who works any fulfilment task, whatever its group: those who dispatch work.
DISPATCHERS = frozenset({Role.MANAGER, Role.ADMIN})
# The event fields of this module on a request's timeline (kinds APPROVAL and TASK, shared with changes): the
# prefix tells its rows apart from a change's.
FIELD_PREFIX = "request_"

# The request whose approver's decision is being applied, and the request whose fulfilment resolves it: the
# guard lets exactly these moves through.
_deciding: ContextVar[int | None] = ContextVar("request_deciding", default=None)
_fulfilling: ContextVar[int | None] = ContextVar("request_fulfilling", default=None)


def approver_for(item: CatalogItem, requester):
    """Who approves `requester`'s request of `item`: their line manager, the item's named approver, or nobody
    (an item without approval). None with an approval needed means nobody is set to decide it."""
    if item.approval == ApprovalMode.MANAGER:
        return requester.manager
    if item.approval == ApprovalMode.NAMED:
        return item.approver
    return None


def fulfilment_begin(*, request: CatalogRequest, actor, now: datetime) -> list[FulfilmentTask]:
    """The request may be fulfilled (approved, or needing no approval): make its fulfilment tasks from the
    item's templates and queue its handler, if the item is automatable, for the workers after commit. Runs in
    the caller's transaction."""
    item = request.item
    tasks = FulfilmentTask.objects.bulk_create([
        FulfilmentTask(request_id=request.ticket_id, number=n, title=template.title, group_id=template.group_id,
                       created_at=now, updated_at=now)
        for n, template in enumerate(item.task_templates.all(), start=1)
    ])
    if item.handler:
        CatalogRequest.objects.filter(pk=request.pk).update(automation=AutomationState.QUEUED)
        request.automation = AutomationState.QUEUED
        pk = request.pk
        transaction.on_commit(lambda: _queue(pk))
    return tasks


def _queue(request_pk: int) -> None:
    from ..tasks import fulfil_request_task

    fulfil_request_task.delay(request_pk)


def _name(user) -> str:
    return user.display_name if user is not None else "Crossline"


def _event(ticket: Ticket, *, actor, kind: str, now: datetime, field: str, new="", old="", note: str = "") -> None:
    core.event_record(ticket=ticket, actor=actor, kind=kind, now=now, field=f"{FIELD_PREFIX}{field}", old=old,
                      new=new, note=note)


# --- the approval ------------------------------------------------------------------------------------------


def may_decide(user, request: CatalogRequest) -> bool:
    """`request_decide` would take this person's decision now: they are its appointed approver (never its
    requester), and it still waits for the decision."""
    ticket = request.ticket
    return (user is not None and request.approver_id == user.pk and ticket.requester_id != user.pk
            and request.approval == ApprovalState.PENDING and ticket.status == Status.NEW)


def request_decide(*, request: CatalogRequest, actor, decision: str, note: str = "",
                   now: datetime | None = None) -> CatalogRequest:
    """The approver's decision on a request waiting for it: approve (the request moves to approved and its
    fulfilment begins) or reject with a reason (the request is cancelled with "Not approved by …: reason").
    Atomic; decided once. The requester is told. Raises AccessDenied (not the appointed approver, or their own
    request), ValidationFailed (an unknown decision, a rejection without a reason) or Conflict (decided
    already, nothing to decide)."""
    now = now or timezone.now()
    note = (note or "").strip()
    ticket = request.ticket
    if decision not in DECISIONS:
        raise ValidationFailed(f"Decide “approve” or “reject”, not {decision!r}.",
                               fields={"decision": ["Choose approve or reject."]})
    if actor is None or ticket.requester_id == actor.pk:
        raise AccessDenied(f"You requested {ticket.key}: you may not approve your own request (nor reject it). "
                           f"{_name(request.approver) if request.approver_id else 'Its approver'} decides it.")
    if request.approval == ApprovalState.NOT_NEEDED:
        raise Conflict(f"{ticket.key} needs no approval: nothing to decide.")
    if request.approver_id != actor.pk:
        who = f"its approver, {_name(request.approver)}" if request.approver_id else "its appointed approver"
        raise AccessDenied(f"Only {who}, decides {ticket.key}.")
    if decision == "reject" and not note:
        raise ValidationFailed(f"Say why you reject {ticket.key}: {_name(ticket.requester)} reads your reason.",
                               fields={"note": ["A reason is required to reject."]})
    if len(note) > 4000:
        raise ValidationFailed("Keep the note to 4,000 characters.", fields={"note": ["Too long."]})
    state = ApprovalState.APPROVED if decision == "approve" else ApprovalState.REJECTED
    with transaction.atomic():
        won = CatalogRequest.objects.filter(pk=request.pk, approval=ApprovalState.PENDING).update(
            approval=state, decided_at=now, decision_note=note)
        if not won:
            request.refresh_from_db()
            raise Conflict(_decided_text(request))
        ticket.refresh_from_db()
        if ticket.status != Status.NEW:
            raise Conflict(f"{ticket.key} is {ticket.get_status_display().lower()}: there is nothing to decide.")
        request.approval, request.decided_at, request.decision_note = state, now, note
        old_status = ticket.status
        said = f"Approved by {actor.display_name}" if state == ApprovalState.APPROVED else \
            f"Not approved by {actor.display_name}"
        _event(ticket, actor=actor, kind=EventKind.APPROVAL, now=now, field="decision", new=state,
               note=f"{said}: {note}" if note else f"{said}.")
        token = _deciding.set(ticket.pk)
        try:
            if state == ApprovalState.APPROVED:
                core.ticket_transition(ticket=ticket, to=Status.APPROVED, actor=actor, now=now, by_rule=True,
                                       quiet=True, note=said)
                fulfilment_begin(request=request, actor=actor, now=now)
            else:
                core.ticket_transition(ticket=ticket, to=Status.CANCELLED, actor=actor, now=now, by_rule=True,
                                       quiet=True, values={"resolution_note": f"{said}: {note}"})
        finally:
            _deciding.reset(token)
        notification_send(ticket=ticket, users=[ticket.requester], kind=NotificationKind.UPDATE, now=now,
                          key=f"request-decision:{request.pk}",
                          context={"actor": actor, "status": ticket.status, "old": old_status,
                                   "status_label": Status(ticket.status).label,
                                   "old_label": Status(old_status).label})
    return request


def _decided_text(request: CatalogRequest) -> str:
    key = request.ticket.key
    if request.approval == ApprovalState.NOT_NEEDED:
        return f"{key} needs no approval: nothing to decide."
    if request.approval == ApprovalState.PENDING:
        return f"{key} still waits for its approval."
    word = "approved" if request.approval == ApprovalState.APPROVED else "not approved"
    by = f" by {_name(request.approver)}" if request.approver_id else ""
    return f"{key} was already {word}{by}; a decision is not changed."


# --- fulfilment tasks --------------------------------------------------------------------------------------


def may_work_task(user, task: FulfilmentTask, *, group_ids=None) -> bool:
    """Members of the task's group work it (any agent when it has no group), and so do its assignee and those
    who dispatch work."""
    role = access.role_of(user)
    if role not in AGENTS:
        return False
    if role in DISPATCHERS or task.group_id is None or task.assignee_id == user.pk:
        return True
    if group_ids is None:
        group_ids = set(user.assignment_groups.values_list("pk", flat=True))
    return task.group_id in group_ids


def _require_worker(actor, task: FulfilmentTask, what: str) -> None:
    if not may_work_task(actor, task):
        group = task.group.name if task.group_id else "the desk"
        raise AccessDenied(f"Only members of {group} (or a manager) may {what} T{task.number} of "
                           f"{task.request.key}.")


def _locked_task(task: FulfilmentTask, version: int | None) -> FulfilmentTask:
    """Re-read the task under the request's row lock (fulfilment steps of one request queue there) and check
    the version the page was loaded with."""
    CatalogRequest.objects.select_for_update().filter(ticket_id=task.request_id).first()
    current = FulfilmentTask.objects.select_related("request", "group", "assignee").get(pk=task.pk)
    if version is not None and current.version != version:
        raise StaleVersion(f"{current.request.key} T{current.number}", current.version)
    return current


def _save_task(task: FulfilmentTask, now: datetime, **fields) -> None:
    won = FulfilmentTask.objects.filter(pk=task.pk, version=task.version).update(
        **fields, updated_at=now, version=F("version") + 1)
    if not won:  # the row lock makes this rare (SQLite has none): someone saved it first
        raise StaleVersion(f"{task.request.key} T{task.number}", task.version + 1)
    for name, value in fields.items():
        setattr(task, name, value)
    task.version += 1
    task.updated_at = now


def task_assign(*, task: FulfilmentTask, actor, assignee, version: int | None = None,
                now: datetime | None = None) -> FulfilmentTask:
    """Assign an open fulfilment task (to oneself: take it; None: back to its group); optimistic-locked, on
    the request's timeline. The first task taken starts the request's fulfilment (in progress). Raises
    AccessDenied, ValidationFailed (an assignee outside the task's group), Conflict (a finished task) or
    StaleVersion."""
    now = now or timezone.now()
    with transaction.atomic():
        task = _locked_task(task, version)
        _require_worker(actor, task, "assign")
        if task.state not in OPEN_TASK_STATES:
            raise Conflict(f"T{task.number} of {task.request.key} is {task.get_state_display().lower()}; it is no "
                           "longer worked.")
        if assignee is not None:
            if access.role_of(assignee) not in AGENTS:
                raise ValidationFailed(f"{assignee.display_name} is not an agent and cannot work a task.",
                                       fields={"assignee": ["Choose an agent."]})
            if task.group_id and not assignee.assignment_groups.filter(pk=task.group_id).exists() \
                    and access.role_of(assignee) not in DISPATCHERS:
                raise ValidationFailed(f"{assignee.display_name} is not a member of {task.group.name}, which works "
                                       f"T{task.number}.", fields={"assignee": [f"Choose a member of "
                                                                                 f"{task.group.name}."]})
        if task.assignee_id == (assignee.pk if assignee else None):
            return task
        old = task.assignee
        _save_task(task, now, assignee=assignee, state=TaskState.IN_PROGRESS if assignee else TaskState.PLANNED)
        ticket = task.request
        verb = "taken" if assignee == actor else "assigned" if assignee else "unassigned"
        _event(ticket, actor=actor, kind=EventKind.TASK, now=now, field=verb, old=_name(old) if old else "",
               new=_name(assignee) if assignee else "", note=f"T{task.number} {task.title}")
        if assignee is not None and ticket.status in (Status.NEW, Status.APPROVED):
            core.ticket_transition(ticket=ticket, to=Status.IN_PROGRESS, actor=actor, now=now, by_rule=True,
                                   quiet=True, note=f"T{task.number} {verb}")
        Ticket.objects.filter(pk=ticket.pk).update(updated_at=now)  # an open page sees that something happened
    return task


def task_finish(*, task: FulfilmentTask, actor, state: str, note: str = "", version: int | None = None,
                now: datetime | None = None) -> FulfilmentTask:
    """Mark an open fulfilment task done (with an optional note) or cancelled (saying why); optimistic-locked,
    on the request's timeline. When no task is left open, something was done and the automation (if any)
    succeeded, the request resolves itself, `actor` resolving it. Raises AccessDenied, ValidationFailed,
    Conflict (a finished task) or StaleVersion."""
    now = now or timezone.now()
    note = (note or "").strip()
    if state not in (TaskState.DONE, TaskState.CANCELLED):
        raise ValidationFailed(f"A task ends done or cancelled, not {state!r}.",
                               fields={"state": ["Choose done or cancelled."]})
    if state == TaskState.CANCELLED and not note:
        raise ValidationFailed("Say why the task is cancelled.", fields={"note": ["A reason is required."]})
    if len(note) > 4000:
        raise ValidationFailed("Keep the note to 4,000 characters.", fields={"note": ["Too long."]})
    with transaction.atomic():
        task = _locked_task(task, version)
        _require_worker(actor, task, "finish")
        if task.state not in OPEN_TASK_STATES:
            by = f" by {_name(task.done_by)}" if task.done_by_id else ""
            raise Conflict(f"T{task.number} of {task.request.key} is already {task.get_state_display().lower()}"
                           f"{by}.")
        _save_task(task, now, state=state, note=note, done_by=actor, done_at=now,
                   assignee=task.assignee or (actor if state == TaskState.DONE else None))
        ticket = task.request
        _event(ticket, actor=actor, kind=EventKind.TASK, now=now, field=state,
               note=f"T{task.number} {task.title}" + (f"\n{note}" if note else ""))
        Ticket.objects.filter(pk=ticket.pk).update(updated_at=now)
        ticket.refresh_from_db()
        _resolve_when_done(ticket, actor=actor, now=now)
    return task


def _resolve_when_done(ticket: Ticket, *, actor, now: datetime) -> bool:
    """Resolve the request when its fulfilment is complete: no task open, the automation (if any) succeeded,
    and something was done. Runs inside the caller's transaction, under the request's row lock."""
    if ticket.status not in (Status.NEW, Status.APPROVED, Status.IN_PROGRESS, Status.PENDING):
        return False
    request = CatalogRequest.objects.filter(ticket=ticket).first()
    if request is None or request.automation not in (AutomationState.NONE, AutomationState.SUCCEEDED):
        return False
    tasks = list(FulfilmentTask.objects.filter(request=ticket).select_related("done_by").order_by("number"))
    if any(t.state in OPEN_TASK_STATES for t in tasks):
        return False
    done = [t for t in tasks if t.state == TaskState.DONE]
    automated = request.automation == AutomationState.SUCCEEDED
    if not done and not automated:
        return False  # every task cancelled: the desk decides what happens to the request
    lines = []
    if automated:
        lines.append(f"- {request.result}")
    for t in tasks:
        if t.state == TaskState.DONE:
            lines.append(f"- {t.title}: done by {_name(t.done_by)}" + (f" ({t.note})" if t.note else ""))
        else:
            lines.append(f"- {t.title}: not needed ({t.note})")
    note = "Fulfilled:\n" + "\n".join(lines)
    token = _fulfilling.set(ticket.pk)
    try:
        if ticket.status != Status.IN_PROGRESS:
            core.ticket_transition(ticket=ticket, to=Status.IN_PROGRESS, actor=actor, now=now, by_rule=True,
                                   quiet=True, note="fulfilment complete")
        core.ticket_transition(ticket=ticket, to=Status.RESOLVED, actor=actor, now=now, by_rule=True,
                               values={"resolution_note": note}, note="every fulfilment step is done")
    finally:
        _fulfilling.reset(token)
    return True


# --- automated fulfilment ----------------------------------------------------------------------------------


def automation_run(*, request_pk: int, now: datetime | None = None) -> str:
    """Run the request's fulfilment handler once, for the workers: claim the run under the request's row lock
    (nothing to do when it already succeeded or is not queued), run the handler, and record the outcome in the
    same transaction as the handler's effect, so they commit together: succeeded (with the handler's result,
    on the timeline, and the request resolved when nothing else is open) or failed (the error, on the
    timeline), and then the error is raised again for the task to retry. Returns the outcome."""
    failure = None
    with transaction.atomic():
        request = (CatalogRequest.objects.select_for_update(of=("self",))
                   .select_related("item", "ticket", "ticket__requester").filter(pk=request_pk).first())
        if request is None:
            return "gone"
        if request.automation not in (AutomationState.QUEUED, AutomationState.RUNNING, AutomationState.FAILED):
            return f"skipped: {request.automation}"
        now = now or timezone.now()
        ticket = request.ticket
        attempts = request.attempts + 1
        CatalogRequest.objects.filter(pk=request.pk).update(automation=AutomationState.RUNNING, attempts=attempts)
        handler = handlers.get(request.item.handler)
        label = handler.label if handler else request.item.handler
        try:
            with transaction.atomic():  # a savepoint: a failed handler leaves no effect behind
                if handler is None:
                    raise LookupError(f"No fulfilment handler “{request.item.handler}” is installed.")
                result = str(handler.fn(request))[:4000]
                CatalogRequest.objects.filter(pk=request.pk).update(
                    automation=AutomationState.SUCCEEDED, result=result, automated_at=now)
                _event(ticket, actor=None, kind=EventKind.TASK, now=now, field="automation",
                       new=AutomationState.SUCCEEDED, old=str(attempts), note=f"{label}\n{result}")
                Ticket.objects.filter(pk=ticket.pk).update(updated_at=now)
                ticket.refresh_from_db()
                _resolve_when_done(ticket, actor=None, now=now)
        except Exception as exc:  # noqa: BLE001 - recorded, then raised again below for the retry
            failure = exc
            error = f"{type(exc).__name__}: {exc}" if not isinstance(exc, handlers.Retry) else str(exc)
            CatalogRequest.objects.filter(pk=request.pk).update(automation=AutomationState.FAILED,
                                                                result=error[:4000], automated_at=now)
            _event(ticket, actor=None, kind=EventKind.TASK, now=now, field="automation",
                   new=AutomationState.FAILED, old=str(attempts), note=f"{label}\n{error}")
            Ticket.objects.filter(pk=ticket.pk).update(updated_at=now)
    if failure is not None:
        raise failure
    return AutomationState.SUCCEEDED


def automation_retry(*, request: CatalogRequest, actor, now: datetime | None = None) -> CatalogRequest:
    """An agent runs a failed automation again ("Run again"): queued for the workers after commit, on the
    timeline. Raises AccessDenied (not an agent) or Conflict (it has not failed)."""
    now = now or timezone.now()
    if access.role_of(actor) not in AGENTS:
        raise AccessDenied("Only agents may run a fulfilment handler again.")
    with transaction.atomic():
        if not CatalogRequest.objects.filter(pk=request.pk, automation=AutomationState.FAILED).update(
                automation=AutomationState.QUEUED):
            request.refresh_from_db()
            raise Conflict(f"The automation of {request.ticket.key} is "
                           f"{request.get_automation_display().lower()}: only a failed one runs again.")
        request.automation = AutomationState.QUEUED
        _event(request.ticket, actor=actor, kind=EventKind.TASK, now=now, field="automation",
               new=AutomationState.QUEUED, note="Run again")
        Ticket.objects.filter(pk=request.ticket_id).update(updated_at=now)
        pk = request.pk
        transaction.on_commit(lambda: _queue(pk))
    return request


# --- reads -------------------------------------------------------------------------------------------------


def request_of(ticket: Ticket) -> CatalogRequest | None:
    """The ticket's catalogue request (with its item and approver), or None for a request not from it."""
    if ticket.kind != Kind.REQUEST:
        return None
    return CatalogRequest.objects.select_related("item", "item__service", "approver").filter(ticket=ticket).first()


def request_for_approver(*, user, key: str) -> CatalogRequest | None:
    """The request by key as its approver (or staff) reads it on the approval page; None for anyone else (a
    404: keys do not leak)."""
    request = (CatalogRequest.objects.select_related("item", "item__service", "approver", "ticket",
                                                     "ticket__requester", "ticket__requester__manager")
               .prefetch_related("item__fields").filter(ticket__key=key.upper()).first())
    if request is None or not user.is_authenticated:
        return None
    if request.approver_id == user.pk or access.is_staff_member(user) or request.ticket.requester_id == user.pk:
        return request
    return None


def pending_approvals(user):
    """The requests waiting for this person's decision, oldest first (index itsm_catalogrequest_approver)."""
    return (CatalogRequest.objects.filter(approver=user, approval=ApprovalState.PENDING, ticket__status=Status.NEW)
            .select_related("item", "ticket", "ticket__requester").order_by("created_at", "pk"))


def pending_approval_count(user) -> int:
    if not user.is_authenticated:
        return 0
    return CatalogRequest.objects.filter(approver=user, approval=ApprovalState.PENDING,
                                         ticket__status=Status.NEW).count()


def request_tasks(ticket: Ticket) -> list[FulfilmentTask]:
    """The request's fulfilment tasks with their group and people (one query)."""
    return list(FulfilmentTask.objects.filter(request=ticket).select_related("group", "assignee", "done_by")
                .order_by("number"))


def tasks_for(user, *, open_only: bool = True):
    """Fulfilment tasks for this agent: assigned to them, or unassigned in one of their groups (or without a
    group), of requests still open; oldest first."""
    groups = user.assignment_groups.values("pk")
    qs = FulfilmentTask.objects.filter(Q(assignee=user) | Q(assignee__isnull=True, group__in=groups)
                                       | Q(assignee__isnull=True, group__isnull=True))
    if open_only:
        qs = qs.filter(state__in=OPEN_TASK_STATES, request__status__in=(Status.NEW, Status.APPROVED,
                                                                        Status.IN_PROGRESS, Status.PENDING))
    return qs.select_related("request", "group", "assignee").order_by("created_at", "request_id", "number")


def requests_with_my_tasks(qs, *, user, now=None):
    """The requests of `qs` with an open fulfilment task for this agent or their groups ("My fulfilment tasks")."""
    mine = FulfilmentTask.objects.filter(
        Q(assignee=user) | Q(assignee__isnull=True, group__in=user.assignment_groups.values("pk")),
        request=OuterRef("pk"), state__in=OPEN_TASK_STATES)
    return qs.filter(kind=Kind.REQUEST).filter(Exists(mine))


# --- the rules on every ticket write (tracker.hooks) -------------------------------------------------------


def request_guard(change: hooks.TicketChange) -> None:
    """Refuse a request's move that would go around its approval or its fulfilment, before it is written."""
    ticket = change.ticket
    if ticket.kind != Kind.REQUEST or change.reason != "transition":
        return
    old, new = change.changes["status"]
    if old == Status.NEW and new == Status.APPROVED and _deciding.get() != ticket.pk:
        raise TransitionRefused(f"{ticket.key} is approved by its approver's decision on the approval page "
                                f"(/approvals/requests/{ticket.key}/), not by a move.",
                                fields={"to": ["Decided by the approver."]})
    if new in (Status.CANCELLED, Status.CLOSED):
        return
    request = CatalogRequest.objects.filter(ticket=ticket).select_related("approver").first()
    if request is None:
        return
    if request.approval == ApprovalState.PENDING and _deciding.get() != ticket.pk:
        who = request.approver.display_name if request.approver_id else "its approver"
        raise TransitionRefused(f"{ticket.key} waits for the approval of {who}; it is fulfilled once approved "
                                "(or cancel it).", fields={"to": ["Waiting for approval."]})
    if new == Status.RESOLVED and _fulfilling.get() != ticket.pk:
        open_tasks = list(FulfilmentTask.objects.filter(request=ticket, state__in=OPEN_TASK_STATES)
                          .order_by("number"))
        if open_tasks:
            names = ", ".join(f"T{t.number} {t.title}" for t in open_tasks)
            raise TransitionRefused(f"{ticket.key} still has open fulfilment tasks: {names}. Finish or cancel them "
                                    "first; the request resolves itself when the last one is done.",
                                    fields={"to": [f"Open tasks: {names}."]})


def request_observer(change: hooks.TicketChange) -> None:
    """A cancelled request's open tasks are cancelled with it."""
    ticket = change.ticket
    if ticket.kind != Kind.REQUEST or change.reason != "transition":
        return
    if change.changes["status"][1] != Status.CANCELLED:
        return
    open_tasks = list(FulfilmentTask.objects.filter(request=ticket, state__in=OPEN_TASK_STATES))
    if not open_tasks:
        return
    FulfilmentTask.objects.filter(pk__in=[t.pk for t in open_tasks]).update(
        state=TaskState.CANCELLED, note="Cancelled with the request.", updated_at=change.now,
        version=F("version") + 1)
    for t in open_tasks:
        _event(ticket, actor=change.actor, kind=EventKind.TASK, now=change.now, field=TaskState.CANCELLED,
               note=f"T{t.number} {t.title}\nCancelled with the request.")


def register() -> None:
    hooks.register_guard(request_guard)
    hooks.register(request_observer)

