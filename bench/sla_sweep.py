"""SLA sweep benchmark on PostgreSQL: 1,000,000 running clocks, 10,000 of them due at the same moment.

Prints the time to apply all due breaches (effects included: effect row, clock update, timeline row,
in-app notifications for the group and its manager, email outbox rows), breaches/s, the lag from due
time to the committed effect (p50/p99), and the time of an idle sweep over the 1,000,000 clocks.
Medians over several runs. Each run also prints the sweeping process's own CPU per 1,000 breaches and its
statements: on a loaded machine they compare code where the wall clock does not (PostgreSQL's own work is
not in that CPU figure, it is printed apart where the server's processes can be read in /proc). Creates and drops
its own database.

--workers N sweeps with N processes at once, each looping `clocks_sweep(batch, max_batches=1)` until it claims
nothing, as the Celery pool does when a full batch fans the sweep out (SKIP LOCKED gives each its own batches);
their CPU is added up. The default, 1, sweeps in this process, as before.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/crossline .venv/bin/python bench/sla_sweep.py
    options: --clocks 1000000 --due 10000 --runs 3 --batch 1000 --workers 1 [--escalate] [--keep] [--database NAME]
    BENCH_PROFILE=1 prints the slowest statements of each run and skips the idle figure.
"""
import argparse
import os
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clocks", type=int, default=1_000_000)
    parser.add_argument("--due", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=1, help="processes sweeping at once (default 1)")
    parser.add_argument("--escalate", action="store_true", help="functional escalation on each breach too")
    parser.add_argument("--keep", action="store_true", help="keep the bench database")
    parser.add_argument("--database", default="", help="name of the throwaway database (default: one per process)")
    args = parser.parse_args()

    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        sys.exit("Set DATABASE_URL to a PostgreSQL server, e.g. postgres://postgres@127.0.0.1:5432/crossline")
    import psycopg

    base, _, _ = url.rpartition("/")
    name = args.database or f"crossline_bench_sla_{os.getpid()}"
    with psycopg.connect(f"{base}/postgres", autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    os.environ["DATABASE_URL"] = f"{base}/{name}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tracker.settings")
    os.environ.setdefault("LOG_LEVEL", "ERROR")
    try:
        run(args)
    finally:
        from django.db import connections

        connections.close_all()
        pool = getattr(connections["default"], "pool", None)
        if pool is not None:
            pool.close()
        if not args.keep:
            with psycopg.connect(f"{base}/postgres", autocommit=True) as admin:
                admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _ticket_insert_sql(ticket_model, requester_id: int, group_id: int) -> str:
    """INSERT ... SELECT over generate_series with a value for every NOT NULL column of the ticket table."""
    from django.db import models

    given = {"kind": "'incident'", "number": "g", "key": "'INC-' || g", "title": "'Bench ticket ' || g",
             "status": "'in_progress'", "impact": "2", "urgency": "2", "priority": "3",
             "requester_id": str(requester_id), "group_id": str(group_id), "created_at": "%(t0)s",
             "updated_at": "%(t0)s", "version": "1"}
    cols, values = [], []
    for f in ticket_model._meta.concrete_fields:
        if f.primary_key:
            continue
        if f.column in given:
            value = given[f.column]
        elif f.null:
            value = "NULL"
        elif isinstance(f, models.BooleanField):
            value = "false"
        elif isinstance(f, (models.CharField, models.TextField)):
            value = "''"
        elif isinstance(f, (models.IntegerField, models.DecimalField, models.FloatField)):
            value = "0"
        else:
            raise SystemExit(f"bench: no bulk value for {f.column}")
        cols.append(f'"{f.column}"')
        values.append(value)
    return (f"INSERT INTO {ticket_model._meta.db_table} ({', '.join(cols)}) "
            f"SELECT {', '.join(values)} FROM generate_series(1, %(n)s) AS g")


def _backend_cpu(connection) -> float | None:
    """CPU seconds the PostgreSQL process serving `connection` has used, when this machine runs it (/proc)."""
    with connection.cursor() as cur:
        cur.execute("SELECT pg_backend_pid()")
        pid = cur.fetchone()[0]
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


