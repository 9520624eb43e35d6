"""Clocks follow their ticket: start, pause, resume, stop, re-plan, new cycle — all with `now=` given."""

from datetime import timedelta

import pytest

from sla.choices import ClockState, Metric
from sla.models import Clock
from tests.sla.conftest import MONDAY_9
from tracker import services
from tracker.choices import EventKind, Level, Status, Tier
from tracker.models import TicketEvent

H = 3600


def clocks(ticket, metric=None):
    qs = Clock.objects.filter(ticket=ticket).order_by("metric", "tier", "cycle")
    return list(qs.filter(metric=metric) if metric else qs)


def clock(ticket, metric, cycle=None):
    rows = clocks(ticket, metric)
    return rows[-1] if cycle is None else next(c for c in rows if c.cycle == cycle)


@pytest.fixture
def raise_incident(cast):
    def make(now=MONDAY_9, **values):
        values.setdefault("service", cast.services["payroll"])
        return services.ticket_create(
            actor=cast.requester, kind="incident", title="Payslips are blank", now=now, **values
        )

    return make


def test_a_matching_ticket_gets_response_and_resolution_clocks_due_in_business_time(
    london, make_policy, raise_incident
):
    make_policy(london, response_s=2 * H, resolution_s=16 * H)
    ticket = raise_incident(now=MONDAY_9 + timedelta(hours=7))  # Monday 16:00
    response, resolution = clock(ticket, Metric.RESPONSE), clock(ticket, Metric.RESOLUTION)
    assert response.state == ClockState.RUNNING and resolution.state == ClockState.RUNNING
    assert response.due_at == MONDAY_9 + timedelta(days=1, hours=1)  # Tuesday 10:00
    assert resolution.due_at == MONDAY_9 + timedelta(days=2, hours=7)  # Wednesday 16:00
    assert response.next_check_at < response.due_at  # the 75 % warning comes first
    assert TicketEvent.objects.filter(
        ticket=ticket, kind=EventKind.SLA, note__contains="response clock started"
    ).exists()


def test_the_first_policy_by_order_whose_conditions_hold_wins(
    london, always, make_policy, raise_incident, cast
):
    make_policy(always, name="Changes", order=1, kinds=["change"], response_s=60)
    make_policy(always, name="P1", order=2, priorities=[1], response_s=600)
    make_policy(london, name="Payroll", order=3, response_s=7200)
    make_policy(always, name="Catch-all", order=9, response_s=99)
    p1 = raise_incident(impact=Level.HIGH, urgency=Level.HIGH)
    p3 = raise_incident()
    assert clock(p1, Metric.RESPONSE).policy.name == "P1"
    assert clock(p3, Metric.RESPONSE).policy.name == "Payroll"


def test_a_policy_can_match_the_requesters_organisation_and_site(always, make_policy, raise_incident, cast):
    from tracker.models import Organisation

    acme = Organisation.objects.create(name="Acme")
    policy = make_policy(always, name="Acme Leeds", sites=["Leeds"], response_s=60)
    policy.organisations.add(acme)
    assert clocks(raise_incident()) == []
    cast.requester.organisation, cast.requester.site = acme, "Leeds"
    cast.requester.save()
    assert clock(raise_incident(), Metric.RESPONSE).policy == policy


def test_no_policy_means_no_clocks(raise_incident):
    assert clocks(raise_incident()) == []


def test_the_first_response_stops_the_response_clock_as_met(always, make_policy, raise_incident, cast):
    make_policy(always, response_s=H)
    ticket = raise_incident()
    services.ticket_comment(
        ticket=ticket, actor=cast.agent1, body="Looking", now=MONDAY_9 + timedelta(minutes=20)
    )
    response = clock(ticket, Metric.RESPONSE)
    assert response.state == ClockState.MET and not response.breached
    assert response.elapsed_s == 20 * 60 and response.stopped_at == MONDAY_9 + timedelta(minutes=20)
    assert clock(ticket, Metric.RESOLUTION).state == ClockState.RUNNING


