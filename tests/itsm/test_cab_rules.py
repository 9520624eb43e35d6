"""The CAB decides a change by its members' votes under its rule; nobody else, and never the requester."""

import pytest

from itsm import services as itsm
from itsm.choices import CabRule, RoundStatus, Vote
from itsm.models import ApprovalRound
from sla.models import Notification
from tracker import services
from tracker.choices import Status
from tracker.errors import AccessDenied, Conflict, MissingField, TransitionRefused, ValidationFailed
from tracker.models import Ticket

from .conftest import PLAN


def _votes(change):
    approval_round = ApprovalRound.objects.get(ticket=change, status=RoundStatus.OPEN)
    return {a.approver.username: a.decision for a in approval_round.approvals.select_related("approver")}


def test_submitting_asks_each_approver_of_the_cab_once_and_tells_them(cast, submitted):
    change = submitted()
    assert _votes(change) == {"carl": Vote.PENDING, "maria": Vote.PENDING, "devon": Vote.PENDING}
    approval_round = ApprovalRound.objects.get(ticket=change)
    assert (approval_round.number, approval_round.cab.name, approval_round.required) == (1, "Change Advisory Board", 2)
    asked = Notification.objects.filter(ticket=change, kind="approval")
    assert sorted(asked.values_list("recipient__username", flat=True)) == ["carl", "devon", "maria"]
    note = asked.first()
    assert note.title == f"[{change.key}] Your approval is requested: Move the payroll batch to 02:00"
    assert "member of Change Advisory Board: round 1, decided by a majority: 2 of 3" in note.body
    row = change.events.get(kind="approval", field="round")
    assert "Round 1 opened with Change Advisory Board" in row.note and "a majority: 2 of 3" in row.note


def test_the_service_cab_decides_the_changes_of_its_service(cast, submitted):
    change = submitted(service=cast.services["payroll"])
    assert set(_votes(change)) == {"carl", "maria"}
    assert ApprovalRound.objects.get(ticket=change).cab.name == "Payroll CAB"


def test_the_requester_is_never_asked_and_may_not_approve_their_own_change(cast, submitted):
    change = submitted(actor=cast.change_manager)
    assert set(_votes(change)) == {"maria", "devon"}  # carl chairs the CAB but raised this one
    with pytest.raises(AccessDenied) as exc:
        itsm.approval_vote(ticket=change, actor=cast.change_manager, decision=Vote.APPROVED)
    assert "may not approve it" in exc.value.message
    assert Ticket.objects.get(pk=change.pk).status == Status.REVIEW


def test_someone_outside_the_round_may_not_vote(cast, submitted):
    change = submitted()
    with pytest.raises(AccessDenied) as exc:
        itsm.approval_vote(ticket=change, actor=cast.agent1, decision=Vote.APPROVED)
    assert "not an approver" in exc.value.message and "carl, devon, maria" in exc.value.message
    assert set(_votes(change).values()) == {Vote.PENDING}


def test_a_vote_is_cast_once(cast, submitted):
    change = submitted()
    itsm.approval_vote(ticket=change, actor=cast.engineer, decision=Vote.APPROVED, comment="Fine by the dev team")
    with pytest.raises(Conflict) as exc:
        itsm.approval_vote(ticket=change, actor=cast.engineer, decision=Vote.REJECTED, comment="On second thought")
    assert "already voted" in exc.value.message
    assert _votes(change)["devon"] == Vote.APPROVED


@pytest.mark.parametrize("decision", [Vote.REJECTED, Vote.CHANGES_REQUESTED])
def test_rejecting_or_asking_for_changes_needs_a_reason(cast, submitted, decision):
    change = submitted()
    with pytest.raises(ValidationFailed) as exc:
        itsm.approval_vote(ticket=change, actor=cast.manager, decision=decision, comment="   ")
    assert "comment" in exc.value.fields
    assert _votes(change)["maria"] == Vote.PENDING
    assert not change.events.filter(kind="approval", field="vote").exists()


