"""Domain functions of change enablement: the tasks of a change at each site (plan, hand off, report), the
rollback of a change whose backout plan ran, and the guards that keep a change's go-live honest.

Every function is keyword-only, takes `actor`, owns its transaction, writes the change's timeline rows
(`EventKind.TASK`) in it, and raises a `tracker.errors.DomainError` whose message says what to fix. The
guard (`go_live_guard`, registered by `register()`) refuse a change's close or result through
`tracker.hooks`, so the ticket page and the API obey the same rules.
"""
import re
from datetime import UTC, datetime, timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F, Max
from django.utils import timezone

from tracker import access, hooks
from tracker import services as core
from tracker.choices import ChangeType, EventKind, ImplementationResult, Kind, LinkType, Role, Status
from tracker.errors import AccessDenied, Conflict, MissingField, StaleVersion, ValidationFailed
from tracker.models import AssignmentGroup, Link, Ticket
from tracker.timezones import zone_named

from ..choices import OPEN_TASK_STATES, ROLLED_BACK_OUTCOMES, RollbackOutcome, TaskState
from ..models import ChangeRollback, ChangeTask

# A change takes new tasks until its go-live is recorded.
PLANNABLE = frozenset({Status.NEW, Status.REVIEW, Status.APPROVED, Status.REJECTED, Status.IN_PROGRESS})
# Roles that coordinate every change's tasks, besides the change's own requester, assignee and team.
COORDINATORS = frozenset({Role.CHANGE_MANAGER, Role.MANAGER, Role.ADMIN})
# What the task's owner reports, from which states; cancelling is the coordinators' decision.
REPORTS = {
    TaskState.IN_PROGRESS: ({TaskState.PLANNED}, "start"),
    TaskState.DONE: ({TaskState.IN_PROGRESS}, "report done"),
    TaskState.FAILED: ({TaskState.PLANNED, TaskState.IN_PROGRESS}, "report failed"),
    TaskState.CANCELLED: (set(OPEN_TASK_STATES), "cancel"),
}
PLAN_FIELDS = ("title", "business_unit", "site", "country", "time_zone", "planned_start", "planned_end")
REVIEW_FIELDS = ("review_notes", "review_cause", "review_actions")
FAILED_RESULTS = frozenset({ImplementationResult.FAILED, ImplementationResult.ROLLED_BACK})
_COUNTRY = re.compile(r"^[A-Z]{2}$")


# --- who may do what ---------------------------------------------------------------------------------

def may_coordinate(user, change: Ticket, *, group_ids: set[int] | None = None) -> bool:
    """Plans, hands off and cancels the change's tasks: the change manager, managers, admins, and the
    change's own requester, assignee and team (`group_ids`: the user's groups, when already read)."""
    role = access.role_of(user)
    if role is None or role == Role.REQUESTER:
        return False
    if role in COORDINATORS or user.pk in (change.requester_id, change.assignee_id):
        return True
    if change.group_id is None:
        return False
    if group_ids is None:
        group_ids = set(user.assignment_groups.values_list("pk", flat=True))
    return change.group_id in group_ids


def owns_task(user, task: ChangeTask, *, group_ids: set[int] | None = None) -> bool:
    """The task's owner reports on it: its assignee, or, while nobody holds it, a member of its group."""
    if task.assignee_id is not None:
        return task.assignee_id == user.pk
    if task.group_id is None or not access.is_staff_member(user):
        return False
    if group_ids is None:
        group_ids = set(user.assignment_groups.values_list("pk", flat=True))
    return task.group_id in group_ids


def _require_coordinator(actor, change: Ticket, what: str) -> None:
    if not access.may_see(actor, change) or not may_coordinate(actor, change):
        raise AccessDenied(f"Only the change manager, a manager, or the owner or team of {change.key} may {what}.")


