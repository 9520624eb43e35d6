"""A mail relay killed mid-batch: a real Celery worker delivers over SMTP to a server on 127.0.0.1, is
SIGKILLed halfway, and a second worker finishes. Each message arrives, and at most the one in flight twice."""

import asyncio
import os
import signal
import socket
import subprocess
import sys
import uuid
from collections import Counter
from datetime import timedelta
from email import message_from_bytes
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from django.conf import settings
from django.db import connection
from django.utils import timezone

from sla.models import OutboxMessage
from sla.tasks import deliver_outbox_task
from tests.workers import wait_for

MESSAGES = 30
ROOT = Path(__file__).resolve().parents[2]


class SlowMailServer:
    """Records the Message-ID of every message it receives; answers each after a pause, like a busy relay."""

    def __init__(self, delay: float):
        self.delay = delay
        self.received: list[str] = []
        self.port = 0

    async def handle_DATA(self, server, session, envelope):
        self.received.append(message_from_bytes(envelope.content)["Message-ID"])
        await asyncio.sleep(self.delay)
        return "250 OK"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _database_url() -> str:
    db = connection.settings_dict
    if connection.vendor == "postgresql":
        auth = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
        return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    return f"sqlite:///{db['NAME']}"


def _start_worker(queue: str, smtp_port: int) -> subprocess.Popen:
    """`celery worker` in its own process, on the test database, consuming only this test's queue."""
    env = {
        **os.environ,
        "DATABASE_URL": _database_url(),
        "REDIS_URL": settings.REDIS_URL,
        "EMAIL_URL": f"smtp://127.0.0.1:{smtp_port}",
        "CROSSLINE_LOCAL": "true",  # a worker on this machine, as under dev.py run (no production key needed)
    }
    return subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "tracker", "worker", "--pool=solo", "--concurrency=1",
         "-Q", queue, "--without-heartbeat", "--without-gossip", "--without-mingle", "-l", "warning"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )


def _stop(worker: subprocess.Popen, sig=signal.SIGTERM) -> None:
    if worker.poll() is None:
        worker.send_signal(sig)
        try:
            worker.wait(timeout=10)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait(timeout=10)


@pytest.fixture
def mail_server():
    handler = SlowMailServer(delay=0.1)
    controller = Controller(handler, hostname="127.0.0.1", port=_free_port())
    controller.start()
    handler.port = controller.port
    yield handler
    controller.stop()


@pytest.mark.celery_worker
@pytest.mark.django_db(transaction=True)
def test_a_relay_killed_mid_batch_resends_at_most_the_message_in_flight(mail_server):
    now = timezone.now() - timedelta(seconds=1)
    OutboxMessage.objects.bulk_create(
        OutboxMessage(key=f"crash-test:{i}", kind="breach", to_address=f"agent{i}@example.test",
                      subject=f"Breach {i}", body="Resolution target breached.", created_at=now,
                      available_at=now, message_id=f"<crash-test.{i}@crossline>")
        for i in range(MESSAGES)
    )
    queue = f"outbox-crash-{uuid.uuid4().hex[:8]}"
    port = mail_server.port
    workers = []
    try:
        first = _start_worker(queue, port)
        workers.append(first)
        deliver_outbox_task.apply_async(queue=queue)
        assert wait_for(lambda: len(mail_server.received) >= 8, timeout=20), "the first worker sent nothing"
        os.kill(first.pid, signal.SIGKILL)  # mid-batch, in the middle of an SMTP conversation or between two
        first.wait(timeout=10)

        sent = OutboxMessage.objects.filter(sent_at__isnull=False).count()
        assert 0 < sent < MESSAGES, "the kill did not land mid-batch"
        assert sent >= len(mail_server.received) - 1  # every message it finished sending is marked sent
        # The message in flight stays leased; five minutes later it is free again.
        leased = OutboxMessage.objects.filter(sent_at__isnull=True, available_at__gt=timezone.now())
        assert leased.count() <= 1
        leased.update(available_at=timezone.now())

        second = _start_worker(queue, port)
        workers.append(second)
        deliver_outbox_task.apply_async(queue=queue)
        assert wait_for(lambda: not OutboxMessage.objects.filter(sent_at__isnull=True).exists(), timeout=20), (
            "the second worker did not finish the batch"
        )
    finally:
        for worker in workers:
            _stop(worker)

    received = Counter(mail_server.received)
    assert set(received) == set(OutboxMessage.objects.values_list("message_id", flat=True))  # none lost
    assert max(received.values()) <= 2
    assert sum(n - 1 for n in received.values()) <= 1  # only the message in flight came twice
