"""The demo shows catalogue requests in every state after the order: one waiting for Maria's approval, one
approved with a task done and one open, one not approved with Maria's reason, and one fulfilled by its handler."""

import pytest

from itsm.choices import ApprovalState, AutomationState, TaskState
from itsm.models import CatalogRequest
from itsm.services import fulfilment
from tracker.choices import Status
from tracker.models import User

DEMO_HISTORY = 20


@pytest.fixture
def demo(seeded_demo, db):
    """The demo, seeded once for this module (see `seeded_demo`)."""


def test_the_demo_has_requests_in_every_state(demo):
    maria = User.objects.get(username="maria")
    waiting = list(fulfilment.pending_approvals(maria))
    assert [(r.item.name, r.ticket.requester.username) for r in waiting] == [("New laptop", "alice")]
    rejected = CatalogRequest.objects.get(approval=ApprovalState.REJECTED, item__name="New laptop")
    assert rejected.ticket.status == Status.CANCELLED
    assert rejected.ticket.resolution_note.startswith("Not approved by Maria")
    approved = CatalogRequest.objects.get(approval=ApprovalState.APPROVED, item__name="New laptop")
    assert [t.state for t in fulfilment.request_tasks(approved.ticket)] == [TaskState.DONE, TaskState.PLANNED]
    assert approved.ticket.status == Status.IN_PROGRESS
    automated = CatalogRequest.objects.get(item__name="VPN access", ticket__requester__username="bob")
    assert (automated.automation, automated.attempts) == (AutomationState.SUCCEEDED, 1)
    assert automated.ticket.status == Status.RESOLVED
    assert User.objects.get(username="bob").groups.filter(name="VPN users").exists()
