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
