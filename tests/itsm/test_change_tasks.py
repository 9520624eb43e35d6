"""The tasks of a change at each site, the go-live they decide, the rollback and the review: domain rules and
their refusals, the same for every front end (they live in `itsm.services` and its guard)."""
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db.models import Prefetch
from django.utils import timezone

from itsm import selectors
from itsm import services as itsm
from itsm.choices import TaskState
from itsm.models import Approval, ApprovalRound, ChangeRollback, ChangeTask
from tracker import services
from tracker.choices import EventKind, ImplementationResult, Kind, Status
from tracker.errors import AccessDenied, Conflict, MissingField, StaleVersion, ValidationFailed
from tracker.models import TicketEvent

from .conftest import approve, local


def _start(change, cast):
    approve(change, cast)
    services.ticket_transition(ticket=change, to=Status.IN_PROGRESS, actor=cast.agent2)


def _report(task, user, state, note=""):
    task.refresh_from_db()
    return itsm.task_report(task=task, actor=user, state=state, note=note)


def test_a_task_window_typed_at_the_site_is_stored_in_utc(cast, change, tasks):
    berlin, singapore, new_york = tasks
    assert [t.number for t in tasks] == [1, 2, 3]
    assert berlin.planned_start.astimezone(ZoneInfo("Europe/Berlin")).hour == 9
    assert singapore.planned_start.astimezone(ZoneInfo("Asia/Singapore")).hour == 9
    assert singapore.planned_start < berlin.planned_start < new_york.planned_start  # 09:00 comes east to west
    assert new_york.group == cast.l2 and new_york.assignee is None
    added = TicketEvent.objects.filter(ticket=change, kind=EventKind.TASK, field="added")
    assert added.count() == 3 and "T2 Singapore (SG)" in added[1].note


def test_a_wall_time_the_site_skips_is_refused(cast, change):
    spring = datetime(timezone.now().year + 1, 3, 29, 2, 30)  # EU clocks go forward on the last Sunday of March
    spring = spring - timedelta(days=(spring.weekday() + 1) % 7)
    with pytest.raises(ValidationFailed, match="does not exist in Europe/Berlin"):
        itsm.task_add(change=change, actor=cast.agent2, title="Berlin", business_unit="DACH", site="Berlin",
                      country="DE", time_zone="Europe/Berlin", planned_start=spring,
                      planned_end=spring + timedelta(hours=2), assignee=cast.engineer)


@pytest.mark.parametrize("bad, field", [
    ({"country": "Germany"}, "country"), ({"time_zone": "Mars/Olympus"}, "time_zone"), ({"site": " "}, "site"),
    ({"planned_end": local("Europe/Berlin", hour=8)}, "planned_end"), ({"assignee": None}, "assignee"),
])
def test_a_task_with_a_bad_plan_is_refused_naming_the_field(cast, change, bad, field):
    values = {**dict(title="Berlin", business_unit="DACH", site="Berlin", country="DE", time_zone="Europe/Berlin",
                     planned_start=local("Europe/Berlin"), planned_end=local("Europe/Berlin", hour=11),
                     assignee=cast.engineer), **bad}
    with pytest.raises(ValidationFailed) as refused:
        itsm.task_add(change=change, actor=cast.agent2, **values)
    assert field in refused.value.fields
    assert not ChangeTask.objects.exists()


def test_only_the_changes_coordinators_plan_its_tasks(cast, change):
    with pytest.raises(AccessDenied, match="change manager"):
        itsm.task_add(change=change, actor=cast.engineer, title="Berlin", business_unit="DACH", site="Berlin",
                      country="DE", time_zone="Europe/Berlin", planned_start=local("Europe/Berlin"),
                      planned_end=local("Europe/Berlin", hour=11), assignee=cast.engineer)


def test_tasks_start_only_once_the_change_is_in_implementation(cast, change, tasks):
    with pytest.raises(Conflict, match="not in implementation"):
        _report(tasks[0], cast.engineer, TaskState.IN_PROGRESS)
    _start(change, cast)
    assert _report(tasks[0], cast.engineer, TaskState.IN_PROGRESS).started_at is not None


