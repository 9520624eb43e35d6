"""The pages of change enablement: the Tasks panel of a change, its forms (refusals in place), "My change
tasks", and the changes behind a rate; query counts constant in the number of rows."""
import pytest

from itsm import services as itsm
from itsm.choices import TaskState
from itsm.models import ChangeTask
from tracker import services
from tracker.choices import ImplementationResult, Status

from .conftest import approve, local

HTMX = {"HTTP_HX_REQUEST": "true"}


def _start(change, cast):
    approve(change, cast)
    services.ticket_transition(ticket=change, to=Status.IN_PROGRESS, actor=cast.agent2)


def _task_post(**extra):
    data = {"task-title": "Cut over Berlin stores", "task-business_unit": "Retail DACH", "task-site": "Berlin",
            "task-country": "de", "task-time_zone": "Europe/Berlin", "task-planned_start": "2031-03-14T09:00",
            "task-planned_end": "2031-03-14T11:00"}
    return {**data, **extra}


def test_the_change_page_shows_each_task_in_the_sites_time_and_the_viewers(cast, change, tasks, client_for):
    cast.agent2.time_zone = "Europe/London"
    cast.agent2.save()
    page = client_for(cast.agent2).get(f"/tickets/{change.key}/").content.decode()
    assert 'aria-label="Tasks of CHG-1"' in page
    assert "Singapore" in page and "09:00–11:00 +08" in page  # the site's clock
    assert "your time" in page and ("01:00–03:00 GMT" in page or "02:00–04:00 BST" in page)
    assert "Add a task" in page


def test_adding_a_task_reads_the_window_on_the_sites_clock(cast, change, client_for):
    response = client_for(cast.agent2).post(f"/tickets/{change.key}/tasks/",
                                            _task_post(**{"task-assignee": cast.engineer.pk}), **HTMX)
    assert response.status_code == 200 and "Added T1 Berlin" in response.content.decode()
    task = ChangeTask.objects.get()
    assert task.country == "DE" and task.planned_start.isoformat() == "2031-03-14T08:00:00+00:00"


def test_a_refused_task_shows_its_message_in_the_form_and_keeps_what_was_typed(cast, change, client_for):
    client = client_for(cast.agent2)
    response = client.post(f"/tickets/{change.key}/tasks/", _task_post(**{"task-planned_end": "2031-03-14T08:00",
                                                                          "task-assignee": cast.engineer.pk}), **HTMX)
    body = response.content.decode()
    assert response.status_code == 400 and 'id="task-add-form"' in body
    assert "must end after it starts" in body and 'value="Cut over Berlin stores"' in body
    assert not ChangeTask.objects.exists()
    # the same refusal without JavaScript: the whole page, the form open with the message
    plain = client.post(f"/tickets/{change.key}/tasks/", _task_post())
    assert plain.status_code == 400 and "Give the task an owner" in plain.content.decode()
    assert "<html" in plain.content.decode()


def test_reporting_from_the_change_page_and_the_refusal_in_the_tasks_row(cast, change, tasks, client_for):
    _start(change, cast)
    dana = client_for(cast.engineer2)
    refused = dana.post(f"/tickets/{change.key}/tasks/2/report/", {"state": "failed", "note": ""}, **HTMX)
    assert refused.status_code == 400 and "a failed task needs its result note" in refused.content.decode()
    assert 'class="task-actions"' in refused.content.decode()  # just the row's actions, the form open
    done = dana.post(f"/tickets/{change.key}/tasks/2/report/", {"state": "failed", "note": "SG tables missing"},
                     **HTMX)
    assert done.status_code == 200 and "The go-live is marked failed" in done.content.decode()
    change.refresh_from_db()
    assert change.implementation_result == ImplementationResult.FAILED
    page = client_for(cast.agent2).get(f"/tickets/{change.key}/").content.decode()
    assert "The go-live failed (T2 Singapore)" in page and "Record rollback" in page
    assert "Task failed" in page and "SG tables missing" in page  # on the change's timeline


