#!/usr/bin/env python3
"""Crossline against django-helpdesk (the peer benchmark), interleaved rounds on one machine, same counts.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/crossline .venv/bin/python bench/compare.py \
        [--rounds 3] [--only create,queue,ticket,sweep,escalate] [--reuse] [--million] [--quick]

Each round runs the peer's phases through its `run.sh` (PHASES=... REPEATS=1) and then Crossline's same
measurement: peer round 1, Crossline round 1, peer round 2, ... Crossline is served like the peer: gunicorn,
4 sync workers, DEBUG off, ~100k tickets with SLA clocks; its load comes from closed-loop client processes
opening a new connection per request (`bench/web.py`), READ_N requests per read round and CREATE_N4
creates from 4 clients per create round. The SLA figures come from `bench/sla_sweep.py` (a subprocess; its
`breaches/s` summary line). Prints the table (medians of rounds; ratio: how many times better Crossline
is), the raw rounds and the load average seen, and saves them under test-artifacts/compare-<utc>.md.

Databases: `crossline_bench_compare` is seeded once and kept (--reuse keeps it, migrated); every run works
on a copy of it (`crossline_bench_compare_run`), copied again after each create round so each round starts
from the same rows, as the peer deletes its created tickets. --million adds the queue page on a kept
1,000,000-ticket database (`crossline_bench_compare_1m`; seeding it takes many minutes).

PostgreSQL: the peer's cluster runs the benchmark settings its scripts/pg.sh writes (shared_buffers 2GB,
max_wal_size 4GB, checkpoint_timeout 15min, random_page_cost 1.1, ...). Each run gives Crossline's server the same
(ALTER SYSTEM and a reload: it changes that server for everything it serves); a setting that needs a restart
(shared_buffers) is named on the console and in the report until the server is restarted (Debian:
`pg_ctlcluster 15 main restart`).

Duration: seeding the 100k database ~5 min (once). The peer's pages and creates are measured by its own
load client (`scripts/load.py`) with the arguments its run.sh gives them, without the rest of run.sh's web
phases (hello, other DataTables sorts, the staff form), which nothing here compares; its escalation runs
through run.sh's `escalate` phase. The sweeps build a million clocks per run (a few minutes each).
"""
import argparse
import os
import re
import secrets
import shutil
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import web  # noqa: E402
from common import (  # noqa: E402
    PY,
    ROOT,
    bench_database_url,
    copy_database,
    database_exists,
    gunicorn,
    manage,
    recreate_database,
)
from pages import CLOCKS_SQL  # noqa: E402

PHASES = ("create", "queue", "ticket", "sweep", "escalate")
DB_NAME = "crossline_bench_compare"
MILLION_DB = "crossline_bench_compare_1m"
# The peer benchmark wants a writable folder: PEER_BENCH names one, else ../shared/peer-bench is copied to var/.
PEER = Path(os.environ.get("PEER_BENCH", ROOT / "var" / "peer-bench"))
PEER_SOURCE = ROOT.parent / "shared" / "peer-bench"
AGENT = "lena"  # the demo's 1st-line agent; the bench gives her a password of its own per run
SWEEP_LINE = re.compile(r"^breaches/s\s*:\s*median\s+([\d,.]+)", re.MULTILINE)

# (label, unit, peer value, Crossline value, better: "higher"/"lower", target) per table row; values are
# functions of one round's raw figures (None where a side has no such measurement).
ROWS = [
    ("REST create, 4 clients", "tickets/s", "peer.create.api_c4.rps", "cl.create.rps", "higher", ">= 4x"),
    ("REST create, 4 clients, p95", "ms", "peer.create.api_c4.p95", "cl.create.p95", "lower", "<= 25 ms"),
    ("agent queue page, filtered+sorted, p50 (peer: shell + DataTables JSON)", "ms",
     "peer.queue.p50", "cl.queue.p50", "lower", ">= 8x"),
    ("queue page p95 at 1,000,000 tickets", "ms", None, "cl.1m.queue.p95", "lower", "<= 30 ms"),
    ("ticket page p50", "ms", "peer.ticket.p50", "cl.ticket.p50", "lower", ">= 3x"),
    ("escalation with functional reassignment", "items/s", "peer.escalate.rate", "cl.escalate.rate", "higher",
     ">= 5,000/s"),
    ("SLA sweep without reassignment", "breaches/s", None, "cl.sweep.rate", "higher", ">= 10,000/s"),
]


