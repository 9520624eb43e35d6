"""Webhooks on real Celery workers and a real receiver on 127.0.0.1: retries until the receiver accepts (one
success, every try logged), and a worker killed with SIGKILL mid-batch loses nothing: after a new worker runs,
every delivery is delivered once as far as our records go (the receiver may see a repeat of the one in flight,
with the same X-Crossline-Delivery id, and dedupes by it)."""

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from django.db import connection
from django.utils import timezone

from sla import services as sla
from sla.choices import DeliveryState, WebhookEvent
from sla.models import WebhookAttempt, WebhookDelivery
from sla.tasks import deliver_webhooks_task
from tests.sla.test_webhooks import Receiver
from tests.workers import wait_for
from tracker import services
from tracker.celery import app

ROOT = Path(__file__).resolve().parents[2]


def _subscribe(cast, url):
    sub, _ = sla.webhook_subscription_save(actor=cast.admin, name="Receiver", url=url,
                                           events=[WebhookEvent.TICKET_CREATED])
    return sub


@pytest.mark.celery_worker
@pytest.mark.django_db(transaction=True)
def test_a_receiver_answering_500_twice_then_200_gets_one_success_and_three_logged_tries(
    cast, private_broker, tmp_path
):
    from celery.beat import Service
    from celery.contrib.testing import tasks  # noqa: F401 - registers celery.ping for the test worker
    from celery.contrib.testing.worker import start_worker

    with Receiver(script=[500, 500]) as rx:
        _subscribe(cast, rx.url)
        beat = Service(app, max_interval=0.5, schedule_filename=str(tmp_path / "beat-schedule"))
        beat_thread = threading.Thread(target=beat.start, daemon=True)
        with start_worker(app, pool="solo", concurrency=1, perform_ping_check=False, shutdown_timeout=10):
            beat_thread.start()
            try:
                ticket = services.ticket_create(actor=cast.agent1, kind="incident", title="Printer on fire",
                                                service=cast.services["payroll"])  # commits: wakes the relay
                done = wait_for(lambda: WebhookDelivery.objects.filter(state=DeliveryState.DELIVERED).exists(), 30)
                time.sleep(2.5)  # more runs of the relay: nothing may happen twice
            finally:
                beat.stop()
                beat_thread.join(timeout=5)
    assert done, "not delivered within 30 s"
    delivery = WebhookDelivery.objects.get()
    assert (delivery.state, delivery.attempts, delivery.last_status_code) == (DeliveryState.DELIVERED, 3, 200)
    assert list(delivery.tries.values_list("status_code", "ok")) == [(500, False), (500, False), (200, True)]
    assert len(rx.received) == 3 and set(rx.ids()) == {delivery.event_id}
    assert ticket.key.encode() in rx.received[-1]["body"]


def _worker(var_dir: Path, log) -> subprocess.Popen:
    """A Celery worker in its own process, on this test's database and broker."""
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        url = f"sqlite:///{db['NAME']}"
    else:
        url = f"postgres://{db['USER']}{':' + db['PASSWORD'] if db['PASSWORD'] else ''}@{db['HOST']}:{db['PORT']}" \
              f"/{db['NAME']}"
    env = {**os.environ, "DATABASE_URL": url, "CROSSLINE_LOCAL": "true", "CROSSLINE_VAR_DIR": str(var_dir),
           "CROSSLINE_WEBHOOK_RETRY_BACKOFF": "1", "LOG_LEVEL": "WARNING"}
    return subprocess.Popen([sys.executable, "-m", "celery", "-A", "tracker", "worker", "--pool=solo",
                             "--without-gossip", "--without-mingle", "--without-heartbeat", "-Q", "celery"],
                            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)


@pytest.mark.celery_worker
@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_mid_batch_loses_no_delivery_and_records_each_success_once(cast, private_broker, tmp_path):
    total = 30
    with Receiver(delay=0.15) as rx, open(tmp_path / "worker.log", "wb") as log:
        _subscribe(cast, rx.url)
        for i in range(total):
            services.ticket_create(actor=cast.agent1, kind="incident", title=f"Outage {i}",
                                   service=cast.services["payroll"])
        assert WebhookDelivery.objects.count() == total
        first = _worker(private_broker, log)
        try:
            deliver_webhooks_task.delay()
            assert wait_for(lambda: len(rx.received) >= 8, 60), (tmp_path / "worker.log").read_text()[-3000:]
        finally:
            os.kill(first.pid, signal.SIGKILL)  # mid-batch: one delivery is in flight
            first.wait(timeout=10)
        cut = WebhookDelivery.objects.filter(state=DeliveryState.DELIVERED).count()
        assert 0 < cut < total, "the kill did not land mid-batch"
        # Time passes: the killed worker's lease on the delivery in flight runs out (it would after WEBHOOK_LEASE).
        WebhookDelivery.objects.filter(state=DeliveryState.PENDING).update(available_at=timezone.now())
        second = _worker(private_broker, log)
        try:
            deliver_webhooks_task.delay()
            done = wait_for(lambda: not WebhookDelivery.objects.exclude(state=DeliveryState.DELIVERED).exists(), 90)
        finally:
            second.send_signal(signal.SIGTERM)
            second.wait(timeout=30)
    assert done, (tmp_path / "worker.log").read_text()[-3000:]
    event_ids = set(WebhookDelivery.objects.values_list("event_id", flat=True))
    assert set(rx.ids()) == event_ids  # no loss: the receiver, deduping by id, has every event
    assert len(rx.ids()) - len(event_ids) <= 1  # at most the one in flight came twice
    assert WebhookAttempt.objects.filter(ok=True).count() == total  # one success row per delivery
    assert all(d.attempts == 1 for d in WebhookDelivery.objects.exclude(event_id__in=_repeats(rx)))


def _repeats(rx) -> set[str]:
    ids = rx.ids()
    return {i for i in ids if ids.count(i) > 1}
