"""The swarm and work-log API: /api/v1/tickets/<key>/contributors/ and /worklogs/."""
import pytest

from tracker import services
from tracker.models import Contributor, WorkLog


@pytest.fixture
def swarm(cast):
    cast.l2.swarming = True
    cast.l2.save()
    return services.ticket_create(actor=cast.agent2, kind="incident", title="Payslips show last month",
                                  requester=cast.requester, service=cast.services["payroll"], group=cast.l2)


def test_an_agent_invites_lists_and_a_contributor_leaves(api, cast, swarm):
    url = f"/api/v1/tickets/{swarm.key}/contributors/"
    response = api(cast.agent2).post(url, {"user": cast.engineer.pk, "note": "batch expert"}, format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["user"]["username"] == "devon" and body["invited_by"]["username"] == "liam" and body["active"]
    again = api(cast.agent2).post(url, {"user": cast.engineer.pk}, format="json")
    assert again.status_code == 409 and "already contributing" in again.json()["detail"]
    listed = api(cast.engineer).get(url).json()
    assert [(c["user"]["username"], c["active"]) for c in listed] == [("devon", True)]
    left = api(cast.engineer).post(f"{url}{body['id']}/leave/", {"note": "done"}, format="json")
    assert left.status_code == 200 and left.json()["active"] is False
    assert api(cast.engineer).post(f"{url}{body['id']}/leave/", {}, format="json").status_code == 409
    assert api(cast.engineer).post(f"{url}999999/leave/", {}, format="json").status_code == 404


def test_inviting_in_a_team_that_does_not_swarm_is_a_409_and_requesters_see_no_swarm(api, cast):
    ticket = services.ticket_create(actor=cast.agent2, kind="incident", title="Slow", group=cast.l2,
                                    requester=cast.requester)
    url = f"/api/v1/tickets/{ticket.key}/contributors/"
    response = api(cast.agent2).post(url, {"group": cast.l3.pk}, format="json")
    assert response.status_code == 409 and "does not swarm" in response.json()["detail"]
    assert api(cast.requester).get(url).status_code == 403
    assert api(cast.requester).get(f"/api/v1/tickets/{ticket.key}/worklogs/").status_code == 403
    assert not Contributor.objects.exists()


def test_work_is_logged_and_listed_and_bad_minutes_are_400s(api, cast, swarm):
    url = f"/api/v1/tickets/{swarm.key}/worklogs/"
    response = api(cast.agent2).post(url, {"minutes": 90, "note": "Re-ran the batch"}, format="json")
    assert response.status_code == 201, response.content
    assert response.json()["group"]["name"] == "App Support"
    for minutes, message in ((0, "at least one minute"), (-3, "at least one minute"), (1441, "at most 24 hours")):
        bad = api(cast.agent2).post(url, {"minutes": minutes}, format="json")
        assert bad.status_code == 400 and message in bad.json()["detail"], bad.content
    future = api(cast.agent2).post(url, {"minutes": 5, "worked_at": "2999-01-01T10:00:00Z"}, format="json")
    assert future.status_code == 400 and "future" in future.json()["detail"]
    assert [row["minutes"] for row in api(cast.engineer).get(url).json()] == [90]
    assert WorkLog.objects.count() == 1


def test_a_contributor_records_help_through_the_api_and_others_are_refused(api, cast, swarm):
    services.contributor_invite(ticket=swarm, actor=cast.agent2, user=cast.engineer)
    url = f"/api/v1/tickets/{swarm.key}/contributors/help/"
    missing = api(cast.engineer).post(url, {"minutes": 30}, format="json")
    assert missing.status_code == 400 and "note" in missing.json()["fields"]
    outsider = api(cast.engineer2).post(url, {"note": "Had a look"}, format="json")
    assert outsider.status_code == 403 and "not contributing" in outsider.json()["detail"]
    bad = api(cast.engineer).post(url, {"note": "Re-ran the batch", "minutes": 0}, format="json")
    assert bad.status_code == 400 and not WorkLog.objects.exists()
    assert not swarm.events.filter(kind="swarm", field="helped").exists()  # nothing half-written
    done = api(cast.engineer).post(url, {"note": "Re-ran the batch", "minutes": 25}, format="json")
    assert done.status_code == 201, done.content
    assert done.json()["kind"] == "swarm" and done.json()["note"] == "Re-ran the batch"
    assert WorkLog.objects.get().minutes == 25 and WorkLog.objects.get().user == cast.engineer
