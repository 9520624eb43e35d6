"""A create finds its service in the per-process configuration cache, and still sees every change to services
at once, made here or by another process (a `QuerySet.update` sends no signal: only the stamp can tell)."""
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tracker.models import Service

pytestmark = pytest.mark.django_db


def test_a_service_retired_by_another_process_takes_no_more_tickets(cast, api):
    service = cast.services["payroll"]
    client = api(cast.agent1)
    body = {"kind": "incident", "title": "Payslips", "service": service.pk}
    assert client.post("/api/v1/tickets/", body, format="json").status_code == 201
    Service.objects.filter(pk=service.pk).update(lifecycle="retired")
    response = client.post("/api/v1/tickets/", body, format="json")
    assert response.status_code == 400 and "is retired" in response.json()["detail"]


def test_a_service_added_or_renamed_elsewhere_is_known_to_the_next_create(cast, api):
    client = api(cast.agent1)
    assert client.post("/api/v1/tickets/", {"kind": "incident", "title": "x"}, format="json").status_code == 201
    new = Service.objects.bulk_create([Service(name="Telephony")])[0]
    response = client.post("/api/v1/tickets/", {"kind": "incident", "title": "x", "service": new.pk}, format="json")
    assert response.status_code == 201 and response.json()["service"] == {"id": new.pk, "name": "Telephony"}
    Service.objects.filter(pk=new.pk).update(name="Voice")
    response = client.post("/api/v1/tickets/", {"kind": "incident", "title": "x", "service": new.pk}, format="json")
    assert response.json()["service"] == {"id": new.pk, "name": "Voice"}


@pytest.mark.parametrize(("value", "message"), [
    (999999, 'Invalid pk "999999" - object does not exist.'),
    ("999999", 'Invalid pk "999999" - object does not exist.'),
    ("abc", "Incorrect type. Expected pk value, received str."),
    (True, "Incorrect type. Expected pk value, received bool."),
    ([1], "Incorrect type. Expected pk value, received list."),
    ({"id": 1}, "Incorrect type. Expected pk value, received dict."),
])
def test_a_service_that_is_not_one_is_refused_as_before(cast, api, value, message):
    response = api(cast.agent1).post("/api/v1/tickets/", {"kind": "incident", "title": "x", "service": value},
                                     format="json")
    assert response.status_code == 400
    assert message in str(response.json())


def test_the_service_costs_no_query_once_cached(cast, api):
    client = api(cast.agent1)
    body = {"kind": "incident", "title": "x", "service": cast.services["payroll"].pk}
    client.post("/api/v1/tickets/", body, format="json")
    with CaptureQueriesContext(connection) as ctx:
        assert client.post("/api/v1/tickets/", body, format="json").status_code == 201
    assert not [q for q in ctx.captured_queries if 'FROM "tracker_service"' in q["sql"]]
