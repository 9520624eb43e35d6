"""Approvers voting at the same moment (PostgreSQL, threads): every vote counts once, the round is decided once
and the change moves once; a vote that arrives after the decision is told so."""


import pytest

from itsm import services as itsm
from itsm.choices import CabRule, RoundStatus, Vote
from itsm.models import ApprovalRound
from tests.factories import UserFactory
from tests.workers import at_once
from tracker import services
from tracker.choices import Role, Status
from tracker.errors import Conflict
from tracker.models import Ticket

from .conftest import PLAN


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("rule, quorum", [(CabRule.ANY, 1), (CabRule.MAJORITY, 1), (CabRule.ALL, 1)])
def test_simultaneous_votes_decide_the_round_once(cast, rule, quorum):
    approvers = [UserFactory(username=f"approver{i}", role=Role.AGENT_L2) for i in range(6)]
    itsm.cab_save(actor=cast.change_manager, name="CAB", rule=rule, quorum=quorum, members=approvers)
    change = services.ticket_create(actor=cast.agent2, kind="change", title="Race", change_type="normal")
    services.ticket_transition(ticket=change, to=Status.REVIEW, actor=cast.agent2, values=dict(PLAN))

    def vote(user) -> str:
        try:
            itsm.approval_vote(ticket=Ticket.objects.get(pk=change.pk), actor=user, decision=Vote.APPROVED)
        except Conflict as exc:  # the round was decided before this vote reached it
            return "late" if "no open approval round" in exc.message else exc.message
        return "voted"

    outcomes = at_once(vote, each=approvers)
    approval_round = ApprovalRound.objects.get(ticket=change)
    needed = {CabRule.ANY: 1, CabRule.MAJORITY: 4, CabRule.ALL: 6}[rule]
    counted = approval_round.approvals.filter(decision=Vote.APPROVED).count()
    assert approval_round.status == RoundStatus.APPROVED and counted == needed
    assert sorted(outcomes) == ["late"] * (6 - needed) + ["voted"] * needed
    change.refresh_from_db()
    assert change.status == Status.APPROVED
    assert change.events.filter(kind="status", new="approved").count() == 1
    assert change.events.filter(kind="approval", field="outcome").count() == 1
