#!/usr/bin/env python3
"""Server time of the main pages on PostgreSQL with 1,000,000 seeded tickets (and their SLA clocks).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/crossline .venv/bin/python bench/pages.py \
        [--tickets 1000000] [--requests 200] [--reuse] [--database crossline_bench_pages]

Builds a throwaway database `crossline_bench_pages` (kept with --reuse; --database names another, so two
checkouts on one server do not drop each other's), seeds it with
`manage.py seed_demo --tickets N`, then adds two SLA clocks per bulk ticket (response and resolution;
met, breached or running, spread over the past year) with one INSERT ... SELECT, and backfills the
dashboard roll-up (`manage.py sla_rollup`) as beat keeps it in production. Then, in-process with
Django's test Client (no network, so it measures the server: URL -> view -> SQL -> template), it
requests each page N times and prints p50/p95 in milliseconds and the SQL queries per request.
Targets: queue and workspace p95 < 100 ms, dashboard p95 < 300 ms.
"""
import argparse
import os
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import ROOT, bench_database_url, manage, pct, recreate_database  # noqa: E402

DB_NAME = "crossline_bench_pages"

# Two clocks per ticket, straight from the ticket rows: the response clock stops at the first response,
# the resolution clock at the resolution; about 8 % breach; open tickets keep a running resolution clock,
# breached if its due time has passed (as the sweep would have marked it).
CLOCKS_SQL = """
INSERT INTO sla_clock (ticket_id, policy_id, metric, tier, cycle, state, breached, breached_at,
    warned_percent, goal_s, elapsed_s, started_at, resumed_at, paused_at, due_at, stopped_at, next_check_at,
    group_id, priority)
SELECT t.id, %(policy)s, m.metric, NULL, 1,
       CASE WHEN m.metric = 'response' OR t.resolved_at IS NOT NULL THEN 'met' ELSE 'running' END,
       (t.id * 7 + length(m.metric)) %% 100 < 8,
       CASE WHEN (t.id * 7 + length(m.metric)) %% 100 < 8
            THEN t.created_at + m.goal * interval '1 second' END,
       0, m.goal, 0, t.created_at, t.created_at, NULL,
       t.created_at + m.goal * interval '1 second',
       CASE WHEN m.metric = 'response' THEN t.first_response_at ELSE t.resolved_at END,
       CASE WHEN m.metric = 'resolution' AND t.resolved_at IS NULL
            THEN t.created_at + m.goal * interval '1 second' END,
       t.group_id, t.priority
FROM tracker_ticket t
CROSS JOIN (VALUES ('response', 14400), ('resolution', 432000)) AS m(metric, goal)
WHERE t.id > %(after)s
"""


def seed(url: str, tickets: int) -> None:
    env = {**os.environ, "DATABASE_URL": url}
    recreate_database(url)
    manage(env, "migrate", "--noinput")
    print(f"seeding the demo and {tickets:,} bulk tickets ...", flush=True)
    started = time.time()
    manage(env, "seed_demo", "--tickets", "0")
    os.environ["DATABASE_URL"] = url
    _django()
    from django.db import connection

    from tracker.models import Ticket

    last_demo = Ticket.objects.order_by("-id").values_list("id", flat=True).first() or 0
    manage(env, "seed_demo", "--tickets", str(tickets))
    print(f"  tickets loaded in {time.time() - started:.0f}s; adding SLA clocks ...", flush=True)
    from sla.models import Calendar, Policy

    calendar, _ = Calendar.objects.get_or_create(name="Bench 24x7", defaults={"always_open": True})
    policy, _ = Policy.objects.get_or_create(
        name="Bench policy", defaults={"calendar": calendar, "order": 999, "active": False})
    started = time.time()
    with connection.cursor() as cursor:
        cursor.execute(CLOCKS_SQL, {"policy": policy.pk, "after": last_demo})
        cursor.execute("UPDATE sla_clock SET breached = true, breached_at = due_at "
                       "WHERE state = 'running' AND NOT breached AND due_at < now() AND policy_id = %s", [policy.pk])
        cursor.execute("ANALYZE")
    print(f"  clocks added in {time.time() - started:.0f}s; rolling up the dashboard ...", flush=True)
    started = time.time()
    manage(env, "sla_rollup", "--days", "400")  # what beat keeps current in production
    print(f"  roll-up done in {time.time() - started:.0f}s", flush=True)


