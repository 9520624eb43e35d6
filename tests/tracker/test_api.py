"""The ticket API as integrators see it: keys, errors that say what to fix, ETags, sub-resources."""
import pytest
from django.core.management import call_command
from rest_framework.authtoken.models import Token

from tests.factories import ServiceFactory
from tracker import services
from tracker.choices import Status
from tracker.models import Ticket, TicketEvent


@pytest.fixture
def incident(cast):
    return services.ticket_create(actor=cast.requester, kind="incident", title="Payslips are blank",
                                  service=cast.services["payroll"])


def test_creating_a_ticket_returns_its_key_location_and_etag(cast, api):
    response = api(cast.agent1).post("/api/v1/tickets/", {
        "kind": "incident", "title": "VPN drops", "impact": 1, "urgency": 2, "requester": cast.requester.pk,
        "service": cast.services["payroll"].pk}, format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["key"] == "INC-1" and body["priority"] == 2 and body["requester"]["username"] == "alice"
    assert response["Location"].endswith("/api/v1/tickets/INC-1/")
    assert response["ETag"] == '"1"'
    assert {"to": "in_progress", "label": "Start work", "requires": [], "offers": []} in body["transitions"]


def test_keys_count_per_kind(cast, api):
    client = api(cast.agent2)
    keys = [client.post("/api/v1/tickets/", {"kind": kind, "title": "x"}, format="json").json()["key"]
            for kind in ("incident", "problem", "incident", "defect", "change", "request")]
    assert keys == ["INC-1", "PRB-1", "INC-2", "DEF-1", "CHG-1", "REQ-1"]


@pytest.mark.parametrize(("payload", "field", "words"), [
    ({"kind": "incident"}, "title", "required"),
    ({"kind": "meltdown", "title": "x"}, "kind", "valid choice"),
    ({"kind": "incident", "title": "x", "impact": 7}, "impact", "valid choice"),
    ({"kind": "incident", "title": "x", "severity": "s1"}, "severity", "Only a defect"),
    ({"kind": "incident", "title": "x", "colour": "red"}, "colour", "Unknown field"),
    ({"kind": "incident", "title": "x", "service": 999999}, "service", "does not exist"),
    ({"kind": "change", "title": "x", "window_start": "2026-01-02T10:00:00Z", "window_end": "2026-01-01T10:00:00Z"},
     "window_end", "end after"),
])
def test_bad_input_is_a_400_naming_the_field_and_writes_nothing(cast, api, payload, field, words):
    response = api(cast.agent1).post("/api/v1/tickets/", payload, format="json")
    assert response.status_code == 400
    body = response.json()
    assert field in body["fields"], body
    assert words in str(body["fields"][field]) and body["detail"]
    assert not Ticket.objects.exists()


def test_a_requester_cannot_raise_a_change(cast, api):
    response = api(cast.requester).post("/api/v1/tickets/", {"kind": "change", "title": "x"}, format="json")
    assert response.status_code == 403 and "incidents and service requests" in response.json()["detail"]


def test_a_requester_sees_only_their_own_tickets(cast, api, incident):
    theirs = services.ticket_create(actor=cast.other_requester, kind="incident", title="Other")
    client = api(cast.requester)
    assert client.get(f"/api/v1/tickets/{theirs.key}/").status_code == 404
    assert client.get(f"/api/v1/tickets/{theirs.key}/history/").status_code == 404
    assert client.post(f"/api/v1/tickets/{theirs.key}/comments/", {"body": "hi"}).status_code == 404
    keys = [row["key"] for row in client.get("/api/v1/tickets/").json()["results"]]
    assert keys == [incident.key]


def test_an_unknown_key_is_a_404_with_a_message(cast, api):
    response = api(cast.agent1).get("/api/v1/tickets/INC-999/")
    assert response.status_code == 404 and "INC-999" in response.json()["detail"]


def test_anonymous_calls_are_refused_and_token_auth_works(cast, api):
    assert api().get("/api/v1/tickets/").status_code == 401
    call_command("issue_token", "lena", stdout=open("/dev/null", "w"))
    token = Token.objects.get(user=cast.agent1).key
    client = api()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert client.get("/api/v1/tickets/").status_code == 200


def test_patch_without_if_match_is_428_and_with_a_stale_etag_is_412(cast, api, incident):
    client = api(cast.agent1)
    url = f"/api/v1/tickets/{incident.key}/"
    etag = client.get(url)["ETag"]
    assert client.patch(url, {"title": "x"}, format="json").status_code == 428
    first = client.patch(url, {"urgency": 1}, format="json", HTTP_IF_MATCH=etag)
    assert first.status_code == 200 and first["ETag"] != etag
    second = api(cast.agent2).patch(url, {"title": "Overwrite"}, format="json", HTTP_IF_MATCH=etag)
    assert second.status_code == 412
    assert "changed by someone else" in second.json()["detail"]
    incident.refresh_from_db()
    assert incident.title == "Payslips are blank" and incident.urgency == 1


def test_every_changed_field_writes_one_history_row_with_actor(cast, api, incident):
    client = api(cast.agent1)
    url = f"/api/v1/tickets/{incident.key}/"
    response = client.patch(url, {"title": "Payslips blank for March", "impact": 1, "urgency": 1,
                                  "description": incident.description}, format="json", HTTP_IF_MATCH='"1"')
    assert response.status_code == 200, response.json()
    rows = {(e.field, e.old, e.new, e.actor_id) for e in TicketEvent.objects.filter(ticket=incident, kind="field")}
    assert rows == {("title", "Payslips are blank", "Payslips blank for March", cast.agent1.pk),
                    ("impact", "2", "1", cast.agent1.pk), ("urgency", "2", "1", cast.agent1.pk),
                    ("priority", "3", "1", cast.agent1.pk)}
    history = client.get(f"{url}history/").json()
    assert [e["kind"] for e in history][:1] == ["created"] and len(history) == 5


def test_transitions_are_validated_and_refusals_are_4xx(cast, api, incident):
    client = api(cast.agent1)
    url = f"/api/v1/tickets/{incident.key}/transition/"
    refused = client.post(url, {"to": "closed"}, format="json")
    assert refused.status_code == 409 and "allowed from here" in refused.json()["detail"]
    assert client.post(url, {"to": "in_progress"}, format="json").status_code == 200
    missing = client.post(url, {"to": "resolved"}, format="json")
    assert missing.status_code == 400 and "resolution_note" in missing.json()["fields"]
    forbidden = api(cast.requester).post(url, {"to": "resolved", "resolution_note": "x"}, format="json")
    assert forbidden.status_code == 403
    done = client.post(url, {"to": "resolved", "resolution_note": "Rebuilt the cache"}, format="json")
    assert done.status_code == 200 and done.json()["status"] == Status.RESOLVED


def test_escalation_moves_to_the_next_tier_and_keeps_the_previous_owner_watching(cast, api, incident):
    services.ticket_assign(ticket=incident, actor=cast.agent1, assignee=cast.agent1)
    response = api(cast.agent1).post(f"/api/v1/tickets/{incident.key}/escalate/", {"note": "needs L2"},
                                     format="json")
    assert response.status_code == 200
    assert response.json()["group"]["name"] == "App Support" and response.json()["assignee"] is None
    assert incident.watchers.filter(pk=cast.agent1.pk).exists()
    event = TicketEvent.objects.get(ticket=incident, kind="escalation")
    assert (event.old, event.new) == ("Service Desk", "App Support") and "needs L2" in event.note


def test_comments_links_and_internal_notes(cast, api, incident):
    agent = api(cast.agent1)
    problem = services.ticket_create(actor=cast.agent2, kind="problem", title="Cache expiry")
    assert agent.post(f"/api/v1/tickets/{incident.key}/comments/", {"body": "Public *reply*"}).status_code == 201
    assert agent.post(f"/api/v1/tickets/{incident.key}/comments/", {"body": "Internal", "internal": True}
                      ).status_code == 201
    assert agent.post(f"/api/v1/tickets/{incident.key}/comments/", {"body": "  "}).status_code == 400
    link = agent.post(f"/api/v1/tickets/{incident.key}/links/", {"target": problem.key, "type": "instance_of"})
    assert link.status_code == 201
    assert agent.post(f"/api/v1/tickets/{incident.key}/links/", {"target": problem.key, "type": "instance_of"}
                      ).status_code == 409
    assert agent.post(f"/api/v1/tickets/{incident.key}/links/", {"target": "PRB-404", "type": "instance_of"}
                      ).status_code == 400
    seen_by_requester = api(cast.requester).get(f"/api/v1/tickets/{incident.key}/comments/").json()
    assert [c["body"] for c in seen_by_requester] == ["Public *reply*"]
    assert "<em>reply</em>" in seen_by_requester[0]["body_html"]
    assert agent.get(f"/api/v1/tickets/{problem.key}/links/").json()[0]["other"] == incident.key
    assert agent.delete(f"/api/v1/tickets/{incident.key}/links/{link.json()['id']}/").status_code == 204
    incident.refresh_from_db()
    assert incident.first_response_at is not None


def test_a_second_pick_is_refused_naming_who_holds_it(cast, api):
    defect = services.ticket_create(actor=cast.agent2, kind="defect", title="Rounding", group=cast.l3)
    assert api(cast.engineer).post(f"/api/v1/tickets/{defect.key}/pick/").status_code == 200
    second = api(cast.engineer2).post(f"/api/v1/tickets/{defect.key}/pick/")
    assert second.status_code == 409 and "devon" in second.json()["detail"]


def test_the_list_filters_by_kind_status_priority_group_tier_assignee_and_text(cast, api):
    a = services.ticket_create(actor=cast.agent1, kind="incident", title="Mail bounce", impact=1, urgency=1)
    services.ticket_create(actor=cast.agent2, kind="defect", title="Rounding", group=cast.l3)
    services.ticket_assign(ticket=a, actor=cast.agent1, assignee=cast.agent1)
    client = api(cast.agent1)

    def keys(query):
        response = client.get(f"/api/v1/tickets/?{query}")
        assert response.status_code == 200, response.json()
        return [row["key"] for row in response.json()["results"]]

    assert keys("kind=defect") == ["DEF-1"]
    assert keys("priority=1") == ["INC-1"]
    assert keys("tier=3") == ["DEF-1"]
    assert keys(f"group={cast.l1.pk}") == ["INC-1"]
    assert keys("assignee=me") == ["INC-1"]
    assert keys("assignee=none") == ["DEF-1"]
    assert keys("q=bounce") == ["INC-1"]
    assert keys("q=def-1") == ["DEF-1"]
    assert keys("status=new&ordering=priority") == ["INC-1", "DEF-1"]
    assert keys("created_after=2000-01-01T00:00:00Z&page_size=1")[:1] in (["DEF-1"], ["INC-1"])
    bad = client.get("/api/v1/tickets/?priority=9")
    assert bad.status_code == 400 and "priority" in bad.json()["fields"]


def test_the_list_is_paginated_by_cursor(cast, api):
    for i in range(5):
        services.ticket_create(actor=cast.agent1, kind="incident", title=f"t{i}")
    client = api(cast.agent1)
    page = client.get("/api/v1/tickets/?page_size=2").json()
    seen = [r["key"] for r in page["results"]]
    while page["next"]:
        page = client.get(page["next"]).json()
        seen += [r["key"] for r in page["results"]]
    assert sorted(seen) == sorted(f"INC-{i}" for i in range(1, 6))


def test_a_retry_with_the_same_idempotency_key_returns_the_first_ticket(cast, api):
    client = api(cast.agent1)
    payload = {"kind": "incident", "title": "Mail down"}
    first = client.post("/api/v1/tickets/", payload, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    again = client.post("/api/v1/tickets/", payload, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    assert first.status_code == again.status_code == 201
    assert first.json()["key"] == again.json()["key"] and again["Idempotent-Replayed"] == "true"
    assert Ticket.objects.count() == 1
    other = client.post("/api/v1/tickets/", {**payload, "title": "Other"}, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    assert other.status_code == 409 and "different request body" in other.json()["detail"]
    bad = client.post("/api/v1/tickets/", {"kind": "incident"}, format="json", HTTP_IDEMPOTENCY_KEY="k-2")
    assert bad.status_code == 400
    assert client.post("/api/v1/tickets/", payload, format="json", HTTP_IDEMPOTENCY_KEY="k-2").status_code == 201


def test_idempotency_answers_are_forgotten_after_a_day(cast, api):
    from datetime import timedelta

    from django.utils import timezone

    from tracker.api.idempotency import idempotency_purge
    from tracker.models import IdempotencyRecord
    from tracker.tasks import purge_idempotency_keys_task

    client = api(cast.agent1)
    client.post("/api/v1/tickets/", {"kind": "incident", "title": "a"}, format="json", HTTP_IDEMPOTENCY_KEY="old")
    IdempotencyRecord.objects.update(created_at=timezone.now() - timedelta(hours=25))
    client.post("/api/v1/tickets/", {"kind": "incident", "title": "b"}, format="json", HTTP_IDEMPOTENCY_KEY="new")
    assert idempotency_purge() == 1
    assert list(IdempotencyRecord.objects.values_list("key", flat=True)) == ["new"]
    assert purge_idempotency_keys_task.apply().get() == 0


def test_a_retired_service_takes_no_tickets(cast, api):
    retired = ServiceFactory(name="Fax gateway", lifecycle="retired")
    response = api(cast.agent1).post("/api/v1/tickets/", {"kind": "incident", "title": "Fax down",
                                                          "service": retired.pk}, format="json")
    assert response.status_code == 400
    assert "Fax gateway is retired and takes no new tickets" in response.json()["detail"]
    assert "service" in response.json()["fields"]
    assert not Ticket.objects.exists()


def test_a_ticket_cannot_be_moved_to_a_retired_service(cast, api, incident):
    retired = ServiceFactory(name="Fax gateway", lifecycle="retired")
    response = api(cast.agent1).patch(f"/api/v1/tickets/{incident.key}/", {"service": retired.pk}, format="json",
                                      HTTP_IF_MATCH=incident.etag)
    assert response.status_code == 400 and "is retired" in response.json()["detail"]
    incident.refresh_from_db()
    assert incident.service == cast.services["payroll"] and incident.version == 1
