"""The major-incident API: declare, read, link children, resolve with the children chosen; clear 4xx answers."""
import pytest

from itsm import services as itsm
from tests.factories import UserFactory
from tracker import services
from tracker.choices import Kind, Role, Status
from tracker.models import Ticket


@pytest.fixture
def iris(db):
    return UserFactory(username="iris", role=Role.INCIDENT_MANAGER)


def incident(cast, title="No mail on floor 2", **values):
    return services.ticket_create(actor=cast.agent1, kind=Kind.INCIDENT, title=title, requester=cast.requester,
                                  **values)


def test_declare_read_link_and_resolve(api, cast, iris):
    major = incident(cast, "Email down for all of Berlin", impact=1, urgency=1)
    kids = [incident(cast, f"No mail on floor {n}") for n in range(3)]
    client = api(cast.agent1)
    url = f"/api/v1/tickets/{major.key}/major/"
    assert client.get(url).status_code == 404
    declared = client.post(url, {"reason": "No mail in Berlin since 08:10"}, format="json")
    assert declared.status_code == 201, declared.content
    assert declared.json()["told"] == [iris.display_name] and declared.json()["children"] == []
    linked = client.post(f"{url}children/", {"children": [k.key for k in kids]}, format="json")
    assert linked.status_code == 200 and [c["key"] for c in linked.json()["children"]] == [k.key for k in kids]
    resolved = client.post(f"{url}resolve/", {"note": "Relay restarted", "children": [kids[0].key]}, format="json")
    assert resolved.status_code == 200, resolved.content
    body = resolved.json()
    assert body["status"] == Status.RESOLVED and body["ended_at"]
    assert [c["status"] for c in body["children"]] == [Status.RESOLVED, Status.NEW, Status.NEW]
    assert client.get(url).json()["ended_at"]


def test_refusals_are_clear_4xx(api, cast, iris):
    p3 = incident(cast)
    client = api(cast.agent1)
    refused = client.post(f"/api/v1/tickets/{p3.key}/major/", {"reason": "Berlin"}, format="json")
    assert refused.status_code == 400 and "must be P1" in refused.json()["detail"]
    p1 = incident(cast, "VPN down", impact=1, urgency=1)
    assert client.post(f"/api/v1/tickets/{p1.key}/major/", {"reason": ""}, format="json").status_code == 400
    assert client.post(f"/api/v1/tickets/{p1.key}/major/", {}, format="json").status_code == 400
    assert client.post(f"/api/v1/tickets/{p1.key}/major/children/", {"children": [p3.key]},
                       format="json").status_code == 409  # not declared yet
    itsm.major_declare(ticket=p1, actor=cast.agent1, reason="VPN down for all")
    assert client.post(f"/api/v1/tickets/{p1.key}/major/", {"reason": "again"}, format="json").status_code == 409
    unknown = client.post(f"/api/v1/tickets/{p1.key}/major/children/", {"children": ["INC-999"]}, format="json")
    assert unknown.status_code == 400 and "INC-999" in unknown.json()["detail"]
    assert client.post(f"/api/v1/tickets/{p1.key}/major/resolve/", {"note": " "}, format="json").status_code == 400
    assert api(cast.requester).get(f"/api/v1/tickets/{p1.key}/major/").status_code in (403, 404)
    assert api().get(f"/api/v1/tickets/{p1.key}/major/").status_code in (401, 403)
    assert Ticket.objects.get(pk=p1.pk).status == Status.NEW