def _require_owner(actor, task: ChangeTask, what: str) -> None:
    if owns_task(actor, task):
        return
    holder = task.assignee.display_name if task.assignee_id else f"the {task.group.name} team"
    raise AccessDenied(f"{task.change.key} {task.label} is {holder}'s to {what}, not yours; ask them, or have it "
                       "handed off to you.")


# --- input -------------------------------------------------------------------------------------------

def local_moment(value: datetime, zone_name: str, *, field: str) -> datetime:
    """A time as the site means it: an aware value as it is; a naive one read in the site's zone. A wall
    time that does not exist there (the hour skipped when clocks go forward) is refused."""
    if timezone.is_aware(value):
        return value
    zone = zone_named(zone_name)
    aware = value.replace(tzinfo=zone)
    if aware.astimezone(UTC).astimezone(zone).replace(tzinfo=None) != value:
        raise ValidationFailed(
            f"{value:%d %b %Y %H:%M} does not exist in {zone_name} (the clocks go forward then); choose a time "
            "outside that hour.", fields={field: ["Not a time on that day's local clock."]})
    return aware


def _clean_plan(values: dict[str, Any]) -> dict[str, Any]:
    """Check and normalise a task's plan fields; every problem is named by its field."""
    errors: dict[str, list[str]] = {}
    out = dict(values)
    for name in ("title", "business_unit", "site"):
        if name in out:
            out[name] = (out[name] or "").strip()
            if not out[name]:
                errors[name] = [f"The {name.replace('_', ' ')} is required."]
            elif len(out[name]) > (200 if name == "title" else 120):
                errors[name] = ["Too long."]
    if "country" in out:
        out["country"] = (out["country"] or "").strip().upper()
        if not _COUNTRY.match(out["country"]):
            errors["country"] = ["Use the two-letter ISO code, e.g. DE, SG or US."]
    if "time_zone" in out:
        out["time_zone"] = (out["time_zone"] or "").strip()
        if zone_named(out["time_zone"]) is None or len(out["time_zone"]) > 64:
            errors["time_zone"] = [f"“{out['time_zone']}” is not a time zone; use an IANA name such as "
                                   "Europe/Berlin or Asia/Singapore."]
    if errors:
        raise ValidationFailed(f"Check the task's {', '.join(n.replace('_', ' ') for n in errors)}: "
                               f"{next(iter(errors.values()))[0]}", fields=errors)
    return out


def _window(values: dict[str, Any], zone_name: str) -> None:
    for name in ("planned_start", "planned_end"):
        if values.get(name) is not None:
            values[name] = local_moment(values[name], zone_name, field=name)
    start, end = values.get("planned_start"), values.get("planned_end")
    if start is None or end is None:
        missing = [n for n in ("planned_start", "planned_end") if values.get(n) is None]
        raise MissingField("A task needs its planned window: a start and an end.",
                           fields={n: ["Required."] for n in missing})
    if end <= start:
        raise ValidationFailed("The task's window must end after it starts.",
                               fields={"planned_end": ["Ends before it starts."]})
    if end - start > timedelta(days=14):
        raise ValidationFailed("A task's window spans at most 14 days; split longer work into tasks.",
                               fields={"planned_end": ["More than 14 days after the start."]})


def _owner(assignee, group: AssignmentGroup | None) -> tuple:
    if assignee is None and group is None:
        raise MissingField("Give the task an owner: a person, a group, or both.",
                           fields={"assignee": ["Choose a person or a group."]})
    if assignee is not None and access.role_of(assignee) in (None, Role.REQUESTER):
        raise ValidationFailed(f"{assignee.display_name} is not staff and cannot own a change task.",
                               fields={"assignee": ["Choose an agent or engineer."]})
    if assignee is not None and group is not None and not group.members.filter(pk=assignee.pk).exists():
        raise ValidationFailed(f"{assignee.display_name} is not a member of {group.name}; choose one of its members "
                               "or leave the person empty.", fields={"assignee": [f"Not in {group.name}."]})
    return assignee, group


def owner_text(assignee, group) -> str:
    if assignee is not None and group is not None:
        return f"{assignee.display_name} ({group.name})"
    return assignee.display_name if assignee is not None else group.name if group is not None else "nobody"


