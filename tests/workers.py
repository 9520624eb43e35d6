"""For tests that run a real Celery worker: a broker private to the test, and waiting for what it does."""
import time

import pytest
from kombu import pools as kombu_pools

from tracker.celery import app, beat_schedule


def wait_for(condition, timeout: float) -> bool:
    """Poll `condition` every 0.2 s until it holds or `timeout` seconds pass; its last answer."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return condition()


@pytest.fixture
def private_broker(tmp_path, settings):
    """The app's broker, private to this test: this run's own Redis database (emptied), or folders under tmp_path
    laid out as a worker process started with CROSSLINE_VAR_DIR=tmp_path/var lays them out. Beat ticks every
    second. Yields that var folder."""
    saved = {k: app.conf[k] for k in ("broker_url", "broker_transport_options", "beat_schedule")}
    if settings.REDIS_URL:
        app.conf.broker_url = settings.REDIS_URL
        app.conf.broker_transport_options = {"visibility_timeout": 3600}
    else:
        broker = tmp_path / "var" / "broker"
        for name in ("queue", "processed", "control"):
            (broker / name).mkdir(parents=True)
        app.conf.broker_url = "filesystem://"
        app.conf.broker_transport_options = {
            "data_folder_in": str(broker / "queue"), "data_folder_out": str(broker / "queue"),
            "processed_folder": str(broker / "processed"), "store_processed": False,
            "control_folder": str(broker / "control"),
        }
    app.conf.beat_schedule = beat_schedule(1.0)
    app._pool = None
    app.amqp._producer_pool = None
    if settings.REDIS_URL:
        with app.connection_for_write() as conn:
            conn.default_channel.client.flushdb()
    yield tmp_path / "var"
    app.pool.force_close_all()
    # The worker's producers stay in kombu's process-wide pools, keyed by the broker's address: drop them, or the
    # next test that sends a task to the same broker acquires from a closed pool.
    kombu_pools.reset()
    for key, value in saved.items():
        app.conf[key] = value
    app._pool = None
    app.amqp._producer_pool = None


def at_once(fn, n: int = 4, *, each=None) -> list:
    """Run `fn()` in `n` threads released together (a race on purpose), or `fn(item)` in a thread per item of
    `each`; their answers, in finishing order. Each thread closes its own database connection; the first error
    any of them met is raised here."""
    import threading

    from django.db import connection

    calls = [lambda item=item: fn(item) for item in each] if each is not None else [fn] * n
    barrier = threading.Barrier(len(calls))
    answers, errors = [], []

    def run(call):
        try:
            barrier.wait()
            answers.append(call())
        except BaseException as exc:  # reported below; a thread must not die silently
            errors.append(exc)
        finally:
            connection.close()

    pool = [threading.Thread(target=run, args=(call,)) for call in calls]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    if errors:
        raise errors[0]
    return answers
