"""The pages of a request after its order: the approval page (a line manager who is a requester decides there;
refusals in place with the typed note kept), the list and top-bar chip of requests to approve, and the
Fulfilment panel of the ticket page (take, done, cancel, run again; refusals in the task's row)."""

import pytest

from itsm.choices import ApprovalState, AutomationState, TaskState
from itsm.models import CatalogField, CatalogRequest
from itsm.services import fulfilment
from tests.factories import UserFactory
from tests.itsm.test_fulfilment import approved_laptop, laptop_item, order, tasks_of, vpn_item
from tracker.choices import Role, Status


@pytest.fixture
def rita(cast):
    """Bob's line manager: a requester, who cannot open the ticket page."""
    boss = UserFactory(username="rita", role=Role.REQUESTER, first_name="Rita", last_name="Reyes")
    cast.other_requester.manager = boss
    cast.other_requester.save(update_fields=["manager"])
    return boss


@pytest.fixture
def bobs_laptop(cast, rita):
    item = laptop_item(cast)
    CatalogField.objects.create(item=item, name="model", label="Which model", order=1)
    CatalogField.objects.create(item=item, name="keyboard", label="Keyboard layout", order=2)
    return order(item, cast.other_requester, answers={"model": "14-inch", "keyboard": "German"})


def test_a_requester_line_manager_sees_the_item_answers_and_requester_and_approves(client_for, rita, bobs_laptop):
    key = bobs_laptop.ticket.key
    page = client_for(rita)
    shown = page.get(f"/approvals/requests/{key}/").content.decode()
    for text in ("New laptop", "Which model", "14-inch", "Keyboard layout", "German", "Bob", "Approve", "Reject"):
        assert text in shown
    assert page.get(f"/tickets/{key}/").status_code in (302, 404)  # not their ticket page
    response = page.post(f"/approvals/requests/{key}/", {"decision": "approve", "note": ""}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert f"{key} is approved" in response.content.decode()
    bobs_laptop.refresh_from_db()
    assert bobs_laptop.approval == ApprovalState.APPROVED


def test_a_rejection_without_a_reason_is_refused_in_place_and_the_next_submit_works(client_for, rita, bobs_laptop):
    key = bobs_laptop.ticket.key
    page = client_for(rita)
    refused = page.post(f"/approvals/requests/{key}/", {"decision": "reject", "note": " "}, HTTP_HX_REQUEST="true")
    assert refused.status_code == 400
    html = refused.content.decode()
    assert 'id="decide-form"' in html and "Say why you reject" in html
    page.post(f"/approvals/requests/{key}/", {"decision": "reject", "note": "Use the pool laptop"})
    bobs_laptop.ticket.refresh_from_db()
    assert bobs_laptop.ticket.status == Status.CANCELLED


def test_approving_your_own_request_is_refused_with_the_typed_note_kept(client_for, cast):
    item = laptop_item(cast)
    item.approval, item.approver = "named", cast.manager
    item.save()
    request = order(item, cast.manager)
    refused = client_for(cast.manager).post(f"/approvals/requests/{request.ticket.key}/",
                                            {"decision": "approve", "note": "Mine, obviously"}, HTTP_HX_REQUEST="true")
    assert refused.status_code == 403
    html = refused.content.decode()
    assert "you may not approve your own request" in html and "Mine, obviously</textarea>" in html
    assert CatalogRequest.objects.get(pk=request.pk).approval == ApprovalState.PENDING


def test_nobody_else_finds_the_approval_page(client_for, cast, bobs_laptop):
    assert client_for(cast.requester).get(f"/approvals/requests/{bobs_laptop.ticket.key}/").status_code == 404


def test_the_chip_and_list_show_what_waits_for_me(client_for, rita, bobs_laptop, cast):
    page = client_for(rita)
    chip = page.get("/approvals/requests/chip/").content.decode()
    assert "Requests to approve" in chip and ">1<" in chip
    listing = page.get("/approvals/requests/").content.decode()
    assert bobs_laptop.ticket.key in listing and "New laptop" in listing
    assert "Requests to approve" not in client_for(cast.requester).get("/approvals/requests/chip/").content.decode()


def test_the_fulfilment_panel_takes_and_finishes_tasks_and_refuses_in_the_row(client_for, cast):
    request = approved_laptop(cast)
    key = request.ticket.key
    liam = client_for(cast.agent2)
    page = liam.get(f"/tickets/{key}/").content.decode()
    assert "Fulfilment" in page and "Procure the laptop" in page and "Approved" in page
    procure, hand_over = tasks_of(request)
    taken = liam.post(f"/tickets/{key}/fulfilment/tasks/1/take/", {"version": procure.version},
                      HTTP_HX_REQUEST="true")
    assert taken.status_code == 200 and f"{key} T1 is yours" in taken.content.decode()
    # liam is not in the desk's group: T2 is refused in its row
    refused = liam.post(f"/tickets/{key}/fulfilment/tasks/2/finish/", {"state": "cancelled", "note": "Hmm",
                                                                       "version": hand_over.version},
                        HTTP_HX_REQUEST="true")
    assert refused.status_code == 403 and "Only members of Service Desk" in refused.content.decode()
    # a page loaded before the take: refused in T1's row, the done form open with the typed note kept
    stale = liam.post(f"/tickets/{key}/fulfilment/tasks/1/finish/", {"state": "done", "note": "PO-4411",
                                                                     "version": procure.version},
                      HTTP_HX_REQUEST="true")
    assert stale.status_code == 412
    assert "changed by someone else" in stale.content.decode() and 'value="PO-4411"' in stale.content.decode()
    liam.post(f"/tickets/{key}/fulfilment/tasks/1/finish/", {"state": "done", "note": "PO-4411"})
    lena = client_for(cast.agent1)
    done = lena.post(f"/tickets/{key}/fulfilment/tasks/2/finish/", {"state": "done"}, HTTP_HX_REQUEST="true")
    assert "the request is resolved" in done.content.decode()
    assert [t.state for t in tasks_of(request)] == [TaskState.DONE, TaskState.DONE]


def test_a_failed_automation_shows_its_error_and_runs_again(client_for, cast, django_capture_on_commit_callbacks):
    request = order(vpn_item(cast, handler="missing"), cast.requester)
    with pytest.raises(LookupError):
        fulfilment.automation_run(request_pk=request.pk)
    key = request.ticket.key
    lena = client_for(cast.agent1)
    page = lena.get(f"/tickets/{key}/").content.decode()
    assert "No fulfilment handler" in page and "Run again" in page and "Automation failed" in page
    with django_capture_on_commit_callbacks(execute=False):
        response = lena.post(f"/tickets/{key}/fulfilment/automation/again/", HTTP_HX_REQUEST="true")
    assert "queued to run again" in response.content.decode()
    request.refresh_from_db()
    assert request.automation == AutomationState.QUEUED


def test_my_fulfilment_tasks_queue_lists_requests_with_open_tasks_for_my_groups(client_for, cast):
    request = approved_laptop(cast)
    assert request.ticket.key in client_for(cast.agent2).get("/queue/?view=fulfilment-tasks").content.decode()
    assert request.ticket.key not in client_for(cast.engineer).get("/queue/?view=fulfilment-tasks").content.decode()
