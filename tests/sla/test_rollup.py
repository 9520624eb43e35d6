"""The dashboard's daily roll-up: the same numbers as the live aggregation, kept current by a refresh."""

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from sla import dashboard as reports
from sla.choices import BREACH_LEVEL, ClockState, Metric
from sla.models import Clock, ClockEffect, ClockRollup, EscalationRollup
from sla.services import backlog_snapshot, rollup_refresh, rollup_refresh_recent
from tracker import services
from tracker.choices import EventKind, Kind, Priority
from tracker.models import Ticket, TicketEvent


def _clock(ticket, *, metric, started, stopped=None, breached_at=None, state=ClockState.MET, group=None,
           priority=Priority.P3, policy):
    return Clock.objects.create(
        ticket=ticket, policy=policy, metric=metric, state=state, goal_s=3600, started_at=started,
        stopped_at=stopped, breached=breached_at is not None, breached_at=breached_at, group=group,
        priority=priority,
    )


@pytest.fixture
def history(cast, always, make_policy):
    """Ten days of decided clocks, effects and escalations, the first and last days partial."""
    now = timezone.now()
    policy = make_policy(always)
    tickets = [
        services.ticket_create(actor=cast.agent1, kind=kind, title=f"t{i}")
        for i, kind in enumerate([Kind.INCIDENT, Kind.REQUEST, Kind.INCIDENT, Kind.PROBLEM] * 3)
    ]
    Clock.objects.all().delete()
    for i, ticket in enumerate(tickets):
        at = now - timedelta(days=i, hours=3 * i)
        group = (cast.l1, cast.l2, cast.l3, None)[i % 4]
        _clock(ticket, metric=Metric.RESPONSE, started=at - timedelta(hours=1), stopped=at, group=group,
               priority=Priority.P1 + i % 3, policy=policy)
        if i % 3 == 0:  # breached while still open
            clock = _clock(ticket, metric=Metric.RESOLUTION, started=at - timedelta(hours=5),
                           breached_at=at, state=ClockState.RUNNING, group=group, policy=policy)
        else:
            clock = _clock(ticket, metric=Metric.RESOLUTION, started=at - timedelta(hours=30), stopped=at,
                           breached_at=at - timedelta(hours=2) if i % 2 else None, group=group,
                           policy=policy)
        ClockEffect.objects.create(clock=clock, ticket=ticket, level=75, due_at=at, created_at=at)
        if clock.breached:
            ClockEffect.objects.create(clock=clock, ticket=ticket, level=BREACH_LEVEL, due_at=at, created_at=at)
        TicketEvent.objects.create(ticket=ticket, actor=None if i % 2 else cast.agent1,
                                   kind=EventKind.ESCALATION, new=cast.l2.name, created_at=at)
    Ticket.objects.filter(pk__in=[t.pk for t in tickets[:4]]).update(created_at=now - timedelta(days=45))
    return now, tickets


def _refresh_all(now, days=12):
    for i in range(1, days):
        rollup_refresh(day=reports.local_date(now) - timedelta(days=i), now=now)
    backlog_snapshot(now=now)


def test_the_roll_up_gives_the_numbers_of_the_live_aggregation(history):
    now, _ = history
    period = reports.Period(now - timedelta(days=10), now)
    live = reports.dashboard(period=period, now=now)

    _refresh_all(now)

    assert len(reports.rolled_up_days(period)) == 9  # every whole day; the first and today stay live
    assert reports.dashboard(period=period, now=now) == live
    assert live["kpis"]["breaches"] and live["kpis"]["escalations"] and live["kpis"]["backlog"]


def test_refreshing_a_day_twice_changes_nothing(history):
    now, _ = history
    # the day of the fourth ticket's escalation (3 days and 9 hours ago): its neighbours' are 27 hours away, so
    # that day holds exactly one, whatever the hour the test runs at
    day = reports.local_date(now - timedelta(days=3, hours=9))
    rollup_refresh(day=day, now=now)
    first = list(ClockRollup.objects.filter(day=day).values("group", "priority", "kind", "metric", "decided"))
    rollup_refresh(day=day, now=now)
    assert list(ClockRollup.objects.filter(day=day).values(
        "group", "priority", "kind", "metric", "decided")) == first
    assert EscalationRollup.objects.filter(day=day).count() == 1


def test_a_day_refreshed_before_it_ended_is_read_live(history):
    now, _ = history
    yesterday = reports.local_date(now) - timedelta(days=1)
    rollup_refresh(day=yesterday, now=reports.day_start(yesterday) + timedelta(hours=12))
    assert yesterday not in reports.rolled_up_days(reports.Period(now - timedelta(days=3), now))


def test_stopping_a_clock_breached_days_ago_refreshes_that_day(history):
    now, tickets = history
    period = reports.Period(now - timedelta(days=10), now)
    _refresh_all(now)
    rollup_refresh_recent(now=now)
    # Later: the clock that breached six days ago while open is stopped; its ticket records an SLA event.
    later = now + timedelta(minutes=5)
    clock = Clock.objects.get(ticket=tickets[6], metric=Metric.RESOLUTION)
    Clock.objects.filter(pk=clock.pk).update(state=ClockState.MET, stopped_at=later)
    TicketEvent.objects.create(ticket=tickets[6], kind=EventKind.SLA, created_at=later)

    refreshed = rollup_refresh_recent(now=later + timedelta(minutes=1))

    assert reports.local_date(clock.breached_at) in refreshed
    period = reports.Period(now - timedelta(days=10), later + timedelta(minutes=1))
    rolled = reports.dashboard(period=period, now=period.end)
    for day in refreshed:
        rollup_refresh(day=day, now=reports.day_start(day) - timedelta(seconds=1))  # make them stale
    assert reports.dashboard(period=period, now=period.end) == rolled


def test_the_backfill_command_rolls_up_a_range(history):
    now, _ = history
    call_command("sla_rollup", "--days", "5")
    assert len(reports.rolled_up_days(reports.Period(now - timedelta(days=10), now))) == 5