def parse_peer(text: str) -> dict[str, float]:
    """The peer's `metric value unit` lines (comments and non-numeric values skipped)."""
    out = {}
    for line in text.splitlines():
        parts = line.split()
        if len(parts) != 3 or line.startswith("#"):
            continue
        try:
            out[parts[0]] = float(parts[1])
        except ValueError:
            continue
    return out


def parse_sweep(text: str) -> float:
    """breaches/s from sla_sweep.py's summary line `breaches/s           : median 12,345`."""
    found = SWEEP_LINE.search(text)
    if not found:
        raise ValueError("no `breaches/s : median N` line in the sweep's output")
    return float(found.group(1).replace(",", ""))


def load_now() -> float:
    return os.getloadavg()[0]


class Run:
    """Raw figures per round, the load averages seen, and the log of what ran."""

    def __init__(self):
        self.rounds: list[dict[str, float]] = []
        self.loads: list[float] = []
        self.round_loads: list[tuple[float, float]] = []
        self.server_settings: dict[str, str] = {}  # the peer's PostgreSQL settings, given to Crossline's too
        self.server_notes: list[str] = []  # those Crossline's server does not run with yet

    def note_load(self) -> float:
        value = load_now()
        self.loads.append(value)
        return value


def phase(label: str, run: Run) -> None:
    print(f"[{datetime.now(UTC):%H:%M:%S}] {label} (load {run.note_load():.2f})", flush=True)


# --- the peer ---------------------------------------------------------------------------------------------

