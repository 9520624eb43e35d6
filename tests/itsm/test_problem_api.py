"""The problem-management API: problems from incidents, the known-error database, applying a known error and
resolving a problem with its chosen incidents; clear 4xx for every refusal."""
from itsm import services
from tests.itsm.test_problems import incident, known_error
from tracker import services as core
from tracker.choices import Kind, LinkType, Status
from tracker.models import Comment, Link, Ticket


def test_a_problem_from_incidents_over_the_api(cast, api):
    first, second = incident(cast), incident(cast, "Blank again")
    response = api(cast.agent2).post("/api/v1/problems/from-incidents/",
                                     {"incidents": [first.key, second.key.lower()], "title": "Blank payslips"},
                                     format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["kind"] == "problem" and body["title"] == "Blank payslips"
    assert body["requester"]["username"] == cast.agent2.username
    assert Link.objects.filter(target__key=body["key"], type=LinkType.INSTANCE_OF).count() == 2


def test_refusals_over_the_api_are_clear_4xx(cast, api):
    first = incident(cast)
    request = core.ticket_create(actor=cast.requester, kind=Kind.REQUEST, title="Laptop")
    client = api(cast.agent2)
    mixed = client.post("/api/v1/problems/from-incidents/", {"incidents": [first.key, request.key]}, format="json")
    assert mixed.status_code == 400 and request.key in mixed.json()["detail"]
    unknown = client.post("/api/v1/problems/from-incidents/", {"incidents": ["INC-9999"]}, format="json")
    assert unknown.status_code == 400 and "INC-9999" in unknown.json()["detail"]
    empty = client.post("/api/v1/problems/from-incidents/", {"incidents": []}, format="json")
    assert empty.status_code == 400
    assert api(cast.requester).post("/api/v1/problems/from-incidents/", {"incidents": [first.key]},
                                    format="json").status_code == 403
    assert api(cast.requester).get("/api/v1/known-errors/").status_code == 403
    assert api().get("/api/v1/known-errors/").status_code in (401, 403)


def test_the_known_error_database_over_the_api(cast, api):
    problem = known_error(cast)
    known_error(cast, incident(cast, service=cast.services["mail"]), workaround="Use webmail")
    client = api(cast.agent1)
    rows = client.get("/api/v1/known-errors/", {"service": cast.services["payroll"].pk}).json()
    assert [r["key"] for r in rows] == [problem.key]
    assert rows[0]["workaround"].startswith("Open the payslip") and rows[0]["incident_count"] == 1
    assert [r["key"] for r in client.get("/api/v1/known-errors/", {"q": "webmail"}).json()] != [problem.key]
    assert client.get("/api/v1/known-errors/", {"service": "x"}).status_code == 400


def test_apply_a_known_error_over_the_api(cast, api):
    problem = known_error(cast)
    fresh = incident(cast, requester=cast.other_requester)
    client = api(cast.agent1)
    response = client.post(f"/api/v1/tickets/{fresh.key}/apply-known-error/", {"problem": problem.key}, format="json")
    assert response.status_code == 200, response.json()
    assert Comment.objects.get(pk=response.json()["comment_id"]).internal is False
    again = client.post(f"/api/v1/tickets/{fresh.key}/apply-known-error/", {"problem": problem.key}, format="json")
    assert again.status_code == 409 and "already an instance" in again.json()["detail"]
    missing = client.post(f"/api/v1/tickets/{fresh.key}/apply-known-error/", {"problem": "PRB-999"}, format="json")
    assert missing.status_code == 404


def test_resolve_with_incidents_over_the_api(cast, api):
    chosen, left = incident(cast, "Chosen"), incident(cast, "Left")
    problem = known_error(cast, chosen, left)
    client = api(cast.agent2)
    refused = client.post(f"/api/v1/tickets/{problem.key}/resolve-with-incidents/", {"incidents": [chosen.key]},
                          format="json")
    assert refused.status_code == 400
    response = client.post(f"/api/v1/tickets/{problem.key}/resolve-with-incidents/",
                           {"resolution_note": "Fixed in 2.4.1", "incidents": [chosen.key]}, format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["resolved"] == [chosen.key] and response.json()["problem"]["status"] == "resolved"
    assert Ticket.objects.get(pk=chosen.pk).status == Status.RESOLVED
    assert Ticket.objects.get(pk=left.pk).status == Status.NEW
    again = client.post(f"/api/v1/tickets/{problem.key}/resolve-with-incidents/",
                        {"resolution_note": "Again"}, format="json")
    assert again.status_code == 409


def test_a_problem_made_over_the_api_is_not_the_requesters(cast, api):
    ticket = incident(cast)
    services.problem_from_incidents(incidents=[ticket], actor=cast.agent2)
    keys = [t["key"] for t in api(cast.requester).get("/api/v1/tickets/").json()["results"]]
    assert keys == [ticket.key]
