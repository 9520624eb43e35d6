"""The services API: services with groups per tier, policies, lifecycle and gate summary; groups with members;
the gate (open, sign off, reopen, accept) with the must-show refusals as the house's JSON; catalogue setup."""

import pytest

from itsm.choices import GateItemCode
from itsm.models import CatalogItem, OperationsGate
from tests.factories import ServiceFactory
from tracker.choices import ServiceLifecycle


@pytest.fixture
def expenses(cast):
    service = ServiceFactory(name="Expense claims", lifecycle=ServiceLifecycle.PLANNED,
                             service_manager=cast.manager, project_group=cast.l3)
    cast.l1.services.add(service)
    return service


def test_services_are_listed_with_groups_per_tier_policies_and_gate(cast, expenses, api):
    body = api(cast.agent1).get("/api/v1/services/?lifecycle=planned").json()
    assert [s["name"] for s in body] == ["Expense claims"]
    row = body[0]
    assert row["groups"]["L1"] == [{"id": cast.l1.pk, "name": "Service Desk", "tier": 1}]
    assert row["groups"]["L3"] == [] and row["service_manager"]["username"] == "maria"
    assert row["gate"] == {"open": False, "signed": 0, "total": 0, "accepted_at": None}
    assert api(cast.agent1).get("/api/v1/services/?lifecycle=nope").status_code == 400
    assert api(cast.requester).get("/api/v1/services/").status_code == 403


def test_groups_are_listed_with_members_tier_and_services(cast, api):
    body = api(cast.agent1).get("/api/v1/groups/").json()
    desk = next(g for g in body if g["name"] == "Service Desk")
    assert desk["tier"] == 1 and [m["username"] for m in desk["members"]] == ["lena"]
    assert desk["services"] == ["Payroll"]


def test_a_service_is_edited_by_its_manager_only(cast, expenses, api):
    url = f"/api/v1/services/{expenses.pk}/"
    denied = api(cast.agent1).patch(url, {"description": "x"}, format="json")
    assert denied.status_code == 403 and "Only the service manager" in denied.json()["detail"]
    done = api(cast.manager).patch(url, {"owners": [cast.agent2.pk], "description": "Claims."}, format="json")
    assert done.status_code == 200 and [o["username"] for o in done.json()["owners"]] == ["liam"]
    bad = api(cast.manager).patch(url, {"project_group": 999999}, format="json")
    assert bad.status_code == 400 and bad.json()["fields"] == {"project_group": ["Unknown group."]}


def test_the_gate_through_the_api_with_the_must_show_refusals(cast, expenses, api):
    base = f"/api/v1/services/{expenses.pk}/gate"
    assert api(cast.agent1).get(f"{base}/").status_code == 404
    opened = api(cast.manager).post(f"{base}/open/", {"approvers": {"uat": cast.agent2.pk}}, format="json")
    assert opened.status_code == 201
    items = {i["code"]: i for i in opened.json()["items"]}
    uat = items[GateItemCode.UAT]
    assert uat["approver"]["username"] == "liam" and uat["live_evidence"] is None
    assert items[GateItemCode.SUPPORT_GROUPS]["live_evidence"] == "L1: Service Desk — no L2, L3 group"

    # sign off by someone not appointed
    denied = api(cast.agent1).post(f"{base}/items/{uat['id']}/sign/", {"evidence": "fine"}, format="json")
    assert denied.status_code == 403 and denied.json()["code"] == "forbidden"
    signed = api(cast.agent2).post(f"{base}/items/{uat['id']}/sign/", {"evidence": "40 cases"}, format="json")
    assert signed.status_code == 200
    twice = api(cast.agent2).post(f"{base}/items/{uat['id']}/sign/", {"evidence": "again"}, format="json")
    assert twice.status_code == 409

    # accept with unchecked items, and by someone who is not the service manager
    early = api(cast.manager).post(f"{base}/accept/", {}, format="json")
    assert early.status_code == 400 and "6 of 7 items are not signed off yet" in early.json()["detail"]
    assert len(early.json()["fields"]["items"]) == 6
    for item in opened.json()["items"]:
        if item["code"] != GateItemCode.UAT:
            api(cast.manager).post(f"{base}/items/{item['id']}/sign/", {"evidence": "ok"}, format="json")
    admin = api(cast.admin).post(f"{base}/accept/", {}, format="json")
    assert admin.status_code == 403 and "not accept for them" in admin.json()["detail"]
    reopened = api(cast.manager).post(f"{base}/items/{uat['id']}/reopen/", {"reason": "Retest the export"},
                                      format="json")
    assert reopened.status_code == 200 and reopened.json()["open_items"] == ["User acceptance test done"]
    api(cast.agent2).post(f"{base}/items/{uat['id']}/sign/", {"evidence": "Export retested"}, format="json")
    accepted = api(cast.manager).post(f"{base}/accept/", {"note": "Live Monday"}, format="json")
    assert accepted.status_code == 200 and accepted.json()["lifecycle"] == "operational"
    assert OperationsGate.objects.get().acceptance_note == "Live Monday"


def test_catalogue_items_and_fields_are_set_up_through_the_api(cast, expenses, api):
    expenses.owners.add(cast.agent2)
    base = f"/api/v1/services/{expenses.pk}/catalogue/items/"
    assert api(cast.agent1).post(base, {"name": "Claim"}, format="json").status_code == 403
    created = api(cast.agent2).post(base, {"name": "Travel claim", "icon": "file-text", "approval": "manager",
                                           "fulfilment_group": cast.l2.pk}, format="json")
    assert created.status_code == 201, created.content
    item = created.json()
    fields = f"{base}{item['id']}/fields/"
    bad = api(cast.agent2).post(fields, {"label": "Amount", "type": "number", "min_value": "100",
                                         "max_value": "5"}, format="json")
    assert bad.status_code == 400 and "max_value" in bad.json()["fields"]
    choice = api(cast.agent2).post(fields, {"label": "Currency", "type": "choice"}, format="json")
    assert choice.status_code == 400 and choice.json()["fields"]["choices"]
    ok = api(cast.agent2).post(fields, {"label": "Currency", "type": "choice", "choices": ["EUR", "GBP"],
                                        "required": True}, format="json")
    assert ok.status_code == 201 and ok.json()["name"] == "currency"
    patched = api(cast.agent2).patch(f"{fields}{ok.json()['id']}/", {"help_text": "As on the receipt"},
                                     format="json")
    assert patched.status_code == 200 and patched.json()["help_text"] == "As on the receipt"
    listed = api(cast.agent2).get(base).json()
    assert listed[0]["fields"][0]["choices"] == ["EUR", "GBP"]
    renamed = api(cast.agent2).patch(f"{base}{item['id']}/", {"active": False}, format="json")
    assert renamed.status_code == 200 and not CatalogItem.objects.get().active
    assert api(cast.agent2).delete(f"{fields}{ok.json()['id']}/").status_code == 204
