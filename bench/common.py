"""Shared plumbing of the benchmarks: a throwaway PostgreSQL database, a seeded tree, a server, percentiles."""
import os
import socket
import statistics
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlparse, urlunparse

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable


def bench_database_url(name: str) -> str:
    """DATABASE_URL pointed at a throwaway database `name` on the same server (PostgreSQL only)."""
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres"):
        sys.exit("Benchmarks run on PostgreSQL: set DATABASE_URL=postgres://postgres@127.0.0.1:5432/crossline")
    parts = urlparse(url)
    return urlunparse(parts._replace(path=f"/{name}"))


def recreate_database(url: str) -> None:
    import psycopg

    parts = urlparse(url)
    admin = urlunparse(parts._replace(path="/postgres"))
    name = parts.path.lstrip("/")
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def manage(env: dict, *args: str, quiet: bool = True) -> str:
    out = subprocess.run([PY, str(ROOT / "manage.py"), *args], cwd=ROOT, env=env, check=True,
                         capture_output=True, text=True)
    if not quiet:
        print(out.stdout, end="")
    return out.stdout


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def gunicorn(env: dict, workers: int = 4, threads: int = 1, procs: list | None = None):
    """Serve the app on a free loopback port; `procs`, if given, receives the master process."""
    port = free_port()
    proc = subprocess.Popen([PY, "-m", "gunicorn", "tracker.wsgi", "--bind", f"127.0.0.1:{port}",
                             "--workers", str(workers), "--threads", str(threads), "--log-level", "warning"],
                            cwd=ROOT, env=env)
    if procs is not None:
        procs.append(proc)
    try:
        deadline = time.time() + 30
        while time.time() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                time.sleep(0.2)
        else:
            raise RuntimeError("gunicorn did not start")
        yield port
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds a process has used so far (Linux /proc); 0 if it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def child_pids(pid: int) -> list[int]:
    """Direct children of a process (gunicorn's workers under its master)."""
    out = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            out += [int(c) for c in (task / "children").read_text().split()]
        except OSError:
            pass
    return out


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    k = max(0, min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1))))
    return ordered[k]


def median(values):
    return statistics.median(values)


def database_exists(url: str) -> bool:
    import psycopg

    parts = urlparse(url)
    with psycopg.connect(urlunparse(parts._replace(path="/postgres")), autocommit=True) as conn:
        found = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [parts.path.lstrip("/")]).fetchone()
    return found is not None


def copy_database(template_url: str, url: str) -> None:
    """(Re)create the database of `url` as a file-level copy of `template_url`'s (no one may be connected)."""
    import psycopg

    parts = urlparse(url)
    name, template = parts.path.lstrip("/"), urlparse(template_url).path.lstrip("/")
    with psycopg.connect(urlunparse(parts._replace(path="/postgres")), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