def test_a_majority_approves_and_the_change_moves_with_the_deciding_vote(cast, submitted):
    change = submitted()
    itsm.approval_vote(ticket=change, actor=cast.manager, decision=Vote.APPROVED)
    assert Ticket.objects.get(pk=change.pk).status == Status.REVIEW
    itsm.approval_vote(ticket=change, actor=cast.engineer, decision=Vote.APPROVED, comment="OK for Sunday")
    change.refresh_from_db()
    assert change.status == Status.APPROVED
    assert change.decision_note.startswith("Approved by Change Advisory Board in round 1 (a majority: 2 of 3)")
    status = change.events.filter(kind="status").latest("id")
    assert (status.old, status.new, status.actor) == ("review", "approved", cast.engineer)
    assert ApprovalRound.objects.get(ticket=change).status == RoundStatus.APPROVED
    with pytest.raises(Conflict):  # the round is decided: carl's vote is no longer asked
        itsm.approval_vote(ticket=change, actor=cast.change_manager, decision=Vote.APPROVED)


def test_one_rejection_decides_a_round_that_needs_everyone(cast, submitted):
    change = submitted(service=cast.services["payroll"])
    itsm.approval_vote(ticket=change, actor=cast.manager, decision=Vote.REJECTED,
                       comment="Clashes with the bank upload at 02:00")
    change.refresh_from_db()
    assert change.status == Status.REJECTED
    assert "maria: “Clashes with the bank upload at 02:00”" in change.decision_note
    told = Notification.objects.get(recipient=cast.agent2, ticket=change, kind="update")  # the requester hears why
    assert "moved from in cab review to rejected" in told.body and "Clashes with the bank upload" in told.body


def test_a_majority_round_survives_one_rejection_until_the_rule_cannot_be_met(cast, submitted):
    change = submitted()
    itsm.approval_vote(ticket=change, actor=cast.manager, decision=Vote.REJECTED, comment="Backout untested")
    assert Ticket.objects.get(pk=change.pk).status == Status.REVIEW  # 2 approvals are still possible
    itsm.approval_vote(ticket=change, actor=cast.engineer, decision=Vote.CHANGES_REQUESTED, comment="Add a smoke test")
    assert Ticket.objects.get(pk=change.pk).status == Status.REJECTED


def test_changes_requested_send_the_change_back_to_its_requester(cast, submitted):
    change = submitted(service=cast.services["payroll"])
    itsm.approval_vote(ticket=change, actor=cast.change_manager, decision=Vote.CHANGES_REQUESTED,
                       comment="Name who runs the backout")
    change.refresh_from_db()
    assert change.status == Status.NEW
    assert change.decision_note.startswith("Changes requested by Payroll CAB in round 1")
    services.ticket_update(ticket=change, actor=cast.agent2, version=change.version,
                           changes={"backout_plan": "Liam restores the previous cron line"})
    services.ticket_transition(ticket=change, to=Status.REVIEW, actor=cast.agent2)
    rounds = ApprovalRound.objects.filter(ticket=change).order_by("number")
    assert [(r.number, r.status) for r in rounds] == [(1, RoundStatus.CHANGES_REQUESTED), (2, RoundStatus.OPEN)]
    assert "resubmitted after round 1 was changes requested" in rounds[1].reason


def test_any_n_needs_n_approvals(cast, submitted):
    itsm.cab_save(actor=cast.change_manager, cab=_global(), name="Change Advisory Board", rule=CabRule.ANY, quorum=1,
                  members=[cast.change_manager, cast.manager, cast.engineer])
    change = submitted()
    itsm.approval_vote(ticket=change, actor=cast.manager, decision=Vote.APPROVED)
    assert Ticket.objects.get(pk=change.pk).status == Status.APPROVED


def _global():
    from itsm.models import Cab

    return Cab.objects.get(name="Change Advisory Board")


