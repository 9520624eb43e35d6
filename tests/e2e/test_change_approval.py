"""Scenarios 1 and 2 of the domain in the browser, one real account per role, each in its own browser context:
an agent raises a change, the CAB's members vote in their own sessions, and the change moves by their votes;
the change manager sets up the CAB and a standard-change template; refusals show in place."""

import re

import pytest
from playwright.sync_api import expect

from itsm import services as itsm
from itsm.choices import CabRule
from itsm.models import ApprovalRound, Cab, ChangeTemplate
from tests.e2e.changes import raise_change, submit_to_cab, vote
from tracker.choices import Status
from tracker.models import Ticket


@pytest.fixture
def payroll_cab(cast):
    """Scenario 2's board: every member must approve a payroll change."""
    return itsm.cab_save(actor=cast.change_manager, name="Payroll CAB", service=cast.services["payroll"],
                         rule=CabRule.ALL, members=[cast.change_manager, cast.manager])


def test_scenario_1_a_routine_change_is_approved_by_the_cab_and_implemented(cast, signed_in, shot):
    # the change manager sets the CAB up in the app
    carl = signed_in(cast.change_manager)
    carl.goto("/changes/cabs/")
    carl.get_by_role("link", name="New CAB").first.click()
    carl.get_by_label("Name").fill("Change Advisory Board")
    carl.get_by_role("radio", name="A majority of approvers").check()
    for person in ("carl", "devon", "maria"):
        carl.get_by_label(re.compile(rf"{person} \(")).check()
    shot(carl, "scenario1-00-cab-form")
    carl.get_by_role("button", name="Save CAB").click()
    expect(carl.get_by_role("table", name="CABs")).to_contain_text("Change Advisory Board")
    assert Cab.objects.get().rule == CabRule.MAJORITY

    liam = signed_in(cast.agent2)
    change = raise_change(liam, shot, "scenario1-01-new-change", title="Add EU VAT rates to the web shop")
    submit_to_cab(liam, shot, "scenario1-02-submitted")
    maria = signed_in(cast.manager)
    vote(maria, shot, "scenario1-03-maria", change, "Approve", "Fine for Thursday night.")
    expect(maria.locator(".badge.status").first).to_have_text("In CAB review")  # one of the two it needs
    vote(carl, shot, "scenario1-04-carl", change, "Approve")
    expect(carl.locator(".badge.status").first).to_have_text("Approved")
    expect(carl.locator("#approvals")).to_contain_text("2 of 2 approvals")
    shot(carl, "scenario1-05-approved")

    liam.reload()
    liam.get_by_role("button", name="Start implementation").click()
    expect(liam.locator(".badge.status").first).to_have_text("In progress")
    liam.get_by_text("Record implementation…").click()
    form = liam.locator("form[data-move=resolved]")
    form.get_by_label("Implementation result").select_option("successful")
    form.get_by_role("button", name="Record implementation").click()
    expect(liam.locator(".badge.status").first).to_have_text("Resolved")
    expect(liam.locator(".timeline")).to_contain_text("Approved by Change Advisory Board in round 1")
    shot(liam, "scenario1-06-implemented")
    assert Ticket.objects.get(pk=change.pk).status == Status.RESOLVED


def test_scenario_2_the_cab_rejects_the_requester_revisits_and_the_cab_approves(cast, payroll_cab, signed_in,
                                                                               shot):
    liam = signed_in(cast.agent2)
    change = raise_change(liam, shot, "scenario2-01-new-change", title="Move the payroll batch to 02:00",
                          service="Payroll")
    submit_to_cab(liam, shot, "scenario2-02-submitted")
    carl, maria = signed_in(cast.change_manager), signed_in(cast.manager)
    vote(carl, shot, "scenario2-03-carl", change, "Approve")

    # maria rejects, first without a reason: refused in the form, her choice kept; then with one
    maria.goto(f"/tickets/{change.key}/")
    maria.get_by_text("Vote…").click()
    form = maria.locator("#vote-form")
    form.get_by_label("Reject").check()
    form.get_by_role("button", name="Cast vote").click()
    expect(form.get_by_role("alert")).to_contain_text("Say why you reject it")
    expect(form.get_by_label("Reject")).to_be_checked()
    shot(maria, "scenario2-04-reject-refused")
    form.get_by_label("Comment").fill("Clashes with the bank upload at 02:00; move it after 03:00.")
    form.get_by_role("button", name="Cast vote").click()
    expect(maria.locator(".badge.status").first).to_have_text("Rejected")
    shot(maria, "scenario2-05-rejected")

    # liam revisits, moves the plan after the upload, and submits again: round 2
    liam.reload()
    expect(liam.locator(".timeline")).to_contain_text("Clashes with the bank upload")
    liam.get_by_role("button", name="Revisit").click()
    expect(liam.locator(".badge.status").first).to_have_text("New")
    liam.locator("#f-implementation_plan .editable").click()
    box = liam.get_by_role("textbox", name="implementation plan")
    box.fill("1. Wait for the bank upload to finish (03:00)\n2. Edit the cron line\n3. Start the batch")
    box.press("Control+Enter")
    expect(liam.locator("#f-implementation_plan")).to_contain_text("Wait for the bank upload")
    liam.get_by_text("Submit to CAB…").click()
    liam.locator("form[data-move=review]").get_by_role("button", name="Submit to CAB").click()
    expect(liam.locator("#approvals")).to_contain_text("Round 2")
    shot(liam, "scenario2-06-resubmitted")

    vote(carl, shot, "scenario2-07-carl", change, "Approve", "Better after the upload.")
    vote(maria, shot, "scenario2-08-maria", change, "Approve", "Thanks, fine now.")
    expect(maria.locator(".badge.status").first).to_have_text("Approved")
    timeline = maria.locator(".timeline")
    for text in ("Round 1 opened with Payroll CAB", "Round 1 rejected", "Round 2 opened with Payroll CAB",
                 "resubmitted after round 1 was rejected", "Round 2 approved"):
        expect(timeline).to_contain_text(text)
    maria.get_by_text("Earlier rounds (1)").click()
    expect(maria.locator("#approvals")).to_contain_text("Clashes with the bank upload")
    shot(maria, "scenario2-09-approved-two-rounds")
    assert [r.status for r in ApprovalRound.objects.filter(ticket=change).order_by("number")] == ["rejected",
                                                                                                  "approved"]