def _sweeper(batch: int, ready, go, results) -> None:
    """One of --workers processes: once all are ready, sweep one batch at a time until nothing is claimed; report
    (applied, CPU s, PostgreSQL CPU s or None, statements, [(applied, committed at)] per batch)."""
    import django

    django.setup()
    from django.db import connection

    from sla.services import clocks_sweep, sweep_warm_up

    statements = [0]

    def count(execute, sql, params, many, context):
        statements[0] += 1
        return execute(sql, params, many, context)

    sweep_warm_up()  # as a Celery pool process does when it starts (sla.tasks)
    clocks_sweep()  # nothing is due yet: the imports and the connection are made before the clock starts
    pg_before = _backend_cpu(connection)
    ready.wait()  # the clocks are made due now
    go.wait()
    cpu = time.process_time()
    batches = []
    with connection.execute_wrapper(count):
        while n := clocks_sweep(batch=batch, max_batches=1):
            batches.append((n, time.time()))
    cpu = time.process_time() - cpu
    pg_after = _backend_cpu(connection)
    pg = pg_after - pg_before if pg_before is not None and pg_after is not None else None
    results.put((sum(n for n, _ in batches), cpu, pg, statements[0], batches))
    connection.close()


def _sweep_in_processes(args, reset) -> tuple[int, float, float, float | None, int, list[float]]:
    """Start args.workers processes, make the clocks due once they are ready (`reset()`, which answers the due
    time), and release them together: applied, wall s, CPU s and PostgreSQL CPU s (summed over the processes),
    statements, lags."""
    import multiprocessing

    from django.db import connections

    connections.close_all()  # the processes open their own
    ctx = multiprocessing.get_context("spawn")
    ready, go, results = ctx.Barrier(args.workers + 1), ctx.Barrier(args.workers + 1), ctx.Queue()
    procs = [ctx.Process(target=_sweeper, args=(args.batch, ready, go, results)) for _ in range(args.workers)]
    for proc in procs:
        proc.start()
    ready.wait()
    due_at = reset()
    go.wait()
    start, started_at = time.perf_counter(), time.time()
    answers = [results.get() for _ in procs]
    for proc in procs:
        proc.join()
    ends = [at for *_, batches in answers for _, at in batches]
    total = (max(ends) - started_at) if ends else time.perf_counter() - start
    pgs = [pg for _, _, pg, _, _ in answers]
    lags = [at - due_at.timestamp() for *_, batches in answers for n, at in batches for _ in range(n)]
    return (sum(a[0] for a in answers), total, sum(a[1] for a in answers),
            None if None in pgs else sum(pgs), sum(a[3] for a in answers), lags)


