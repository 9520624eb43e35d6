#!/usr/bin/env python3
"""Server time of the change calendar with 1,000 changes in one month, on PostgreSQL.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/crossline .venv/bin/python bench/change_calendar.py \
        [--changes 1000] [--history-months 12] [--tickets 100000] [--rounds 5] [--requests 30] [--reuse]

Builds a throwaway database `crossline_bench_calendar` (kept with --reuse): the demo (with its blackouts: a
global freeze, a data-centre test, the monthly payroll run, the web shop's trading weekends), N bulk tickets of
every kind, then 1,000 scheduled changes spread over next month across the five services (windows of one to four
hours, so some collide), 100 in the month after, and 1,000 a month for the months before (the history the
calendar's index must skip). Then, in-process with Django's test Client (no network: URL -> view -> SQL ->
template), it requests each page in rounds and prints, per page, the median over the rounds of each round's
p50 and p95 in milliseconds, and the SQL queries per request; the month of 100 changes shows the same number
of queries as the month of 1,000. Target: month view p95 < 300 ms at 1,000 changes.
"""
import argparse
import os
import statistics
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import ROOT, bench_database_url, manage, pct, recreate_database  # noqa: E402

DB_NAME = "crossline_bench_calendar"

# `count` changes with windows spread evenly over [start, start + span), one to four hours long, on the services
# in turn, in the states a planned change is in; keys continue the change counter.
CHANGES_SQL = """
INSERT INTO tracker_ticket (kind, number, key, title, description, status, impact, urgency, priority, requester_id,
    service_id, created_at, updated_at, version, change_type, risk, implementation_plan, backout_plan, window_start,
    window_end, decision_note, implementation_result, review_notes, resolution_note, root_cause, workaround,
    known_error, severity, affected_version, fix_version, emergency_justification, review_cause, review_actions,
    cause_category)
SELECT 'change', %(base)s + g, 'CHG-' || (%(base)s + g), 'Bench change ' || g, '',
       (ARRAY['new', 'review', 'approved', 'closed'])[1 + g %% 4], 2, 2, 3, %(requester)s,
       (%(services)s::bigint[])[1 + g %% %(n_services)s], %(created)s, %(created)s, 1, 'normal',
       (ARRAY['low', 'medium', 'high'])[1 + g %% 3], '', '',
       %(start)s + (g - 1) * %(step)s * interval '1 second',
       %(start)s + (g - 1) * %(step)s * interval '1 second' + (1 + g %% 4) * interval '1 hour',
       '', '', '', '', '', '', false, '', '', '', '', '', '', ''
FROM generate_series(1, %(count)s) AS g
"""


def _django():
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tracker.settings")
    os.environ.setdefault("DJANGO_DEBUG", "false")
    os.environ.setdefault("DJANGO_SECRET_KEY", "bench-only-secret-key-not-for-production-0123456789")
    sys.path.insert(0, str(ROOT))
    import tracker.wsgi  # noqa: F401 - the server's own start-up


def month_start(moment: datetime, months_ahead: int) -> datetime:
    year, month = moment.year, moment.month + months_ahead
    while month > 12:
        year, month = year + 1, month - 12
    while month < 1:
        year, month = year - 1, month + 12
    return moment.replace(year=year, month=month, day=1, hour=0, minute=0, second=0, microsecond=0)


def add_changes(cursor, *, start: datetime, end: datetime, count: int, created: datetime) -> None:
    from django.db.models import F

    from tracker.models import KeyCounter, Service, User

    KeyCounter.objects.get_or_create(kind="change")
    KeyCounter.objects.filter(kind="change").update(next_number=F("next_number") + count)
    base = KeyCounter.objects.get(kind="change").next_number - count - 1
    services = list(Service.objects.order_by("pk").values_list("pk", flat=True))
    cursor.execute(CHANGES_SQL, {
        "base": base, "requester": User.objects.get(username="liam").pk, "services": services,
        "n_services": len(services), "created": created, "start": start,
        "step": (end - start).total_seconds() / count, "count": count})


