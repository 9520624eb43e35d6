"""Several sweepers at once over the same due clocks (PostgreSQL, SKIP LOCKED): every effect exactly once."""

from datetime import timedelta

import pytest

from sla import services as sla
from sla.choices import NotificationKind
from sla.models import Clock, ClockEffect, Notification, OutboxMessage
from tests.sla.conftest import MONDAY_9
from tests.workers import at_once
from tracker import services
from tracker.choices import EventKind
from tracker.models import TicketEvent

TICKETS = 60
SWEEPERS = 6


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_parallel_sweeps_over_the_same_due_clocks_apply_each_breach_once(cast, always, make_policy):
    make_policy(always, response_s=60, resolution_s=None)
    tickets = [
        services.ticket_create(
            actor=cast.requester, kind="incident", title=f"Outage {i}", now=MONDAY_9, service=cast.services["payroll"]
        )
        for i in range(TICKETS)
    ]
    at = MONDAY_9 + timedelta(minutes=5)
    applied = at_once(lambda: sla.clocks_sweep(now=at, batch=7), SWEEPERS)

    assert sum(applied) == TICKETS
    assert ClockEffect.objects.filter(level=100).count() == TICKETS
    assert Clock.objects.filter(breached=True).count() == TICKETS
    assert TicketEvent.objects.filter(kind=EventKind.ESCALATION).count() == TICKETS
    assert Notification.objects.filter(recipient=cast.manager, kind=NotificationKind.BREACH).count() == TICKETS
    assert OutboxMessage.objects.filter(recipient=cast.manager).count() == TICKETS
    for ticket in tickets:
        ticket.refresh_from_db()
        assert ticket.group == cast.l2
    assert sla.clocks_sweep(now=at) == 0
