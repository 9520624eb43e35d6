"""The change calendar through the API: the ticket PATCH obeys blackouts, a dedicated schedule endpoint records
a change manager's override, blackouts are managed by change managers, and the calendar of a period."""

from datetime import UTC, datetime

import pytest

from itsm import services
from itsm.choices import Repeat
from itsm.models import Blackout, BlackoutOverride
from tracker import services as core
from tracker.choices import Kind


def at(*args):
    return datetime(*args, tzinfo=UTC)


@pytest.fixture
def freeze(cast):
    return services.blackout_create(actor=cast.change_manager, name="Year-end freeze", reason="Year-end trading.",
                                    starts_at=at(2026, 12, 18, 18), ends_at=at(2027, 1, 4, 6))


@pytest.fixture
def chg(cast):
    return core.ticket_create(actor=cast.agent2, kind=Kind.CHANGE, title="Tax tables", service=cast.services["payroll"])


INSIDE = {"window_start": "2026-12-22T19:00:00Z", "window_end": "2026-12-22T21:00:00Z"}


def test_a_patch_into_a_blackout_is_a_409_that_names_it(api, cast, freeze, chg):
    response = api(cast.agent2).patch(f"/api/v1/tickets/{chg.key}/", INSIDE, format="json", HTTP_IF_MATCH=chg.etag)
    assert response.status_code == 409
    body = response.json()
    assert body["code"] == "blackout" and "“Year-end freeze”" in body["detail"] and "window_start" in body["fields"]
    assert "22 Dec 2026 19:00–21:00 UTC" in body["detail"]  # the API speaks UTC
    outside = {"window_start": "2027-01-05T19:00:00Z", "window_end": "2027-01-05T21:00:00Z"}
    response = api(cast.agent2).patch(f"/api/v1/tickets/{chg.key}/", outside, format="json", HTTP_IF_MATCH=chg.etag)
    assert response.status_code == 200


def test_scheduling_into_a_blackout_through_the_endpoint(api, cast, freeze, chg):
    url = f"/api/v1/changes/{chg.key}/schedule/"
    refused = api(cast.agent2).post(url, INSIDE, format="json")
    assert refused.status_code == 409 and refused.json()["code"] == "blackout"
    forbidden = api(cast.agent2).post(url, {**INSIDE, "override_reason": "Small one."}, format="json")
    assert forbidden.status_code == 403 and "Only the change manager" in forbidden.json()["detail"]
    assert not BlackoutOverride.objects.exists()

    done = api(cast.change_manager).post(url, {**INSIDE, "override_reason": "Statutory, due 1 January."},
                                         format="json", HTTP_IF_MATCH=chg.etag)
    assert done.status_code == 200, done.json()
    body = done.json()
    assert body["window_start"] == "2026-12-22T19:00:00Z"
    assert body["blackouts"] == [{"blackout": freeze.pk, "name": "Year-end freeze", "scope": "All services",
                                  "reason": "Year-end trading.", "start": "2026-12-18T18:00:00Z",
                                  "end": "2027-01-04T06:00:00Z", "overridden": True}]
    assert body["overrides"][0]["by"] == "carl" and body["overrides"][0]["reason"] == "Statutory, due 1 January."
    assert done["ETag"] == f'"{body["version"]}"'
    history = api(cast.agent1).get(f"/api/v1/tickets/{chg.key}/history/").json()
    assert any(e["kind"] == "schedule" and e["note"] == "Statutory, due 1 January." for e in history)


def test_a_stale_if_match_on_the_schedule_endpoint_is_a_412(api, cast, chg):
    response = api(cast.agent2).post(f"/api/v1/changes/{chg.key}/schedule/", INSIDE, format="json",
                                     HTTP_IF_MATCH='"99"')
    assert response.status_code == 412
    response = api(cast.agent2).post(f"/api/v1/changes/{chg.key}/schedule/", INSIDE, format="json",
                                     HTTP_IF_MATCH="latest")
    assert response.status_code == 400


def test_the_schedule_names_the_collisions(api, cast, chg):
    other = core.ticket_create(actor=cast.agent2, kind=Kind.CHANGE, title="Payroll patch",
                               service=cast.services["payroll"], window_start=at(2027, 2, 2, 20),
                               window_end=at(2027, 2, 2, 21))
    api(cast.agent2).post(f"/api/v1/changes/{chg.key}/schedule/", {
        "window_start": "2027-02-02T19:00:00Z", "window_end": "2027-02-02T22:00:00Z"}, format="json")
    body = api(cast.agent1).get(f"/api/v1/changes/{chg.key}/schedule/").json()
    assert [c["key"] for c in body["collisions"]] == [other.key]
    calendar = api(cast.agent1).get("/api/v1/changes/calendar/?start=2027-02-01T00:00:00Z&end=2027-03-01T00:00:00Z")
    changes = {c["key"]: c["collides_with"] for c in calendar.json()["changes"]}
    assert changes == {chg.key: [other.key], other.key: [chg.key]}


@pytest.mark.parametrize(("query", "status"), [
    ("?start=2027-02-01T00:00:00Z&end=2027-01-01T00:00:00Z", 400),
    ("?start=2027-01-01T00:00:00Z&end=2027-06-01T00:00:00Z", 400),
    ("?start=yesterday", 400),
    ("?service=999999", 400),
    ("", 200),
])
def test_the_calendar_period_is_checked(api, cast, query, status):
    assert api(cast.agent1).get(f"/api/v1/changes/calendar/{query}").status_code == status


def test_change_managers_manage_blackouts_and_staff_read_them(api, cast):
    new = {"name": "Payroll run", "reason": "Payslips go out.", "service": cast.services["payroll"].pk,
           "starts_at": "2026-12-24T18:00:00Z", "ends_at": "2026-12-25T08:00:00Z", "repeat": Repeat.MONTHLY,
           "time_zone": "Europe/London"}
    assert api(cast.agent2).post("/api/v1/changes/blackouts/", new, format="json").status_code == 403
    created = api(cast.change_manager).post("/api/v1/changes/blackouts/", new, format="json")
    assert created.status_code == 201, created.json()
    body = created.json()
    assert body["service_name"] == "Payroll" and len(body["next_occurrences"]) == 3
    listed = api(cast.agent1).get("/api/v1/changes/blackouts/").json()
    assert [b["name"] for b in listed] == ["Payroll run"]
    url = f"/api/v1/changes/blackouts/{body['id']}/"
    bad = api(cast.change_manager).patch(url, {"ends_at": "2026-12-01T00:00:00Z"}, format="json")
    assert bad.status_code == 400 and "ends_at" in bad.json()["fields"]
    typo = api(cast.change_manager).patch(url, {"nmae": "x"}, format="json")
    assert typo.status_code == 400
    assert api(cast.change_manager).patch(url, {"name": "Payroll run (UK)"}, format="json").json()["name"] == \
        "Payroll run (UK)"
    assert api(cast.agent2).delete(url).status_code == 403
    assert api(cast.change_manager).delete(url).status_code == 204
    assert not Blackout.objects.exists()


def test_requesters_get_nothing_from_the_calendar_api(api, cast, chg):
    assert api(cast.requester).get("/api/v1/changes/blackouts/").status_code == 403
    assert api(cast.requester).get("/api/v1/changes/calendar/").status_code == 403
    assert api(cast.requester).get(f"/api/v1/changes/{chg.key}/schedule/").status_code == 403
    assert api().get("/api/v1/changes/calendar/").status_code == 401
