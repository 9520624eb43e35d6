"""A real Celery worker and beat on the configured broker: a 2-second response target is breached,
escalated to the next tier and the manager told — once."""

import threading
import time

import pytest
from django.core import mail

from sla.choices import NotificationKind
from sla.models import ClockEffect, Notification, OutboxMessage
from tests.workers import wait_for
from tracker import services
from tracker.celery import app
from tracker.choices import EventKind
from tracker.models import Ticket, TicketEvent


@pytest.mark.celery_worker
@pytest.mark.django_db(transaction=True)
def test_a_two_second_response_target_is_breached_escalated_and_the_manager_told_once(
    cast, always, make_policy, private_broker, settings, tmp_path
):
    from celery.beat import Service
    from celery.contrib.testing import tasks  # noqa: F401 - registers celery.ping for the test worker
    from celery.contrib.testing.worker import start_worker

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    make_policy(always, response_s=2, resolution_s=3600)
    ticket = services.ticket_create(
        actor=cast.requester, kind="incident", title="Payroll run failed", service=cast.services["payroll"]
    )
    assert ticket.group == cast.l1

    beat_service = Service(app, max_interval=0.5, schedule_filename=str(tmp_path / "beat-schedule"))
    beat_thread = threading.Thread(target=beat_service.start, daemon=True)
    started = time.monotonic()
    with start_worker(app, pool="solo", concurrency=1, perform_ping_check=False, shutdown_timeout=10):
        beat_thread.start()
        try:
            escalated = wait_for(
                lambda: (
                    Ticket.objects.get(pk=ticket.pk).group_id == cast.l2.pk
                    and OutboxMessage.objects.filter(sent_at__isnull=False, recipient=cast.manager).exists()
                ),
                timeout=20,
            )
            took = time.monotonic() - started
            time.sleep(3)  # several more sweeps: nothing may happen twice
        finally:
            beat_service.stop()
            beat_thread.join(timeout=5)
    assert escalated, "the breach was not escalated by the worker within 20 s"
    assert took < 20
    assert ClockEffect.objects.filter(ticket=ticket, level=100).count() == 1
    assert TicketEvent.objects.filter(ticket=ticket, kind=EventKind.ESCALATION).count() == 1
    assert Notification.objects.filter(recipient=cast.manager, kind=NotificationKind.BREACH).count() == 1
    assert [m.to for m in mail.outbox].count(["maria@example.test"]) == 1
