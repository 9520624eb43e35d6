"""Touch and hold: the owner (accountable to the requester) beside the responsible (who works it now), the
per-group ownership rule on escalation, the explicit owner change, and direct-support intake."""
import pytest

from tests.factories import ServiceFactory, UserFactory
from tracker import services
from tracker.choices import EventKind, Kind, Ownership, Role
from tracker.errors import AccessDenied, ValidationFailed
from tracker.models import Ticket, TicketEvent

HX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def incident(cast):
    return services.ticket_create(actor=cast.requester, kind=Kind.INCIDENT, title="Payslips are blank",
                                  service=cast.services["payroll"])


def _owner_events(ticket):
    return list(TicketEvent.objects.filter(ticket=ticket, kind=EventKind.ASSIGNMENT, field="owner")
                .order_by("id").values_list("old", "new"))


# --- the owner is set when a ticket first gets a person --------------------------------------------------


def test_the_first_assignee_becomes_the_owner_and_a_later_one_does_not(cast, incident):
    services.ticket_assign(ticket=incident, actor=cast.agent1, assignee=cast.agent1)
    assert incident.owner == cast.agent1
    services.ticket_assign(ticket=incident, actor=cast.manager, assignee=None)
    services.ticket_assign(ticket=incident, actor=cast.manager, assignee=cast.agent2)
    incident.refresh_from_db()
    assert (incident.owner, incident.assignee) == (cast.agent1, cast.agent2)
    assert _owner_events(incident) == [("", str(cast.agent1))]


def test_a_ticket_created_with_an_assignee_is_owned_by_them(cast):
    ticket = services.ticket_create(actor=cast.agent1, kind=Kind.INCIDENT, title="VPN drops", assignee=cast.agent1)
    assert ticket.owner == cast.agent1
    assert _owner_events(ticket) == [("", str(cast.agent1))]


def test_picking_a_ticket_nobody_owns_makes_the_picker_its_owner(cast):
    defect = services.ticket_create(actor=cast.agent2, kind=Kind.DEFECT, title="Rounding error", group=cast.l3)
    services.ticket_claim(ticket=defect, actor=cast.engineer)
    defect.refresh_from_db()
    assert defect.owner == cast.engineer == defect.assignee
    assert _owner_events(defect) == [("", str(cast.engineer))]


def test_an_edit_of_the_assignee_field_gives_a_ticket_without_owner_its_owner(cast, incident):
    services.ticket_update(ticket=incident, actor=cast.agent1, version=incident.version,
                           changes={"assignee": cast.agent1})
    incident.refresh_from_db()
    assert incident.owner == cast.agent1
    assert _owner_events(incident) == [("", str(cast.agent1))]


# --- escalation: hold or hand over, one rule per group ------------------------------------------------------


def test_escalating_out_of_a_hold_team_keeps_the_owner_and_clears_the_responsible(cast, incident):
    assert cast.l1.ownership == Ownership.HOLD
    services.ticket_assign(ticket=incident, actor=cast.agent1, assignee=cast.agent1)
    services.ticket_escalate(ticket=incident, actor=cast.agent1)
    incident.refresh_from_db()
    assert (incident.group, incident.owner, incident.assignee) == (cast.l2, cast.agent1, None)
    assert cast.agent1 in incident.watchers.all()
    note = TicketEvent.objects.get(ticket=incident, kind=EventKind.ESCALATION).note
    assert "keeps ownership (touch and hold)" in note
    # L2 picks it up: responsible changes, the owner stays
    services.ticket_assign(ticket=incident, actor=cast.agent2, assignee=cast.agent2)
    incident.refresh_from_db()
    assert (incident.owner, incident.assignee) == (cast.agent1, cast.agent2)


def test_a_hold_team_makes_whoever_held_an_unowned_ticket_its_owner(cast, incident):
    services.ticket_assign(ticket=incident, actor=cast.agent1, assignee=cast.agent1)
    Ticket.objects.filter(pk=incident.pk).update(owner=None)  # a ticket from before owners existed
    incident.refresh_from_db()
    services.ticket_escalate(ticket=incident, actor=cast.agent1)
    incident.refresh_from_db()
    assert (incident.owner, incident.assignee) == (cast.agent1, None)
    assert _owner_events(incident)[-1] == ("", str(cast.agent1))


