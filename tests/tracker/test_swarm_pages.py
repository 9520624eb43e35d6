"""The Swarm panel of the ticket page: invite, record help, log work, leave; refusals in place with what was
typed kept; the timeline's swarm and work rows; the page's queries."""
import pytest

from tests.factories import UserFactory
from tracker import services
from tracker.choices import Role
from tracker.models import Contributor, WorkLog

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def swarm(cast):
    cast.l2.swarming = True
    cast.l2.save()
    return services.ticket_create(actor=cast.agent2, kind="incident", title="Payslips show last month",
                                  requester=cast.requester, service=cast.services["payroll"], group=cast.l2)


def test_an_agent_invites_an_expert_from_the_panel_and_the_timeline_says_so(cast, client_for, swarm):
    client = client_for(cast.agent2)
    page = client.get(f"/tickets/{swarm.key}/").content.decode()
    assert "Swarm" in page and "App Support swarms" in page and 'id="invite-form"' in page
    response = client.post(f"/tickets/{swarm.key}/contributors/", {"person": "devon", "note": "knows the batch"},
                           **HTMX)
    assert response.status_code == 200
    page = response.content.decode()
    assert "Devon" in page or "devon" in page
    assert "Brought in <strong>" in page and "knows the batch" in page
    assert Contributor.objects.get().user == cast.engineer


def test_a_refused_invite_shows_in_place_with_the_typed_text_kept(cast, client_for, swarm):
    client = client_for(cast.agent2)
    services.contributor_invite(ticket=swarm, actor=cast.agent2, user=cast.engineer)
    response = client.post(f"/tickets/{swarm.key}/contributors/", {"person": "devon", "note": "once more"}, **HTMX)
    assert response.status_code == 409
    body = response.content.decode()
    assert 'id="invite-form"' in body and "already contributing" in body and "once more" in body
    unknown = client.post(f"/tickets/{swarm.key}/contributors/", {"person": "nobody", "note": "x"}, **HTMX)
    assert unknown.status_code == 400 and "No one is called" in unknown.content.decode()


def test_the_invite_form_is_not_offered_in_a_team_that_does_not_swarm(cast, client_for):
    ticket = services.ticket_create(actor=cast.agent2, kind="incident", title="Slow", group=cast.l2)
    client = client_for(cast.agent2)
    assert 'id="invite-form"' not in client.get(f"/tickets/{ticket.key}/").content.decode()
    response = client.post(f"/tickets/{ticket.key}/contributors/", {"person": "devon"}, **HTMX)
    assert response.status_code == 409 and "does not swarm" in response.content.decode()


def test_a_contributor_records_help_logs_work_and_leaves_from_the_panel(cast, client_for, swarm):
    contributor = services.contributor_invite(ticket=swarm, actor=cast.agent2, user=cast.engineer)
    client = client_for(cast.engineer)
    page = client.get(f"/tickets/{swarm.key}/").content.decode()
    assert 'id="help-form"' in page and f"/contributors/{contributor.pk}/leave/" in page
    response = client.post(f"/tickets/{swarm.key}/help/", {"note": "Found the stuck job", "minutes": "45"}, **HTMX)
    assert response.status_code == 200 and "Found the stuck job" in response.content.decode()
    bad = client.post(f"/tickets/{swarm.key}/worklogs/", {"minutes": "0", "note": "typed note"}, **HTMX)
    assert bad.status_code == 400
    assert "at least one minute" in bad.content.decode() and "typed note" in bad.content.decode()
    good = client.post(f"/tickets/{swarm.key}/worklogs/", {"minutes": "30", "note": "Re-ran it"}, **HTMX)
    assert good.status_code == 200 and "Time logged: <strong>1h 15m</strong>" in good.content.decode()
    left = client.post(f"/tickets/{swarm.key}/contributors/{contributor.pk}/leave/", {}, **HTMX)
    assert left.status_code == 200 and "left the swarm" in left.content.decode()
    assert WorkLog.objects.count() == 2


def test_an_outsider_is_refused_leave_in_place(cast, client_for, swarm):
    contributor = services.contributor_invite(ticket=swarm, actor=cast.agent2, user=cast.engineer)
    response = client_for(cast.agent1).post(f"/tickets/{swarm.key}/contributors/{contributor.pk}/leave/", {}, **HTMX)
    assert response.status_code == 403 and "may end this contribution" in response.content.decode()


@pytest.mark.parametrize("people", [1, 8])
def test_the_ticket_page_keeps_its_14_queries_however_many_contributors(cast, client_for, swarm, people,
                                                                          django_assert_max_num_queries):
    for n in range(people):
        helper = UserFactory(username=f"expert{n}", role=Role.ENGINEER_L3)
        services.contributor_invite(ticket=swarm, actor=cast.agent2, user=helper, note=f"area {n}")
        services.worklog_add(ticket=swarm, actor=helper, minutes=10)
    services.contributor_leave(contributor=Contributor.objects.first(), actor=cast.agent2)
    client = client_for(cast.agent2)
    client.get(f"/tickets/{swarm.key}/")
    with django_assert_max_num_queries(14):  # README: workspace 14 (its files among them)
        response = client.get(f"/tickets/{swarm.key}/")
    assert response.status_code == 200 and f"{people * 10}m" in response.content.decode().replace("1h 20m", "80m")


def test_the_pages_empty_forms_shared_by_requests_stay_empty_after_refusals_and_name_each_zone(cast, client_for,
                                                                                               swarm):
    """The empty comment, link and work log forms are built once per process (per zone for the work log's help):
    a refused form, shown whole with what was typed, leaves the next page's forms empty and without messages."""
    client = client_for(cast.agent2)
    fresh = client.get(f"/tickets/{swarm.key}/").content.decode()
    refusals = [("link/", {"type": "caused_by", "key": "NOPE-404"}, "NOPE-404"),
                ("comment/", {"body": ""}, "Write something before sending"),
                ("worklogs/", {"minutes": "0", "note": "typed note"}, "typed note")]
    for path, data, shown in refusals:
        refused = client.post(f"/tickets/{swarm.key}/{path}", data)
        assert refused.status_code >= 400 and shown in refused.content.decode()
        page = client.get(f"/tickets/{swarm.key}/").content.decode()
        assert shown not in page and 'role="alert"' not in page
        assert page.count('aria-invalid="true"') == fresh.count('aria-invalid="true"') == 0
    cast.agent2.time_zone = "Asia/Singapore"
    cast.agent2.save()
    page = client.get(f"/tickets/{swarm.key}/").content.decode()
    assert "In your time zone, Asia/Singapore." in page and "In your time zone, Asia/Singapore." not in fresh
