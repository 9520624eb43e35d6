"""Support capacity (per week, support vs project time, decisions to go over the share and their rules), the
team backlog's order, Log time on the ticket page, and the time-logs API."""

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from devflow import selectors as q
from devflow.models import BacklogRank, CapacityDecision
from devflow.services import backlog_move, capacity_decision_record
from tests.factories import UserFactory
from tracker import services
from tracker.choices import EventKind, Kind, Role
from tracker.errors import AccessDenied, Conflict, NotFound, ValidationFailed
from tracker.forms import parse_duration
from tracker.models import WorkLog


def _client(user):
    client = Client()
    client.force_login(user)
    return client


def _at_team(cast, kind=Kind.INCIDENT, title="Net pay wrong", impact=2, urgency=2, **values):
    ticket = services.ticket_create(actor=cast.agent2, kind=kind, title=title, impact=impact, urgency=urgency,
                                    service=cast.services["payroll"], group=cast.l3, requester=cast.requester,
                                    **values)
    return ticket


def _p1(cast):
    ticket = services.ticket_create(actor=cast.agent1, kind=Kind.INCIDENT, title="Payroll down", impact=1,
                                    urgency=1, service=cast.services["payroll"], requester=cast.requester)
    services.ticket_escalate(ticket=ticket, actor=cast.agent1)
    services.ticket_escalate(ticket=ticket, actor=cast.agent2)
    return ticket


@pytest.fixture
def team(cast):
    cast.l3.support_share = 20
    cast.l3.member_hours = 40
    cast.l3.save()
    cast.incident_manager = UserFactory(username="iris", role=Role.INCIDENT_MANAGER)
    return cast.l3


# --- time: parsing and the weekly figures -----------------------------------------------------------------------

@pytest.mark.parametrize("text,minutes", [("90", 90), ("1h 30m", 90), ("1h", 60), ("45m", 45), ("1.5h", 90),
                                          ("1:30", 90), ("2 hours", 120), ("abc", None), ("", None), ("1h 30x", None)])
def test_durations_read_as_people_type_them(text, minutes):
    assert parse_duration(text) == minutes


def test_support_time_counts_against_the_share_and_project_time_apart(cast, team):
    now = timezone.now()
    incident = _p1(cast)
    defect = services.ticket_create(actor=cast.engineer, kind=Kind.DEFECT, title="Tax import", group=team,
                                    service=cast.services["payroll"], severity="s2")
    services.worklog_add(ticket=incident, actor=cast.engineer, minutes=600, now=now)
    services.worklog_add(ticket=incident, actor=cast.engineer2, minutes=480, now=now)
    services.worklog_add(ticket=defect, actor=cast.engineer, minutes=240, now=now)
    services.worklog_add(ticket=incident, actor=cast.engineer, minutes=60, now=now - timedelta(weeks=12))
    data = q.team_capacity(team=team, now=now)
    assert data["team_hours"] == 80 and data["reserved_hours"] == 16.0 and len(data["weeks"]) == 9
    week = data["weeks"][-1]
    assert week["current"] and week["support_hours"] == 18.0 and week["project_hours"] == 4.0 and week["over"]
    assert sum(w["support_hours"] for w in data["weeks"]) == 18.0  # 12 weeks back is out of the page
    assert data["open_load"] == 1


def test_the_capacity_page_keeps_its_query_count_as_weeks_fill(cast, team, django_assert_max_num_queries):
    incident = _p1(cast)
    client = _client(cast.manager)
    client.get(f"/dev/teams/{team.pk}/capacity/")
    for weeks in range(8):
        services.worklog_add(ticket=incident, actor=cast.engineer, minutes=90,
                             worked_at=timezone.now() - timedelta(weeks=weeks))
    with django_assert_max_num_queries(20):
        response = client.get(f"/dev/teams/{team.pk}/capacity/")
    assert response.status_code == 200 and "<svg" in response.content.decode()


# --- decisions to go over the share -----------------------------------------------------------------------------