def test_escalating_out_of_a_hand_over_team_clears_the_owner_and_the_next_taker_owns_it(cast, incident):
    cast.l2.ownership = Ownership.HAND_OVER
    cast.l2.save()
    services.ticket_assign(ticket=incident, actor=cast.agent1, assignee=cast.agent1)
    services.ticket_escalate(ticket=incident, actor=cast.agent1)  # L1 holds: agent1 keeps it
    services.ticket_assign(ticket=incident, actor=cast.agent2, assignee=cast.agent2)
    services.ticket_escalate(ticket=incident, actor=cast.agent2)  # L2 hands over to L3
    incident.refresh_from_db()
    assert (incident.group, incident.owner, incident.assignee) == (cast.l3, None, None)
    assert {cast.agent1, cast.agent2} <= set(incident.watchers.all())  # the previous owner stays informed
    assert "ownership handed over to Payroll Dev" in TicketEvent.objects.filter(
        ticket=incident, kind=EventKind.ESCALATION).last().note
    services.ticket_claim(ticket=incident, actor=cast.engineer)
    incident.refresh_from_db()
    assert incident.owner == cast.engineer == incident.assignee
    assert _owner_events(incident) == [("", "lena"), ("lena", ""), ("", "devon")]


def test_a_swarming_team_escalates_like_any_other_the_responsible_is_cleared(cast, incident):
    cast.l1.swarming = True
    cast.l1.save()
    services.ticket_assign(ticket=incident, actor=cast.agent1, assignee=cast.agent1)
    services.ticket_escalate(ticket=incident, actor=cast.agent1)
    incident.refresh_from_db()
    assert (incident.owner, incident.assignee) == (cast.agent1, None)


# --- the explicit owner change --------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["agent1", "manager", "admin", "incident_manager", "owner"])
def test_the_group_its_manager_managers_the_process_manager_and_the_owner_may_change_the_owner(cast, incident, who):
    services.ticket_assign(ticket=incident, actor=cast.agent1, assignee=cast.agent1)
    services.ticket_escalate(ticket=incident, actor=cast.agent1)  # now with L2, owned by lena
    actor = {"agent1": cast.agent2,  # a member of the ticket's current group
             "owner": cast.agent1}.get(who) or getattr(cast, who, None)
    if who == "incident_manager":
        actor = UserFactory(username="iris", role=Role.INCIDENT_MANAGER)
    services.ticket_set_owner(ticket=incident, actor=actor, owner=cast.engineer)
    incident.refresh_from_db()
    assert incident.owner == cast.engineer
    assert _owner_events(incident)[-1] == ("lena", "devon")


def test_someone_outside_the_tickets_group_may_not_change_its_owner(cast, incident):
    services.ticket_assign(ticket=incident, actor=cast.agent1, assignee=cast.agent1)
    with pytest.raises(AccessDenied, match="may change who owns"):
        services.ticket_set_owner(ticket=incident, actor=cast.engineer, owner=cast.engineer)
    problem_manager = UserFactory(username="pia", role=Role.PROBLEM_MANAGER)
    with pytest.raises(AccessDenied):  # the problem process does not own incidents
        services.ticket_set_owner(ticket=incident, actor=problem_manager, owner=cast.engineer)


def test_a_requester_cannot_own_a_ticket_and_an_owner_is_never_cleared(cast, incident):
    services.ticket_assign(ticket=incident, actor=cast.agent1, assignee=cast.agent1)
    with pytest.raises(ValidationFailed, match="not an active member of staff") as refused:
        services.ticket_set_owner(ticket=incident, actor=cast.agent1, owner=cast.requester)
    assert refused.value.status == 400 and "owner" in refused.value.fields
    with pytest.raises(ValidationFailed, match="keeps an owner"):
        services.ticket_set_owner(ticket=incident, actor=cast.agent1, owner=None)
    incident.refresh_from_db()
    assert incident.owner == cast.agent1


# --- direct support routing ---------------------------------------------------------------------------------------


def test_a_directly_supported_service_takes_its_new_tickets_into_its_intake_team(cast):
    shop = ServiceFactory(name="Web shop", intake_group=cast.l3)
    incident = services.ticket_create(actor=cast.requester, kind=Kind.INCIDENT, title="Basket empties", service=shop)
    request = services.ticket_create(actor=cast.agent1, kind=Kind.REQUEST, title="Shop admin access", service=shop)
    desk = services.ticket_create(actor=cast.requester, kind=Kind.INCIDENT, title="Payslips late",
                                  service=cast.services["payroll"])
    assert (incident.group, request.group, desk.group) == (cast.l3, cast.l3, cast.l1)


def test_the_portal_follows_the_intake_rule(cast, client_for):
    shop = ServiceFactory(name="Web shop", intake_group=cast.l2)
    response = client_for(cast.requester).post("/portal/new/", {
        "kind": "incident", "title": "Checkout fails", "impact": 2, "urgency": 2, "service": shop.pk})
    assert response.status_code == 302
    assert Ticket.objects.get(title="Checkout fails").group == cast.l2


# --- the API ---------------------------------------------------------------------------------------------------


