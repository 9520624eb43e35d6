"""Change setup pages (CABs, templates), the standard change from a template, and a change's page: the
Approvals panel, the vote form for the approver (refusals in place), the new-change form."""

import pytest

from itsm import services as itsm
from itsm.choices import CabRule, RoundStatus, Vote
from itsm.models import ApprovalRound, Cab, ChangeTemplate, StandardChange
from tests.factories import UserFactory
from tracker import services
from tracker.choices import Role, Status
from tracker.models import Ticket


@pytest.fixture
def template(cast):
    return itsm.template_create(actor=cast.change_manager, title="Rotate VPN certificates",
                                implementation_plan="Run the rotation playbook", backout_plan="Restore the old pair")


# --- the change's page --------------------------------------------------------------------------------


def test_an_approver_sees_the_round_and_the_vote_form(cast, submitted, client_for):
    change = submitted()
    page = client_for(cast.manager).get(f"/tickets/{change.key}/").content.decode()
    assert "Approvals" in page and "Round 1" in page and "Change Advisory Board" in page
    assert "a majority: 2 of 3" in page and "Cast vote" in page
    # the requester and a non-approver see the round, not the form
    for user in (cast.agent2, cast.agent1):
        other = client_for(user).get(f"/tickets/{change.key}/").content.decode()
        assert "Round 1" in other and "Cast vote" not in other
    # the CAB's decision is never a button of the workflow
    assert "Approved by the CAB" not in page and 'name="to" value="approved"' not in page