def _peer_env() -> dict:
    return {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_URL", "DJANGO_", "PG"))}


def peer(phases: str, **knobs) -> dict[str, float]:
    """A whole phase of the peer's `run.sh` (used for `escalate`, which measures nothing else)."""
    env = _peer_env()
    env.update({"PHASES": phases, "REPEATS": "1", "ESC_REPEATS": "1"}, **{k: str(v) for k, v in knobs.items()})
    done = subprocess.run(["bash", str(PEER / "run.sh")], env=env, capture_output=True, text=True)
    if done.returncode:
        raise SystemExit(f"peer run.sh ({phases}) failed:\n{done.stderr[-2000:]}")
    return parse_peer(done.stdout)


# The peer's web measurements compared here, with the arguments its run.sh gives them (one repetition each):
# its run.sh phases also time a hello page, more DataTables sorts and the staff form, which nothing compares.
PEER_STEPS = {
    "queue": ['$LOAD list_page --name list.page_c1 --queue-id "$QID" --requests {read_n} --repeats 1',
              '$LOAD datatables --name list.dt_priority_c1 --queue-id "$QID" --requests {read_n} --repeats 1'],
    "ticket": ['$LOAD detail --name detail.c1 --ids-file "$PHD_ROOT/detail_ids.txt" --requests {read_n} --repeats 1'],
    "create": ['$LOAD api_create --name create.api_c4 --queues "$QS" --clients 4 --requests {create_n4} --repeats 1'],
}
PEER_WEB = """set -euo pipefail
source "{peer}/env.sh"
"$PHD_HERE/scripts/pg.sh" start >&2
cd "$PHD_HERE/project"
sql() {{ "$PSQL" -qtAX -c "$1"; }}
trap '"$PHD_HERE/scripts/web.sh" stop >&2 || true' EXIT
MAXID="$(sql 'SELECT coalesce(max(id),0) FROM helpdesk_ticket')"
QID="$(sql "SELECT id FROM helpdesk_queue WHERE slug='INC'")"
QS="$(sql "SELECT string_agg(id::text, ',') FROM helpdesk_queue")"
[ -s "$PHD_ROOT/detail_ids.txt" ] || sql "SELECT id FROM helpdesk_ticket ORDER BY md5(id::text) LIMIT 500" \
    > "$PHD_ROOT/detail_ids.txt"
LOAD="$PY $PHD_HERE/scripts/load.py --port $PHD_HTTP_PORT --password $PHD_ADMIN_PASSWORD"
"$PHD_HERE/scripts/web.sh" start >&2
{steps}
"$PHD_HERE/scripts/web.sh" stop >&2
if [ "$(sql 'SELECT coalesce(max(id),0) FROM helpdesk_ticket')" != "$MAXID" ]; then
  # as run.sh does after its creates: back to the generated rows (Django's cascade), then VACUUM ANALYZE
  DROP="from helpdesk.models import Ticket; Ticket.objects.filter(id__gt=$MAXID).delete()"
  "$PY" -c "import django; django.setup(); $DROP"
  sql "VACUUM ANALYZE"
fi
"""


def peer_web(wanted: list[str], **counts) -> dict[str, float]:
    """The peer's own load client (`scripts/load.py`) against its gunicorn, for the compared pages only."""
    steps = "\n".join(line.format(**counts) for name in wanted for line in PEER_STEPS[name])
    script = PEER_WEB.format(peer=PEER, steps=steps)
    done = subprocess.run(["bash", "-c", script], env=_peer_env(), capture_output=True, text=True)
    if done.returncode:
        raise SystemExit(f"peer load ({', '.join(wanted)}) failed:\n{done.stderr[-2000:]}")
    return parse_peer(done.stdout)


def peer_ready() -> None:
    """Copy the peer benchmark to its writable folder, set it up (virtualenv, PostgreSQL, schema) and generate its
    100,000 tickets, each the first time only."""
    if not PEER.exists():
        shutil.copytree(PEER_SOURCE, PEER)
    env = _peer_env()
    if not (Path(env.get("PHD_ROOT", "/tmp/phd")) / "venv" / "bin" / "python").exists():
        print("setting up the peer benchmark (its setup.sh) ...", flush=True)
        subprocess.run(["bash", str(PEER / "setup.sh")], env=env, check=True, capture_output=True)
    counted = subprocess.run(["bash", "-c", f'source "{PEER}/env.sh"; "$PHD_HERE/scripts/pg.sh" start >&2; '
                              '"$PSQL" -qtAX -c "SELECT count(*) FROM helpdesk_ticket"'],
                             env=env, capture_output=True, text=True, check=True)
    if int(counted.stdout.strip() or 0) == 0:
        print("generating the peer's tickets (run.sh gen) ...", flush=True)
        peer("gen")


def peer_stop() -> None:
    subprocess.run(["bash", str(PEER / "stop.sh")], capture_output=True)


# The peer's PostgreSQL runs with the benchmark settings its scripts/pg.sh writes; Crossline's server is given the
# same (durability stays on either way). Its own cluster's place, port and logging are not compared.
SERVER_SETTINGS_SKIPPED = {"listen_addresses", "port", "unix_socket_directories", "max_connections",
                           "logging_collector", "log_min_duration_statement"}


def peer_server_settings() -> dict[str, str]:
    """The settings the peer's scripts/pg.sh appends to its postgresql.conf (name -> value as written); none where
    the peer benchmark is not on this machine."""
    script = PEER_SOURCE / "scripts" / "pg.sh"
    if not script.exists():
        return {}
    text = script.read_text()
    block = text.split("# ---- peer-helpdesk benchmark ----", 1)[1].split("\nCONF", 1)[0]
    found = (re.match(r"\s*([a-z_]+)\s*=\s*'?([^'#\n]*?)'?\s*$", line) for line in block.splitlines())
    return {m[1]: m[2] for m in found if m and m[1] not in SERVER_SETTINGS_SKIPPED}


def match_peer_server(url: str) -> list[str]:
    """Give Crossline's PostgreSQL the peer's benchmark settings: those a reload applies are set (ALTER SYSTEM,
    pg_reload_conf); one that needs a restart (shared_buffers, wal_level) is set for the next start and named in
    the returned notes, as is every setting that still differs. The notes go into the report."""
    import psycopg

    wanted = peer_server_settings()
    with psycopg.connect(url, autocommit=True) as conn:
        def current() -> dict[str, tuple[str, str]]:
            rows = conn.execute("SELECT name, current_setting(name), context FROM pg_settings WHERE name = ANY(%s)",
                                [list(wanted)]).fetchall()
            return {name: (value, context) for name, value, context in rows}

        def same(name: str, value: str) -> bool:
            got = current()[name][0]
            return conn.execute("SELECT %s::text = %s::text OR pg_size_bytes(%s) = pg_size_bytes(%s)",
                                [got, value, got, value]).fetchone()[0] if _sized(got, value) else got == value

        for name, value in wanted.items():
            if name in current() and not same(name, value):
                conn.execute(f"ALTER SYSTEM SET {name} = '{value}'")  # names and values from the peer's own file
        conn.execute("SELECT pg_reload_conf()")
        time.sleep(0.5)
        notes = []
        for name, value in wanted.items():
            if name not in current():
                notes.append(f"{name}: unknown to this server")
            elif not same(name, value):
                got, context = current()[name]
                why = "needs a restart of PostgreSQL" if context == "postmaster" else "not applied"
                notes.append(f"{name} = {got} (the peer's: {value}; {why})")
    return notes


def _sized(*values: str) -> bool:
    return all(re.fullmatch(r"\d+\s*(kB|MB|GB|TB)?", v) for v in values)


# --- Crossline ----------------------------------------------------------------------------------------------

def server_env(url: str) -> dict:
    return {**os.environ, "DATABASE_URL": url, "DJANGO_DEBUG": "false", "LOG_LEVEL": "ERROR",
            "DJANGO_SECRET_KEY": "bench-only-secret-key-not-for-production-0123456789",
            "DJANGO_SECURE_SSL_REDIRECT": "false", "DJANGO_SECURE_COOKIES": "false",
            "REDIS_URL": os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/4")}


def sql(url: str, query: str, params=None) -> list[tuple]:
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        cursor = conn.execute(query, params)
        return cursor.fetchall() if cursor.description else []


def seed(url: str, tickets: int) -> None:
    """The demo, `tickets` bulk tickets, two SLA clocks each (bench/pages.py's CLOCKS_SQL), the roll-up."""
    env = server_env(url)
    recreate_database(url)
    manage(env, "migrate", "--noinput")
    manage(env, "seed_demo", "--tickets", "0")
    last_demo = sql(url, "SELECT coalesce(max(id), 0) FROM tracker_ticket")[0][0]
    started = time.time()
    manage(env, "seed_demo", "--tickets", str(tickets))
    print(f"  {tickets:,} tickets in {time.time() - started:.0f}s; adding SLA clocks ...", flush=True)
    policy = manage(env, "shell", "-c", (
        "from sla.models import Calendar, Policy\n"
        "c, _ = Calendar.objects.get_or_create(name='Bench 24x7', defaults={'always_open': True})\n"
        "p, _ = Policy.objects.get_or_create(name='Bench policy', "
        "defaults={'calendar': c, 'order': 999, 'active': False})\n"
        "print(p.pk)")).strip().splitlines()[-1]
    sql(url, CLOCKS_SQL, {"policy": int(policy), "after": last_demo})
    sql(url, "UPDATE sla_clock SET breached = true, breached_at = due_at "
             "WHERE state = 'running' AND NOT breached AND due_at < now() AND policy_id = %s", [int(policy)])
    manage(env, "sla_rollup", "--days", "400")
    sql(url, "VACUUM ANALYZE")


def prepare(url: str, tickets: int, reuse: bool) -> None:
    if reuse and database_exists(url):
        manage(server_env(url), "migrate", "--noinput")  # a kept database may predate the latest migrations
    else:
        print(f"seeding {urlparse_name(url)} with {tickets:,} tickets ...", flush=True)
        seed(url, tickets)


def urlparse_name(url: str) -> str:
    return url.rsplit("/", 1)[1]


def bench_password(url: str) -> str:
    """A fresh random password for the bench's agent in the bench database, so no password is written here."""
    password = secrets.token_urlsafe(16)
    manage({**server_env(url), "BENCH_PASSWORD": password}, "shell", "-c",
           "import os\nfrom tracker.models import User\n"
           f"u = User.objects.get(username={AGENT!r}); u.set_password(os.environ['BENCH_PASSWORD']); u.save()")
    return password


def crossline_reads(url: str, args, want: set[str], prefix: str = "cl.") -> dict[str, float]:
    out = {}
    keys = [k for (k,) in sql(url, "SELECT key FROM tracker_ticket ORDER BY md5(id::text) LIMIT 500")]
    password = bench_password(url)
    with gunicorn(server_env(url), workers=4) as port:
        if "queue" in want:
            r = checked(web.run(port, "queue", requests=args.read_n, user=AGENT, password=password))
            out.update({f"{prefix}queue.p50": r["p50"], f"{prefix}queue.p95": r["p95"]})
        if "ticket" in want:
            r = checked(web.run(port, "ticket", requests=args.read_n, user=AGENT, password=password, keys=keys))
            out.update({f"{prefix}ticket.p50": r["p50"], f"{prefix}ticket.p95": r["p95"]})
    return out


def crossline_create(url: str, kept: str, args) -> dict[str, float]:
    token = manage(server_env(url), "issue_token", AGENT).strip()
    with gunicorn(server_env(url), workers=4) as port:
        r = checked(web.run(port, "create", clients=4, requests=args.create_n4, token=token))
    copy_database(kept, url)  # the next round starts from the same rows
    return {"cl.create.rps": r["rps"], "cl.create.p95": r["p95"], "cl.create.p50": r["p50"]}


def checked(result: dict) -> dict:
    if result["errors"]:
        raise SystemExit(f"{result['errors']} of {result['n']} requests failed: {result['codes']}")
    return result


def crossline_sweep(escalate: bool, args) -> float:
    command = [PY, str(ROOT / "bench" / "sla_sweep.py"), *args.sweep_args.split()]
    if escalate:
        command.append("--escalate")
    done = subprocess.run(command, cwd=ROOT, env=server_env(os.environ["DATABASE_URL"]),
                          capture_output=True, text=True)
    if done.returncode:
        raise SystemExit(f"sla_sweep.py failed:\n{done.stderr[-2000:]}")
    return parse_sweep(done.stdout)


# --- the report ---------------------------------------------------------------------------------------------

def medians(rounds: list[dict[str, float]]) -> dict[str, float]:
    keys = {k for r in rounds for k in r}
    return {k: statistics.median([r[k] for r in rounds if k in r]) for k in keys}


def fmt(value: float) -> str:
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:.1f}"


def cell(value: float | None, unit: str) -> str:
    return "-" if value is None else f"{fmt(value)} {unit}"


def table(rounds: list[dict[str, float]]) -> list[str]:
    med = medians(rounds)
    lines = ["| metric | peer (django-helpdesk) | Crossline | ratio | target |", "|---|---|---|---|---|"]
    for label, unit, peer_key, cl_key, better, target in ROWS:
        p, c = med.get(peer_key) if peer_key else None, med.get(cl_key)
        if p is None and c is None:
            continue
        ratio = "-"
        if p and c:
            ratio = f"{(c / p if better == 'higher' else p / c):.2f}x"
        lines.append(f"| {label} | {cell(p, unit)} | {cell(c, unit)} | {ratio} | {target} |")
    return lines


def report(run: Run, args, started: datetime) -> str:
    lo, hi = (min(run.loads), max(run.loads)) if run.loads else (0.0, 0.0)
    lines = [f"## Crossline vs django-helpdesk, {started:%Y-%m-%d %H:%M} UTC", "",
             f"{len(run.rounds)} interleaved round(s), medians; {os.cpu_count()} cores; phases {args.only}; "
             f"READ_N={args.read_n}, CREATE_N4={args.create_n4}; sweep `{args.sweep_args}`; "
             f"load average (1 min) seen {lo:.2f}-{hi:.2f}. Ratio: times better for Crossline.", ""]
    if run.server_notes:
        lines += ["PostgreSQL settings that differ from the peer's: " + "; ".join(run.server_notes) + ".", ""]
    elif run.server_settings:
        settings = ", ".join(f"{k} = {v}" for k, v in run.server_settings.items())
        lines += [f"Both PostgreSQL servers run the peer's benchmark settings ({settings}).", ""]
    lines += table(run.rounds)
    lines += ["", "Raw rounds:", "", "```"]
    for i, (r, (low, high)) in enumerate(zip(run.rounds, run.round_loads, strict=True), 1):
        lines.append(f"round {i} (load {low:.2f}-{high:.2f}): "
                     + ", ".join(f"{k}={v:.1f}" for k, v in sorted(r.items())))
    lines += ["```"]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--only", default=",".join(PHASES), help="comma-separated subset of " + ",".join(PHASES))
    parser.add_argument("--tickets", type=int, default=100_000, help="bulk tickets of the compared database")
    parser.add_argument("--read-n", type=int, default=200, help="requests per read round (peer READ_N)")
    parser.add_argument("--create-n4", type=int, default=1000, help="creates per round, 4 clients (CREATE_N4)")
    parser.add_argument("--sweep-args", default="--clocks 1000000 --due 10000 --runs 3 --workers 2",
                        help="bench/sla_sweep.py's arguments; 2 workers as SLA_SWEEP_PARALLEL's default fans out")
    parser.add_argument("--quick", action="store_true", help="small sweep counts (--clocks 100000 --due 2000 "
                        "--runs 1 --workers 2)")
    parser.add_argument("--reuse", action="store_true", help="keep the seeded databases between runs")
    parser.add_argument("--million", action="store_true", help="also the queue page on 1,000,000 tickets")
    args = parser.parse_args()
    want = {p.strip() for p in args.only.split(",") if p.strip()}
    if want - set(PHASES):
        parser.error(f"--only takes {','.join(PHASES)}")
    if args.quick:
        args.sweep_args = "--clocks 100000 --due 2000 --runs 1 --workers 2"
    args.rounds = max(1, min(args.rounds, 20))
    args.read_n, args.create_n4 = min(args.read_n, 10_000), min(args.create_n4, 20_000)

    started = datetime.now(UTC)
    kept = bench_database_url(DB_NAME)
    work = bench_database_url(f"{DB_NAME}_run")
    million = bench_database_url(MILLION_DB)
    run = Run()
    web_wanted = want & {"create", "queue", "ticket"}
    try:
        run.server_settings = peer_server_settings()
        run.server_notes = match_peer_server(os.environ["DATABASE_URL"])
        for note in run.server_notes:
            print(f"PostgreSQL setting differs from the peer's: {note}", flush=True)
        if want - {"sweep"}:  # every phase but the sweep measures the peer too
            phase("peer benchmark", run)
            peer_ready()
        if web_wanted:
            phase("Crossline database", run)
            prepare(kept, args.tickets, args.reuse)
            copy_database(kept, work)
        if args.million:
            phase("Crossline 1,000,000-ticket database", run)
            prepare(million, 1_000_000, args.reuse)
        for i in range(1, args.rounds + 1):
            figures: dict[str, float] = {}
            seen = len(run.loads)
            if want & {"queue", "ticket"}:
                phase(f"round {i}: peer list and detail pages", run)
                p = peer_web([n for n in ("queue", "ticket") if n in want], read_n=args.read_n)
                if "queue" in want:
                    figures["peer.queue.p50"] = p["list.page_c1.p50"] + p["list.dt_priority_c1.p50"]
                if "ticket" in want:
                    figures["peer.ticket.p50"] = p["detail.c1.p50"]
                phase(f"round {i}: Crossline queue and ticket pages", run)
                figures.update(crossline_reads(work, args, want))
            if args.million:
                phase(f"round {i}: Crossline queue page at 1,000,000 tickets", run)
                figures.update(crossline_reads(million, args, {"queue"}, prefix="cl.1m."))
            if "create" in want:
                phase(f"round {i}: peer REST create", run)
                p = peer_web(["create"], create_n4=args.create_n4)
                figures.update({"peer.create.api_c4.rps": p["create.api_c4.rps"],
                                "peer.create.api_c4.p95": p["create.api_c4.p95"]})
                phase(f"round {i}: Crossline REST create", run)
                figures.update(crossline_create(work, kept, args))
            if "escalate" in want:
                phase(f"round {i}: peer escalate", run)
                figures["peer.escalate.rate"] = peer("escalate")["esc.rate"]
                phase(f"round {i}: Crossline sweep with functional escalation", run)
                figures["cl.escalate.rate"] = crossline_sweep(True, args)
            if "sweep" in want:
                phase(f"round {i}: Crossline sweep", run)
                figures["cl.sweep.rate"] = crossline_sweep(False, args)
            run.note_load()
            run.rounds.append(figures)
            run.round_loads.append((min(run.loads[seen:]), max(run.loads[seen:])))
            print(f"round {i}: " + ", ".join(f"{k}={v:.1f}" for k, v in sorted(figures.items())), flush=True)
    finally:
        peer_stop()
    text = report(run, args, started)
    print("\n" + text)
    out = ROOT / "test-artifacts" / f"compare-{started:%Y%m%dT%H%M%SZ}.md"
    out.parent.mkdir(exist_ok=True)
    out.write_text(text)
    print(f"saved to {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