def test_reporting_on_a_task_you_do_not_own_is_refused(cast, change, tasks):
    _start(change, cast)
    with pytest.raises(AccessDenied, match="dana.s to start"):
        _report(tasks[1], cast.engineer, TaskState.IN_PROGRESS)
    with pytest.raises(AccessDenied):  # a change manager cancels, but does not report what happened on site
        _report(tasks[1], cast.change_manager, TaskState.DONE)
    _report(tasks[2], cast.agent2, TaskState.IN_PROGRESS)  # a member of the task's group, while nobody holds it
    assert ChangeTask.objects.get(pk=tasks[1].pk).state == TaskState.PLANNED


def test_a_hand_off_moves_ownership_and_is_on_the_changes_timeline(cast, change, tasks):
    _start(change, cast)
    singapore = tasks[1]
    itsm.task_handoff(task=singapore, actor=cast.engineer2, assignee=cast.engineer, note="Dana is on leave")
    singapore.refresh_from_db()
    assert singapore.assignee == cast.engineer
    with pytest.raises(AccessDenied):
        _report(singapore, cast.engineer2, TaskState.IN_PROGRESS)  # no longer hers
    row = TicketEvent.objects.get(ticket=change, kind=EventKind.TASK, field="handoff")
    assert (row.old, row.new, row.actor) == ("dana", "devon", cast.engineer2)
    assert "Dana is on leave" in row.note


def test_a_stale_hand_off_is_refused(cast, change, tasks):
    stale = ChangeTask.objects.get(pk=tasks[0].pk)
    itsm.task_handoff(task=tasks[0], actor=cast.agent2, assignee=cast.engineer2)
    with pytest.raises(StaleVersion):
        itsm.task_handoff(task=stale, actor=cast.agent2, assignee=cast.agent2, version=stale.version)


def test_a_failed_task_needs_a_note_and_marks_the_go_live_failed(cast, change, tasks):
    _start(change, cast)
    with pytest.raises(MissingField, match="what went wrong"):
        _report(tasks[1], cast.engineer2, TaskState.FAILED)
    _report(tasks[1], cast.engineer2, TaskState.FAILED, "SG tax tables did not load")
    change.refresh_from_db()
    assert change.implementation_result == ImplementationResult.FAILED
    assert change.status == Status.IN_PROGRESS
    failed = TicketEvent.objects.get(ticket=change, kind=EventKind.TASK, field=TaskState.FAILED)
    assert failed.actor == cast.engineer2 and "SG tax tables" in failed.note


def test_recording_successful_with_a_failed_task_is_refused(cast, change, tasks):
    _start(change, cast)
    _report(tasks[1], cast.engineer2, TaskState.FAILED, "SG tax tables did not load")
    change.refresh_from_db()
    with pytest.raises(Conflict, match="T2 Singapore failed"):
        services.ticket_transition(ticket=change, to=Status.RESOLVED, actor=cast.agent2,
                                   values={"implementation_result": ImplementationResult.SUCCESSFUL})
    with pytest.raises(Conflict):  # nor by editing the field
        services.ticket_update(ticket=change, actor=cast.agent2, version=change.version,
                               changes={"implementation_result": ImplementationResult.SUCCESSFUL})


def test_recording_successful_while_tasks_are_open_is_refused_and_passes_once_done(cast, change, tasks):
    _start(change, cast)
    with pytest.raises(Conflict, match="still open"):
        services.ticket_transition(ticket=change, to=Status.RESOLVED, actor=cast.agent2,
                                   values={"implementation_result": ImplementationResult.SUCCESSFUL})
    for task, owner in zip(tasks, (cast.engineer, cast.engineer2, cast.agent2), strict=True):
        _report(task, owner, TaskState.IN_PROGRESS)
        _report(task, owner, TaskState.DONE)
    change.refresh_from_db()
    services.ticket_transition(ticket=change, to=Status.RESOLVED, actor=cast.agent2,
                               values={"implementation_result": ImplementationResult.SUCCESSFUL})
    services.ticket_transition(ticket=change, to=Status.CLOSED, actor=cast.change_manager)  # review optional
    assert change.status == Status.CLOSED


