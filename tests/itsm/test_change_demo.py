"""The demo shows change enablement with believable data: CABs, templates (one retired, one in a second
version), and changes in every approval state, decided by votes in rounds."""


import pytest
from django.db.models import F

from itsm.choices import RoundStatus, Vote
from itsm.models import Approval, ApprovalRound, Cab, ChangeTemplate, StandardChange
from tracker.choices import Status
from tracker.models import Ticket

DEMO_HISTORY = 60


@pytest.fixture
def demo(seeded_demo, db):
    """The demo, seeded once for this module (see `seeded_demo`)."""


def test_the_demo_has_the_boards_and_templates_carl_set_up(demo):
    assert set(Cab.objects.values_list("name", "emergency", "rule")) == {
        ("Change Advisory Board", False, "majority"), ("Payroll CAB", False, "all"), ("Emergency CAB", True, "any")}
    assert ChangeTemplate.objects.filter(retired_at__isnull=False).count() == 1
    assert ChangeTemplate.objects.filter(version__gte=2).exists()
    assert StandardChange.objects.exists()


def test_the_demo_leaves_changes_in_every_approval_state(demo):
    statuses = set(Ticket.objects.filter(kind="change").values_list("status", flat=True))
    assert {Status.NEW, Status.REVIEW, Status.APPROVED, Status.REJECTED, Status.IN_PROGRESS} <= statuses
    rounds = set(ApprovalRound.objects.values_list("status", flat=True))
    assert {RoundStatus.OPEN, RoundStatus.APPROVED, RoundStatus.REJECTED, RoundStatus.CHANGES_REQUESTED} <= rounds
    assert ApprovalRound.objects.filter(number=2).exists()  # revised and resubmitted
    carl_waits = Approval.objects.filter(approver__username="carl", decision=Vote.PENDING, round__status="open")
    assert carl_waits.count() >= 2  # his "My approvals" is not empty
    emergency = Ticket.objects.get(title="Hotfix payroll tax table import")
    assert emergency.status == Status.IN_PROGRESS and emergency.emergency_justification
    assert not Approval.objects.filter(round__ticket__requester=F("approver")).exists()  # never one's own change
