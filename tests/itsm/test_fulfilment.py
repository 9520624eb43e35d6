"""Fulfilment of catalogue requests: tasks made when a request may be fulfilled, taken and finished by their
group, the request resolving itself when the last is done (the requester told once, by the resolution), the
guard that keeps a request with open tasks from being resolved by hand, and the automated fulfilment run
step by step (the worker's run is in test_fulfilment_worker.py).

The helpers here order requests through the models, as the catalogue's ordering does: a REQUEST ticket, its
`CatalogRequest`, then the fulfilment's own functions (other tests import them)."""

import pytest
from django.contrib.auth.models import Group
from django.db import transaction
from django.utils import timezone

from itsm import handlers
from itsm.choices import ApprovalMode, ApprovalState, AutomationState, TaskState
from itsm.models import CatalogItem, CatalogRequest, CatalogTaskTemplate, FulfilmentTask
from itsm.services import fulfilment
from sla.models import Notification
from tracker import services
from tracker.choices import EventKind, Kind, Status
from tracker.errors import AccessDenied, Conflict, StaleVersion, TransitionRefused, ValidationFailed
from tracker.models import TicketEvent

# --- helpers (used by the other fulfilment tests) -----------------------------------------------------------


def laptop_item(cast, service=None) -> CatalogItem:
    """ "New laptop": approved by the requester's manager; procured by App Support, handed over by the desk."""
    now = timezone.now()
    item = CatalogItem.objects.create(service=service or cast.services["payroll"], name="New laptop",
                                      approval=ApprovalMode.MANAGER, fulfilment_group=cast.l1, created_at=now,
                                      updated_at=now)
    CatalogTaskTemplate.objects.create(item=item, title="Procure the laptop", group=cast.l2, order=1)
    CatalogTaskTemplate.objects.create(item=item, title="Set up and hand over", group=cast.l1, order=2)
    return item


def vpn_item(cast, service=None, handler="group_access") -> CatalogItem:
    """ "VPN access": no approval; the `group_access` handler puts the requester in "VPN users"."""
    now = timezone.now()
    return CatalogItem.objects.create(service=service or cast.services["mail"], name="VPN access", handler=handler,
                                      handler_config={"group": "VPN users"}, created_at=now, updated_at=now)


def order(item: CatalogItem, requester, *, answers=None, now=None) -> CatalogRequest:
    """Order `item` for `requester` as the catalogue does: the request ticket, its catalogue row waiting for
    its approver (or, without an approval, its fulfilment begun), in one transaction."""
    now = now or timezone.now()
    approver = fulfilment.approver_for(item, requester)
    with transaction.atomic():
        ticket = services.ticket_create(actor=requester, kind=Kind.REQUEST, title=item.name, requester=requester,
                                        service=item.service, now=now)
        request = CatalogRequest.objects.create(
            ticket=ticket, item=item, answers=answers or {}, approver=approver, created_at=now,
            approval=ApprovalState.PENDING if item.approval != ApprovalMode.NONE else ApprovalState.NOT_NEEDED,
            automation=AutomationState.WAITING if item.handler and item.approval != ApprovalMode.NONE
            else AutomationState.NONE)
        if item.approval == ApprovalMode.NONE:
            fulfilment.fulfilment_begin(request=request, actor=requester, now=now)
    return request


def approved_laptop(cast) -> CatalogRequest:
    cast.requester.manager = cast.manager
    cast.requester.save(update_fields=["manager"])
    request = order(laptop_item(cast), cast.requester, answers={"model": "14-inch"})
    return fulfilment.request_decide(request=request, actor=cast.manager, decision="approve", note="Budget OK")


def tasks_of(request) -> list[FulfilmentTask]:
    return list(FulfilmentTask.objects.filter(request=request.ticket).order_by("number"))


# --- fulfilment tasks ---------------------------------------------------------------------------------------


def test_an_approved_request_gets_its_tasks_from_the_item_templates(cast):
    request = approved_laptop(cast)
    tasks = tasks_of(request)
    assert [(t.number, t.title, t.group, t.state) for t in tasks] == [
        (1, "Procure the laptop", cast.l2, TaskState.PLANNED), (2, "Set up and hand over", cast.l1, TaskState.PLANNED)]
    assert request.ticket.status == Status.APPROVED