def _record(*, task: ChangeTask, actor, now: datetime, action: str, old: Any = "", new: Any = "",
            note: str = "") -> None:
    """One row on the change's timeline: the task's label first, then what the actor wrote."""
    head = f"{task.label} ({task.country}) · {task.title}"
    core.event_record(ticket=task.change, actor=actor, kind=EventKind.TASK, now=now, field=action, old=old, new=new,
                      note=f"{head}\n{note}".strip())
    # The change's page notices the update (its "someone else changed it" banner) without a version bump:
    # a task's hand-off does not make an edit of the change's own fields stale.
    Ticket.objects.filter(pk=task.change_id).update(updated_at=now)


def _locked(task: ChangeTask, version: int | None, now: datetime, **fields) -> None:
    """Write `fields` only if nobody changed the task since `version` (the version read with it)."""
    version = task.version if version is None else version
    won = ChangeTask.objects.filter(pk=task.pk, version=version).update(
        **fields, version=F("version") + 1, updated_at=now)
    if not won:
        current = ChangeTask.objects.filter(pk=task.pk).values_list("version", flat=True).first()
        raise StaleVersion(f"{task.change.key} {task.label}", current)
    for name, value in fields.items():
        setattr(task, name, value)
    task.version = version + 1
    task.updated_at = now


# --- tasks -------------------------------------------------------------------------------------------

def task_add(*, change: Ticket, actor, title: str, business_unit: str, site: str, country: str, time_zone: str,
             planned_start: datetime, planned_end: datetime, assignee=None, group: AssignmentGroup | None = None,
             now: datetime | None = None) -> ChangeTask:
    """Plan a task of a change at one site; its window is read in the site's zone when it has no offset.

    Atomic; numbered T1, T2, ... within the change; recorded on the change's timeline."""
    now = now or timezone.now()
    if change.kind != Kind.CHANGE:
        raise ValidationFailed(f"{change.key} is not a change; only changes have implementation tasks.")
    _require_coordinator(actor, change, "plan its tasks")
    if change.status not in PLANNABLE:
        raise Conflict(f"{change.key} is '{change.get_status_display()}': tasks are planned before its go-live is "
                       "recorded.")
    plan = _clean_plan({"title": title, "business_unit": business_unit, "site": site, "country": country,
                        "time_zone": time_zone, "planned_start": planned_start, "planned_end": planned_end})
    _window(plan, plan["time_zone"])
    assignee, group = _owner(assignee, group)
    try:
        with transaction.atomic():
            # The change's row lock numbers its tasks one at a time (the unique constraint backs it up).
            list(Ticket.objects.select_for_update().filter(pk=change.pk).values_list("pk"))
            number = (ChangeTask.objects.filter(change=change).aggregate(n=Max("number"))["n"] or 0) + 1
            task = ChangeTask.objects.create(change=change, number=number, assignee=assignee, group=group,
                                             created_by=actor, created_at=now, updated_at=now, **plan)
            _record(task=task, actor=actor, now=now, action="added", new=owner_text(assignee, group))
    except IntegrityError:
        raise Conflict(f"Someone added a task to {change.key} at the same moment; send it again.") from None
    return task


def task_update(*, task: ChangeTask, actor, changes: dict[str, Any], version: int | None = None,
                now: datetime | None = None) -> ChangeTask:
    """Re-plan a task that has not started (title, business unit, site, country, zone, window); recorded."""
    now = now or timezone.now()
    _require_coordinator(actor, task.change, "re-plan its tasks")
    unknown = set(changes) - set(PLAN_FIELDS)
    if unknown:
        raise ValidationFailed(f"Only the plan of a task changes here ({', '.join(PLAN_FIELDS)}); hand it off or "
                               "report on it for the rest.", fields={n: ["Not editable here."] for n in unknown})
    if task.state != TaskState.PLANNED:
        raise Conflict(f"{task.change.key} {task.label} is {task.get_state_display().lower()}; only a planned task "
                       "is re-planned.")
    merged = _clean_plan({**{n: getattr(task, n) for n in PLAN_FIELDS}, **changes})
    _window(merged, merged["time_zone"])
    diff = {n: v for n, v in merged.items() if getattr(task, n) != v}
    if not diff:
        return task
    with transaction.atomic():
        _locked(task, version, now, **diff)
        _record(task=task, actor=actor, now=now, action="edited",
                note="Re-planned: " + ", ".join(n.replace("_", " ") for n in diff))
    return task


