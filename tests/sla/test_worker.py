"""A real Celery worker and beat on the configured broker: a 2-second response target is breached,
escalated to the next tier and the manager told — once."""

import threading
import time

import pytest
from django.core import mail
from kombu import pools as kombu_pools

from sla.choices import NotificationKind
from sla.models import ClockEffect, Notification, OutboxMessage
from tracker import services
from tracker.celery import app, beat_schedule
from tracker.choices import EventKind
from tracker.models import Ticket, TicketEvent


def _wait_for(condition, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return condition()


@pytest.fixture
def isolated_broker(tmp_path, settings):
    """The app's broker, but a private one: folders under tmp_path, or a spare Redis database."""
    saved = {k: app.conf[k] for k in ("broker_url", "broker_transport_options", "beat_schedule")}
    if settings.REDIS_URL:
        base = settings.REDIS_URL.rsplit("/", 1)[0]
        app.conf.broker_url = f"{base}/15"
        app.conf.broker_transport_options = {"visibility_timeout": 3600}
    else:
        folders = {name: tmp_path / name for name in ("queue", "processed", "control")}
        for folder in folders.values():
            folder.mkdir()
        app.conf.broker_url = "filesystem://"
        app.conf.broker_transport_options = {
            "data_folder_in": str(folders["queue"]),
            "data_folder_out": str(folders["queue"]),
            "processed_folder": str(folders["processed"]),
            "store_processed": False,
            "control_folder": str(folders["control"]),
        }
    app.conf.beat_schedule = beat_schedule(1.0)
    app._pool = None
    app.amqp._producer_pool = None
    if settings.REDIS_URL:
        with app.connection_for_write() as conn:
            conn.default_channel.client.flushdb()
    yield
    app.pool.force_close_all()
    # The worker's producers stay in kombu's process-wide pools, keyed by the broker's address: drop them, or the
    # next test that sends a task to the same broker acquires from a closed pool.
    kombu_pools.reset()
    for key, value in saved.items():
        app.conf[key] = value
    app._pool = None
    app.amqp._producer_pool = None


@pytest.mark.celery_worker
@pytest.mark.django_db(transaction=True)
def test_a_two_second_response_target_is_breached_escalated_and_the_manager_told_once(
    cast, always, make_policy, isolated_broker, settings, tmp_path
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
            escalated = _wait_for(
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