def test_scenario_two_keeps_both_rounds_on_the_timeline(cast, submitted):
    change = submitted(service=cast.services["payroll"])
    itsm.approval_vote(ticket=change, actor=cast.change_manager, decision=Vote.APPROVED)
    itsm.approval_vote(ticket=change, actor=cast.manager, decision=Vote.REJECTED, comment="Backout not rehearsed")
    change.refresh_from_db()
    services.ticket_transition(ticket=change, to=Status.NEW, actor=cast.agent2)
    services.ticket_update(ticket=change, actor=cast.agent2, version=change.version,
                           changes={"backout_plan": "Restore the cron line (rehearsed on staging: 4 minutes)"})
    services.ticket_transition(ticket=change, to=Status.REVIEW, actor=cast.agent2)
    for approver in (cast.change_manager, cast.manager):
        itsm.approval_vote(ticket=change, actor=approver, decision=Vote.APPROVED)
    change.refresh_from_db()
    assert change.status == Status.APPROVED
    rows = [(e.field, e.new) for e in change.events.filter(kind="approval").order_by("id")]
    assert rows == [("round", "1"), ("vote", "approved"), ("vote", "rejected"), ("outcome", "rejected"),
                    ("round", "2"), ("vote", "approved"), ("vote", "approved"), ("outcome", "approved")]
    statuses = list(change.events.filter(kind="status").values_list("new", flat=True))
    assert statuses == ["review", "rejected", "new", "review", "approved"]


@pytest.mark.parametrize("actor", ["change_manager", "admin", "agent2"])
def test_nobody_moves_a_change_to_approved_by_hand(cast, submitted, actor):
    change = submitted()
    with pytest.raises(TransitionRefused) as exc:
        services.ticket_transition(ticket=change, to=Status.APPROVED, actor=getattr(cast, actor),
                                   values={"decision_note": "Looks fine"})
    assert "votes" in exc.value.message and "0 of the 2 approvals" in exc.value.message
    for target in (Status.REJECTED, Status.NEW):
        with pytest.raises(TransitionRefused):
            services.ticket_transition(ticket=change, to=target, actor=cast.change_manager)
    assert Ticket.objects.get(pk=change.pk).status == Status.REVIEW


def test_the_decision_moves_are_not_offered_as_buttons(cast, submitted):
    change = submitted()
    offered = {m.target for m in services.available_moves(ticket=change, actor=cast.change_manager)}
    assert offered == {Status.CANCELLED}  # withdraw; an emergency start is for emergency changes only


def test_without_a_cab_a_change_cannot_be_submitted(cast, raise_change):
    change = raise_change()
    with pytest.raises(ValidationFailed) as exc:
        services.ticket_transition(ticket=change, to=Status.REVIEW, actor=cast.agent2, values=dict(PLAN))
    assert "No CAB decides" in exc.value.message
    assert Ticket.objects.get(pk=change.pk).status == Status.NEW


def test_a_board_left_with_too_few_approvers_refuses_the_submission(cast, cabs, raise_change):
    itsm.cab_save(actor=cast.change_manager, cab=cabs["payroll"], name="Payroll CAB",
                  service=cast.services["payroll"], rule=CabRule.ANY, quorum=2, members=[cast.agent2, cast.manager])
    change = raise_change(service=cast.services["payroll"])
    with pytest.raises(ValidationFailed) as exc:
        services.ticket_transition(ticket=change, to=Status.REVIEW, actor=cast.agent2, values=dict(PLAN))
    assert "only 1 of its members may vote" in exc.value.message and "requester" in exc.value.message


def test_withdrawing_a_change_in_review_closes_its_round(cast, submitted):
    change = submitted()
    services.ticket_transition(ticket=change, to=Status.CANCELLED, actor=cast.agent2,
                               values={"resolution_note": "Not needed after all"})
    assert ApprovalRound.objects.get(ticket=change).status == RoundStatus.WITHDRAWN
    with pytest.raises(Conflict):
        itsm.approval_vote(ticket=change, actor=cast.manager, decision=Vote.APPROVED)


# --- emergency changes --------------------------------------------------------------------------------


