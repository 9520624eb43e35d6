"""The service catalogue's pages: the list (filter by lifecycle, constant queries), a service's page with its
gate (sign-off and acceptance refused in place with what was typed kept), and the desk's flag on tickets of a
service that is not yet operational (the banner on the ticket page, the badge in the queue)."""

import pytest

from itsm.choices import GateItemCode, GateItemState
from itsm.services import gate as gates
from sla.models import Calendar, Policy
from tests.factories import ServiceFactory, TicketFactory
from tracker import services
from tracker.choices import Kind, ServiceLifecycle


@pytest.fixture
def expenses(cast):
    service = ServiceFactory(name="Expense claims", lifecycle=ServiceLifecycle.PLANNED,
                             service_manager=cast.manager, project_group=cast.l3)
    cast.l1.services.add(service)
    return service


def test_the_services_page_lists_people_groups_policies_and_gate_progress(cast, expenses, client_for):
    calendar = Calendar.objects.create(name="24x7")
    Policy.objects.create(name="Standard", calendar=calendar)
    Policy.objects.create(name="Payroll P1", calendar=calendar).services.add(cast.services["payroll"])
    gate = gates.gate_open(service=expenses, actor=cast.manager, approvers={GateItemCode.UAT: cast.agent2})
    uat = gate.items.get(code=GateItemCode.UAT)
    gates.gate_item_sign(item=uat, actor=cast.agent2, evidence="Done")
    cast.services["payroll"].owners.add(cast.manager)

    page = client_for(cast.agent1).get("/services/")

    html = page.content.decode()
    assert page.status_code == 200
    assert "Expense claims" in html and "In transition" in html and "gate: 1 of 7 signed off" in html
    assert "Payroll P1" in html and "Standard <span class=\"muted\">(default)</span>" in html
    assert "<strong>L3</strong> Payroll Dev" in html

    only = client_for(cast.agent1).get("/services/?lifecycle=in_transition").content.decode()
    assert "Expense claims" in only and "Payroll</strong>" not in only


PAGE_QUERIES = 8  # session, user, top bar, services with their counts, owners, groups, policies x2


@pytest.mark.parametrize("rows", [1, 12])
def test_the_services_page_reads_in_constant_queries(cast, client_for, django_assert_num_queries, rows):
    for n in range(rows):
        service = ServiceFactory(name=f"Service {n:02}", lifecycle=ServiceLifecycle.IN_TRANSITION,
                                 service_manager=cast.manager, project_group=cast.l3)
        service.owners.add(cast.manager)
        cast.l1.services.add(service)
        TicketFactory(service=service, requester=cast.requester)
        gates.gate_open(service=ServiceFactory(name=f"Planned {n:02}", lifecycle=ServiceLifecycle.PLANNED,
                                               service_manager=cast.manager), actor=cast.manager)
    client = client_for(cast.agent1)
    client.get("/services/")  # warm caches (content types, sprite)
    # session, user, services (with counts), owners, groups, policies by service, default policies, plus the
    # top bar's counts shared by every page
    with django_assert_num_queries(PAGE_QUERIES):
        assert client.get("/services/").status_code == 200


def test_requesters_do_not_see_the_services_pages(cast, expenses, client_for):
    assert client_for(cast.requester).get("/services/").status_code == 302
    assert client_for(cast.requester).get(f"/services/{expenses.pk}/").status_code == 302