def test_the_change_manager_records_going_over_the_share_for_a_p1(cast, team):
    p1 = _p1(cast)
    decision = capacity_decision_record(group=team, ticket=p1, actor=cast.change_manager, agreed_with=cast.manager,
                                        note="Agreed with the project manager: the sprint waits.")
    assert decision.week.weekday() == 0 and decision.decided_by == cast.change_manager
    event = p1.events.get(kind="capacity")
    assert "agreed with" in event.note and event.internal
    page = _client(cast.manager).get(f"/dev/teams/{team.pk}/capacity/").content.decode()
    assert p1.key in page and "decided by" in page and "the sprint waits" in page


def test_the_teams_manager_and_the_incident_manager_may_decide_an_engineer_may_not(cast, team):
    p1 = _p1(cast)
    capacity_decision_record(group=team, ticket=p1, actor=cast.manager, note="Our call.")
    capacity_decision_record(group=team, ticket=p1, actor=cast.incident_manager, note="Again, last week.",
                             week=timezone.localdate() - timedelta(days=7))
    with pytest.raises(AccessDenied, match="change manager"):
        capacity_decision_record(group=team, ticket=p1, actor=cast.engineer, note="I decide.")


def test_only_a_p1_incident_or_an_emergency_change_at_the_team_takes_it_over(cast, team):
    p3 = _at_team(cast)
    with pytest.raises(ValidationFailed, match="neither a P1 incident nor an emergency change"):
        capacity_decision_record(group=team, ticket=p3, actor=cast.change_manager, note="x")
    elsewhere = services.ticket_create(actor=cast.agent1, kind=Kind.INCIDENT, title="Desk P1", impact=1, urgency=1,
                                       requester=cast.requester)
    with pytest.raises(ValidationFailed, match="not at Payroll Dev"):
        capacity_decision_record(group=team, ticket=elsewhere, actor=cast.change_manager, note="x")
    emergency = services.ticket_create(actor=cast.change_manager, kind=Kind.CHANGE, title="Hotfix payroll",
                                       change_type="emergency", group=team, service=cast.services["payroll"],
                                       emergency_justification="Payroll run tonight.")
    assert capacity_decision_record(group=team, ticket=emergency, actor=cast.change_manager, note="Tonight.")


def test_a_decision_needs_a_note_another_person_a_week_not_ahead_and_is_taken_once(cast, team):
    p1 = _p1(cast)
    with pytest.raises(ValidationFailed, match="what was agreed"):
        capacity_decision_record(group=team, ticket=p1, actor=cast.change_manager, note="  ")
    with pytest.raises(ValidationFailed, match="not yourself"):
        capacity_decision_record(group=team, ticket=p1, actor=cast.change_manager, agreed_with=cast.change_manager,
                                 note="x")
    with pytest.raises(ValidationFailed, match="not yourself"):
        capacity_decision_record(group=team, ticket=p1, actor=cast.change_manager, agreed_with=cast.requester,
                                 note="x")
    with pytest.raises(ValidationFailed, match="already past"):
        capacity_decision_record(group=team, ticket=p1, actor=cast.change_manager, note="x",
                                 week=timezone.localdate() + timedelta(days=8))
    capacity_decision_record(group=team, ticket=p1, actor=cast.change_manager, note="x")
    with pytest.raises(Conflict, match="already decided"):
        capacity_decision_record(group=team, ticket=p1, actor=cast.change_manager, note="y")
    assert CapacityDecision.objects.count() == 1