def run(args) -> None:
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from sla.models import Calendar, Clock, ClockEffect, Notification, OutboxMessage, Policy
    from sla.services import clocks_sweep, sweep_warm_up
    from tracker.choices import Role, Tier
    from tracker.models import AssignmentGroup, Ticket, TicketEvent, User

    t = time.perf_counter()
    call_command("migrate", verbosity=0)
    manager = User.objects.create(username="manager", email="manager@example.test", role=Role.MANAGER)
    agent = User.objects.create(username="agent", email="agent@example.test", role=Role.AGENT_L1)
    requester = User.objects.create(username="requester", role=Role.REQUESTER)
    l2 = AssignmentGroup.objects.create(name="L2", tier=Tier.L2, manager=manager)
    l1 = AssignmentGroup.objects.create(name="L1", tier=Tier.L1, manager=manager, escalates_to=l2)
    l1.members.add(agent)
    calendar = Calendar.objects.create(name="24x7", always_open=True)
    policy = Policy.objects.create(name="bench", calendar=calendar, resolution_s=8 * 3600,
                                   functional_escalation=args.escalate, hierarchical_escalation=True)
    t0 = datetime(2026, 1, 12, 9, 0, tzinfo=UTC)
    with connection.cursor() as cur:
        cur.execute(_ticket_insert_sql(Ticket, requester.pk, l1.pk), {"n": args.clocks, "t0": t0})
        cur.execute(f"""
            INSERT INTO {Clock._meta.db_table} (ticket_id, policy_id, metric, tier, cycle, state, breached,
                warned_percent, goal_s, elapsed_s, started_at, resumed_at, due_at, next_check_at, group_id,
                priority)
            SELECT id, %(policy)s, 'resolution', NULL, 1, 'running', false, 0, 28800, 0, %(t0)s, %(t0)s,
                   %(far)s + (id || ' seconds')::interval, %(far)s + (id || ' seconds')::interval, %(group)s, 3
            FROM {Ticket._meta.db_table}""", {"policy": policy.pk, "t0": t0, "group": l1.pk,
                                               "far": datetime(2030, 1, 1, tzinfo=UTC)})
        cur.execute("VACUUM ANALYZE") if connection.connection.autocommit else None
    with connection.cursor() as cur:
        cur.execute(f"ANALYZE {Clock._meta.db_table}; ANALYZE {Ticket._meta.db_table}")
    due_ids = list(Clock.objects.order_by("id").values_list("id", flat=True)[: args.due])
    print(f"setup: {args.clocks:,} tickets and running clocks in {time.perf_counter() - t:.1f} s "
          f"(PostgreSQL {connection.pg_version // 10000}, batch {args.batch}, {args.workers} worker(s), "
          f"escalation {'functional + hierarchical' if args.escalate else 'hierarchical'})")

    totals, rates, p50s, p99s = [], [], [], []
    sweep_warm_up()  # as a Celery pool process does when it starts (sla.tasks)

    def reset() -> datetime:
        """The same 10,000 clocks fall due at one instant, just before the sweep starts."""
        ClockEffect.objects.all().delete()
        Notification.objects.all().delete()
        OutboxMessage.objects.all().delete()
        TicketEvent.objects.all().delete()
        Ticket.objects.filter(pk__lte=args.due).update(group=l1, version=1)
        due_at = datetime.now(UTC) - timedelta(milliseconds=1)
        Clock.objects.filter(pk__in=due_ids).update(breached=False, breached_at=None, warned_percent=90,
                                                     due_at=due_at, next_check_at=due_at, group=l1,
                                                     resumed_at=due_at - timedelta(hours=8))
        return due_at

    for i in range(args.runs):
        if args.workers > 1:
            done, total, cpu, pg, n_statements, lags = _sweep_in_processes(args, reset)
            _report_run(i, args, done, total, cpu, pg, n_statements, lags, totals, rates, p50s, p99s)
            continue
        due_at = reset()
        lags: list[float] = []
        slow: dict[str, float] = {}
        statements = [0]

        def timed(execute, sql, params, many, context, slow=slow, statements=statements):
            s = time.perf_counter()
            statements[0] += 1
            try:
                return execute(sql, params, many, context)
            finally:
                slow[sql[:90]] = slow.get(sql[:90], 0) + time.perf_counter() - s

        pg = _backend_cpu(connection)  # before the statements are counted: the figure stays as it was
        wrapper = connection.execute_wrapper(timed)
        wrapper.__enter__()
        start, cpu = time.perf_counter(), time.process_time()
        done = 0
        while True:
            n = clocks_sweep(batch=args.batch, max_batches=1)
            committed = datetime.now(UTC)
            lags += [(committed - due_at).total_seconds()] * n
            done += n
            if n == 0:
                break
        total, cpu = time.perf_counter() - start, time.process_time() - cpu
        wrapper.__exit__(None, None, None)
        pg_after = _backend_cpu(connection)
        pg = pg_after - pg if pg is not None and pg_after is not None else None
        if os.environ.get("BENCH_PROFILE"):
            for sql, secs in sorted(slow.items(), key=lambda kv: -kv[1])[:8]:
                print(f"  {secs:6.2f} s  {sql}")
        _report_run(i, args, done, total, cpu, pg, statements[0], lags, totals, rates, p50s, p99s)

    if os.environ.get("BENCH_PROFILE"):
        return
    idle = []
    for _ in range(21):
        s = time.perf_counter()
        assert clocks_sweep() == 0
        idle.append((time.perf_counter() - s) * 1000)
    print()
    print(f"due clocks processed : {args.due:,} of {Clock.objects.count():,} running, "
          f"median {statistics.median(totals):.2f} s  (target < 10 s)")
    print(f"breaches/s           : median {statistics.median(rates):,.0f}  ({args.workers} worker(s))")
    print(f"lag due -> effect    : p50 {statistics.median(p50s):.2f} s, p99 {statistics.median(p99s):.2f} s "
          "(median over runs)")
    print(f"idle sweep           : median {statistics.median(idle):.1f} ms over {len(idle)} runs "
          f"(target < 50 ms)")


def _report_run(i, args, done, total, cpu, pg, statements, lags, totals, rates, p50s, p99s) -> None:
    from sla.models import ClockEffect, Notification, OutboxMessage

    assert done == args.due, (done, args.due)
    assert ClockEffect.objects.count() == args.due
    lags.sort()
    totals.append(total)
    rates.append(done / total)
    p50s.append(lags[len(lags) // 2])
    p99s.append(lags[int(len(lags) * 0.99) - 1])
    pg_text = f", PostgreSQL CPU {pg * 1000 / done * 1000:.0f} ms" if pg is not None else ""
    print(f"run {i + 1}: {done:,} breaches in {total:.2f} s = {done / total:,.0f}/s with {args.workers} worker(s); "
          f"lag p50 {p50s[-1]:.2f} s, p99 {p99s[-1]:.2f} s; "
          f"{Notification.objects.count():,} notifications, {OutboxMessage.objects.count():,} emails queued; "
          f"sweeper CPU {cpu * 1000 / done * 1000:.0f} ms{pg_text} per 1,000 breaches, {statements} statements")


if __name__ == "__main__":
    main()
