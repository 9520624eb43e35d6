"""SLA configuration changes reach the running clocks at once, and bad configuration is refused up front."""

from datetime import timedelta

import pytest

from sla import services as sla
from sla.choices import ClockState, Metric
from sla.models import Clock, ClockEffect, Policy
from tests.sla.conftest import MONDAY_9
from tracker import services
from tracker.choices import EventKind
from tracker.models import TicketEvent

H = 3600


@pytest.fixture
def incident(cast, always, make_policy):
    """An incident on policy "P1 incidents" (resolution in 1 h)."""
    make_policy(always, name="P1 incidents", order=10, response_s=600, resolution_s=H)
    return services.ticket_create(actor=cast.requester, kind="incident", title="Payroll down", now=MONDAY_9,
                                  service=cast.services["payroll"])


def resolution(ticket) -> Clock:
    return Clock.objects.select_related("policy").get(ticket=ticket, metric=Metric.RESOLUTION)


def deactivate(policy_name: str, actor, now):
    policy = Policy.objects.get(name=policy_name)
    policy.active = False
    policy.save()
    return sla.policy_saved(policy=policy, actor=actor, now=now)


def test_deactivating_a_policy_moves_its_running_clocks_to_the_next_matching_policy(incident, cast, always,
                                                                                   make_policy):
    make_policy(always, name="Default", order=99, response_s=2 * H, resolution_s=8 * H)
    assert deactivate("P1 incidents", cast.admin, MONDAY_9 + timedelta(minutes=30)) == 2
    clock = resolution(incident)
    assert clock.policy.name == "Default" and clock.goal_s == 8 * H and clock.state == ClockState.RUNNING
    assert clock.elapsed_s == 30 * 60  # the time already counted is kept
    assert clock.due_at == MONDAY_9 + timedelta(hours=8)
    assert TicketEvent.objects.filter(ticket=incident, kind=EventKind.SLA,
                                      note__contains="policy P1 incidents deactivated").count() == 1
    # Past the old policy's 1 h target (and short of the new one's 75 % warnings) nothing warns or breaches.
    assert sla.clocks_sweep(now=MONDAY_9 + timedelta(minutes=80)) == 0
    assert not ClockEffect.objects.exists()


def test_deactivating_the_only_matching_policy_stops_its_clocks(incident, cast):
    deactivate("P1 incidents", cast.admin, MONDAY_9 + timedelta(minutes=30))
    assert set(Clock.objects.filter(ticket=incident).values_list("state", flat=True)) == {ClockState.CANCELLED}
    assert sla.clocks_sweep(now=MONDAY_9 + timedelta(hours=2)) == 0
    assert TicketEvent.objects.filter(ticket=incident, kind=EventKind.SLA, note__contains="deactivated").exists()


def test_deactivating_a_policy_through_the_api_replans_at_once(api, incident, cast, always, make_policy):
    make_policy(always, name="Default", order=99, response_s=2 * H, resolution_s=8 * H)
    policy = Policy.objects.get(name="P1 incidents")
    response = api(cast.admin).patch(f"/api/v1/sla/policies/{policy.pk}/", {"active": False}, format="json")
    assert response.status_code == 200, response.content
    assert resolution(incident).policy.name == "Default"
    assert not Clock.objects.filter(policy=policy, state=ClockState.RUNNING).exists()


def test_a_policy_with_clocks_cannot_be_deleted_and_keeps_them(api, incident, cast):
    policy = Policy.objects.get(name="P1 incidents")
    response = api(cast.admin).delete(f"/api/v1/sla/policies/{policy.pk}/")
    assert response.status_code == 400 and "deactivate it" in response.json()["detail"]
    assert resolution(incident).policy == policy and Policy.objects.filter(pk=policy.pk, active=True).exists()


# --- configuration that would break clocks is refused, never a 500 ------------------------------------


def test_a_calendar_that_is_never_open_is_refused(api, cast):
    from sla.models import Calendar

    response = api(cast.admin).post("/api/v1/sla/calendars/", {"name": "Never", "always_open": False},
                                    format="json")
    assert response.status_code == 400 and "never open" in response.json()["detail"]
    assert "hours" in response.json()["fields"]
    assert not Calendar.objects.filter(name="Never").exists()


def test_an_edit_that_leaves_a_used_calendar_never_open_is_refused(api, cast, london, make_policy):
    make_policy(london)
    response = api(cast.admin).patch(f"/api/v1/sla/calendars/{london.pk}/", {"hours": []}, format="json")
    assert response.status_code == 400 and "never open" in response.json()["detail"]
    assert london.hours.count() == 5  # nothing half-written


def test_a_policy_cannot_point_at_a_never_open_calendar(api, cast, always, make_policy):
    from sla.models import Calendar

    never = Calendar.objects.create(name="Never", time_zone="UTC")  # as left by an older version
    policy = make_policy(always)
    client = api(cast.admin)
    response = client.patch(f"/api/v1/sla/policies/{policy.pk}/", {"calendar": never.pk}, format="json")
    assert response.status_code == 400 and "never open" in response.json()["detail"]
    assert "calendar" in response.json()["fields"]
    policy.refresh_from_db()
    assert policy.calendar == always
    response = client.post("/api/v1/sla/policies/", {"name": "P9", "calendar": never.pk, "response_s": 60},
                           format="json")
    assert response.status_code == 400 and not Policy.objects.filter(name="P9").exists()


def test_a_ticket_under_a_never_open_calendar_is_refused_with_a_message_not_a_500(api, cast, make_policy):
    from sla.models import Calendar
    from tracker.models import Ticket

    make_policy(Calendar.objects.create(name="Never", time_zone="UTC"))  # as left by an older version
    response = api(cast.requester).post("/api/v1/tickets/", {"kind": "incident", "title": "Payslips blank",
                                                             "service": cast.services["payroll"].pk}, format="json")
    assert response.status_code == 400 and "no open time" in response.json()["detail"]
    assert not Ticket.objects.exists()


def test_calendar_hours_without_an_end_are_a_400_naming_the_field(api, cast, london):
    response = api(cast.admin).patch(f"/api/v1/sla/calendars/{london.pk}/",
                                     {"hours": [{"weekday": 0, "start": "09:00"}]}, format="json")
    assert response.status_code == 400, response.content
    assert "end" in response.json()["detail"]
    assert london.hours.count() == 5


@pytest.mark.parametrize("query", ["state=%00", "state=nonsense", "breached=maybe", "ticket=%00"])
def test_a_bad_clock_filter_is_a_400(api, cast, query):
    response = api(cast.agent1).get(f"/api/v1/sla/clocks/?{query}")
    assert response.status_code in (400, 404), response.content
    assert response.json()["detail"]


def test_options_on_notification_preferences_is_not_an_error(api, cast):
    response = api(cast.agent1).options("/api/v1/sla/notifications/preferences/")
    assert response.status_code == 200, response.content


@pytest.mark.parametrize("query", ["start=9999-12-31", "start=2026-02-01&end=2026-01-01", "start=tomorrow",
                                   "start=0001-01-01"])
def test_an_impossible_dashboard_period_is_a_400_with_a_message(client_for, cast, query):
    response = client_for(cast.manager).get(f"/dashboard/?{query}")
    assert response.status_code == 400
    assert "period" in response.content.decode().lower()


def test_marking_read_an_id_beyond_any_row_is_a_400(api, cast):
    response = api(cast.agent1).post("/api/v1/sla/notifications/read/", {"ids": [2**80]}, format="json")
    assert response.status_code == 400 and "ids" in response.json()["detail"]