def test_closing_a_change_with_an_open_task_is_refused(cast, change, tasks):
    _start(change, cast)
    _report(tasks[1], cast.engineer2, TaskState.FAILED, "SG tax tables did not load")
    change.refresh_from_db()
    services.ticket_transition(ticket=change, to=Status.RESOLVED, actor=cast.agent2,
                               values={"implementation_result": ImplementationResult.FAILED})
    review = {"review_notes": "SG failed", "review_cause": "Tables", "review_actions": "Load tables first"}
    with pytest.raises(Conflict, match="T1 Berlin, T3 New York are still open"):
        services.ticket_transition(ticket=change, to=Status.CLOSED, actor=cast.change_manager, values=review)
    for task in (tasks[0], tasks[2]):
        _report(task, cast.change_manager, TaskState.CANCELLED)
    change.refresh_from_db()
    services.ticket_transition(ticket=change, to=Status.CLOSED, actor=cast.change_manager, values=review)
    assert change.status == Status.CLOSED


def test_closing_a_failed_change_without_its_review_is_refused(cast, change, tasks):
    _start(change, cast)
    for task in tasks:
        _report(task, cast.change_manager, TaskState.CANCELLED)
    change.refresh_from_db()
    services.ticket_transition(ticket=change, to=Status.RESOLVED, actor=cast.agent2,
                               values={"implementation_result": ImplementationResult.FAILED})
    with pytest.raises(MissingField, match="because its go-live failed") as refused:
        services.ticket_transition(ticket=change, to=Status.CLOSED, actor=cast.change_manager,
                                   values={"review_notes": "Berlin went first"})
    assert set(refused.value.fields) == {"review_cause", "review_actions"}
    change.refresh_from_db()
    assert change.status == Status.RESOLVED and change.review_notes == ""


def test_an_emergency_change_needs_its_review_even_when_it_went_well(cast):
    change = services.ticket_create(actor=cast.agent2, kind=Kind.CHANGE, title="Patch the VPN now",
                                    change_type="emergency")
    approve(change, cast)
    for to, values in ((Status.IN_PROGRESS, {}), (Status.RESOLVED, {"implementation_result": "successful"})):
        services.ticket_transition(ticket=change, to=to, actor=cast.agent2, values=values)
    with pytest.raises(MissingField, match="emergency change"):
        services.ticket_transition(ticket=change, to=Status.CLOSED, actor=cast.change_manager)


def test_rolled_back_needs_the_rollback_recorded_which_sets_the_result(cast, change, tasks):
    _start(change, cast)
    _report(tasks[1], cast.engineer2, TaskState.FAILED, "SG tax tables did not load")
    change.refresh_from_db()
    with pytest.raises(Conflict, match="record the rollback"):
        services.ticket_update(ticket=change, actor=cast.agent2, version=change.version,
                               changes={"implementation_result": ImplementationResult.ROLLED_BACK})
    ran = timezone.now()
    itsm.rollback_record(change=change, actor=cast.engineer, run_by=cast.engineer, ran_at=ran, outcome="restored",
                         note="4.7 images back on every site")
    change.refresh_from_db()
    assert change.implementation_result == ImplementationResult.ROLLED_BACK
    row = TicketEvent.objects.get(ticket=change, kind=EventKind.TASK, field="rollback")
    assert (row.old, row.new, row.actor) == ("devon", "restored", cast.engineer)


def test_a_rollback_in_the_future_or_by_a_requester_is_refused(cast, change, tasks):
    _start(change, cast)
    with pytest.raises(ValidationFailed, match="future"):
        itsm.rollback_record(change=change, actor=cast.agent2, run_by=cast.engineer, outcome="restored",
                             ran_at=timezone.now() + timedelta(hours=2))
    with pytest.raises(ValidationFailed) as refused:
        itsm.rollback_record(change=change, actor=cast.agent2, run_by=cast.requester, outcome="restored",
                             ran_at=timezone.now())
    assert "run_by" in refused.value.fields
    assert not ChangeRollback.objects.exists()


