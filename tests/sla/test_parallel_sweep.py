"""A burst of due clocks drained by several sweepers at once, as the Celery pool drains it (PostgreSQL, SKIP LOCKED):
each sweeper loops one batch at a time until it claims nothing, and every clock gets exactly one effect, one
timeline row and one set of notifications and mails. Then the fan-out itself, on a real Celery worker: a sweep
whose first batch is full queues more sweeps, and the pool's idle threads join in."""

import threading
import time
from collections import Counter
from datetime import timedelta

import pytest
from celery.signals import task_postrun
from django.utils import timezone

from sla import services as sla
from sla.choices import NotificationKind
from sla.models import Clock, ClockEffect, Notification, OutboxMessage
from sla.tasks import sweep_sla_clocks_task
from tests.sla.conftest import MONDAY_9
from tests.workers import at_once, wait_for
from tracker import services
from tracker.choices import EventKind
from tracker.models import TicketEvent

TICKETS = 45


def _burst(cast, always, make_policy, tickets=TICKETS, now=MONDAY_9):
    """Tickets whose response target (a minute) is breached 80 minutes on, and whose resolution target (100 minutes)
    is then at its first warning (75 %) until 90 minutes on."""
    make_policy(always, response_s=60, resolution_s=6000, functional_escalation=False)
    return [
        services.ticket_create(
            actor=cast.requester, kind="incident", title=f"Outage {i}", now=now, service=cast.services["payroll"]
        )
        for i in range(tickets)
    ]


def _assert_each_clock_once(cast, tickets):
    clocks = list(Clock.objects.filter(ticket__in=tickets))
    assert len(clocks) == 2 * len(tickets)
    effects = Counter(ClockEffect.objects.values_list("clock_id", "level"))
    expected = {(c.pk, 100 if c.metric == "response" else 75): 1 for c in clocks}
    assert effects == expected
    events = Counter(TicketEvent.objects.filter(kind=EventKind.SLA).exclude(new="").values_list("ticket_id", "field",
                                                                                                "new"))
    assert events == {**{(t.pk, "response", "breached"): 1 for t in tickets},
                      **{(t.pk, "resolution", "75%"): 1 for t in tickets}}
    told = Counter(Notification.objects.values_list("key", "recipient_id"))
    breach = {(f"clock{c.pk}:L100", u.pk): 1 for c in clocks if c.metric == "response" for u in (cast.agent1,
                                                                                                  cast.manager)}
    warning = {(f"clock{c.pk}:L75", cast.agent1.pk): 1 for c in clocks if c.metric == "resolution"}
    assert told == {**breach, **warning}
    assert Counter(Notification.objects.values_list("kind", flat=True)) == {
        NotificationKind.BREACH: 2 * len(tickets), NotificationKind.WARNING: len(tickets)}
    mails = Counter(OutboxMessage.objects.filter(kind__in=[NotificationKind.BREACH, NotificationKind.WARNING])
                    .values_list("ticket_id", "recipient_id", "kind"))
    assert mails == {**{(t.pk, u.pk, NotificationKind.BREACH): 1 for t in tickets for u in (cast.agent1, cast.manager)},
                     **{(t.pk, cast.agent1.pk, NotificationKind.WARNING): 1 for t in tickets}}


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("sweepers", [1, 4])
def test_sweepers_looping_one_batch_at_a_time_give_each_clock_one_effect_event_and_set_of_notices(
    cast, always, make_policy, sweepers
):
    tickets = _burst(cast, always, make_policy)
    at = MONDAY_9 + timedelta(minutes=80)

    def pool_worker():  # what a worker of the pool does with the sweep task: one batch, again while there is work
        applied = 0
        while n := sla.clocks_sweep(now=at, batch=4, max_batches=1):
            applied += n
        return applied

    applied = at_once(pool_worker, sweepers)

    assert sum(applied) == 2 * TICKETS
    _assert_each_clock_once(cast, tickets)
    assert sla.clocks_sweep(now=at) == 0


@pytest.mark.celery_worker
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_full_first_batch_queues_more_sweeps_and_the_pool_drains_the_burst_once(
    cast, always, make_policy, private_broker, settings
):
    from celery.contrib.testing import tasks  # noqa: F401 - registers celery.ping for the test worker
    from celery.contrib.testing.worker import start_worker

    from tracker.celery import app

    settings.SLA_SWEEP_PARALLEL = 3
    tickets = _burst(cast, always, make_policy, tickets=120, now=timezone.now() - timedelta(minutes=80))
    runs, lock = [], threading.Lock()

    def record(sender=None, kwargs=None, retval=None, **_):
        if getattr(sender, "name", None) == sweep_sla_clocks_task.name:
            with lock:
                runs.append((kwargs.get("fan_out", True), retval))

    task_postrun.connect(record, weak=False)
    try:
        with start_worker(app, pool="threads", concurrency=3, perform_ping_check=False, shutdown_timeout=10):
            sweep_sla_clocks_task.delay(batch=3)
            drained = wait_for(lambda: ClockEffect.objects.count() == 2 * len(tickets) and len(runs) >= 3, 60)
            time.sleep(1)  # a run queued by a helper would show here
    finally:
        task_postrun.disconnect(record)
    assert drained, f"not drained within 60 s: {ClockEffect.objects.count()} effects, runs {runs}"
    # Beat's run and the two it queued, which did not queue any more; together they applied every effect once.
    assert sorted(fan_out for fan_out, _ in runs) == [False, False, True]
    assert sum(applied for _, applied in runs) == 2 * len(tickets)
    _assert_each_clock_once(cast, tickets)