def task_handoff(*, task: ChangeTask, actor, assignee=None, group: AssignmentGroup | None = None, note: str = "",
                 version: int | None = None, now: datetime | None = None) -> ChangeTask:
    """Hand an open task to another person and/or group; by its owner or a coordinator of the change.

    A person outside the task's group takes it without the group. Recorded on the change's timeline."""
    now = now or timezone.now()
    change = task.change
    if not (owns_task(actor, task) or (access.may_see(actor, change) and may_coordinate(actor, change))):
        raise AccessDenied(f"Only the owner of {change.key} {task.label} or the change's coordinators hand it off.")
    if not task.is_open:
        raise Conflict(f"{change.key} {task.label} is {task.get_state_display().lower()}; there is nothing left to "
                       "hand off.")
    if group is None and assignee is not None and task.group_id and task.group.members.filter(pk=assignee.pk).exists():
        group = task.group  # handed to a teammate: it stays with the team
    assignee, group = _owner(assignee, group)
    if (task.assignee_id, task.group_id) == (assignee.pk if assignee else None, group.pk if group else None):
        raise ValidationFailed(f"{change.key} {task.label} is already with {owner_text(assignee, group)}.",
                               fields={"assignee": ["Same owner."]})
    before = owner_text(task.assignee, task.group)
    with transaction.atomic():
        _locked(task, version, now, assignee=assignee, group=group)
        _record(task=task, actor=actor, now=now, action="handoff", old=before, new=owner_text(assignee, group),
                note=(note or "").strip())
    return task


def task_report(*, task: ChangeTask, actor, state: str, note: str = "", version: int | None = None,
                now: datetime | None = None) -> ChangeTask:
    """The task's owner starts it and reports it done or failed; a coordinator may cancel it.

    A failed task marks the change's go-live failed (its implementation result) in the same transaction.
    Raises AccessDenied (not yours), Conflict (wrong state, change not in implementation) or MissingField."""
    now = now or timezone.now()
    change = task.change
    if state not in REPORTS:
        raise ValidationFailed(f"Report one of: {', '.join(REPORTS)}.", fields={"state": ["Unknown report."]})
    sources, verb = REPORTS[state]
    if state == TaskState.CANCELLED:
        _require_coordinator(actor, change, "cancel its tasks")
    else:
        _require_owner(actor, task, verb)
    if task.state not in sources:
        raise Conflict(f"{change.key} {task.label} is {task.get_state_display().lower()} and cannot be "
                       f"{TaskState(state).label.lower()} now.", fields={"state": ["Not from this state."]})
    if state in (TaskState.IN_PROGRESS, TaskState.FAILED) and change.status != Status.IN_PROGRESS:
        raise Conflict(f"{change.key} is '{change.get_status_display()}', not in implementation: start its "
                       "implementation before its tasks start.", fields={"state": ["The change is not in "
                                                                                   "implementation."]})
    note = (note or "").strip()
    if state == TaskState.FAILED and not note:
        raise MissingField(f"Say what went wrong at {task.site}: a failed task needs its result note.",
                           fields={"note": ["What went wrong?"]})
    fields: dict[str, Any] = {"state": state}
    if note:
        fields["result_note"] = note
    if state == TaskState.IN_PROGRESS:
        fields["started_at"] = now
    else:
        fields["finished_at"] = now
    old = task.state
    with transaction.atomic():
        _locked(task, version, now, **fields)
        _record(task=task, actor=actor, now=now, action=state, old=old, new=state, note=note)
        if state == TaskState.FAILED and change.implementation_result not in FAILED_RESULTS:
            change.refresh_from_db()
            core.ticket_update(ticket=change, actor=actor, version=change.version, now=now,
                               changes={"implementation_result": ImplementationResult.FAILED})
    return task


