"""Stage locks of a change (tracker.workflows.STAGE_LOCKS), enforced by the domain functions: the plan is
frozen once approved (an edit sends the change back to the CAB), the decision and result fields have their
own stage, and nothing of the kind can be set at creation."""

from datetime import UTC, datetime

import pytest

from itsm import services as itsm
from itsm.choices import RoundStatus, Vote
from itsm.models import ApprovalRound
from tracker import services
from tracker.choices import Status
from tracker.errors import Conflict, TransitionRefused, ValidationFailed
from tracker.models import Ticket


def _approved(cast, submitted):
    change = submitted()
    for approver in (cast.manager, cast.engineer):
        itsm.approval_vote(ticket=change, actor=approver, decision=Vote.APPROVED)
    change.refresh_from_db()
    assert change.status == Status.APPROVED
    return change


@pytest.mark.parametrize("field, value", [("implementation_plan", "1. Edit cron on both nodes"),
                                          ("backout_plan", "Reboot"), ("risk", "high")])
def test_editing_the_plan_after_approval_sends_the_change_back_to_the_cab(cast, submitted, field, value):
    change = _approved(cast, submitted)
    services.ticket_update(ticket=change, actor=cast.agent2, version=change.version, changes={field: value})
    change.refresh_from_db()
    assert change.status == Status.REVIEW and getattr(change, field) == value
    back = change.events.filter(kind="status").latest("id")
    assert (back.old, back.new) == ("approved", "review")
    assert "changed after approval, so the change needs a new approval" in back.note
    rounds = list(ApprovalRound.objects.filter(ticket=change).order_by("number"))
    assert [(r.number, r.status) for r in rounds] == [(1, RoundStatus.APPROVED), (2, RoundStatus.OPEN)]
    assert rounds[1].reason == "its approved plan changed"
    with pytest.raises(TransitionRefused):  # straight back to approved: the new round's votes decide
        services.ticket_transition(ticket=change, to=Status.APPROVED, actor=cast.change_manager)


def test_a_window_moved_after_approval_needs_the_cab_again(cast, submitted):
    change = _approved(cast, submitted)
    services.ticket_update(ticket=change, actor=cast.agent2, version=change.version,
                           changes={"window_start": datetime(2026, 7, 1, 20, tzinfo=UTC),
                                    "window_end": datetime(2026, 7, 1, 22, tzinfo=UTC)})
    assert Ticket.objects.get(pk=change.pk).status == Status.REVIEW


def test_editing_the_plan_during_review_starts_a_new_round(cast, submitted):
    change = submitted()
    itsm.approval_vote(ticket=change, actor=cast.manager, decision=Vote.APPROVED)
    services.ticket_update(ticket=change, actor=cast.agent2, version=change.version,
                           changes={"backout_plan": "Restore cron from the nightly backup"})
    change.refresh_from_db()
    assert change.status == Status.REVIEW
    rounds = list(ApprovalRound.objects.filter(ticket=change).order_by("number"))
    assert [(r.number, r.status) for r in rounds] == [(1, RoundStatus.SUPERSEDED), (2, RoundStatus.OPEN)]
    notes = list(change.events.filter(kind="approval", field__in=["outcome", "round"]).values_list("note", flat=True))
    assert any("Round 1 superseded: the backout plan changed during review" in n for n in notes)
    # maria's vote of round 1 no longer counts: round 2 asks her again
    pending = rounds[1].approvals.get(approver=cast.manager)
    assert pending.decision == Vote.PENDING


def test_other_fields_change_freely_after_approval(cast, submitted):
    change = _approved(cast, submitted)
    services.ticket_update(ticket=change, actor=cast.agent2, version=change.version,
                           changes={"description": "Also tell the bank", "urgency": 1})
    assert Ticket.objects.get(pk=change.pk).status == Status.APPROVED


def test_the_plan_is_frozen_once_implementation_starts(cast, submitted):
    change = _approved(cast, submitted)
    services.ticket_transition(ticket=change, to=Status.IN_PROGRESS, actor=cast.agent2)
    version = change.version
    with pytest.raises(Conflict) as exc:
        services.ticket_update(ticket=change, actor=cast.agent2, version=version,
                               changes={"implementation_plan": "Something else"})
    assert "can no longer change" in exc.value.message and "implementation_plan" in exc.value.fields
    change.refresh_from_db()
    assert (change.status, change.version) == (Status.IN_PROGRESS, version)


def test_the_implementation_result_is_set_only_during_implementation(cast, submitted):
    change = _approved(cast, submitted)
    with pytest.raises(Conflict) as exc:
        services.ticket_update(ticket=change, actor=cast.agent2, version=change.version,
                               changes={"implementation_result": "successful"})
    assert "'In progress'" in exc.value.message
    services.ticket_transition(ticket=change, to=Status.IN_PROGRESS, actor=cast.agent2)
    services.ticket_update(ticket=change, actor=cast.agent2, version=change.version,
                           changes={"implementation_result": "successful"})
    services.ticket_transition(ticket=change, to=Status.RESOLVED, actor=cast.agent2)
    assert Ticket.objects.get(pk=change.pk).implementation_result == "successful"


def test_nobody_writes_the_decision_note_by_hand(cast, submitted):
    change = submitted()
    with pytest.raises(Conflict) as exc:
        services.ticket_update(ticket=change, actor=cast.change_manager, version=change.version,
                               changes={"decision_note": "Approved, trust me"})
    assert "written by the CAB's decision" in exc.value.message


@pytest.mark.parametrize("field, value", [("decision_note", "ok"), ("implementation_result", "successful"),
                                          ("review_notes", "went fine")])
def test_a_new_change_carries_no_decision_or_result(cast, raise_change, field, value):
    with pytest.raises(ValidationFailed) as exc:
        raise_change(**{field: value})
    assert field in exc.value.fields and "cannot have" in exc.value.message
    assert not Ticket.objects.filter(kind="change").exists()


def test_the_plan_cannot_ride_along_with_a_move_that_skips_the_new_round(cast, submitted):
    change = submitted(change_type="emergency")
    with pytest.raises(Conflict) as exc:
        services.ticket_transition(ticket=change, to=Status.IN_PROGRESS, actor=cast.agent2,
                                   values={"emergency_justification": "Outage", "implementation_plan": "Other plan"})
    assert "on its own first" in exc.value.message
    assert Ticket.objects.get(pk=change.pk).status == Status.REVIEW


def test_the_type_cannot_change_after_submission_and_never_to_standard(cast, submitted, raise_change):
    change = submitted()
    with pytest.raises(Conflict):
        services.ticket_update(ticket=change, actor=cast.change_manager, version=change.version,
                               changes={"change_type": "emergency"})
    draft = raise_change()
    with pytest.raises(ValidationFailed) as exc:
        services.ticket_update(ticket=draft, actor=cast.agent2, version=draft.version,
                               changes={"change_type": "standard"})
    assert "made from a template" in exc.value.message
    services.ticket_update(ticket=draft, actor=cast.agent2, version=draft.version, changes={"change_type": "emergency"})


def test_a_plan_sent_back_unchanged_with_other_line_breaks_is_no_edit(cast, submitted):
    change = submitted()
    plan, rows = change.implementation_plan, change.events.count()
    assert "\n" in plan
    services.ticket_update(ticket=change, actor=cast.agent2, version=change.version,
                           changes={"implementation_plan": plan.replace("\n", "\r\n")})
    assert change.events.count() == rows
    assert ApprovalRound.objects.filter(ticket=change).count() == 1
