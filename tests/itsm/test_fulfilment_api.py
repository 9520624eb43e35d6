"""The API of catalogue requests after the order: approve and reject (refusals in the house's JSON, the field
named), my pending approvals, a request's tasks taken and finished, a failed automation run again."""

import pytest

from itsm.choices import ApprovalState, TaskState
from itsm.models import CatalogRequest
from itsm.services import fulfilment
from tests.itsm.test_fulfilment import approved_laptop, laptop_item, order, tasks_of, vpn_item
from tracker.choices import Status

API = "/api/v1/catalogue"


@pytest.fixture
def waiting(cast):
    cast.requester.manager = cast.manager
    cast.requester.save(update_fields=["manager"])
    return order(laptop_item(cast), cast.requester)


def test_my_pending_approvals_and_an_approval(api, cast, waiting):
    key = waiting.ticket.key
    pending = api(cast.manager).get(f"{API}/approvals/")
    assert [r["key"] for r in pending.json()] == [key]
    response = api(cast.manager).post(f"{API}/requests/{key}/approve/", {"note": "Budget OK"}, format="json")
    assert response.status_code == 200, response.json()
    assert (response.json()["approval"], response.json()["status"]) == (ApprovalState.APPROVED, Status.APPROVED)
    again = api(cast.manager).post(f"{API}/requests/{key}/reject/", {"note": "No"}, format="json")
    assert again.status_code == 409


def test_a_rejection_without_reason_names_the_field_and_own_requests_are_refused(api, cast, waiting):
    key = waiting.ticket.key
    refused = api(cast.manager).post(f"{API}/requests/{key}/reject/", {}, format="json")
    assert refused.status_code == 400 and "note" in refused.json()["fields"]
    own = api(cast.requester).post(f"{API}/requests/{key}/approve/", {}, format="json")
    assert own.status_code == 403 and "your own request" in own.json()["detail"]
    assert api(cast.other_requester).post(f"{API}/requests/{key}/approve/", {}, format="json").status_code == 404
    assert CatalogRequest.objects.get(pk=waiting.pk).approval == ApprovalState.PENDING


def test_tasks_are_listed_taken_and_finished(api, cast):
    request = approved_laptop(cast)
    key = request.ticket.key
    listed = api(cast.requester).get(f"{API}/requests/{key}/tasks/")
    assert [t["title"] for t in listed.json()] == ["Procure the laptop", "Set up and hand over"]
    assert api(cast.requester).post(f"{API}/requests/{key}/tasks/1/take/", {}, format="json").status_code == 403
    taken = api(cast.agent2).post(f"{API}/requests/{key}/tasks/1/take/", {"version": 1}, format="json")
    assert (taken.json()["assignee"], taken.json()["state"]) == ("liam", TaskState.IN_PROGRESS)
    stale = api(cast.agent2).post(f"{API}/requests/{key}/tasks/1/done/", {"version": 1}, format="json")
    assert stale.status_code == 412
    no_reason = api(cast.agent1).post(f"{API}/requests/{key}/tasks/2/cancel/", {}, format="json")
    assert no_reason.status_code == 400 and "note" in no_reason.json()["fields"]
    api(cast.agent2).post(f"{API}/requests/{key}/tasks/1/done/", {"note": "PO-4411"}, format="json")
    done = api(cast.agent1).post(f"{API}/requests/{key}/tasks/2/done/", {}, format="json")
    assert done.json()["state"] == TaskState.DONE
    assert [t.state for t in tasks_of(request)] == [TaskState.DONE, TaskState.DONE]
    request.ticket.refresh_from_db()
    assert request.ticket.status == Status.RESOLVED


def test_a_failed_automation_runs_again(api, cast, django_capture_on_commit_callbacks):
    request = order(vpn_item(cast, handler="missing"), cast.requester)
    with pytest.raises(LookupError):
        fulfilment.automation_run(request_pk=request.pk)
    key = request.ticket.key
    assert api(cast.requester).post(f"{API}/requests/{key}/automation/run-again/").status_code == 403
    with django_capture_on_commit_callbacks(execute=False) as queued:
        response = api(cast.agent1).post(f"{API}/requests/{key}/automation/run-again/")
    assert response.json()["automation"] == "queued" and len(queued) == 1
    assert api(cast.agent1).post(f"{API}/requests/{key}/automation/run-again/").status_code == 409
