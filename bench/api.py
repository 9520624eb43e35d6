#!/usr/bin/env python3
"""API throughput and latency on PostgreSQL with 100,000 seeded tickets.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/crossline .venv/bin/python bench/api.py [--tickets 100000]

Builds a throwaway database `crossline_bench_api`, seeds the demo plus N bulk tickets, serves the app with
gunicorn on 127.0.0.1 and prints:
  - tickets created per second through POST /api/v1/tickets/ with 4 concurrent clients (median of rounds);
  - p50/p95 latency of a filtered, sorted list page of 50 rows (over all rounds).
Loopback only, bounded by count.
"""
import argparse
import http.client
import json
import os
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import bench_database_url, gunicorn, manage, median, pct, recreate_database  # noqa: E402

LIST_QUERIES = [
    "/api/v1/tickets/?status=in_progress&priority=2&ordering=-created_at&page_size=50",
    "/api/v1/tickets/?kind=incident&status=new&page_size=50",
    "/api/v1/tickets/?tier=2&open=true&ordering=-updated_at&page_size=50",
    "/api/v1/tickets/?priority=1&page_size=50",
]


def client(port, token):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    headers = {"Authorization": f"Token {token}", "Content-Type": "application/json"}
    return conn, headers


def create_round(port, token, clients: int, per_client: int) -> float:
    errors: list[str] = []
    barrier = threading.Barrier(clients + 1)

    def run():
        conn, headers = client(port, token)
        barrier.wait()
        for i in range(per_client):
            body = json.dumps({"kind": "incident", "title": f"Bench incident {i}", "impact": 2, "urgency": 1,
                               "service": 1, "description": "Created by the API benchmark."})
            conn.request("POST", "/api/v1/tickets/", body=body, headers=headers)
            response = conn.getresponse()
            response.read()
            if response.status != 201:
                errors.append(str(response.status))
        conn.close()

    threads = [threading.Thread(target=run) for _ in range(clients)]
    for t in threads:
        t.start()
    barrier.wait()
    started = time.perf_counter()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - started
    if errors:
        raise SystemExit(f"{len(errors)} creates failed, e.g. HTTP {errors[0]}")
    return clients * per_client / elapsed


def list_latencies(port, token, rounds: int) -> list[float]:
    conn, headers = client(port, token)
    out = []
    for _ in range(rounds):
        for path in LIST_QUERIES:
            t0 = time.perf_counter()
            conn.request("GET", path, headers=headers)
            response = conn.getresponse()
            body = response.read()
            out.append((time.perf_counter() - t0) * 1000)
            if response.status != 200:
                raise SystemExit(f"list failed: HTTP {response.status} {body[:200]!r}")
    conn.close()
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tickets", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--per-client", type=int, default=100)
    parser.add_argument("--workers", type=int, default=4)
    args = parser.parse_args()

    url = bench_database_url("crossline_bench_api")
    env = {**os.environ, "DATABASE_URL": url, "DJANGO_DEBUG": "false", "DJANGO_SECRET_KEY": "bench-only",
           "LOG_LEVEL": "ERROR"}
    print(f"seeding {args.tickets} tickets into a fresh database …", flush=True)
    recreate_database(url)
    manage(env, "migrate", "--noinput")
    manage(env, "seed_demo", "--history", "40", "--tickets", str(args.tickets))
    manage(env, "shell", "-c", "from django.db import connection; connection.cursor().execute('VACUUM ANALYZE')")
    token = manage(env, "issue_token", "lena").strip()

    with gunicorn(env, workers=args.workers) as port:
        list_latencies(port, token, 3)  # warm the workers and caches
        rates = [create_round(port, token, clients=4, per_client=args.per_client) for _ in range(args.rounds)]
        lat = list_latencies(port, token, 50)
    print(f"\nAPI on PostgreSQL, {args.tickets:,} seeded tickets, gunicorn {args.workers} workers, 2-core host")
    print(f"create  (4 concurrent clients, {args.rounds} rounds of {4 * args.per_client}): "
          f"median {median(rates):.0f}/s (min {min(rates):.0f}, max {max(rates):.0f}); target >= 300/s")
    print(f"list    (filtered, sorted, 50 rows; {len(lat)} requests): p50 {pct(lat, 50):.1f} ms, "
          f"p95 {pct(lat, 95):.1f} ms; target p95 < 50 ms")


if __name__ == "__main__":
    main()