def test_a_failed_backout_leaves_the_change_failed(cast, change, tasks):
    _start(change, cast)
    itsm.rollback_record(change=change, actor=cast.agent2, run_by=cast.engineer, ran_at=timezone.now(),
                         outcome="failed", note="Images corrupt")
    change.refresh_from_db()
    assert change.implementation_result == ImplementationResult.FAILED


def test_withdrawing_a_change_cancels_its_open_tasks(cast, change, tasks):
    services.ticket_transition(ticket=change, to=Status.CANCELLED, actor=cast.agent2,
                               values={"resolution_note": "Superseded by 4.9"})
    assert set(ChangeTask.objects.values_list("state", flat=True)) == {TaskState.CANCELLED}
    assert TicketEvent.objects.filter(ticket=change, kind=EventKind.TASK, field="cancelled").count() == 3


def test_a_change_closed_after_causing_an_incident_needs_its_review(cast, change):
    approve(change, cast)
    for to, values in ((Status.IN_PROGRESS, {}), (Status.RESOLVED, {"implementation_result": "successful"})):
        services.ticket_transition(ticket=change, to=to, actor=cast.agent2, values=values)
    incident = services.ticket_create(actor=cast.requester, kind=Kind.INCIDENT, title="Payslips empty")
    services.ticket_link(source=incident, target=change, type="caused_by", actor=cast.agent1)
    with pytest.raises(MissingField, match="caused incidents"):
        services.ticket_transition(ticket=change, to=Status.CLOSED, actor=cast.change_manager)


def test_a_changes_compiled_reads_give_the_rows_of_their_querysets(cast, change, tasks, raise_change):
    """The change page's tasks, rollbacks and approval rounds are read with SQL compiled once per process: the
    same rows, in the same order, with the same related rows, as the querysets they were built from; for each
    change, not the first one compiled."""
    _start(change, cast)
    _report(tasks[1], cast.engineer2, TaskState.FAILED, "SG tax tables did not load")
    itsm.rollback_record(change=change, actor=cast.engineer, run_by=cast.engineer, ran_at=timezone.now(),
                         outcome="restored", note="4.7 images back on every site")
    bare = raise_change(title="A change with nothing yet")
    for ticket in (bare, change, bare):
        tasks_qs = ChangeTask.objects.filter(change=ticket).select_related("assignee", "group").order_by(
            "planned_start", "number")
        assert [(t.pk, t.assignee, t.group, t.state) for t in selectors.change_tasks(change=ticket)] == [
            (t.pk, t.assignee, t.group, t.state) for t in tasks_qs]
        rollbacks_qs = ChangeRollback.objects.filter(change=ticket).select_related("run_by", "recorded_by").order_by(
            "ran_at", "id")
        assert [(r.pk, r.run_by, r.recorded_by, r.outcome) for r in selectors.change_rollbacks(change=ticket)] == [
            (r.pk, r.run_by, r.recorded_by, r.outcome) for r in rollbacks_qs]
        rounds_qs = ApprovalRound.objects.filter(ticket=ticket).select_related("cab", "opened_by").prefetch_related(
            Prefetch("approvals", queryset=Approval.objects.select_related("approver").order_by("id"))).order_by(
            "-number")
        assert [(r.pk, r.cab, r.opened_by, r.status, [(a.pk, a.approver, a.decision) for a in r.approvals.all()])
                for r in selectors.change_rounds(ticket)] == [
            (r.pk, r.cab, r.opened_by, r.status, [(a.pk, a.approver, a.decision) for a in r.approvals.all()])
            for r in rounds_qs]
    assert selectors.change_tasks(change=change) and selectors.change_rollbacks(change=change)
    assert selectors.change_rounds(change)[0].approvals.all()