def test_a_vote_from_the_page_is_recorded_and_the_form_goes(cast, submitted, client_for):
    change = submitted()
    client = client_for(cast.manager)
    response = client.post(f"/tickets/{change.key}/vote/", {"decision": "approved", "comment": "Fine"},
                           HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    page = response.content.decode()
    assert "Your vote on" in page and "Cast vote" not in page and "“Fine”" in page


def test_rejecting_without_a_reason_is_refused_in_the_form_with_the_choice_kept(cast, submitted, client_for):
    change = submitted()
    response = client_for(cast.manager).post(f"/tickets/{change.key}/vote/", {"decision": "rejected", "comment": ""},
                                             HTTP_HX_REQUEST="true")
    assert response.status_code == 400
    form = response.content.decode()
    assert form.lstrip().startswith('<form id="vote-form"')
    assert "Say why you reject it" in form and 'value="rejected" checked' in form
    assert ApprovalRound.objects.get(ticket=change).approvals.get(approver=cast.manager).decision == Vote.PENDING


def test_without_javascript_a_refused_vote_shows_on_the_whole_page(cast, submitted, client_for):
    change = submitted()
    response = client_for(cast.manager).post(f"/tickets/{change.key}/vote/",
                                             {"decision": "changes_requested", "comment": " "})
    assert response.status_code == 400
    page = response.content.decode()
    assert "<html" in page and "Say which changes you need" in page and "<details open>" in page


def test_a_requester_posting_a_vote_is_refused(cast, submitted, client_for):
    change = submitted(actor=cast.change_manager)
    response = client_for(cast.change_manager).post(f"/tickets/{change.key}/vote/", {"decision": "approved"},
                                                    HTTP_HX_REQUEST="true")
    assert response.status_code == 403 and "may not approve it" in response.content.decode()


def test_the_timeline_tells_each_round(cast, submitted, client_for):
    change = submitted(service=cast.services["payroll"])
    itsm.approval_vote(ticket=change, actor=cast.manager, decision=Vote.REJECTED, comment="Backout untested")
    page = client_for(cast.agent2).get(f"/tickets/{change.key}/").content.decode()
    assert "Approval round" in page and "Round 1 opened with Payroll CAB" in page
    assert "CAB decision" in page and "Backout untested" in page


def test_a_plan_field_warns_that_saving_needs_a_new_approval(cast, submitted, client_for):
    change = submitted()
    for approver in (cast.manager, cast.engineer):
        itsm.approval_vote(ticket=change, actor=approver, decision=Vote.APPROVED)
    form = client_for(cast.agent2).get(f"/tickets/{change.key}/fields/backout_plan/").content.decode()
    assert "back to “In CAB review” for a new approval" in form


def test_a_draft_names_the_cab_that_will_decide(cast, cabs, raise_change, client_for):
    change = raise_change(service=cast.services["payroll"])
    page = client_for(cast.agent2).get(f"/tickets/{change.key}/").content.decode()
    assert "Submitting asks <strong>Payroll CAB</strong>" in page


def test_the_new_change_form_has_no_decision_or_result_fields_and_no_standard_type(cast, client_for):
    page = client_for(cast.agent2).get("/tickets/new/?kind=change").content.decode()
    for label in ("Decision note", "Implementation result", "Review notes"):
        assert f">{label}" not in page, label
    assert 'value="standard"' not in page and 'value="normal"' in page
    assert "New standard change from a template" in page


def test_my_approvals_lists_the_changes_waiting_for_my_vote(cast, submitted, client_for):
    waiting = submitted(title="Patch the HR portal database")
    decided = submitted(title="Move the payroll batch")
    itsm.approval_vote(ticket=decided, actor=cast.manager, decision=Vote.APPROVED)
    page = client_for(cast.manager).get("/queue/?view=approvals").content.decode()
    assert waiting.key in page and decided.key not in page
    counts = client_for(cast.manager).get("/queue/counts/").content.decode()
    assert "My approvals" in counts


# --- change setup -------------------------------------------------------------------------------------


def test_staff_read_the_cabs_and_only_the_change_manager_edits_them(cast, cabs, client_for):
    page = client_for(cast.agent1).get("/changes/cabs/").content.decode()
    assert "Payroll CAB" in page and "Emergency CAB" in page and "Edit" not in page
    assert client_for(cast.agent1).get("/changes/cabs/new/").status_code == 403
    assert client_for(cast.requester).get("/changes/cabs/").status_code == 302  # sent to the portal
    assert "New CAB" in client_for(cast.change_manager).get("/changes/cabs/").content.decode()


def test_the_change_manager_sets_up_a_cab_in_the_app(cast, client_for):
    client = client_for(cast.change_manager)
    response = client.post("/changes/cabs/new/", {"name": "Mail CAB", "service": cast.services["mail"].pk,
                                                   "rule": "any", "quorum": 2,
                                                   "members": [cast.manager.pk, cast.engineer.pk], "active": "on"})
    assert response.status_code == 302
    cab = Cab.objects.get(name="Mail CAB")
    assert (cab.rule, cab.quorum, cab.service, sorted(m.username for m in cab.members.all())) == (
        CabRule.ANY, 2, cast.services["mail"], ["devon", "maria"])


def test_a_refused_cab_keeps_what_was_typed(cast, client_for):
    response = client_for(cast.change_manager).post("/changes/cabs/new/", {
        "name": "Tiny CAB", "rule": "any", "quorum": 3, "members": [cast.manager.pk], "active": "on"})
    assert response.status_code == 400
    page = response.content.decode()
    assert "Any 3 of 1 approvers cannot be met" in page and 'value="Tiny CAB"' in page
    assert not Cab.objects.exists()


def test_templates_are_written_versioned_and_retired_in_the_app(cast, client_for):
    client = client_for(cast.change_manager)
    values = {"title": "Restart web shop cache nodes", "risk": "low", "implementation_plan": "Restart one by one",
              "backout_plan": "None needed: nodes rejoin", "description": ""}
    assert client.post("/changes/templates/new/", values).status_code == 302
    template = ChangeTemplate.objects.get()
    response = client.post(f"/changes/templates/{template.pk}/", {**values, "risk": "medium", "note": "Peak hours"})
    assert response.status_code == 302
    page = client.get(f"/changes/templates/{template.pk}/").content.decode()
    assert "v2" in page and "Peak hours" in page
    assert client.post(f"/changes/templates/{template.pk}/retire/").status_code == 302
    assert template.__class__.objects.get().retired
    assert "Restart web shop cache nodes" in client.get("/changes/templates/?retired=1").content.decode()


def test_a_refused_template_keeps_what_was_typed(cast, client_for):
    response = client_for(cast.change_manager).post("/changes/templates/new/", {
        "title": "Reboot the mail relay", "risk": "low", "implementation_plan": "Reboot", "backout_plan": " "})
    assert response.status_code == 400
    assert 'value="Reboot the mail relay"' in response.content.decode()


def test_an_agent_raises_a_standard_change_from_a_template(cast, template, client_for):
    client = client_for(cast.agent2)
    form = client.get(f"/changes/templates/{template.pk}/new-change/").content.decode()
    assert 'value="Rotate VPN certificates"' in form and "Run the rotation playbook" in form
    response = client.post(f"/changes/templates/{template.pk}/new-change/",
                           {"title": "Rotate VPN certificates (Q3)", "description": ""})
    change = Ticket.objects.get(kind="change")
    assert response.status_code == 302 and response["Location"] == f"/tickets/{change.key}/"
    assert StandardChange.objects.get(ticket=change).template_version.number == 1
    page = client.get(f"/tickets/{change.key}/").content.decode()
    assert "Pre-approved: a standard change from the template" in page and "Approve (standard change)" in page


def test_the_standard_change_form_refuses_a_retired_template(cast, template, client_for):
    itsm.template_retire(actor=cast.change_manager, template=template)
    response = client_for(cast.agent2).post(f"/changes/templates/{template.pk}/new-change/",
                                            {"title": "Rotate VPN certificates"})
    assert response.status_code == 409 and "retired" in response.content.decode()


@pytest.mark.parametrize("rows", [1, 20])
def test_the_setup_pages_read_a_constant_number_of_queries(cast, client_for, rows, django_assert_max_num_queries):
    members = [UserFactory(role=Role.AGENT_L2) for _ in range(3)]
    for i in range(rows):
        itsm.cab_save(actor=cast.change_manager, name=f"CAB {i}", members=members, active=i == 0)
        itsm.template_create(actor=cast.change_manager, title=f"Template {i}", implementation_plan="p",
                             backout_plan="b", service=cast.services["mail"])
    client = client_for(cast.change_manager)
    client.get("/changes/cabs/")  # warm the session
    with django_assert_max_num_queries(6):
        assert client.get("/changes/cabs/").status_code == 200
    with django_assert_max_num_queries(6):
        assert client.get("/changes/templates/").status_code == 200


def test_a_change_page_with_many_rounds_reads_its_approvals_at_once(cast, submitted, client_for,
                                                                    django_assert_max_num_queries):
    change = submitted()
    client = client_for(cast.agent1)
    client.get(f"/tickets/{change.key}/")
    with django_assert_max_num_queries(25) as one_round:
        client.get(f"/tickets/{change.key}/")
    for text in ("Rev 2", "Rev 3", "Rev 4"):
        services.ticket_update(ticket=change, actor=cast.agent2, version=Ticket.objects.get(pk=change.pk).version,
                               changes={"backout_plan": text})
    assert ApprovalRound.objects.filter(ticket=change, status=RoundStatus.SUPERSEDED).count() == 3
    with django_assert_max_num_queries(len(one_round.captured_queries)):
        client.get(f"/tickets/{change.key}/")
    assert Ticket.objects.get(pk=change.pk).status == Status.REVIEW


def test_the_top_bar_counts_the_changes_waiting_for_my_vote(cast, submitted, client_for):
    change = submitted()
    client = client_for(cast.manager)
    assert "Approvals <span" in client.get("/changes/approvals/mine/").content.decode()
    voted = client.post(f"/tickets/{change.key}/vote/", {"decision": "approved"}, HTTP_HX_REQUEST="true")
    assert 'id="my-approvals" hx-swap-oob="true"></span>' in voted.content.decode()  # the count follows the vote
    assert "Approvals" not in client.get("/changes/approvals/mine/").content.decode()
    assert "Approvals <span" not in client_for(cast.agent1).get("/changes/approvals/mine/").content.decode()


def test_the_admin_reads_cabs_templates_and_rounds_but_does_not_edit_them(cast, submitted, template, client_for):
    client = client_for(cast.admin)
    submitted()
    for name in ("cab", "changetemplate", "approvalround"):
        listing = client.get(f"/admin/itsm/{name}/")
        assert listing.status_code == 200, name
        assert client.get(f"/admin/itsm/{name}/add/").status_code == 403, name
    round_page = client.get(f"/admin/itsm/approvalround/{ApprovalRound.objects.get().pk}/change/").content.decode()
    assert "carl" in round_page and "pending" in round_page
