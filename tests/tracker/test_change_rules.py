"""Change rules the CAB relies on: the change type is fixed once the change has been submitted, and never
becomes 'standard' by an edit (standard changes come from a change manager's template)."""
import pytest

from itsm import services as itsm
from tracker import services
from tracker.errors import Conflict
from tracker.models import Ticket


@pytest.fixture
def submitted(cast, api):
    itsm.cab_save(actor=cast.change_manager, name="CAB", members=[cast.change_manager, cast.manager], rule="all")
    client = api(cast.agent2)
    key = client.post("/api/v1/tickets/", {"kind": "change", "title": "Move payroll batch", "change_type": "normal"},
                      format="json").json()["key"]
    submit = {"to": "review", "implementation_plan": "Edit cron", "backout_plan": "Revert", "risk": "medium"}
    assert client.post(f"/api/v1/tickets/{key}/transition/", submit, format="json").status_code == 200
    return key


def _patch(client, key, body):
    etag = client.get(f"/api/v1/tickets/{key}/")["ETag"]
    return client.patch(f"/api/v1/tickets/{key}/", body, format="json", HTTP_IF_MATCH=etag)


def test_a_submitted_normal_change_cannot_be_retyped_standard_to_skip_the_cab(cast, api, submitted):
    client = api(cast.agent2)
    response = _patch(client, submitted, {"change_type": "standard"})
    assert response.status_code == 409
    assert "already been submitted" in response.json()["detail"] and "Normal (CAB)" in response.json()["detail"]
    body = client.get(f"/api/v1/tickets/{submitted}/").json()
    assert body["change_type"] == "normal" and body["version"] == 2


def test_a_rejected_change_back_in_new_keeps_its_type(cast, api, submitted):
    vote = api(cast.change_manager).post(f"/api/v1/changes/{submitted}/approvals/vote/",
                                         {"decision": "rejected", "comment": "No"}, format="json")
    assert vote.json()["status"] == "rejected"
    url = f"/api/v1/tickets/{submitted}/transition/"
    client = api(cast.agent2)
    assert client.post(url, {"to": "new"}, format="json").status_code == 200
    assert _patch(client, submitted, {"change_type": "emergency"}).status_code == 409
    assert client.post(url, {"to": "approved", "implementation_plan": "x"}, format="json").status_code == 409


def test_the_type_of_a_new_change_can_still_be_corrected_but_not_to_standard(cast, api):
    client = api(cast.agent2)
    key = client.post("/api/v1/tickets/", {"kind": "change", "title": "Rotate certs", "change_type": "normal"},
                      format="json").json()["key"]
    assert _patch(client, key, {"change_type": "emergency"}).json()["change_type"] == "emergency"
    refused = _patch(client, key, {"change_type": "standard"})
    assert refused.status_code == 400 and "template" in refused.json()["detail"]


def test_the_rule_is_in_the_domain_function_for_every_front_end(cast, submitted):
    ticket = Ticket.objects.get(key=submitted)
    with pytest.raises(Conflict):
        services.ticket_update(ticket=ticket, actor=cast.admin, version=ticket.version,
                               changes={"change_type": "emergency"})
    # an unchanged type (a form that sends every field) is no change and passes
    services.ticket_update(ticket=ticket, actor=cast.agent2, version=ticket.version,
                           changes={"change_type": "normal", "description": "Also the bank's cut-off"})