def test_taking_the_first_task_starts_the_fulfilment(cast):
    request = approved_laptop(cast)
    task = tasks_of(request)[0]
    fulfilment.task_assign(task=task, actor=cast.agent2, assignee=cast.agent2, version=task.version)
    task.refresh_from_db()
    request.ticket.refresh_from_db()
    assert (task.assignee, task.state, task.version) == (cast.agent2, TaskState.IN_PROGRESS, 2)
    assert request.ticket.status == Status.IN_PROGRESS
    assert TicketEvent.objects.filter(ticket=request.ticket, kind=EventKind.TASK, field="request_taken").exists()


def test_a_task_is_worked_only_by_its_group(cast):
    request = approved_laptop(cast)
    procure = tasks_of(request)[0]  # App Support's
    with pytest.raises(AccessDenied, match="Only members of App Support"):
        fulfilment.task_assign(task=procure, actor=cast.agent1, assignee=cast.agent1)
    with pytest.raises(AccessDenied):
        fulfilment.task_finish(task=procure, actor=cast.requester, state=TaskState.DONE)
    with pytest.raises(ValidationFailed, match="not a member of App Support"):
        fulfilment.task_assign(task=procure, actor=cast.agent2, assignee=cast.agent1)
    # a manager dispatches any task
    fulfilment.task_assign(task=procure, actor=cast.manager, assignee=cast.agent2)
    assert FulfilmentTask.objects.get(pk=procure.pk).assignee == cast.agent2


def test_a_stale_task_version_is_refused(cast):
    request = approved_laptop(cast)
    task = tasks_of(request)[0]
    fulfilment.task_assign(task=task, actor=cast.agent2, assignee=cast.agent2, version=1)
    with pytest.raises(StaleVersion):
        fulfilment.task_finish(task=task, actor=cast.agent2, state=TaskState.DONE, version=1)


def test_cancelling_a_task_needs_a_reason_and_a_finished_task_is_not_finished_again(cast):
    request = approved_laptop(cast)
    task = tasks_of(request)[0]
    with pytest.raises(ValidationFailed, match="why the task is cancelled"):
        fulfilment.task_finish(task=task, actor=cast.agent2, state=TaskState.CANCELLED)
    fulfilment.task_finish(task=task, actor=cast.agent2, state=TaskState.DONE, note="Ordered from the framework")
    with pytest.raises(Conflict, match="already done by"):
        fulfilment.task_finish(task=task, actor=cast.agent2, state=TaskState.DONE)


def test_the_last_task_done_resolves_the_request_and_the_requester_hears_once(cast):
    request = approved_laptop(cast)
    procure, hand_over = tasks_of(request)
    Notification.objects.all().delete()
    fulfilment.task_finish(task=procure, actor=cast.agent2, state=TaskState.DONE, note="Ordered: PO-4411")
    request.ticket.refresh_from_db()
    assert request.ticket.status == Status.APPROVED  # one task still open
    fulfilment.task_finish(task=hand_over, actor=cast.agent1, state=TaskState.DONE, note="Handed over in London")
    ticket = request.ticket
    ticket.refresh_from_db()
    assert ticket.status == Status.RESOLVED
    assert ticket.resolution_note == (
        f"Fulfilled:\n- Procure the laptop: done by {cast.agent2.display_name} (Ordered: PO-4411)\n"
        f"- Set up and hand over: done by {cast.agent1.display_name} (Handed over in London)")
    resolved = TicketEvent.objects.get(ticket=ticket, kind=EventKind.STATUS, new=Status.RESOLVED)
    assert resolved.actor == cast.agent1
    told = Notification.objects.filter(recipient=cast.requester, ticket=ticket)
    assert [n.title for n in told] == [f"[{ticket.key}] Resolved: New laptop"]  # in the requester's own words


def test_a_request_with_open_tasks_is_not_resolved_by_hand(cast):
    request = approved_laptop(cast)
    ticket = request.ticket
    services.ticket_transition(ticket=ticket, to=Status.IN_PROGRESS, actor=cast.agent1)
    with pytest.raises(TransitionRefused, match="open fulfilment tasks: T1 Procure the laptop, T2 Set up and hand"):
        services.ticket_transition(ticket=ticket, to=Status.RESOLVED, actor=cast.agent1,
                                   values={"resolution_note": "Done"})
    for task in tasks_of(request):
        fulfilment.task_finish(task=task, actor=cast.manager, state=TaskState.CANCELLED, note="Bought by the team")
    ticket.refresh_from_db()
    assert ticket.status == Status.IN_PROGRESS  # nothing was done: the desk decides
    services.ticket_transition(ticket=ticket, to=Status.RESOLVED, actor=cast.agent1,
                               values={"resolution_note": "The team bought it itself"})