def test_the_api_follows_the_intake_rule_and_shows_owner_and_responsible(cast, api):
    shop = ServiceFactory(name="Web shop", intake_group=cast.l3)
    response = api(cast.requester).post("/api/v1/tickets/", {
        "kind": "incident", "title": "Checkout fails", "service": shop.pk}, format="json")
    assert response.status_code == 201, response.json()
    assert response.json()["group"]["name"] == "Payroll Dev"
    assert response.json()["owner"] is None and response.json()["assignee"] is None
    created = api(cast.agent1).post("/api/v1/tickets/", {
        "kind": "incident", "title": "VPN drops", "assignee": cast.agent1.pk}, format="json").json()
    assert created["owner"]["username"] == created["assignee"]["username"] == "lena"


def test_the_api_sets_the_owner_with_a_patch_and_refuses_what_the_rules_refuse(cast, api, incident):
    services.ticket_assign(ticket=incident, actor=cast.agent1, assignee=cast.agent1)
    url = f"/api/v1/tickets/{incident.key}/"
    client = api(cast.agent1)
    refused = client.patch(url, {"owner": cast.requester.pk}, format="json", HTTP_IF_MATCH='"2"')
    assert refused.status_code == 400 and "staff" in refused.json()["detail"]
    assert api(cast.engineer).patch(url, {"owner": cast.engineer.pk}, format="json",
                                    HTTP_IF_MATCH='"2"').status_code == 403
    both = client.patch(url, {"owner": cast.agent2.pk, "title": "Payslips are blank for everyone"}, format="json",
                        HTTP_IF_MATCH='"2"')
    assert both.status_code == 200, both.json()
    assert both.json()["owner"]["username"] == "liam" and both.json()["title"].endswith("everyone")
    stale = client.patch(url, {"owner": cast.agent1.pk}, format="json", HTTP_IF_MATCH='"2"')
    assert stale.status_code == 412
    filtered = client.get("/api/v1/tickets/?owner=liam").json()["results"]
    assert [t["key"] for t in filtered] == [incident.key]


def test_a_requester_cannot_name_an_owner_when_raising_a_ticket(cast, api):
    response = api(cast.requester).post("/api/v1/tickets/", {
        "kind": "incident", "title": "Printer", "owner": cast.agent1.pk}, format="json")
    assert response.status_code == 403
    assert not Ticket.objects.exists()


# --- the pages -------------------------------------------------------------------------------------------------


def test_the_ticket_page_shows_owner_and_responsible_and_the_direct_support_team(cast, client_for):
    shop = ServiceFactory(name="Web shop", intake_group=cast.l2)
    ticket = services.ticket_create(actor=cast.agent1, kind=Kind.INCIDENT, title="Basket empties", service=shop,
                                    requester=cast.requester, assignee=cast.agent1)
    services.ticket_escalate(ticket=ticket, actor=cast.agent1, to_group=cast.l3)
    page = client_for(cast.agent1).get(f"/tickets/{ticket.key}/").content.decode()
    assert "<dt>Owner</dt>" in page and "<dt>Responsible</dt>" in page and "Assignee" not in page
    assert "Supported directly by <strong>App Support</strong>" in page
    assert "that is you: reply publicly below to reach them" in page
    assert "alice@example.test" in page


def test_the_owner_is_set_inline_and_a_refusal_shows_in_place(cast, client_for, incident):
    services.ticket_assign(ticket=incident, actor=cast.agent1, assignee=cast.agent1)
    incident.refresh_from_db()
    client = client_for(cast.agent1)
    form = client.get(f"/tickets/{incident.key}/fields/owner/", **HX)
    assert form.status_code == 200 and "accountable to the requester" in form.content.decode()
    refused = client.post(f"/tickets/{incident.key}/fields/owner/", {"owner": "", "version": incident.version}, **HX)
    assert refused.status_code == 400 and "keeps an owner once it has one" in refused.content.decode()
    assert refused["HX-Retarget"] == "#f-owner"
    saved = client.post(f"/tickets/{incident.key}/fields/owner/",
                        {"owner": cast.agent2.pk, "version": incident.version}, **HX)
    assert saved.status_code == 200 and "Owner saved." in saved.content.decode()
    incident.refresh_from_db()
    assert incident.owner == cast.agent2


def test_owned_by_me_lists_the_open_tickets_i_own_whoever_works_them(cast, client_for, incident):
    services.ticket_assign(ticket=incident, actor=cast.agent1, assignee=cast.agent1)
    services.ticket_escalate(ticket=incident, actor=cast.agent1)
    other = services.ticket_create(actor=cast.requester, kind=Kind.INCIDENT, title="Someone else's")
    client = client_for(cast.agent1)
    owned = client.get("/queue/", {"view": "owned"}).content.decode()
    row = 'id="row-{}"'.format
    assert row(incident.key) in owned and row(other.key) not in owned
    assert row(incident.key) not in client.get("/queue/", {"view": "mine"}).content.decode()