def test_waiting_on_the_requester_pauses_across_a_weekend_and_resumes_with_the_time_left(
    london, make_policy, raise_incident, cast
):
    make_policy(london, response_s=H, resolution_s=8 * H)
    ticket = raise_incident()  # Monday 09:00
    friday_16 = MONDAY_9 + timedelta(days=4, hours=7)
    services.ticket_transition(
        ticket=ticket, to=Status.IN_PROGRESS, actor=cast.agent1, now=MONDAY_9 + timedelta(hours=2)
    )  # 2 h counted
    services.ticket_transition(
        ticket=ticket, to=Status.PENDING, actor=cast.agent1, now=MONDAY_9 + timedelta(hours=3)
    )
    paused = clock(ticket, Metric.RESOLUTION)
    assert paused.state == ClockState.PAUSED and paused.elapsed_s == 3 * H and paused.due_at is None
    assert paused.next_check_at is None
    # Waiting all week and over the weekend counts nothing; resumed Friday 16:00, 5 h left = Monday 13:00.
    services.ticket_comment(ticket=ticket, actor=cast.requester, body="Here is the payslip", now=friday_16)
    resumed = clock(ticket, Metric.RESOLUTION)
    assert resumed.state == ClockState.RUNNING and resumed.elapsed_s == 3 * H
    assert resumed.due_at == MONDAY_9 + timedelta(days=7, hours=4)
    assert (
        resumed.remaining_at(friday_16 + timedelta(days=2, hours=18)) == 3 * H
    )  # Monday 10:00: 1 h + 1 h used


def test_the_pause_statuses_are_configured_per_policy(always, make_policy, raise_incident, cast):
    make_policy(always, pause_statuses=[])
    ticket = raise_incident()
    services.ticket_transition(ticket=ticket, to=Status.IN_PROGRESS, actor=cast.agent1, now=MONDAY_9)
    services.ticket_transition(
        ticket=ticket, to=Status.PENDING, actor=cast.agent1, now=MONDAY_9 + timedelta(hours=1)
    )
    assert clock(ticket, Metric.RESOLUTION).state == ClockState.RUNNING


def test_a_priority_change_half_way_keeps_the_time_counted_and_replans_on_the_new_target(
    always, make_policy, raise_incident, cast
):
    make_policy(always, name="P1", order=1, priorities=[1], response_s=None, resolution_s=4 * H)
    make_policy(always, name="Others", order=2, response_s=None, resolution_s=24 * H)
    ticket = raise_incident()  # P3: 24 h
    assert clock(ticket, Metric.RESOLUTION).due_at == MONDAY_9 + timedelta(hours=24)
    half_way = MONDAY_9 + timedelta(hours=2)
    services.ticket_update(
        ticket=ticket,
        actor=cast.agent1,
        version=ticket.version,
        changes={"impact": Level.HIGH, "urgency": Level.HIGH},
        now=half_way,
    )
    replanned = clock(ticket, Metric.RESOLUTION)
    assert ticket.priority == 1 and replanned.policy.name == "P1" and replanned.cycle == 1
    assert replanned.elapsed_s == 2 * H and replanned.goal_s == 4 * H
    assert replanned.due_at == MONDAY_9 + timedelta(hours=4)
    assert TicketEvent.objects.filter(ticket=ticket, note__contains="re-planned").exists()


def test_a_priority_change_past_the_new_target_makes_the_clock_due_at_once(
    always, make_policy, raise_incident, cast
):
    make_policy(always, name="P1", order=1, priorities=[1], response_s=None, resolution_s=H)
    make_policy(always, name="Others", order=2, response_s=None, resolution_s=24 * H)
    ticket = raise_incident()
    late = MONDAY_9 + timedelta(hours=3)
    services.ticket_update(
        ticket=ticket,
        actor=cast.agent1,
        version=ticket.version,
        changes={"impact": Level.HIGH, "urgency": Level.HIGH},
        now=late,
    )
    assert Clock.objects.due(late).filter(ticket=ticket).exists()