def test_the_decision_form_refuses_in_place_and_keeps_what_was_typed(cast, team):
    p1 = _p1(cast)
    client = _client(cast.change_manager)
    response = client.post(f"/dev/teams/{team.pk}/capacity/decisions/", {"ticket": p1.key, "note": ""},
                           HTTP_HX_REQUEST="true")
    assert response.status_code == 400 and "what was agreed" in response.content.decode()
    assert f'value="{p1.key}"' in response.content.decode()
    response = client.post(f"/dev/teams/{team.pk}/capacity/decisions/", {"ticket": "INC-999", "note": "x"},
                           HTTP_HX_REQUEST="true")
    assert response.status_code == 400 and "No ticket INC-999" in response.content.decode()
    response = client.post(f"/dev/teams/{team.pk}/capacity/decisions/", {
        "ticket": p1.key, "note": "Agreed.", "agreed_with": cast.manager.pk}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200 and CapacityDecision.objects.get().agreed_with == cast.manager


def test_the_csv_has_a_row_per_week(cast, team):
    p1 = _p1(cast)
    services.worklog_add(ticket=p1, actor=cast.engineer, minutes=1200)
    capacity_decision_record(group=team, ticket=p1, actor=cast.change_manager, note="x")
    response = _client(cast.manager).get(f"/dev/teams/{team.pk}/capacity.csv")
    assert response["Content-Type"].startswith("text/csv")
    lines = response.content.decode().strip().splitlines()
    assert lines[0].startswith("week,monday,team_hours") and len(lines) == 10
    assert lines[-1].endswith(f"20.0,0.0,yes,{p1.key} by carl")


def test_people_outside_the_team_do_not_see_its_capacity(cast, team):
    assert _client(cast.agent1).get(f"/dev/teams/{team.pk}/capacity/").status_code == 404
    assert _client(cast.engineer).get(f"/dev/teams/{team.pk}/capacity/").status_code == 200
    assert _client(cast.requester).get(f"/dev/teams/{team.pk}/capacity/").status_code in (302, 403, 404)
    assert _client(cast.manager).get("/dev/teams/").status_code == 200


# --- the backlog ------------------------------------------------------------------------------------------------

def _backlog(cast, team):
    low = services.ticket_create(actor=cast.engineer, kind=Kind.DEFECT, title="Typo on payslip", group=team,
                                 impact=3, urgency=3, severity="s4", component="Payslip")
    high = services.ticket_create(actor=cast.engineer, kind=Kind.DEFECT, title="Tax import", group=team,
                                  impact=1, urgency=2, severity="s1", component="Tax import")
    change = services.ticket_create(actor=cast.change_manager, kind=Kind.CHANGE, title="Upgrade engine",
                                    group=team, impact=2, urgency=3, change_type="normal")
    return low, high, change


def test_the_backlog_orders_by_priority_and_severity_then_the_leads_order(cast, team):
    low, high, change = _backlog(cast, team)
    _at_team(cast)  # an incident is not backlog work
    assert [t.pk for t in q.team_backlog(team=team)] == [high.pk, change.pk, low.pk]
    backlog_move(group=team, ticket=low, actor=cast.manager, to=1)
    assert [t.pk for t in q.team_backlog(team=team)] == [low.pk, high.pk, change.pk]
    backlog_move(group=team, ticket=change, actor=cast.manager, to=2)
    assert [t.pk for t in q.team_backlog(team=team)] == [low.pk, change.pk, high.pk]
    assert BacklogRank.objects.filter(group=team).count() == 3
    assert [t.pk for t in q.team_backlog(team=team, kind=Kind.DEFECT, component="Tax import")] == [high.pk]


def test_only_the_lead_orders_the_backlog_and_only_its_tickets(cast, team):
    low, high, _ = _backlog(cast, team)
    with pytest.raises(AccessDenied):
        backlog_move(group=team, ticket=low, actor=cast.engineer, to=1)
    with pytest.raises(NotFound):
        backlog_move(group=team, ticket=_at_team(cast), actor=cast.manager, to=1)
    with pytest.raises(ValidationFailed):
        backlog_move(group=team, ticket=low, actor=cast.manager, to=0)


@pytest.mark.parametrize("rows", [1, 20])
def test_the_backlog_page_reads_a_constant_number_of_queries(cast, team, rows, django_assert_max_num_queries):
    for i in range(rows):
        services.ticket_create(actor=cast.engineer, kind=Kind.DEFECT, title=f"Defect {i}", group=team,
                               severity="s3", assignee=cast.engineer)
    client = _client(cast.manager)
    with django_assert_max_num_queries(14):
        page = client.get(f"/dev/teams/{team.pk}/backlog/").content.decode()
    assert "Defect 0" in page and (rows == 1 or "Move Defect" in page or "aria-label=\"Move DEF-" in page)


def test_the_backlog_page_moves_a_ticket_up(cast, team):
    low, high, change = _backlog(cast, team)
    response = _client(cast.manager).post(f"/dev/teams/{team.pk}/backlog/move/", {"key": low.key, "position": "1"},
                                          HTTP_HX_REQUEST="true")
    assert response.status_code == 200 and f"{low.key} is now #1" in response.content.decode()
    refused = _client(cast.engineer).post(f"/dev/teams/{team.pk}/backlog/move/", {"key": low.key, "position": "2"},
                                          HTTP_HX_REQUEST="true")
    assert refused.status_code == 403 and "lead" in refused.content.decode()


# --- Log time ---------------------------------------------------------------------------------------------------

def test_log_work_takes_hours_and_minutes_and_shows_on_the_timeline(cast, team):
    ticket = _at_team(cast)
    client = _client(cast.agent2)
    response = client.post(f"/tickets/{ticket.key}/worklogs/", {"minutes": "1h 30m", "note": "Read the logs"},
                           HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    log = WorkLog.objects.get()
    assert log.minutes == 90 and log.user == cast.agent2
    assert ticket.events.filter(kind=EventKind.WORK, new="90").exists()
    page = client.get(f"/tickets/{ticket.key}/").content.decode()
    assert "Read the logs" in page and "Logged" in page


@pytest.mark.parametrize("data,message", [
    ({"minutes": "0"}, "at least one minute"),
    ({"minutes": "25h"}, "at most 24 hours"),
    ({"minutes": "soon"}, "hours and minutes"),
    ({"minutes": "30", "worked_at": "2999-01-01T10:00"}, "in the future"),
])
def test_log_work_refuses_in_place_and_keeps_what_was_typed(cast, team, data, message):
    ticket = _at_team(cast)
    response = _client(cast.engineer).post(f"/tickets/{ticket.key}/worklogs/", {**data, "note": "kept note"},
                                           HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert response.status_code == 400 and message in body.lower()
    assert "kept note" in body and f'value="{data["minutes"]}"' in body
    assert not WorkLog.objects.exists()


def test_a_requester_cannot_log_work(cast, team):
    ticket = _at_team(cast)
    response = _client(cast.requester).post(f"/tickets/{ticket.key}/worklogs/", {"minutes": "30"})
    assert response.status_code in (302, 403, 404) and not WorkLog.objects.exists()


# --- the time-logs API ------------------------------------------------------------------------------------------

def test_the_time_logs_api_filters_by_person_team_and_period(cast, team, api):
    ticket = _at_team(cast)
    now = timezone.now()
    services.worklog_add(ticket=ticket, actor=cast.engineer, minutes=30, now=now)
    services.worklog_add(ticket=ticket, actor=cast.engineer2, minutes=45, now=now, worked_at=now - timedelta(days=3))
    services.worklog_add(ticket=ticket, actor=cast.agent2, minutes=10, now=now)
    client = api(cast.manager)
    everything = client.get("/api/v1/time-logs/").json()["results"]
    assert [r["minutes"] for r in everything] == [10, 30, 45]
    assert [r["minutes"] for r in client.get(f"/api/v1/time-logs/?user={cast.engineer.pk}").json()["results"]] == [30]
    mine = client.get(f"/api/v1/time-logs/?group={team.pk}").json()["results"]
    assert {r["minutes"] for r in mine} == {30, 45} and mine[0]["ticket"] == ticket.key
    since = (now - timedelta(days=1)).isoformat().replace("+00:00", "Z")
    assert {r["minutes"] for r in client.get("/api/v1/time-logs/", {"since": since}).json()["results"]} == {10, 30}
    assert client.get("/api/v1/time-logs/?user=abc").status_code == 400
    assert api(cast.requester).get("/api/v1/time-logs/").status_code == 403
