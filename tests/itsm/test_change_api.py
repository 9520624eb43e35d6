"""The change-enablement API: votes and approval rounds, CABs, templates and standard changes; every refusal is
a 4xx with what to fix, the same rules as the pages."""

import pytest

from itsm import services as itsm
from itsm.choices import Vote
from tracker.choices import Status

from .conftest import PLAN


def _vote(client, key, decision, comment=""):
    return client.post(f"/api/v1/changes/{key}/approvals/vote/", {"decision": decision, "comment": comment},
                       format="json")


def _submit(client, key):
    return client.post(f"/api/v1/tickets/{key}/transition/", {"to": "review", **PLAN}, format="json")


@pytest.fixture
def change_key(cast, cabs, api):
    client = api(cast.agent2)
    key = client.post("/api/v1/tickets/", {"kind": "change", "title": "Move payroll batch to 02:00",
                                          "change_type": "normal"}, format="json").json()["key"]
    assert _submit(client, key).status_code == 200
    return key


def test_approvers_vote_through_the_api_and_the_deciding_vote_moves_the_change(cast, api, change_key):
    answer = _vote(api(cast.manager), change_key, "approved", "Fine")
    assert answer.status_code == 200
    body = answer.json()
    assert body["status"] == "review" and body["round"]["number"] == 1
    assert {a["approver"]["username"]: a["decision"] for a in body["round"]["approvals"]} == {
        "carl": "pending", "devon": "pending", "maria": "approved"}
    done = _vote(api(cast.engineer), change_key, "approved").json()
    assert done["status"] == "approved" and done["round"]["status"] == "approved"
    ticket = api(cast.agent2).get(f"/api/v1/tickets/{change_key}/").json()
    assert ticket["decision_note"].startswith("Approved by Change Advisory Board")


def test_the_approvals_list_keeps_every_round(cast, api, cabs):
    client = api(cast.agent2)
    key = client.post("/api/v1/tickets/", {"kind": "change", "title": "Payroll patch", "change_type": "normal",
                                          "service": cast.services["payroll"].pk}, format="json").json()["key"]
    _submit(client, key)
    _vote(api(cast.manager), key, "rejected", "Clashes with the bank upload")
    assert client.post(f"/api/v1/tickets/{key}/transition/", {"to": "new"}, format="json").status_code == 200
    assert client.post(f"/api/v1/tickets/{key}/transition/", {"to": "review"}, format="json").status_code == 200
    rounds = client.get(f"/api/v1/changes/{key}/approvals/").json()
    assert [(r["number"], r["status"]) for r in rounds] == [(2, "open"), (1, "rejected")]
    assert rounds[1]["approvals"][1]["comment"] == "Clashes with the bank upload"
    assert rounds[0]["cab"]["name"] == "Payroll CAB" and rounds[0]["rule"] == "all"


@pytest.mark.parametrize("who, status, words", [
    ("agent2", 403, "may not approve it"),  # the requester
    ("agent1", 403, "not an approver"),
    ("requester", 404, "that you can see"),  # a requester does not see a change that is not theirs
])
def test_votes_that_are_not_yours_to_cast_are_refused(cast, api, change_key, who, status, words):
    answer = _vote(api(getattr(cast, who)), change_key, "approved")
    assert answer.status_code == status and words in answer.json()["detail"]


def test_a_second_vote_is_a_409_and_a_reject_without_reason_a_400(cast, api, change_key):
    client = api(cast.manager)
    refused = _vote(client, change_key, "rejected", "")
    assert refused.status_code == 400 and "comment" in refused.json()["fields"]
    assert _vote(client, change_key, "approved").status_code == 200
    again = _vote(client, change_key, "rejected", "Changed my mind")
    assert again.status_code == 409 and "already voted" in again.json()["detail"]
    assert _vote(client, change_key, "pending").status_code == 400


def test_moving_a_change_to_approved_by_hand_is_a_409(cast, api, change_key):
    for user in (cast.change_manager, cast.admin):
        answer = api(user).post(f"/api/v1/tickets/{change_key}/transition/", {"to": "approved",
                                                                             "decision_note": "ok"}, format="json")
        assert answer.status_code == 409 and "votes" in answer.json()["detail"]
    ticket = api(cast.agent2).get(f"/api/v1/tickets/{change_key}/").json()
    assert ticket["status"] == "review"
    assert "approved" not in [t["to"] for t in ticket["transitions"]]


def test_patching_the_plan_after_approval_sends_it_back_to_review(cast, api, change_key):
    for user in (cast.manager, cast.engineer):
        _vote(api(user), change_key, "approved")
    client = api(cast.agent2)
    etag = client.get(f"/api/v1/tickets/{change_key}/")["ETag"]
    answer = client.patch(f"/api/v1/tickets/{change_key}/", {"implementation_plan": "Edit cron on both nodes"},
                          format="json", HTTP_IF_MATCH=etag)
    assert answer.status_code == 200 and answer.json()["status"] == "review"
    rounds = client.get(f"/api/v1/changes/{change_key}/approvals/").json()
    assert [(r["number"], r["status"]) for r in rounds] == [(2, "open"), (1, "approved")]


def test_patching_the_type_after_submission_is_a_409(cast, api, change_key):
    client = api(cast.agent2)
    etag = client.get(f"/api/v1/tickets/{change_key}/")["ETag"]
    answer = client.patch(f"/api/v1/tickets/{change_key}/", {"change_type": "standard"}, format="json",
                          HTTP_IF_MATCH=etag)
    assert answer.status_code == 409