def seed(url: str, *, tickets: int, changes: int, history_months: int) -> None:
    env = {**os.environ, "DATABASE_URL": url}
    recreate_database(url)
    manage(env, "migrate", "--noinput")
    print(f"seeding the demo and {tickets:,} bulk tickets ...", flush=True)
    started = time.time()
    manage(env, "seed_demo", "--tickets", str(tickets))
    os.environ["DATABASE_URL"] = url
    _django()
    from django.db import connection, transaction
    from django.utils import timezone

    now = timezone.now()
    print(f"  done in {time.time() - started:.0f}s; adding scheduled changes ...", flush=True)
    started = time.time()
    with transaction.atomic(), connection.cursor() as cursor:
        for back in range(history_months, 0, -1):
            first = month_start(now, -back)
            add_changes(cursor, start=first, end=month_start(first, 1), count=changes, created=first)
        target = month_start(now, 1)
        add_changes(cursor, start=target, end=month_start(target, 1), count=changes, created=now)
        after = month_start(now, 2)
        add_changes(cursor, start=after, end=month_start(after, 1), count=changes // 10, created=now)
        cursor.execute("ANALYZE")
    print(f"  {changes * (history_months + 1) + changes // 10:,} changes added in {time.time() - started:.0f}s",
          flush=True)


def measure(client, url: str, rounds: int, requests: int) -> tuple[float, float, int]:
    """(median of the rounds' p50, median of the rounds' p95, SQL queries per request)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    response = client.get(url, secure=True)  # warm caches and the connection (as behind the TLS proxy)
    assert response.status_code == 200, (url, response.status_code)
    with CaptureQueriesContext(connection) as ctx:
        client.get(url, secure=True)
    queries = len(ctx.captured_queries)  # now: the next request clears the log
    p50s, p95s = [], []
    for _ in range(rounds):
        times = []
        for _ in range(requests):
            started = time.perf_counter()
            client.get(url, secure=True)
            times.append((time.perf_counter() - started) * 1000)
        p50s.append(pct(times, 50))
        p95s.append(pct(times, 95))
    return statistics.median(p50s), statistics.median(p95s), queries


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--changes", type=int, default=1000, help="Scheduled changes in the measured month.")
    parser.add_argument("--history-months", type=int, default=12, help="Months of changes before it.")
    parser.add_argument("--tickets", type=int, default=100_000, help="Bulk tickets of every kind around them.")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--requests", type=int, default=30, help="Requests per page and round.")
    parser.add_argument("--reuse", action="store_true", help="Keep an already seeded bench database.")
    args = parser.parse_args()
    url = bench_database_url(DB_NAME)
    if not args.reuse:
        seed(url, tickets=args.tickets, changes=args.changes, history_months=args.history_months)
    else:
        manage({**os.environ, "DATABASE_URL": url}, "migrate", "--noinput")
    os.environ["DATABASE_URL"] = url
    _django()
    from django.conf import settings
    from django.test import Client
    from django.utils import timezone

    from tracker.models import Service, Ticket, User

    settings.ALLOWED_HOSTS = ["*"]
    now = timezone.now()
    target, after = month_start(now, 1), month_start(now, 2)
    first_monday = target + timedelta(days=(7 - target.weekday()) % 7)
    payroll = Service.objects.get(name="Payroll").pk
    in_month = Ticket.objects.filter(kind="change", window_start__gte=target, window_start__lt=after).count()
    pages = [
        (f"month, every service ({in_month:,} changes)", f"/changes/calendar/?view=month&date={target:%Y-%m-%d}"),
        ("month, one service", f"/changes/calendar/?view=month&date={target:%Y-%m-%d}&service={payroll}"),
        ("week, every service", f"/changes/calendar/?view=week&date={first_monday:%Y-%m-%d}"),
        ("month after (100 changes)", f"/changes/calendar/?view=month&date={after:%Y-%m-%d}"),
        ("iCalendar feed (30 days back, 180 ahead)", "/changes/calendar.ics"),
    ]
    client = Client()
    client.force_login(User.objects.get(username="carl"))
    changes = Ticket.objects.filter(kind="change", window_start__isnull=False).count()
    print(f"\n{Ticket.objects.count():,} tickets, {changes:,} scheduled changes; {args.rounds} rounds of "
          f"{args.requests} requests per page (in-process, DEBUG off); medians of the rounds\n")
    print(f"{'page':44} {'p50 ms':>8} {'p95 ms':>8} {'queries':>8}")
    for label, path in pages:
        p50, p95, queries = measure(client, path, args.rounds, args.requests)
        print(f"{label:44} {p50:8.1f} {p95:8.1f} {queries:8d}", flush=True)


if __name__ == "__main__":
    main()