def test_reporting_on_someone_elses_task_is_refused_with_a_403(cast, change, tasks, client_for):
    _start(change, cast)
    response = client_for(cast.engineer).post(f"/tickets/{change.key}/tasks/2/report/", {"state": "in_progress"})
    assert response.status_code == 403 and "dana" in response.content.decode()
    assert ChangeTask.objects.get(number=2).state == TaskState.PLANNED


def test_my_change_tasks_lists_mine_and_my_groups_and_reports_from_the_row(cast, change, tasks, client_for):
    _start(change, cast)
    liam = client_for(cast.agent2)
    page = liam.get("/changes/tasks/").content.decode()
    assert "Cut over New York office" in page and "Cut over Berlin stores" not in page  # his group's, not devon's
    row = liam.post(f"/tickets/{change.key}/tasks/3/report/", {"state": "in_progress", "where": "mine",
                                                              "version": tasks[2].version}, **HTMX)
    assert row.status_code == 200 and row["HX-Retarget"] == f"#task-row-{tasks[2].pk}"
    assert "is started" in row.content.decode()
    plain = liam.post(f"/tickets/{change.key}/tasks/3/report/", {"state": "done", "where": "mine"})
    assert plain.status_code == 302 and plain["Location"] == "/changes/tasks/"


def test_a_stale_report_is_refused_in_the_row(cast, change, tasks, client_for):
    _start(change, cast)
    itsm.task_handoff(task=tasks[0], actor=cast.agent2, assignee=cast.engineer2)
    response = client_for(cast.engineer2).post(f"/tickets/{change.key}/tasks/1/report/", {
        "state": "in_progress", "where": "mine", "version": 1}, **HTMX)
    assert response.status_code == 412 and "changed by someone else" in response.content.decode()


@pytest.mark.parametrize("rows", [1, 12])
def test_my_change_tasks_queries_are_constant(cast, change, rows, client_for, django_assert_max_num_queries):
    for i in range(rows):
        itsm.task_add(change=change, actor=cast.agent2, title=f"Site {i}", business_unit="BU", site=f"Site {i}",
                      country="DE", time_zone="Europe/Berlin", planned_start=local("Europe/Berlin"),
                      planned_end=local("Europe/Berlin", hour=11), assignee=cast.engineer)
    client = client_for(cast.engineer)
    with django_assert_max_num_queries(12):
        assert client.get("/changes/tasks/").status_code == 200


@pytest.mark.parametrize("rows", [1, 12])
def test_the_change_page_with_tasks_queries_are_constant(cast, change, rows, client_for,
                                                          django_assert_max_num_queries):
    for i in range(rows):
        itsm.task_add(change=change, actor=cast.agent2, title=f"Site {i}", business_unit="BU", site=f"Site {i}",
                      country="SG", time_zone="Asia/Singapore", planned_start=local("Asia/Singapore"),
                      planned_end=local("Asia/Singapore", hour=11), group=cast.l3)
    client = client_for(cast.agent2)
    with django_assert_max_num_queries(30):
        assert client.get(f"/tickets/{change.key}/").status_code == 200


def test_recording_a_rollback_in_the_page(cast, change, tasks, client_for):
    _start(change, cast)
    client = client_for(cast.agent2)
    refused = client.post(f"/tickets/{change.key}/rollback/", {"run_by": cast.requester.pk, "outcome": "restored",
                                                               "ran_at": "2030-01-01T10:00"}, **HTMX)
    assert refused.status_code == 400 and 'id="rollback-form"' in refused.content.decode()
    ok = client.post(f"/tickets/{change.key}/rollback/", {"run_by": cast.engineer.pk, "outcome": "restored",
                                                          "ran_at": change.created_at.strftime("%Y-%m-%dT%H:%M"),
                                                          "note": "Images restored"}, **HTMX)
    assert ok.status_code == 200, ok.content.decode()[:500]
    change.refresh_from_db()
    assert change.implementation_result == ImplementationResult.ROLLED_BACK