def test_an_emergency_change_goes_to_the_emergency_cab_where_one_approval_decides(cast, submitted):
    change = submitted(change_type="emergency")
    approval_round = ApprovalRound.objects.get(ticket=change)
    assert (approval_round.cab.name, approval_round.required) == ("Emergency CAB", 1)
    itsm.approval_vote(ticket=change, actor=cast.manager, decision=Vote.APPROVED)
    assert Ticket.objects.get(pk=change.pk).status == Status.APPROVED


def test_an_emergency_change_starts_before_approval_only_with_a_justification(cast, submitted):
    change = submitted(change_type="emergency")
    with pytest.raises(MissingField) as exc:
        services.ticket_transition(ticket=change, to=Status.IN_PROGRESS, actor=cast.agent2)
    assert "emergency_justification" in exc.value.fields
    services.ticket_transition(ticket=change, to=Status.IN_PROGRESS, actor=cast.agent2,
                               values={"emergency_justification": "Payroll run fails tonight without the fix"})
    change.refresh_from_db()
    assert change.status == Status.IN_PROGRESS
    row = change.events.filter(kind="approval", field="emergency").get()
    assert "before round 1 was decided" in row.note and "Justification: “Payroll run fails tonight" in row.note
    # the ECAB's vote still counts, and is recorded without moving the change back
    itsm.approval_vote(ticket=change, actor=cast.change_manager, decision=Vote.APPROVED)
    assert ApprovalRound.objects.get(ticket=change).status == RoundStatus.APPROVED
    assert Ticket.objects.get(pk=change.pk).status == Status.IN_PROGRESS


def test_a_normal_change_never_starts_before_its_approval(cast, submitted):
    change = submitted()
    with pytest.raises(TransitionRefused) as exc:
        services.ticket_transition(ticket=change, to=Status.IN_PROGRESS, actor=cast.agent2,
                                   values={"emergency_justification": "We are in a hurry"})
    assert "only an emergency change" in exc.value.message


# --- setting up CABs ----------------------------------------------------------------------------------


def test_only_the_change_manager_sets_up_cabs(cast, cabs):
    with pytest.raises(AccessDenied):
        itsm.cab_save(actor=cast.agent2, name="My own CAB", members=[cast.agent2])


def test_a_cab_has_active_staff_approvers_and_a_rule_they_can_meet(cast, cabs):
    with pytest.raises(ValidationFailed) as exc:
        itsm.cab_save(actor=cast.change_manager, name="Mail CAB", service=cast.services["mail"],
                      members=[cast.requester, cast.manager])
    assert "members" in exc.value.fields and "Alice" in exc.value.message
    with pytest.raises(ValidationFailed) as exc:
        itsm.cab_save(actor=cast.change_manager, name="Mail CAB", service=cast.services["mail"], rule=CabRule.ANY,
                      quorum=3, members=[cast.manager, cast.engineer])
    assert "quorum" in exc.value.fields


def test_one_live_board_per_scope(cast, cabs):
    with pytest.raises(Conflict) as exc:
        itsm.cab_save(actor=cast.change_manager, name="Second global CAB", members=[cast.manager])
    assert "Change Advisory Board already decides" in exc.value.message
    # an emergency board is another scope; a deactivated one frees its scope
    itsm.cab_save(actor=cast.change_manager, cab=cabs["global"], name="Change Advisory Board", active=False,
                  members=[cast.manager])
    itsm.cab_save(actor=cast.change_manager, name="Second global CAB", members=[cast.manager])


def test_an_open_round_keeps_the_approvers_it_started_with(cast, submitted, cabs):
    change = submitted()
    itsm.cab_save(actor=cast.change_manager, cab=cabs["global"], name="Change Advisory Board", rule=CabRule.ALL,
                  members=[cast.agent1])
    assert set(_votes(change)) == {"carl", "maria", "devon"}
    itsm.approval_vote(ticket=change, actor=cast.manager, decision=Vote.APPROVED)
    itsm.approval_vote(ticket=change, actor=cast.engineer, decision=Vote.APPROVED)
    assert Ticket.objects.get(pk=change.pk).status == Status.APPROVED
