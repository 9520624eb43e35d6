"""The change-enablement API: a change's tasks (list, create, re-plan, hand off, report), rollbacks, my tasks
and the rates; refusals answer 4xx with a message, the same rules as the pages."""
import pytest

from itsm import services as itsm
from itsm.models import ChangeTask
from tracker import services
from tracker.choices import Status

from .conftest import approve, local


@pytest.fixture
def started(cast, change, tasks):
    approve(change, cast)
    services.ticket_transition(ticket=change, to=Status.IN_PROGRESS, actor=cast.agent2)
    return change


def test_create_a_task_on_the_sites_wall_clock_and_read_it_back(cast, change, api):
    client = api(cast.agent2)
    created = client.post(f"/api/v1/tickets/{change.key}/tasks/", {
        "title": "Cut over Singapore", "business_unit": "APAC", "site": "Singapore", "country": "SG",
        "time_zone": "Asia/Singapore", "planned_start": "2031-03-14T09:00:00", "planned_end": "2031-03-14T11:00:00",
        "assignee": cast.engineer2.pk}, format="json")
    assert created.status_code == 201, created.json()
    body = created.json()
    assert body["planned_start"] == "2031-03-14T01:00:00Z" and body["planned_start_local"].startswith(
        "2031-03-14T09:00:00+08:00")
    assert created["ETag"] == '"1"' and body["number"] == 1
    listed = client.get(f"/api/v1/tickets/{change.key}/tasks/").json()
    assert [t["site"] for t in listed] == ["Singapore"]


def test_a_bad_task_is_a_400_naming_the_field(cast, change, api):
    response = api(cast.agent2).post(f"/api/v1/tickets/{change.key}/tasks/", {
        "title": "X", "business_unit": "B", "site": "S", "country": "SG", "time_zone": "Asia/Nowhere",
        "planned_start": "2031-03-14T09:00:00", "planned_end": "2031-03-14T11:00:00", "group": cast.l3.pk},
        format="json")
    assert response.status_code == 400 and "time_zone" in response.json()["fields"]


def test_tasks_of_something_that_is_not_a_change_are_a_404(cast, api):
    incident = services.ticket_create(actor=cast.agent1, kind="incident", title="Printer")
    assert api(cast.agent2).get(f"/api/v1/tickets/{incident.key}/tasks/").status_code == 404


def test_a_requester_has_no_task_api(cast, change, api):
    assert api(cast.requester).get(f"/api/v1/tickets/{change.key}/tasks/").status_code in (403, 404)
    assert api(cast.requester).get("/api/v1/change-tasks/?owner=me").status_code == 403


def test_report_on_a_task_you_do_not_own_is_a_403(cast, started, api):
    response = api(cast.engineer).post(f"/api/v1/tickets/{started.key}/tasks/2/report/", {"state": "in_progress"},
                                       format="json")
    assert response.status_code == 403 and "dana" in response.json()["detail"]


def test_the_owner_reports_start_and_failure_which_fails_the_go_live(cast, started, api):
    dana = api(cast.engineer2)
    url = f"/api/v1/tickets/{started.key}/tasks/2/report/"
    assert dana.post(url, {"state": "in_progress"}, format="json").json()["state"] == "in_progress"
    missing = dana.post(url, {"state": "failed"}, format="json")
    assert missing.status_code == 400 and missing.json()["fields"] == {"note": ["What went wrong?"]}
    stale = dana.post(url, {"state": "failed", "note": "x"}, format="json", HTTP_IF_MATCH='"1"')
    assert stale.status_code == 412
    failed = dana.post(url, {"state": "failed", "note": "SG tables missing"}, format="json")
    assert failed.status_code == 200 and failed.json()["result_note"] == "SG tables missing"
    change = api(cast.agent2).get(f"/api/v1/tickets/{started.key}/").json()
    assert change["implementation_result"] == "failed"


def test_recording_successful_with_a_failed_task_is_a_409(cast, started, api):
    api(cast.engineer2).post(f"/api/v1/tickets/{started.key}/tasks/2/report/", {"state": "failed", "note": "x"},
                             format="json")
    response = api(cast.agent2).post(f"/api/v1/tickets/{started.key}/transition/", {
        "to": "resolved", "implementation_result": "successful"}, format="json")
    assert response.status_code == 409 and "T2 Singapore failed" in response.json()["detail"]


