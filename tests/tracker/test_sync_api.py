"""Inbound sync: Idempotency-Key on update and transition, external references, and the rest of the API
(people, the priority matrix)."""
import pytest

from tracker import services
from tracker.models import ExternalRef, IdempotencyRecord, PriorityRule, TicketEvent


@pytest.fixture
def ticket(cast):
    return services.ticket_create(actor=cast.agent1, kind="incident", title="Payroll export fails", group=cast.l1)


def _patch(client, ticket, body, *, key="sync-1", version=None):
    return client.patch(f"/api/v1/tickets/{ticket.key}/", body, format="json", HTTP_IDEMPOTENCY_KEY=key,
                        HTTP_IF_MATCH=f'"{version or ticket.version}"')


def test_an_update_retried_with_its_key_returns_the_first_result(cast, api, ticket):
    client = api(cast.agent1)
    first = _patch(client, ticket, {"title": "Payroll export fails for Berlin"})
    assert first.status_code == 200 and first.json()["version"] == 2
    again = _patch(client, ticket, {"title": "Payroll export fails for Berlin"}, version=1)
    assert again.status_code == 200 and again["Idempotent-Replayed"] == "true"
    assert again.json() == first.json() and again["ETag"] == '"2"'
    assert TicketEvent.objects.filter(ticket=ticket, field="title").count() == 1


def test_the_same_key_with_another_body_is_refused(cast, api, ticket):
    client = api(cast.agent1)
    _patch(client, ticket, {"title": "First"})
    other = _patch(client, ticket, {"title": "Second"}, version=2)
    assert other.status_code == 409 and "Idempotency-Key" in other.json()["detail"]
    ticket.refresh_from_db()
    assert ticket.title == "First"


def test_the_same_key_on_another_address_is_refused(cast, api, ticket):
    client = api(cast.agent1)
    other = services.ticket_create(actor=cast.agent1, kind="incident", title="Other", group=cast.l1)
    _patch(client, ticket, {"urgency": 1})
    response = _patch(client, other, {"urgency": 1})
    assert response.status_code == 409
    other.refresh_from_db()
    assert other.urgency == 2


def test_a_refused_update_keeps_no_answer_so_a_fixed_retry_works(cast, api, ticket):
    client = api(cast.agent1)
    stale = _patch(client, ticket, {"title": "X"}, version=7)
    assert stale.status_code == 412 and not IdempotencyRecord.objects.exists()
    assert _patch(client, ticket, {"title": "X"}).status_code == 200


def test_keys_are_per_user(cast, api, ticket):
    _patch(api(cast.agent1), ticket, {"title": "By lena"})
    cast.l1.members.add(cast.agent2)
    response = _patch(api(cast.agent2), ticket, {"title": "By liam"}, version=2)
    assert response.status_code == 200 and response.json()["title"] == "By liam"


def test_a_transition_retried_with_its_key_is_applied_once(cast, api, ticket):
    client = api(cast.agent1)
    url = f"/api/v1/tickets/{ticket.key}/transition/"
    first = client.post(url, {"to": "in_progress"}, format="json", HTTP_IDEMPOTENCY_KEY="t-1")
    again = client.post(url, {"to": "in_progress"}, format="json", HTTP_IDEMPOTENCY_KEY="t-1")
    assert first.status_code == again.status_code == 200 and again.json() == first.json()
    assert TicketEvent.objects.filter(ticket=ticket, field="status").count() == 1
    refused = client.post(url, {"to": "resolved", "resolution_note": "x"}, format="json", HTTP_IDEMPOTENCY_KEY="t-1")
    assert refused.status_code == 409


# --- external references -------------------------------------------------------------------------------------

def test_a_ticket_is_created_with_its_external_reference_and_found_by_it(cast, api):
    client = api(cast.agent1)
    response = client.post("/api/v1/tickets/", {
        "kind": "incident", "title": "From Jira",
        "external_refs": [{"system": "Jira", "id": "PAY-123", "url": "https://jira.example.com/browse/PAY-123"}],
    }, format="json")
    assert response.status_code == 201, response.json()
    assert response.json()["external_refs"] == [
        {"system": "jira", "id": "PAY-123", "url": "https://jira.example.com/browse/PAY-123"}]
    found = client.get("/api/v1/tickets/?external=jira:PAY-123").json()["results"]
    assert [t["key"] for t in found] == [response.json()["key"]]
    assert client.get("/api/v1/tickets/?external=jira:PAY-999").json()["results"] == []
    assert client.get("/api/v1/tickets/?external=PAY-123").status_code == 400