def test_resolving_stops_the_clock_and_reopening_starts_a_new_cycle(
    always, make_policy, raise_incident, cast
):
    make_policy(always, response_s=H, resolution_s=8 * H)
    ticket = raise_incident()
    services.ticket_transition(ticket=ticket, to=Status.IN_PROGRESS, actor=cast.agent1, now=MONDAY_9)
    services.ticket_transition(
        ticket=ticket,
        to=Status.RESOLVED,
        actor=cast.agent1,
        values={"resolution_note": "Re-ran payroll"},
        now=MONDAY_9 + timedelta(hours=2),
    )
    first = clock(ticket, Metric.RESOLUTION, cycle=1)
    assert first.state == ClockState.MET and first.elapsed_s == 2 * H
    services.ticket_transition(
        ticket=ticket, to=Status.IN_PROGRESS, actor=cast.requester, now=MONDAY_9 + timedelta(hours=5)
    )
    second = clock(ticket, Metric.RESOLUTION, cycle=2)
    assert second.state == ClockState.RUNNING and second.elapsed_s == 0
    assert second.due_at == MONDAY_9 + timedelta(hours=13)
    assert clock(ticket, Metric.RESOLUTION, cycle=1).state == ClockState.MET
    assert len(clocks(ticket, Metric.RESPONSE)) == 1  # the first response is measured once


def test_cancelling_the_ticket_cancels_its_clocks(always, make_policy, raise_incident, cast):
    make_policy(always)
    ticket = raise_incident()
    services.ticket_transition(
        ticket=ticket,
        to=Status.CANCELLED,
        actor=cast.agent1,
        values={"resolution_note": "Raised twice"},
        now=MONDAY_9 + timedelta(minutes=5),
    )
    assert clock(ticket, Metric.RESOLUTION).state == ClockState.CANCELLED
    assert not Clock.objects.filter(ticket=ticket, state=ClockState.RUNNING).exists()


def test_a_per_tier_pick_target_runs_while_the_ticket_waits_unassigned_at_that_tier(
    always, make_policy, raise_incident, cast
):
    make_policy(always, tiers={Tier.L3: 30 * 60})
    ticket = raise_incident()
    assert clocks(ticket, Metric.PICK) == []  # L1 has no pick target
    services.ticket_escalate(ticket=ticket, actor=cast.agent1, now=MONDAY_9 + timedelta(minutes=1))
    services.ticket_escalate(ticket=ticket, actor=cast.agent2, now=MONDAY_9 + timedelta(minutes=2))
    pick = clock(ticket, Metric.PICK)
    assert pick.tier == Tier.L3 and pick.due_at == MONDAY_9 + timedelta(minutes=32)
    services.ticket_claim(ticket=ticket, actor=cast.engineer, now=MONDAY_9 + timedelta(minutes=12))
    pick = clock(ticket, Metric.PICK)
    assert pick.state == ClockState.MET and pick.elapsed_s == 10 * 60 and not pick.breached


def test_the_demo_seed_attaches_clocks_to_open_tickets_once(cast, raise_incident):
    from sla.demo import seed_sla_demo

    ticket = raise_incident()
    first = seed_sla_demo(now=MONDAY_9)
    assert first["policies"] == 5 and first["tickets"] == 1
    assert {c.metric for c in clocks(ticket)} == {Metric.RESPONSE, Metric.RESOLUTION}
    assert seed_sla_demo(now=MONDAY_9)["tickets"] == 0


def test_clock_labels_are_the_metrics_labels_in_the_active_language():
    from django.utils import translation

    from sla.choices import Metric
    from sla.models import Clock
    from sla.services.clocks import _label

    for language in ("en", "fr", "en"):
        with translation.override(language):
            for metric in Metric.values:
                if metric != Metric.PICK:
                    assert _label(Clock(metric=metric)) == str(Metric(metric).label).lower()
    assert _label(Clock(metric=Metric.PICK, tier=2)) == "L2 pick"