def test_closing_with_an_open_task_is_a_409_and_without_review_a_400(cast, started, api):
    agent, cab = api(cast.agent2), api(cast.change_manager)
    url = f"/api/v1/tickets/{started.key}/transition/"
    assert agent.post(url, {"to": "resolved", "implementation_result": "failed"}, format="json").status_code == 200
    open_task = cab.post(url, {"to": "closed"}, format="json")
    assert open_task.status_code == 409 and "still open" in open_task.json()["detail"]
    for number in (1, 2, 3):
        assert cab.post(f"/api/v1/tickets/{started.key}/tasks/{number}/report/", {"state": "cancelled"},
                        format="json").status_code == 200
    no_review = cab.post(url, {"to": "closed"}, format="json")
    assert no_review.status_code == 400 and set(no_review.json()["fields"]) == {
        "review_notes", "review_cause", "review_actions"}
    closed = cab.post(url, {"to": "closed", "review_notes": "Berlin ok, SG failed", "review_cause": "Tables",
                            "review_actions": "Load SG tables in pre-checks (dana)"}, format="json")
    assert closed.status_code == 200 and closed.json()["review_cause"] == "Tables"


def test_hand_off_and_replan_through_the_api(cast, change, tasks, api):
    client = api(cast.agent2)
    handed = client.post(f"/api/v1/tickets/{change.key}/tasks/1/handoff/", {"assignee": cast.engineer2.pk,
                                                                           "note": "Devon is ill"}, format="json")
    assert handed.status_code == 200 and handed.json()["assignee"]["username"] == "dana"
    patched = client.patch(f"/api/v1/tickets/{change.key}/tasks/1/", {"site": "Berlin Mitte"}, format="json",
                           HTTP_IF_MATCH=handed["ETag"])
    assert patched.status_code == 200 and patched.json()["site"] == "Berlin Mitte"
    assert client.patch(f"/api/v1/tickets/{change.key}/tasks/1/", {"state": "done"}, format="json").status_code == 400


def test_rollbacks_are_recorded_and_listed(cast, started, api):
    client = api(cast.agent2)
    url = f"/api/v1/tickets/{started.key}/rollbacks/"
    refused = client.post(url, {"run_by": cast.engineer.pk, "ran_at": "2099-01-01T00:00:00Z", "outcome": "restored"},
                          format="json")
    assert refused.status_code == 400 and "ran_at" in refused.json()["fields"]
    done = client.post(url, {"run_by": cast.engineer.pk, "ran_at": started.updated_at.isoformat(),
                             "outcome": "restored", "note": "4.7 back"}, format="json")
    assert done.status_code == 201 and done.json()["run_by"]["username"] == "devon"
    assert [r["outcome"] for r in client.get(url).json()] == ["restored"]
    assert client.get(f"/api/v1/tickets/{started.key}/").json()["implementation_result"] == "rolled_back"


def test_my_tasks_and_the_rates(cast, started, api):
    mine = api(cast.agent2).get("/api/v1/change-tasks/?owner=me&state=open").json()
    assert [t["site"] for t in mine] == ["New York"]  # his group's unassigned task
    assert api(cast.agent2).get("/api/v1/change-tasks/?state=bogus").status_code == 400
    rates = api(cast.manager).get("/api/v1/changes/rates/?days=7")
    assert rates.status_code == 200 and rates.json()["overall"]["total"] == 0
    assert api(cast.manager).get("/api/v1/changes/rates/?start=2020-13-01").status_code == 400


@pytest.mark.parametrize("rows", [1, 10])
def test_the_task_list_queries_are_constant(cast, change, rows, api, django_assert_max_num_queries):
    for i in range(rows):
        itsm.task_add(change=change, actor=cast.agent2, title=f"Site {i}", business_unit="BU", site=f"S{i}",
                      country="DE", time_zone="Europe/Berlin", planned_start=local("Europe/Berlin"),
                      planned_end=local("Europe/Berlin", hour=11), assignee=cast.engineer, group=cast.l3)
    client = api(cast.agent2)
    with django_assert_max_num_queries(4):
        assert len(client.get(f"/api/v1/tickets/{change.key}/tasks/").json()) == rows
    with django_assert_max_num_queries(4):
        assert len(client.get("/api/v1/change-tasks/?state=open").json()) == rows
    assert ChangeTask.objects.count() == rows