def tasks_cancel_with_change(change: hooks.TicketChange) -> None:
    """Observer: a withdrawn change takes its open tasks with it (each cancellation on its timeline)."""
    ticket = change.ticket
    if ticket.kind != Kind.CHANGE or change.changes.get("status", (None, None))[1] != Status.CANCELLED:
        return
    for task in ChangeTask.objects.filter(change=ticket, state__in=OPEN_TASK_STATES).select_related("change"):
        _locked(task, None, change.now, state=TaskState.CANCELLED, finished_at=change.now)
        _record(task=task, actor=change.actor, now=change.now, action=TaskState.CANCELLED, old=task.state,
                new=TaskState.CANCELLED, note="Cancelled with the change.")


# --- rollback ----------------------------------------------------------------------------------------

def rollback_record(*, change: Ticket, actor, run_by, ran_at: datetime, outcome: str, note: str = "",
                    now: datetime | None = None) -> ChangeRollback:
    """Record that the backout plan ran: who ran it, when it finished, and how it ended.

    A restored (or partly restored) service makes the change's result "rolled back"; a failed backout
    leaves it failed. Atomic; on the change's timeline."""
    now = now or timezone.now()
    if change.kind != Kind.CHANGE:
        raise ValidationFailed(f"{change.key} is not a change; only a change has a backout plan to run.")
    if not access.may_see(actor, change) or not (may_coordinate(actor, change) or actor.pk == getattr(run_by, "pk", 0)):
        raise AccessDenied(f"Only whoever ran the backout plan or the coordinators of {change.key} record it.")
    if change.status not in (Status.IN_PROGRESS, Status.RESOLVED):
        raise Conflict(f"{change.key} is '{change.get_status_display()}': a rollback is recorded during or after its "
                       "implementation, before it closes.")
    errors: dict[str, list[str]] = {}
    if outcome not in RollbackOutcome.values:
        errors["outcome"] = [f"Use one of: {', '.join(RollbackOutcome.values)}."]
    if run_by is None or access.role_of(run_by) in (None, Role.REQUESTER):
        errors["run_by"] = ["Choose the agent or engineer who ran the backout plan."]
    if ran_at is None:
        errors["ran_at"] = ["When did the backout finish?"]
    elif ran_at > now + timedelta(minutes=5):
        errors["ran_at"] = ["That is in the future; record a rollback once it has run."]
    elif ran_at < change.created_at.replace(second=0, microsecond=0):  # forms give minutes
        errors["ran_at"] = [f"That is before {change.key} was raised."]
    if errors:
        raise ValidationFailed(f"Check the rollback: {next(iter(errors.values()))[0]}", fields=errors)
    with transaction.atomic():
        rollback = ChangeRollback.objects.create(change=change, run_by=run_by, ran_at=ran_at, outcome=outcome,
                                                 note=(note or "").strip(), recorded_by=actor, recorded_at=now)
        core.event_record(ticket=change, actor=actor, kind=EventKind.TASK, now=now, field="rollback",
                          old=run_by.display_name, new=outcome, note=f"{ran_at.isoformat()}\n{rollback.note}".strip())
        result = (ImplementationResult.ROLLED_BACK if outcome in ROLLED_BACK_OUTCOMES
                  else ImplementationResult.FAILED)
        if change.implementation_result != result and not (
                result == ImplementationResult.FAILED and change.implementation_result in FAILED_RESULTS):
            change.refresh_from_db()
            core.ticket_update(ticket=change, actor=actor, version=change.version, now=now,
                               changes={"implementation_result": result})
        else:
            Ticket.objects.filter(pk=change.pk).update(updated_at=now)
    return rollback