def test_a_standard_change_from_a_template_needs_no_cab(cast, signed_in, shot):
    carl = signed_in(cast.change_manager)
    carl.goto("/changes/templates/")
    carl.get_by_role("link", name="New template").first.click()
    carl.get_by_label("Title").fill("Rotate VPN certificates")
    carl.locator("#id_service").select_option(label="Mail")
    carl.get_by_label("Implementation plan").fill("Run the rotation playbook")
    carl.get_by_role("button", name="Create template").click()  # no backout plan: refused, what was typed kept
    expect(carl.get_by_role("alert")).to_contain_text("backout plan")
    expect(carl.get_by_label("Title")).to_have_value("Rotate VPN certificates")
    expect(carl.get_by_label("Implementation plan")).to_have_value("Run the rotation playbook")
    shot(carl, "standard-01-template-refused")
    carl.get_by_label("Backout plan").fill("Restore the old pair")
    carl.get_by_role("button", name="Create template").click()
    expect(carl.get_by_role("table", name="Templates")).to_contain_text("Rotate VPN certificates")
    shot(carl, "standard-02-templates")

    liam = signed_in(cast.agent2)
    liam.goto("/tickets/new/?kind=change")
    liam.get_by_role("link", name="New standard change from a template").click()
    liam.get_by_role("link", name="New change from Rotate VPN certificates").click()
    expect(liam.get_by_label("Title")).to_have_value("Rotate VPN certificates")
    liam.get_by_label("Title").fill("Rotate VPN certificates (Q3)")
    shot(liam, "standard-03-new-change")
    liam.get_by_role("button", name="Raise standard change").click()
    expect(liam.get_by_role("heading", name="Rotate VPN certificates (Q3)")).to_be_visible()
    expect(liam.locator("#approvals")).to_contain_text("Pre-approved")
    liam.get_by_role("button", name="Approve (standard change)").click()
    expect(liam.locator(".badge.status").first).to_have_text("Approved")
    shot(liam, "standard-04-approved")
    change = Ticket.objects.get(title="Rotate VPN certificates (Q3)")
    assert change.standard_origin.template_version.template == ChangeTemplate.objects.get()


def test_a_refused_cab_keeps_what_was_typed_and_the_next_save_works(cast, signed_in, shot):
    carl = signed_in(cast.change_manager)
    carl.goto("/changes/cabs/new/")
    carl.get_by_label("Name").fill("Mail CAB")
    carl.get_by_role("radio", name="Any N approvers").check()
    carl.get_by_label("N (for “any N approvers”)").fill("3")
    carl.get_by_label(re.compile(r"maria \(")).check()
    carl.get_by_role("button", name="Save CAB").click()
    expect(carl.get_by_role("alert")).to_contain_text("Any 3 of 1 approvers cannot be met")
    expect(carl.get_by_label("Name")).to_have_value("Mail CAB")
    expect(carl.get_by_label(re.compile(r"maria \("))).to_be_checked()
    shot(carl, "cab-refused")
    carl.get_by_label("N (for “any N approvers”)").fill("1")
    carl.get_by_role("button", name="Save CAB").click()
    expect(carl.get_by_role("table", name="CABs")).to_contain_text("Mail CAB")
    assert Cab.objects.get().quorum == 1
