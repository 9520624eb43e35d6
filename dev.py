#!/usr/bin/env python3
"""Crossline's two set-up commands, for a fresh machine with only Python 3.11:

    python3 dev.py run     # virtualenv + install + migrate + demo data, then web + worker + beat
    python3 dev.py test    # virtualenv + install, then the whole test suite (pytest arguments pass through)

Embedded default: SQLite and a Celery broker in folders under var/ (no server). Set DATABASE_URL and
REDIS_URL (see README.md) to run the same code on PostgreSQL and Redis.

`run` is a local trial (CROSSLINE_LOCAL=true): no debug pages, plain http on localhost, a secret key made
once in var/ when DJANGO_SECRET_KEY is unset; whitenoise serves the static files straight from the source
folders (no collectstatic). Debug pages only with DJANGO_DEBUG=true.
"""
import hashlib
import os
import shutil
import signal
import subprocess
import sys
import time
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
PY = VENV / "bin" / "python"
STAMP = VENV / ".crossline-installed"
CHROMIUM = os.environ.get("CROSSLINE_CHROMIUM", "/usr/bin/chromium")


def say(msg: str) -> None:
    print(f"==> {msg}", flush=True)


def ensure_venv() -> None:
    if sys.version_info[:2] != (3, 11):
        sys.exit(f"Crossline needs Python 3.11 (this is {sys.version.split()[0]}); run: python3.11 dev.py ...")
    if not PY.exists():
        say("creating the virtualenv in .venv")
        venv.EnvBuilder(with_pip=True).create(VENV)
    digest = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    if not STAMP.exists() or STAMP.read_text() != digest:
        say("installing Crossline and its pinned dependencies")
        subprocess.run([PY, "-m", "pip", "install", "-q", "--upgrade", "pip"], check=True)
        subprocess.run([PY, "-m", "pip", "install", "-q", "-e", f"{ROOT}[dev]"], check=True)
        STAMP.write_text(digest)


def manage(*args: str) -> None:
    subprocess.run([PY, ROOT / "manage.py", *args], check=True, cwd=ROOT)


def ensure_chromium() -> None:
    """Browser tests drive Debian's Chromium; install it where we can, otherwise say how."""
    if os.environ.get("CROSSLINE_SKIP_E2E") == "1" or Path(CHROMIUM).exists():
        return
    if shutil.which("apt-get") and os.geteuid() == 0:
        say("installing Debian's chromium and chromium-driver for the browser tests")
        subprocess.run(["apt-get", "update", "-qq"], check=False)
        subprocess.run(["apt-get", "install", "-y", "-qq", "chromium", "chromium-driver"], check=False,
                       env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"})
    if not Path(CHROMIUM).exists():
        sys.exit(
            "The browser tests need Chromium at /usr/bin/chromium and none is installed.\n"
            "  Debian/Ubuntu: sudo apt-get install chromium chromium-driver\n"
            "  Elsewhere: install Chromium and set CROSSLINE_CHROMIUM=/path/to/chromium\n"
            "  Or run everything else with: CROSSLINE_SKIP_E2E=1 python3 dev.py test"
        )


def cmd_test(args: list[str]) -> int:
    ensure_venv()
    ensure_chromium()
    db = "PostgreSQL" if os.environ.get("DATABASE_URL", "").startswith("postgres") else "SQLite"
    broker = "Redis" if os.environ.get("REDIS_URL") else "the filesystem broker"
    say(f"running the test suite on {db} and {broker}")
    return subprocess.run([PY, "-m", "pytest", *args], cwd=ROOT).returncode


def cmd_run(args: list[str]) -> int:
    ensure_venv()
    env = {**os.environ, "SLA_SWEEP_SECONDS": os.environ.get("SLA_SWEEP_SECONDS", "5"),
           "CROSSLINE_LOCAL": os.environ.get("CROSSLINE_LOCAL", "true")}
    os.environ.update(env)
    manage("migrate", "--noinput")
    manage("seed_demo")
    host = os.environ.get("CROSSLINE_BIND", "127.0.0.1:8000")
    embedded = not os.environ.get("REDIS_URL")
    worker = [PY, "-m", "celery", "-A", "tracker", "worker", "-l", "info", "-n", "crossline@%h"]
    # One sweeper on SQLite (no SKIP LOCKED there); the unique keys keep it correct anyway.
    worker += ["--pool", "solo"] if embedded else ["--concurrency", "2"]
    procs = {
        "web": [PY, ROOT / "manage.py", "runserver", host, "--noreload"],
        "worker": worker,
        "beat": [PY, "-m", "celery", "-A", "tracker", "beat", "-l", "info",
                 "-s", str(ROOT / "var" / "celerybeat-schedule")],
    }
    running = {name: subprocess.Popen(argv, cwd=ROOT, env=env) for name, argv in procs.items()}
    say(f"Crossline is up at http://{host}/  (demo logins in README.md; Ctrl-C stops web, worker and beat)")

    def stop(*_):
        for proc in running.values():
            if proc.poll() is None:
                proc.terminate()
        for proc in running.values():
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()

    signal.signal(signal.SIGTERM, lambda *_: (stop(), sys.exit(0)))
    try:
        while True:
            for name, proc in running.items():
                if proc.poll() is not None:
                    say(f"{name} exited with {proc.returncode}; stopping the others")
                    stop()
                    return proc.returncode or 1
            time.sleep(1)
    except KeyboardInterrupt:
        stop()
        return 0


def main() -> int:
    commands = {"run": cmd_run, "test": cmd_test}
    if len(sys.argv) < 2 or sys.argv[1] not in commands:
        print(__doc__)
        return 2
    return commands[sys.argv[1]](sys.argv[2:])


if __name__ == "__main__":
    sys.exit(main())
