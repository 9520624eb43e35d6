"""The approval of a catalogue request: only its appointed approver decides, never on their own request; a
rejection needs a reason; one decision only; the guard keeps the request from being approved, started or
resolved around the decision; the requester is told once."""

import pytest

from itsm.choices import ApprovalMode, ApprovalState, AutomationState
from itsm.models import CatalogRequest
from itsm.services import fulfilment
from sla.models import Notification
from tests.factories import UserFactory
from tests.itsm.test_fulfilment import laptop_item, order, tasks_of, vpn_item
from tracker import services
from tracker.choices import EventKind, Role, Status
from tracker.errors import AccessDenied, Conflict, TransitionRefused, ValidationFailed
from tracker.models import TicketEvent


@pytest.fixture
def waiting(cast):
    """Alice's "New laptop", waiting for her manager Maria."""
    cast.requester.manager = cast.manager
    cast.requester.save(update_fields=["manager"])
    return order(laptop_item(cast), cast.requester)


def test_a_request_waits_for_the_requesters_manager(waiting, cast):
    assert (waiting.approval, waiting.approver) == (ApprovalState.PENDING, cast.manager)
    assert list(fulfilment.pending_approvals(cast.manager)) == [waiting]
    assert fulfilment.pending_approval_count(cast.manager) == 1
    assert tasks_of(waiting) == []


def test_approving_moves_the_request_on_begins_fulfilment_and_tells_the_requester(waiting, cast):
    fulfilment.request_decide(request=waiting, actor=cast.manager, decision="approve", note="Budget OK")
    waiting.refresh_from_db()
    ticket = waiting.ticket
    ticket.refresh_from_db()
    assert (waiting.approval, waiting.decision_note) == (ApprovalState.APPROVED, "Budget OK")
    assert ticket.status == Status.APPROVED
    assert len(tasks_of(waiting)) == 2
    event = TicketEvent.objects.get(ticket=ticket, kind=EventKind.APPROVAL)
    assert (event.actor, event.note) == (cast.manager, f"Approved by {cast.manager.display_name}: Budget OK")
    told = Notification.objects.filter(recipient=cast.requester, ticket=ticket)
    assert [n.title for n in told] == [f"[{ticket.key}] Now approved: New laptop"]


def test_rejecting_needs_a_reason_and_cancels_the_request_with_it(waiting, cast):
    with pytest.raises(ValidationFailed, match="Say why you reject") as refused:
        fulfilment.request_decide(request=waiting, actor=cast.manager, decision="reject", note="  ")
    assert "note" in refused.value.fields
    assert CatalogRequest.objects.get(pk=waiting.pk).approval == ApprovalState.PENDING
    fulfilment.request_decide(request=waiting, actor=cast.manager, decision="reject",
                              note="Your laptop is eight months old")
    ticket = waiting.ticket
    ticket.refresh_from_db()
    assert ticket.status == Status.CANCELLED
    assert ticket.resolution_note == f"Not approved by {cast.manager.display_name}: Your laptop is eight months old"
    assert tasks_of(waiting) == []
    told = Notification.objects.get(recipient=cast.requester, ticket=ticket)
    assert "Your laptop is eight months old" in told.body


def test_nobody_approves_their_own_request(cast):
    """A manager orders a laptop from an item whose named approver is the manager: refused."""
    item = laptop_item(cast)
    item.approval, item.approver = ApprovalMode.NAMED, cast.manager
    item.save()
    request = order(item, cast.manager)
    assert request.approver == cast.manager
    with pytest.raises(AccessDenied, match="you may not approve your own request"):
        fulfilment.request_decide(request=request, actor=cast.manager, decision="approve")
    assert CatalogRequest.objects.get(pk=request.pk).approval == ApprovalState.PENDING


def test_only_the_appointed_approver_decides(waiting, cast):
    for someone in (cast.agent1, cast.admin, cast.other_requester):
        with pytest.raises(AccessDenied, match=f"Only its approver, {cast.manager.display_name}"):
            fulfilment.request_decide(request=waiting, actor=someone, decision="approve")


def test_a_line_manager_who_is_a_requester_decides_too(cast):
    boss = UserFactory(username="rita", role=Role.REQUESTER, first_name="Rita")
    cast.other_requester.manager = boss
    cast.other_requester.save(update_fields=["manager"])
    request = order(laptop_item(cast), cast.other_requester)
    fulfilment.request_decide(request=request, actor=boss, decision="approve")
    request.ticket.refresh_from_db()
    assert request.ticket.status == Status.APPROVED


def test_a_request_is_decided_once(waiting, cast):
    fulfilment.request_decide(request=waiting, actor=cast.manager, decision="approve")
    stale = CatalogRequest.objects.get(pk=waiting.pk)
    stale.approval = ApprovalState.PENDING  # a page loaded before the decision
    with pytest.raises(Conflict, match=f"already approved by {cast.manager.display_name}"):
        fulfilment.request_decide(request=stale, actor=cast.manager, decision="reject", note="Changed my mind")
    assert len(tasks_of(waiting)) == 2


def test_an_unknown_decision_is_refused(waiting, cast):
    with pytest.raises(ValidationFailed, match="approve"):
        fulfilment.request_decide(request=waiting, actor=cast.manager, decision="maybe")


def test_a_request_without_approval_has_nothing_to_decide(cast):
    request = order(vpn_item(cast), cast.requester)
    assert request.automation == AutomationState.QUEUED
    with pytest.raises(Conflict, match="needs no approval"):
        fulfilment.request_decide(request=request, actor=cast.manager, decision="approve")


def test_a_waiting_request_is_not_started_resolved_or_approved_by_hand(waiting, cast):
    ticket = waiting.ticket
    with pytest.raises(TransitionRefused, match=f"waits for the approval of {cast.manager.display_name}"):
        services.ticket_transition(ticket=ticket, to=Status.IN_PROGRESS, actor=cast.agent1)
    with pytest.raises(TransitionRefused, match="approved by its approver's decision"):
        services.ticket_transition(ticket=ticket, to=Status.APPROVED, actor=cast.admin, by_rule=True)
    ticket.refresh_from_db()
    assert ticket.status == Status.NEW
    # the requester may still withdraw it; then nothing is left to decide
    services.ticket_transition(ticket=ticket, to=Status.CANCELLED, actor=cast.requester,
                               values={"resolution_note": "Found a spare one"})
    assert fulfilment.pending_approval_count(cast.manager) == 0
    with pytest.raises(Conflict, match="cancelled: there is nothing to decide"):
        fulfilment.request_decide(request=waiting, actor=cast.manager, decision="approve")