def test_a_second_ticket_with_the_same_external_id_is_refused_naming_the_first(cast, api, ticket):
    client = api(cast.agent1)
    assert client.post(f"/api/v1/tickets/{ticket.key}/external-refs/", {"system": "jira", "id": "PAY-7"},
                       format="json").status_code == 201
    response = client.post("/api/v1/tickets/", {"kind": "incident", "title": "Twin",
                                                "external_refs": [{"system": "jira", "id": "PAY-7"}]}, format="json")
    assert response.status_code == 409 and ticket.key in response.json()["detail"]
    assert not services.Ticket.objects.filter(title="Twin").exists()  # the ticket and its reference, or neither


def test_external_references_are_added_and_removed_with_history(cast, api, ticket):
    client = api(cast.agent1)
    url = f"/api/v1/tickets/{ticket.key}/external-refs/"
    client.post(url, {"system": "servicenow", "id": "INC0012345"}, format="json")
    again = client.post(url, {"system": "servicenow", "id": "INC0012345"}, format="json")
    assert again.status_code == 201 and ExternalRef.objects.count() == 1  # the same reference again: no change
    second = client.post(url, {"system": "servicenow", "id": "INC0099999"}, format="json")
    assert second.status_code == 409 and "remove it first" in second.json()["detail"]
    assert client.get(url).json() == [{"system": "servicenow", "id": "INC0012345", "url": ""}]
    assert client.delete(f"{url}servicenow/").status_code == 204
    assert client.delete(f"{url}servicenow/").status_code == 404
    rows = TicketEvent.objects.filter(ticket=ticket, field="external_ref").values_list("old", "new")
    assert list(rows) == [("", "servicenow:INC0012345"), ("servicenow:INC0012345", "")]


def test_a_requester_may_not_set_external_references(cast, api):
    own = services.ticket_create(actor=cast.requester, kind="incident", title="Mine")
    response = api(cast.requester).post(f"/api/v1/tickets/{own.key}/external-refs/", {"system": "jira", "id": "X-1"},
                                        format="json")
    assert response.status_code == 403 and not ExternalRef.objects.exists()


# --- people and the priority matrix ----------------------------------------------------------------------------

def test_staff_read_people_and_a_requester_only_themself(cast, api):
    rows = api(cast.agent1).get("/api/v1/users/").json()["results"]
    lena = next(r for r in rows if r["username"] == "lena")
    assert lena["role"] == "agent_l1" and lena["groups"] == [{"id": cast.l1.pk, "name": "Service Desk", "tier": 1}]
    assert lena["time_zone"] == "UTC" and len(rows) == 9
    mine = api(cast.requester).get("/api/v1/users/").json()["results"]
    assert [r["username"] for r in mine] == ["alice"]
    assert api(cast.requester).get(f"/api/v1/users/{cast.agent1.pk}/").status_code == 404


def _cells(priority_of=lambda i, u: min(5, i + u - 1)):
    return [{"impact": i, "urgency": u, "priority": priority_of(i, u)} for i in (1, 2, 3) for u in (1, 2, 3)]


def test_everyone_reads_the_priority_matrix_and_admins_replace_it(cast, api):
    read = api(cast.requester).get("/api/v1/priority-matrix/").json()["cells"]
    assert {"impact": 1, "urgency": 1, "priority": 1} in read and len(read) == 9
    assert api(cast.manager).put("/api/v1/priority-matrix/", {"cells": _cells()}, format="json").status_code == 403
    cells = _cells(lambda i, u: 2 if (i, u) == (1, 1) else min(5, i + u - 1))
    response = api(cast.admin).put("/api/v1/priority-matrix/", {"cells": cells}, format="json")
    assert response.status_code == 200 and {"impact": 1, "urgency": 1, "priority": 2} in response.json()["cells"]
    assert services.priority_for(impact=1, urgency=1) == 2


@pytest.mark.parametrize("cells, says", [
    (_cells()[:8], "Missing: impact 3 x urgency 3"),
    ([*_cells()[:8], {"impact": 1, "urgency": 1, "priority": 1}], "given twice"),
    (_cells(lambda i, u: 6), "priority"),
])
def test_a_matrix_that_is_not_nine_valid_cells_is_refused(cast, api, cells, says):
    before = list(PriorityRule.objects.values_list("impact", "urgency", "priority"))
    response = api(cast.admin).put("/api/v1/priority-matrix/", {"cells": cells}, format="json")
    assert response.status_code == 400 and says in str(response.json())
    assert list(PriorityRule.objects.values_list("impact", "urgency", "priority")) == before