# --- the guard: a change's go-live and close -----------------------------------------------------------

def go_live_guard(change: hooks.TicketChange) -> None:
    """Refuse, for every front end: a "successful" go-live while tasks are open or one failed; "rolled back"
    before a rollback is recorded; a close with open tasks, or without the post-implementation review when
    the change failed, was rolled back, caused an incident or was an emergency."""
    ticket = change.ticket
    if ticket.kind != Kind.CHANGE or change.reason == "created":
        return
    result = change.changes.get("implementation_result", (None, None))[1]
    if result == ImplementationResult.SUCCESSFUL:
        _require_tasks_succeeded(ticket)
    elif result == ImplementationResult.ROLLED_BACK:
        _require_rollback(ticket)
    if change.changes.get("status", (None, None))[1] == Status.CLOSED:
        _require_no_open_tasks(ticket, "closes")
        _require_review(ticket, change.changes)


def _task_list(tasks) -> str:
    names = [t.label for t in tasks[:4]]
    return ", ".join(names) + (f" and {len(tasks) - 4} more" if len(tasks) > 4 else "")


def _require_no_open_tasks(ticket: Ticket, verb: str) -> None:
    open_tasks = list(ChangeTask.objects.filter(change=ticket, state__in=OPEN_TASK_STATES).order_by("number"))
    if open_tasks:
        raise Conflict(f"{ticket.key} {verb} only when its tasks are finished: {_task_list(open_tasks)} "
                       f"{'is' if len(open_tasks) == 1 else 'are'} still open. Have them reported done or failed, "
                       "or cancel them.", fields={"tasks": [f"{len(open_tasks)} open."]})


def _require_tasks_succeeded(ticket: Ticket) -> None:
    failed = list(ChangeTask.objects.filter(change=ticket, state=TaskState.FAILED).order_by("number"))
    if failed:
        raise Conflict(f"{ticket.key} cannot be recorded successful: {_task_list(failed)} failed. Record it failed, "
                       "or rolled back once the backout plan has run.",
                       fields={"implementation_result": ["A task failed."]})
    _require_no_open_tasks(ticket, "is recorded successful")


def _require_rollback(ticket: Ticket) -> None:
    if not ChangeRollback.objects.filter(change=ticket, outcome__in=ROLLED_BACK_OUTCOMES).exists():
        raise Conflict(f"{ticket.key} is rolled back only once its backout plan has run: record the rollback (who "
                       "ran it, when, with what outcome) first.",
                       fields={"implementation_result": ["No rollback recorded."]})


def review_reason(ticket: Ticket, result: str) -> str:
    """Why this change needs a post-implementation review before it closes ("" when it is optional)."""
    if result == ImplementationResult.FAILED:
        return "its go-live failed"
    if result == ImplementationResult.ROLLED_BACK:
        return "it was rolled back"
    if ticket.change_type == ChangeType.EMERGENCY:
        return "it was an emergency change"
    if Link.objects.filter(target=ticket, type=LinkType.CAUSED_BY, source__kind=Kind.INCIDENT).exists():
        return "it caused incidents"
    return ""


def _require_review(ticket: Ticket, changes: dict) -> None:
    value = {n: (changes[n][1] if n in changes else getattr(ticket, n)) for n in (*REVIEW_FIELDS,
                                                                                   "implementation_result")}
    missing = [n for n in REVIEW_FIELDS if not (value[n] or "").strip()]
    if not missing:
        return
    reason = review_reason(ticket, value["implementation_result"])
    if reason:
        raise MissingField(
            f"{ticket.key} closes only after its post-implementation review, because {reason}: write what happened, "
            "the cause and the follow-up actions.",
            fields={n: ["Required for this change's review."] for n in missing})


def register() -> None:
    # A change's go-live and close obey its tasks, rollback and review, whichever front end moves it.
    hooks.register_guard(go_live_guard)
    hooks.register(tasks_cancel_with_change)
