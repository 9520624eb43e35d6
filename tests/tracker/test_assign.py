"""Assignment: nobody's ticket is taken silently, and work stays with the group it is with."""
import pytest

from tracker import services
from tracker.errors import AlreadyClaimed, ValidationFailed
from tracker.models import Ticket


@pytest.fixture
def picked(cast):
    """An incident escalated to the L3 team and picked there by devon."""
    ticket = services.ticket_create(actor=cast.requester, kind="incident", title="Payslips are blank",
                                    service=cast.services["payroll"])
    services.ticket_escalate(ticket=ticket, actor=cast.agent1, to_group=cast.l3)
    return services.ticket_claim(ticket=ticket, actor=cast.engineer)


def test_an_agent_cannot_silently_take_an_engineers_picked_ticket(cast, api, picked):
    response = api(cast.agent1).post(f"/api/v1/tickets/{picked.key}/assign/", {"assignee": cast.agent1.pk},
                                     format="json")
    assert response.status_code == 409
    assert "held by devon (devon)" in response.json()["detail"] and "take_over" in response.json()["detail"]
    assert Ticket.objects.get(pk=picked.pk).assignee == cast.engineer


def test_take_over_takes_it_and_says_so_on_the_timeline(cast, api, picked):
    response = api(cast.agent1).post(f"/api/v1/tickets/{picked.key}/assign/",
                                     {"assignee": cast.agent1.pk, "take_over": True}, format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["assignee"]["username"] == "lena"
    event = picked.events.filter(field="assignee").order_by("-id").first()
    assert (event.old, event.new, event.note) == ("devon", "lena", "taken over")


def test_unassigning_someone_elses_ticket_is_a_take_over_too(cast, picked):
    with pytest.raises(AlreadyClaimed):
        services.ticket_assign(ticket=picked, actor=cast.engineer2, assignee=None)


def test_the_holder_may_hand_it_on_within_the_group(cast, picked):
    services.ticket_assign(ticket=picked, actor=cast.engineer, assignee=cast.engineer2)
    assert Ticket.objects.get(pk=picked.pk).assignee == cast.engineer2


def test_assigning_outside_the_tickets_group_is_refused_naming_the_group(cast, api, picked):
    services.ticket_assign(ticket=picked, actor=cast.engineer, assignee=None)
    response = api(cast.engineer).post(f"/api/v1/tickets/{picked.key}/assign/", {"assignee": cast.agent2.pk},
                                       format="json")
    assert response.status_code == 400
    assert "liam is not a member of Payroll Dev" in response.json()["detail"]
    assert response.json()["fields"] == {"assignee": ["Not a member of Payroll Dev."]}
    explicit = api(cast.engineer).post(f"/api/v1/tickets/{picked.key}/assign/",
                                       {"assignee": cast.agent2.pk, "take_over": True}, format="json")
    assert explicit.status_code == 200


def test_editing_the_assignee_field_follows_the_same_rule(cast, api, picked):
    client = api(cast.agent1)
    response = client.patch(f"/api/v1/tickets/{picked.key}/", {"assignee": cast.agent1.pk}, format="json",
                            HTTP_IF_MATCH=Ticket.objects.get(pk=picked.pk).etag)
    assert response.status_code == 409 and "held by devon" in response.json()["detail"]


@pytest.mark.parametrize("who", ["manager", "admin"])
def test_managers_and_admins_dispatch_without_take_over(cast, picked, who):
    services.ticket_assign(ticket=picked, actor=getattr(cast, who), assignee=cast.agent2)
    assert Ticket.objects.get(pk=picked.pk).assignee == cast.agent2


def test_the_group_manager_dispatches_without_take_over(cast, picked):
    cast.l3.manager = cast.change_manager
    cast.l3.save()
    services.ticket_assign(ticket=picked, actor=cast.change_manager, assignee=cast.engineer2)
    assert Ticket.objects.get(pk=picked.pk).assignee == cast.engineer2


def test_a_member_takes_a_new_ticket_of_their_group_but_cannot_pass_it_outside(cast):
    ticket = services.ticket_create(actor=cast.requester, kind="incident", title="VPN drops")
    services.ticket_assign(ticket=ticket, actor=cast.agent1, assignee=cast.agent1)
    assert Ticket.objects.get(pk=ticket.pk).assignee == cast.agent1
    with pytest.raises(ValidationFailed, match="not a member of Service Desk"):
        services.ticket_assign(ticket=ticket, actor=cast.agent1, assignee=cast.agent2)


def test_bulk_assign_reports_each_refusal_and_assigns_the_rest(cast, client_for, picked):
    free = services.ticket_create(actor=cast.requester, kind="incident", title="VPN drops")
    response = client_for(cast.agent1).post("/queue/bulk/", {"action": "assign", "assignee": cast.agent1.pk,
                                                             "keys": [picked.key, free.key]})
    assert response.status_code == 200
    assert "held by devon" in response.content.decode()
    assert Ticket.objects.get(pk=free.pk).assignee == cast.agent1
    assert Ticket.objects.get(pk=picked.pk).assignee == cast.engineer
    by_manager = client_for(cast.manager).post("/queue/bulk/", {"action": "assign", "assignee": cast.agent2.pk,
                                                                "keys": [picked.key]})
    assert by_manager.status_code == 200 and Ticket.objects.get(pk=picked.pk).assignee == cast.agent2