def test_the_service_manager_opens_the_gate_appointing_approvers_from_the_page(cast, expenses, client_for):
    page = client_for(cast.manager).get(f"/services/{expenses.pk}/")
    assert "Open the operations gate" in page.content.decode()
    response = client_for(cast.manager).post(f"/services/{expenses.pk}/gate/open/", {
        "approver-uat": cast.agent2.pk, "approver-knowledge": cast.agent1.pk, "extra_label": "Data protection review",
        "extra_approver": cast.engineer.pk}, HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert response.status_code == 200 and 'id="gate"' in html and "<html" not in html
    assert "0 of 8 signed off" in html and "Data protection review" in html
    expenses.refresh_from_db()
    assert expenses.lifecycle == ServiceLifecycle.IN_TRANSITION
    assert expenses.gate.items.get(code=GateItemCode.UAT).approver == cast.agent2


def test_a_sign_off_by_someone_not_appointed_is_refused_in_place(cast, expenses, client_for):
    gate = gates.gate_open(service=expenses, actor=cast.manager, approvers={GateItemCode.UAT: cast.agent2})
    uat = gate.items.get(code=GateItemCode.UAT)
    response = client_for(cast.agent1).post(f"/services/{expenses.pk}/gate/items/{uat.pk}/sign/",
                                            {"evidence": "Tested it myself"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 403
    assert "Only liam, appointed to “User acceptance test done”, may sign it off." in response.content.decode()
    uat.refresh_from_db()
    assert uat.state == GateItemState.OPEN


def test_the_approver_signs_and_a_blank_note_keeps_the_form_in_place(cast, expenses, client_for):
    gate = gates.gate_open(service=expenses, actor=cast.manager, approvers={GateItemCode.UAT: cast.agent2})
    uat = gate.items.get(code=GateItemCode.UAT)
    liam = client_for(cast.agent2)
    page = liam.get(f"/services/{expenses.pk}/").content.decode()
    assert "What you checked for user acceptance test done" in page
    refused = liam.post(f"/services/{expenses.pk}/gate/items/{uat.pk}/sign/", {"evidence": "   "},
                        HTTP_HX_REQUEST="true")
    assert refused.status_code == 400 and "Say what you checked" in refused.content.decode()
    signed = liam.post(f"/services/{expenses.pk}/gate/items/{uat.pk}/sign/", {"evidence": "40 cases passed"},
                       HTTP_HX_REQUEST="true")
    assert signed.status_code == 200 and "Signed off by" in signed.content.decode()
    assert "40 cases passed" in signed.content.decode()


def test_an_early_accept_is_refused_in_place_naming_the_open_items_with_the_note_kept(cast, expenses, client_for):
    gates.gate_open(service=expenses, actor=cast.manager)
    response = client_for(cast.manager).post(f"/services/{expenses.pk}/gate/accept/",
                                             {"note": "Ready for Monday"}, HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert response.status_code == 400
    assert "7 of 7 items are not signed off yet: Knowledge articles for the desk;" in html
    assert ">Ready for Monday</textarea>" in html
    expenses.refresh_from_db()
    assert expenses.lifecycle == ServiceLifecycle.IN_TRANSITION


def test_an_admin_does_not_get_the_accept_button_and_is_refused(cast, expenses, client_for):
    gate = gates.gate_open(service=expenses, actor=cast.manager)
    for item in gate.items.all():
        gates.gate_item_sign(item=item, actor=cast.manager, evidence="ok")
    admin = client_for(cast.admin)
    assert "Accept the service" not in admin.get(f"/services/{expenses.pk}/").content.decode()
    assert admin.post(f"/services/{expenses.pk}/gate/accept/", {}).status_code == 403
    accepted = client_for(cast.manager).post(f"/services/{expenses.pk}/gate/accept/", {}, HTTP_HX_REQUEST="true")
    assert accepted.headers["HX-Redirect"] == f"/services/{expenses.pk}/"
    expenses.refresh_from_db()
    assert expenses.lifecycle == ServiceLifecycle.OPERATIONAL


def test_the_service_manager_edits_the_people_and_a_bad_choice_is_refused(cast, expenses, client_for):
    manager = client_for(cast.manager)
    response = manager.post(f"/services/{expenses.pk}/edit/", {
        "service_manager": cast.manager.pk, "owners": [cast.manager.pk, cast.agent2.pk],
        "project_group": cast.l3.pk, "description": "Travel and expense claims."})
    assert response.status_code == 302
    expenses.refresh_from_db()
    assert set(expenses.owners.all()) == {cast.manager, cast.agent2}
    assert client_for(cast.agent1).post(f"/services/{expenses.pk}/edit/", {"description": "x"}).status_code == 403


def test_a_ticket_of_a_service_in_transition_is_accepted_by_the_api_and_flagged_on_its_page(cast, expenses, api,
                                                                                           client_for):
    expenses.lifecycle = ServiceLifecycle.IN_TRANSITION
    expenses.save()
    response = api(cast.agent1).post("/api/v1/tickets/", {
        "kind": "incident", "title": "Expense form rejects receipts", "service": expenses.pk,
        "requester": cast.requester.pk}, format="json")
    assert response.status_code == 201, response.content
    key = response.json()["key"]
    page = client_for(cast.agent1).get(f"/tickets/{key}/").content.decode()
    assert "Not yet operational: escalate to the project team Payroll Dev" in page
    assert f'href="/services/{expenses.pk}/"' in page
    lena = client_for(cast.agent1)
    lena.post("/queue/columns/", {"columns": ["title", "not-operational"]}, HTTP_HX_REQUEST="true")
    queue = lena.get("/queue/?view=open").content.decode()
    assert "Service state" in queue and ">Not yet operational</span>" in queue


def test_the_api_refuses_a_ticket_for_a_retired_service(cast, api):
    retired = ServiceFactory(name="Fax gateway", lifecycle=ServiceLifecycle.RETIRED)
    response = api(cast.agent1).post("/api/v1/tickets/", {
        "kind": "incident", "title": "Fax lost", "service": retired.pk, "requester": cast.requester.pk},
        format="json")
    assert response.status_code == 400 and "service" in response.json()["fields"]


def test_operational_tickets_carry_no_flag(cast, client_for):
    ticket = services.ticket_create(actor=cast.agent1, kind=Kind.INCIDENT, title="Payslip blank",
                                    requester=cast.requester, service=cast.services["payroll"])
    assert "Not yet operational" not in client_for(cast.agent1).get(f"/tickets/{ticket.key}/").content.decode()


def test_the_portal_does_not_offer_a_service_until_it_is_operational(cast, expenses, client_for):
    portal = client_for(cast.requester)
    assert "Expense claims" not in portal.get("/portal/new/?kind=incident").content.decode()
    expenses.lifecycle = ServiceLifecycle.OPERATIONAL
    expenses.save()
    assert "Expense claims" in portal.get("/portal/new/?kind=incident").content.decode()
