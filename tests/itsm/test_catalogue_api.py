"""The catalogue's API: items with their form's schema for the caller, ordering one (201, or 400 naming the
answer), and a request ordered from the catalogue with its answers, approval and fulfilment."""

from itsm.choices import CatalogAudience
from itsm.models import CatalogRequest
from itsm.services import catalogue as cat
from tests.itsm.catalogue_items import GOOD, make_item
from tracker import services
from tracker.choices import Kind
from tracker.models import Ticket


def test_the_items_come_with_their_form_schema_and_only_what_the_caller_may_order(cast, api, laptop, vpn):
    make_item(laptop.service, name="Admin rights", audience=CatalogAudience.STAFF)
    items = api(cast.requester).get("/api/v1/catalogue/items/").json()
    assert [i["name"] for i in items] == ["VPN access", "New laptop"]  # by service: Mail, then Payroll
    laptop_row = items[1]
    assert laptop_row["approval"] == "manager" and laptop_row["automatable"] is False
    assert laptop_row["fulfilment_group"] == "Hardware" and laptop_row["icon"] == "monitor"
    assert items[0]["automatable"] is True
    fields = {f["name"]: f for f in laptop_row["fields"]}
    assert list(fields) == ["model", "needed_by", "justification", "cost_centre", "for_whom", "docking", "monitors"]
    assert fields["model"]["choices"][0] == "ThinkPad T14" and fields["model"]["required"] is True
    assert (fields["monitors"]["min"], fields["monitors"]["max"]) == (0, 2)
    assert fields["justification"]["max_length"] == 500 and fields["cost_centre"]["pattern"] == r"CC-\d{4}"
    assert "Admin rights" in [i["name"] for i in api(cast.agent1).get("/api/v1/catalogue/items/").json()]
    assert api(cast.requester).get("/api/v1/catalogue/items/", {"q": "vpn"}).json()[0]["name"] == "VPN access"
    assert api(cast.requester).get(f"/api/v1/catalogue/items/{laptop.pk}/").json()["name"] == "New laptop"


def test_ordering_answers_201_with_the_request(cast, api, laptop):
    response = api(cast.requester).post(f"/api/v1/catalogue/items/{laptop.pk}/order/",
                                        {"answers": {**GOOD, "monitors": 1}}, format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    ticket = Ticket.objects.get(key=body["ticket"])
    assert body["request"]["approval"] == "pending" and body["request"]["approver"] == cast.manager.display_name
    assert body["request"]["answers"]["monitors"] == 1 and ticket.catalog_request.item == laptop


def test_a_missing_required_answer_is_400_naming_the_field(cast, api, laptop):
    answers = {k: v for k, v in GOOD.items() if k != "model"}
    response = api(cast.requester).post(f"/api/v1/catalogue/items/{laptop.pk}/order/", {"answers": answers},
                                        format="json")
    assert response.status_code == 400
    assert response.json()["fields"] == {"model": ["This answer is required."]}
    assert "Model" in response.json()["detail"] and not Ticket.objects.exists()


def test_a_bad_value_is_400_naming_the_field(cast, api, laptop):
    response = api(cast.requester).post(f"/api/v1/catalogue/items/{laptop.pk}/order/",
                                        {"answers": {**GOOD, "monitors": 9, "colour": "red"}}, format="json")
    assert response.status_code == 400 and set(response.json()["fields"]) == {"monitors", "colour"}


def test_the_desk_orders_for_a_requester_and_a_requester_may_not(cast, api, vpn):
    url = f"/api/v1/catalogue/items/{vpn.pk}/order/"
    body = {"answers": {"reason": "Contractor"}, "requester": cast.other_requester.pk}
    assert api(cast.requester).post(url, body, format="json").status_code == 403
    assert api(cast.agent1).post(url, {**body, "requester": 10**6}, format="json").json()["fields"] == {
        "requester": ["Unknown person."]}
    response = api(cast.agent1).post(url, body, format="json")
    assert response.status_code == 201 and Ticket.objects.get().requester == cast.other_requester


def test_a_staff_only_item_is_not_found_for_a_requester(cast, api, laptop):
    admin = make_item(laptop.service, name="Admin rights", audience=CatalogAudience.STAFF)
    assert api(cast.requester).get(f"/api/v1/catalogue/items/{admin.pk}/").status_code == 404
    assert api(cast.requester).post(f"/api/v1/catalogue/items/{admin.pk}/order/", {}, format="json"
                                    ).status_code == 404
    assert not CatalogRequest.objects.exists()


def test_a_request_reads_with_its_answers_approval_and_fulfilment(cast, api, vpn):
    ticket = cat.request_order(actor=cast.requester, item=vpn, answers={"reason": "Working from Lisbon"})
    body = api(cast.requester).get(f"/api/v1/catalogue/requests/{ticket.key}/").json()
    assert body["answers"] == {"reason": "Working from Lisbon"} and body["approval"] == "not_needed"
    assert body["automation"] == "queued" and body["tasks"] == [] and body["tasks_done"] == 0
    assert body["approval_text"] == "No approval needed"
    assert api(cast.other_requester).get(f"/api/v1/catalogue/requests/{ticket.key}/").status_code == 404
    plain = services.ticket_create(actor=cast.requester, kind=Kind.REQUEST, title="Free-text request")
    assert api(cast.agent1).get(f"/api/v1/catalogue/requests/{plain.key}/").status_code == 404
