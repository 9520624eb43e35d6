"""Webhook delivery benchmark on PostgreSQL: N deliveries committed at once (a burst), drained by a real Celery
worker (solo pool, one process) posting to a receiver on 127.0.0.1 that answers 200 at once.

Prints, per round and as medians over the rounds: deliveries/s (from the commit to the last receipt) and the
delay from commit to receipt (p50/p95; in a burst the last deliveries wait behind the first); then a trickle:
--trickle single-delivery commits at 20/s, each waking the relay, and their commit-to-receipt delay. Creates and drops
its own database; the broker is REDIS_URL when set, else a private filesystem broker.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/crossline .venv/bin/python bench/webhooks.py
    options: --deliveries 2000 --rounds 3 [--keep]
"""
import argparse
import os
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import PY, ROOT, bench_database_url, manage, median, pct, recreate_database  # noqa: E402


class Receiver:
    def __init__(self):
        self.seen: dict[str, float] = {}
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.0"

            def do_POST(self):  # noqa: N802
                self.rfile.read(int(self.headers.get("Content-Length", 0)))
                receiver.seen.setdefault(self.headers["X-Crossline-Delivery"], time.time())
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/in"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--deliveries", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--trickle", type=int, default=200)
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()

    url = bench_database_url(f"crossline_bench_hooks_{os.getpid()}")
    recreate_database(url)
    var = Path(tempfile.mkdtemp(prefix="crossline-bench-hooks-"))
    env = {**os.environ, "DATABASE_URL": url, "CROSSLINE_LOCAL": "true", "CROSSLINE_VAR_DIR": str(var),
           "LOG_LEVEL": "WARNING", "DJANGO_SETTINGS_MODULE": "tracker.settings"}
    manage(env, "migrate", "--noinput")
    os.environ.update(env)
    import django

    django.setup()
    from django.db import transaction
    from django.utils import timezone

    from sla.choices import WebhookEvent
    from sla.models import WebhookDelivery, WebhookSubscription
    from sla.services.webhooks import _delivery
    from sla.tasks import deliver_webhooks_task
    from tracker.celery import app

    if os.environ.get("REDIS_URL"):
        with app.connection_for_write() as conn:
            conn.default_channel.client.flushdb()
    receiver = Receiver()
    sub = WebhookSubscription.objects.create(name="Bench", url=receiver.url, secret="bench-secret",
                                             events=[WebhookEvent.TICKET_CREATED], created_at=timezone.now())
    worker = subprocess.Popen([PY, "-m", "celery", "-A", "tracker", "worker", "--pool=solo", "--without-gossip",
                               "--without-mingle", "--without-heartbeat", "--loglevel=WARNING"], cwd=ROOT, env=env)
    rates, p50s, p95s = [], [], []
    try:
        time.sleep(3)  # the worker connects
        for r in range(args.rounds):
            receiver.seen.clear()
            now = timezone.now()
            rows = [_delivery(sub, event=WebhookEvent.TICKET_CREATED, event_id=f"r{r}-{i}", now=now,
                              payload={"ticket": {"key": f"INC-{i}", "title": "Bench"}})
                    for i in range(args.deliveries)]
            with transaction.atomic():
                WebhookDelivery.objects.bulk_create(rows, batch_size=1000)
                transaction.on_commit(deliver_webhooks_task.delay)
            committed = time.time()
            deadline = committed + 600
            while len(receiver.seen) < args.deliveries and time.time() < deadline:
                time.sleep(0.05)
            if len(receiver.seen) < args.deliveries:
                sys.exit(f"round {r + 1}: only {len(receiver.seen)} of {args.deliveries} received")
            delays = [t - committed for t in receiver.seen.values()]
            took = max(delays)
            rates.append(args.deliveries / took)
            p50s.append(pct(delays, 50))
            p95s.append(pct(delays, 95))
            print(f"round {r + 1}: {args.deliveries} in {took:.2f} s = {rates[-1]:.0f}/s; commit-to-receipt "
                  f"p50 {p50s[-1]:.2f} s, p95 {p95s[-1]:.2f} s", flush=True)
            while WebhookDelivery.objects.filter(state="pending").exists():  # the last marks land
                time.sleep(0.1)
        print(f"median of {args.rounds}: {median(rates):.0f} deliveries/s; commit-to-receipt p50 "
              f"{median(p50s):.2f} s, p95 {median(p95s):.2f} s")
        t50s, t95s = [], []
        for r in range(args.rounds):
            receiver.seen.clear()
            committed = {}
            for i in range(args.trickle):
                with transaction.atomic():
                    _delivery(sub, event=WebhookEvent.TICKET_CREATED, event_id=f"t{r}-{i}", now=timezone.now(),
                              payload={"ticket": {"key": f"INC-{i}"}}).save()
                    transaction.on_commit(deliver_webhooks_task.delay)
                committed[f"t{r}-{i}"] = time.time()
                time.sleep(0.05)
            deadline = time.time() + 120
            while len(receiver.seen) < args.trickle and time.time() < deadline:
                time.sleep(0.05)
            delays = [receiver.seen[k] - t for k, t in committed.items() if k in receiver.seen]
            t50s.append(pct(delays, 50))
            t95s.append(pct(delays, 95))
            print(f"trickle {r + 1}: {len(delays)} of {args.trickle} received; commit-to-receipt p50 "
                  f"{t50s[-1] * 1000:.0f} ms, p95 {t95s[-1] * 1000:.0f} ms", flush=True)
        print(f"trickle median of {args.rounds}: p50 {median(t50s) * 1000:.0f} ms, p95 {median(t95s) * 1000:.0f} ms")
    finally:
        worker.terminate()
        worker.wait(timeout=30)
        from django.db import connections

        connections.close_all()
        if not args.keep:
            from urllib.parse import urlparse, urlunparse

            import psycopg

            admin = urlunparse(urlparse(url)._replace(path="/postgres"))
            with psycopg.connect(admin, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{urlparse(url).path.lstrip("/")}" WITH (FORCE)')


if __name__ == "__main__":
    main()