def test_a_standard_change_is_created_only_from_a_template(cast, api):
    client = api(cast.agent2)
    refused = client.post("/api/v1/tickets/", {"kind": "change", "title": "Rotate certs", "change_type": "standard"},
                          format="json")
    assert refused.status_code == 400 and "template" in refused.json()["detail"]
    template = api(cast.change_manager).post("/api/v1/changes/templates/", {
        "title": "Rotate VPN certificates", "implementation_plan": "Run the playbook", "backout_plan": "Restore",
        "risk": "low", "service": cast.services["mail"].pk}, format="json")
    assert template.status_code == 201 and template.json()["version"] == 1
    tid = template.json()["id"]
    made = client.post(f"/api/v1/changes/templates/{tid}/changes/", {"window_start": "2026-07-01T20:00:00Z",
                                                                     "window_end": "2026-07-01T21:00:00Z"},
                       format="json")
    assert made.status_code == 201
    body = made.json()
    assert (body["change_type"], body["implementation_plan"], body["status"]) == ("standard", "Run the playbook", "new")
    assert "approved" in [t["to"] for t in body["transitions"]]


def test_templates_are_versioned_and_retired_through_the_api(cast, api):
    manager = api(cast.change_manager)
    tid = manager.post("/api/v1/changes/templates/", {"title": "Restart cache nodes", "implementation_plan": "p",
                                                      "backout_plan": "b"}, format="json").json()["id"]
    edited = manager.patch(f"/api/v1/changes/templates/{tid}/", {"risk": "medium", "note": "Peak hours"},
                           format="json")
    assert edited.status_code == 200 and edited.json()["version"] == 2
    assert [v["number"] for v in edited.json()["versions"]] == [2, 1]
    assert api(cast.agent2).patch(f"/api/v1/changes/templates/{tid}/", {"risk": "high"},
                                  format="json").status_code == 403
    assert manager.post(f"/api/v1/changes/templates/{tid}/retire/").json()["retired"] is True
    assert manager.get("/api/v1/changes/templates/").json() == []
    assert [t["id"] for t in manager.get("/api/v1/changes/templates/?retired=true").json()] == [tid]
    refused = api(cast.agent2).post(f"/api/v1/changes/templates/{tid}/changes/", {}, format="json")
    assert refused.status_code == 409 and "retired" in refused.json()["detail"]


def test_cabs_are_configured_by_the_change_manager_through_the_api(cast, api, cabs):
    manager = api(cast.change_manager)
    listed = api(cast.agent1).get("/api/v1/changes/cabs/").json()
    assert {c["name"] for c in listed} == {"Change Advisory Board", "Payroll CAB", "Emergency CAB"}
    made = manager.post("/api/v1/changes/cabs/", {"name": "Mail CAB", "service": cast.services["mail"].pk,
                                                  "members": [cast.manager.pk, cast.engineer.pk]}, format="json")
    assert made.status_code == 201 and made.json()["rule"] == "majority"
    emergency = manager.post("/api/v1/changes/cabs/", {"name": "Mail ECAB", "emergency": True,
                                                       "service": cast.services["mail"].pk,
                                                       "members": [cast.manager.pk]}, format="json").json()
    assert (emergency["rule"], emergency["quorum"]) == ("any", 1)  # an emergency CAB: one approval by default
    patched = manager.patch(f"/api/v1/changes/cabs/{made.json()['id']}/", {"rule": "all"}, format="json")
    assert patched.status_code == 200 and patched.json()["rule"] == "all"
    assert api(cast.agent2).post("/api/v1/changes/cabs/", {"name": "Mine", "members": [cast.agent2.pk]},
                                 format="json").status_code == 403
    clash = manager.post("/api/v1/changes/cabs/", {"name": "Another global", "members": [cast.manager.pk]},
                         format="json")
    assert clash.status_code == 409
    assert api(cast.requester).get("/api/v1/changes/cabs/").status_code == 403
    unknown = manager.post("/api/v1/changes/cabs/", {"name": "X", "members": [cast.manager.pk], "colour": "red"},
                           format="json")
    assert unknown.status_code == 400 and "colour" in unknown.json()["fields"]


def test_an_emergency_change_starts_before_approval_through_the_api(cast, api, cabs):
    client = api(cast.agent2)
    key = client.post("/api/v1/tickets/", {"kind": "change", "title": "Hotfix payroll tax tables",
                                          "change_type": "emergency"}, format="json").json()["key"]
    _submit(client, key)
    url = f"/api/v1/tickets/{key}/transition/"
    assert client.post(url, {"to": "in_progress"}, format="json").status_code == 400
    started = client.post(url, {"to": "in_progress", "emergency_justification": "Tonight's run fails without it"},
                          format="json")
    assert started.status_code == 200 and started.json()["status"] == Status.IN_PROGRESS
    assert _vote(api(cast.manager), key, Vote.APPROVED).json()["round"]["status"] == "approved"


def test_a_new_change_through_the_api_carries_no_decision(cast, api):
    answer = api(cast.agent2).post("/api/v1/tickets/", {"kind": "change", "title": "x", "change_type": "normal",
                                                        "decision_note": "Approved already"}, format="json")
    assert answer.status_code == 400 and "decision_note" in answer.json()["fields"]


def test_the_vote_is_in_the_schema(client, db):
    schema = client.get("/api/schema/").content.decode()
    for path in ("/api/v1/changes/{key}/approvals/vote/", "/api/v1/changes/templates/{id}/changes/",
                 "/api/v1/changes/cabs/"):
        assert path in schema


def test_votes_by_the_domain_function_and_the_api_agree(cast, api, change_key):
    from tracker.models import Ticket

    itsm.approval_vote(ticket=Ticket.objects.get(key=change_key), actor=cast.manager, decision=Vote.APPROVED)
    assert _vote(api(cast.manager), change_key, "approved").status_code == 409