def _django():
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tracker.settings")
    os.environ.setdefault("DJANGO_DEBUG", "false")
    os.environ.setdefault("DJANGO_SECRET_KEY", "bench-only-secret-key-not-for-production-0123456789")
    sys.path.insert(0, str(ROOT))
    import tracker.wsgi  # noqa: F401 - the server's own start-up (django.setup, then the GC freeze)


def measure(client, url: str, n: int, headers: dict | None = None) -> tuple[list[float], int, int]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    headers = headers or {}
    client.get(url, secure=True, headers=headers)  # warm caches and the connection (https, as production serves it)
    times = []
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url, secure=True, headers=headers)
    queries = len(ctx.captured_queries)
    for _ in range(n):
        started = time.perf_counter()
        response = client.get(url, secure=True, headers=headers)
        times.append((time.perf_counter() - started) * 1000)
    assert response.status_code == 200, (url, response.status_code)
    return times, queries, response.status_code


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tickets", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--reuse", action="store_true", help="Keep an already seeded bench database.")
    parser.add_argument("--database", default=DB_NAME, help="Name of the throwaway database.")
    args = parser.parse_args()
    url = bench_database_url(args.database)
    if not args.reuse:
        seed(url, args.tickets)
    else:  # a kept database may predate the latest migrations (indexes, roll-up tables)
        manage({**os.environ, "DATABASE_URL": url}, "migrate", "--noinput")
    os.environ["DATABASE_URL"] = url
    _django()
    from django.conf import settings
    from django.db.models import Count
    from django.test import Client

    from tracker.choices import Kind
    from tracker.models import Ticket, TicketEvent, User

    settings.ALLOWED_HOSTS = ["*"]
    rng = random.Random(7)
    lena, devon, maria = (User.objects.get(username=u) for u in ("lena", "devon", "maria"))
    total = Ticket.objects.order_by("-id").values_list("id", flat=True).first()
    # A ticket with a real history (from the demo) for the workspace.
    busy = TicketEvent.objects.values("ticket").order_by().annotate(n=Count("id")).order_by("-n").first()
    busy_key = Ticket.objects.filter(pk=busy["ticket"]).values_list("key", flat=True).get()
    random_key = (Ticket.objects.filter(kind=Kind.INCIDENT, pk__gte=rng.randint(1, total)).order_by("pk")
                  .values_list("key", flat=True).first())
    pages = [
        ("queue: open, status+priority filter, 50 rows", lena,
         "/queue/?view=open&status=in_progress&priority=2"),
        ("queue: my group, kind=incident, 50 rows", lena, "/queue/?view=my-group&kind=incident"),
        ("queue: text search 'VPN', 50 rows", lena, "/queue/?view=open&q=VPN"),
        ("queue: breaching soon (SLA sort)", lena, "/queue/?view=breaching"),
        ("queue: the views' counts (after the page)", lena, "/queue/counts/?view=open"),
        ("top bar: pinned views' counts (after a page)", lena, "/queue/pins/"),
        (f"queue: split-view preview of {busy_key}", lena, f"/tickets/{busy_key}/preview/"),
        (f"workspace: {busy_key} (busiest history)", lena, f"/tickets/{busy_key}/"),
        (f"workspace: {random_key} (bulk ticket)", lena, f"/tickets/{random_key}/"),
        ("3rd-line queue", devon, "/dev/"),
        ("dashboard: last 30 days", maria, "/dashboard/?days=30"),
        ("dashboard: last 7 days", maria, "/dashboard/?days=7"),
    ]
    count = Ticket.objects.count()
    print(f"\n{count:,} tickets; {args.requests} requests per page (in-process, DEBUG off)\n")
    print(f"{'page':52} {'p50 ms':>8} {'p95 ms':>8} {'queries':>8}")
    for label, user, url in pages:
        client = Client()
        client.force_login(user)
        n = args.requests if "dashboard" not in label else max(20, args.requests // 4)
        # the fragments a page loads after itself come through htmx
        headers = {"HX-Request": "true"} if "after" in label or "preview" in label else None
        times, queries, _ = measure(client, url, n, headers)
        print(f"{label:52} {pct(times, 50):8.1f} {pct(times, 95):8.1f} {queries:8d}", flush=True)


if __name__ == "__main__":
    main()