def test_a_cancelled_request_cancels_its_open_tasks(cast):
    request = approved_laptop(cast)
    services.ticket_transition(ticket=request.ticket, to=Status.CANCELLED, actor=cast.requester,
                               values={"resolution_note": "No longer needed"})
    assert {t.state for t in tasks_of(request)} == {TaskState.CANCELLED}


# --- automated fulfilment, step by step ---------------------------------------------------------------------


def test_the_group_access_handler_adds_the_requester_and_resolves_the_request(cast, django_capture_on_commit_callbacks):
    item = vpn_item(cast)
    request = order(item, cast.requester)
    assert request.automation == AutomationState.QUEUED
    outcome = fulfilment.automation_run(request_pk=request.pk)
    request.refresh_from_db()
    ticket = request.ticket
    ticket.refresh_from_db()
    assert outcome == AutomationState.SUCCEEDED
    assert (request.automation, request.attempts) == (AutomationState.SUCCEEDED, 1)
    assert request.result == "Added Alice to the group “VPN users” (the group was created, without permissions)."
    assert cast.requester.groups.filter(name="VPN users").exists()
    assert ticket.status == Status.RESOLVED
    assert request.result in ticket.resolution_note
    # a duplicate delivery changes nothing
    assert fulfilment.automation_run(request_pk=request.pk) == "skipped: succeeded"
    assert Group.objects.get(name="VPN users").user_set.count() == 1
    assert TicketEvent.objects.filter(ticket=ticket, field="request_automation", new="succeeded").count() == 1


def test_the_handler_is_idempotent_for_someone_already_in_the_group(cast):
    Group.objects.create(name="VPN users").user_set.add(cast.requester)
    request = order(vpn_item(cast), cast.requester)
    fulfilment.automation_run(request_pk=request.pk)
    request.refresh_from_db()
    assert request.result == "Alice was already a member of the group “VPN users”; nothing to change."
    assert cast.requester.groups.count() == 1


def test_a_failed_attempt_leaves_no_effect_is_recorded_and_raised_for_the_retry(cast):
    def half_then_fail(request):
        request.ticket.requester.groups.add(Group.objects.create(name="Half done"))
        raise handlers.Retry("The directory did not answer")

    handlers.register("flaky_test", "Flaky", half_then_fail)
    try:
        request = order(vpn_item(cast, handler="flaky_test"), cast.requester)
        with pytest.raises(handlers.Retry):
            fulfilment.automation_run(request_pk=request.pk)
    finally:
        handlers.unregister("flaky_test")
    request.refresh_from_db()
    assert (request.automation, request.attempts, request.result) == (
        AutomationState.FAILED, 1, "The directory did not answer")
    assert not Group.objects.filter(name="Half done").exists()  # the effect rolled back with the attempt
    request.ticket.refresh_from_db()
    assert request.ticket.status == Status.NEW
    assert TicketEvent.objects.filter(ticket=request.ticket, field="request_automation", new="failed").count() == 1


def test_an_agent_runs_a_failed_automation_again(cast, django_capture_on_commit_callbacks):
    request = order(vpn_item(cast, handler="missing"), cast.requester)
    with pytest.raises(LookupError):
        fulfilment.automation_run(request_pk=request.pk)
    request.refresh_from_db()
    with pytest.raises(AccessDenied):
        fulfilment.automation_retry(request=request, actor=cast.requester)
    CatalogItem.objects.filter(pk=request.item_id).update(handler="group_access")
    with django_capture_on_commit_callbacks(execute=False) as queued:
        fulfilment.automation_retry(request=request, actor=cast.agent1)
    assert len(queued) == 1 and request.automation == AutomationState.QUEUED
    with pytest.raises(Conflict, match="only a failed one runs again"):
        fulfilment.automation_retry(request=request, actor=cast.agent1)
    fulfilment.automation_run(request_pk=request.pk)
    request.refresh_from_db()
    assert (request.automation, request.attempts) == (AutomationState.SUCCEEDED, 2)


def test_an_automated_item_with_tasks_resolves_after_both(cast):
    item = vpn_item(cast)
    CatalogTaskTemplate.objects.create(item=item, title="Send the hardware token", group=cast.l1)
    request = order(item, cast.requester)
    fulfilment.automation_run(request_pk=request.pk)
    request.ticket.refresh_from_db()
    assert request.ticket.status == Status.NEW  # the token is still to send
    task = tasks_of(request)[0]
    fulfilment.task_finish(task=task, actor=cast.agent1, state=TaskState.DONE)
    request.ticket.refresh_from_db()
    assert request.ticket.status == Status.RESOLVED
    assert request.ticket.resolution_note.startswith("Fulfilled:\n- Added Alice to the group")
