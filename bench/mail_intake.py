"""Inbound mail benchmark: a Maildir of N realistic messages filed through `mail_import` (`mail_receive`).

The Maildir holds new mails (plain, multipart/alternative, HTML only, some with a small attachment), replies
with quoted history threading onto earlier ones by In-Reply-To, and a share of auto-replies; it is built once
in a temporary folder. Each round files all of it into a fresh database (SQLite in a temporary file, or a new
PostgreSQL database when DATABASE_URL points at a PostgreSQL server) and prints mails/s and the outcomes; the
last line is the median over the rounds.

    .venv/bin/python bench/mail_intake.py                      # SQLite
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/crossline .venv/bin/python bench/mail_intake.py
    options: --count 10000 --rounds 3 [--keep]
"""
import argparse
import json
import mailbox
import os
import random
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import PY, ROOT, bench_database_url, median, recreate_database  # noqa: E402

INTAKE = "servicedesk@crossline.example"
SUBJECTS = ["Printer on floor 2 prints blank pages", "VPN drops every 10 minutes", "Cannot open payslip PDF",
            "Outlook keeps asking for my password", "New starter needs a laptop", "Shared drive is read-only",
            "Web shop shows prices in the wrong currency", "Badge does not open the car park"]
BODY = ("Hello,\n\nsince this morning {what}. It happened again at {hour}:{minute:02d} and my colleagues in {site} "
        "see the same.\nI restarted twice already.\n\nThanks,\n{name}\n-- \n"
        "{name} | {site} office | +44 113 496 0{n:03d}\n")
SITES = ["Leeds", "Berlin", "Lisbon", "Paris", "London"]


def build_maildir(folder: Path, count: int, seed: int = 7) -> dict[str, int]:
    """N messages: 60 % new (a fifth HTML only, a tenth with a small file), 32 % replies, 8 % auto-replies."""
    rng = random.Random(seed)
    box = mailbox.Maildir(folder, create=True)
    senders = [(f"Person {i}", f"person{i}@customer{i % 40}.example") for i in range(max(50, count // 5))]
    started = datetime(2026, 12, 7, 8, 0, tzinfo=UTC)
    sent: list[tuple[str, str, str]] = []  # (message id, subject, sender address) of new mails
    kinds = {"new": 0, "reply": 0, "auto": 0}
    for i in range(count):
        at = started + timedelta(seconds=3 * i)
        roll = rng.random()
        msg = EmailMessage()
        msg["To"] = f"Service Desk <{INTAKE}>"
        msg["Date"] = format_datetime(at)
        msg["Message-ID"] = f"<bench.{i}.{rng.getrandbits(40):x}@mail.customer.example>"
        msg["Received"] = (f"from mail.customer.example (mail.customer.example [192.0.2.{i % 250 + 1}]) by "
                           f"mx1.crossline.example (Postfix) with ESMTPS; {format_datetime(at)}")
        msg["X-Mailer"] = rng.choice(["Microsoft Outlook 16.0", "Apple Mail (2.3774.600.62)", "Mozilla Thunderbird"])
        if roll < 0.08 and sent:
            message_id, subject, address = rng.choice(sent)
            msg["From"] = address
            msg["Subject"] = f"Automatic reply: {subject}"
            msg["Auto-Submitted"] = "auto-replied"
            msg["In-Reply-To"] = message_id
            msg.set_content("I am out of the office until Monday with no access to email.")
            kinds["auto"] += 1
        elif roll < 0.40 and sent:
            message_id, subject, address = rng.choice(sent)
            msg["From"] = address
            msg["Subject"] = f"Re: {subject}"
            msg["In-Reply-To"] = message_id
            msg["References"] = message_id
            quoted = "\n".join(f"> {line}" for line in BODY.format(what="it broke", hour=9, minute=0, site="Leeds",
                                                                    name="Desk", n=0).splitlines())
            msg.set_content(f"Still happening, see the time stamps below.\n\nOn {format_datetime(at)}, "
                            f"Service Desk <{INTAKE}> wrote:\n{quoted}\n")
            kinds["reply"] += 1
        else:
            name, address = rng.choice(senders)
            subject = rng.choice(SUBJECTS)
            text = BODY.format(what=subject.lower(), hour=rng.randint(7, 18), minute=rng.randint(0, 59),
                               site=rng.choice(SITES), name=name, n=i % 1000)
            msg["From"] = f"{name} <{address}>"
            msg["Subject"] = subject
            if rng.random() < 0.2:
                html = "".join(f"<p>{line}</p>" for line in text.splitlines() if line)
                msg.set_content(f"<html><body>{html}</body></html>", subtype="html")
            else:
                msg.set_content(text)
                if rng.random() < 0.5:
                    msg.add_alternative(f"<html><body><pre>{text}</pre></body></html>", subtype="html")
            if rng.random() < 0.1:
                msg.add_attachment(bytes(rng.getrandbits(8) for _ in range(2048)), maintype="image", subtype="png",
                                   filename=f"screenshot-{i}.png")
            sent.append((msg["Message-ID"], subject, address))
            kinds["new"] += 1
        box.add(msg.as_bytes())
    return kinds


def one_round(maildir: str) -> None:
    """In a fresh database (DATABASE_URL of this process): migrate, file the Maildir, print the result."""
    import django

    django.setup()
    from django.core.management import call_command

    from sla.models import Mailbox
    from sla.services.mail_import import mail_import
    from tracker.choices import Kind

    call_command("migrate", verbosity=0, interactive=False)
    desk = Mailbox.objects.create(name="Service desk", address=INTAKE, kind=Kind.INCIDENT)
    started = time.perf_counter()
    counts = mail_import(paths=[maildir], mailbox=desk)
    took = time.perf_counter() - started
    print("RESULT " + json.dumps({"seconds": took, "counts": dict(counts)}), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder and bench databases")
    parser.add_argument("--round", metavar="MAILDIR", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.round:
        return one_round(args.round)

    work = Path(tempfile.mkdtemp(prefix="crossline-bench-mail-"))
    kinds = build_maildir(work / "Maildir", args.count)
    print(f"{args.count} messages in {work / 'Maildir'}: {kinds}", flush=True)
    postgres = os.environ.get("DATABASE_URL", "").startswith("postgres")
    rates = []
    for r in range(args.rounds):
        if postgres:
            url = bench_database_url(f"crossline_bench_mail_{os.getpid()}_{r}")
            recreate_database(url)
        else:
            url = f"sqlite:///{work}/round{r}.sqlite3"
        env = {**os.environ, "DATABASE_URL": url, "CROSSLINE_LOCAL": "true", "CROSSLINE_VAR_DIR": str(work),
               "CROSSLINE_MEDIA_ROOT": str(work / f"media{r}"), "LOG_LEVEL": "ERROR",
               "DJANGO_SETTINGS_MODULE": "tracker.settings"}
        out = subprocess.run([PY, str(Path(__file__).resolve()), "--round", str(work / "Maildir")], cwd=ROOT, env=env,
                             check=True, capture_output=True, text=True).stdout
        result = json.loads(out.rsplit("RESULT ", 1)[1])
        rates.append(args.count / result["seconds"])
        print(f"round {r + 1}: {args.count} mails in {result['seconds']:.1f} s = {rates[-1]:.0f} mails/s; "
              f"{result['counts']}", flush=True)
        if postgres and not args.keep:
            _drop(url)
    print(f"median over {args.rounds} rounds: {median(rates):.0f} mails/s "
          f"({'PostgreSQL' if postgres else 'SQLite'})")
    if not args.keep:
        import shutil

        shutil.rmtree(work, ignore_errors=True)


def _drop(url: str) -> None:
    from urllib.parse import urlparse, urlunparse

    import psycopg

    parts = urlparse(url)
    with psycopg.connect(urlunparse(parts._replace(path="/postgres")), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{parts.path.lstrip("/")}" WITH (FORCE)')


if __name__ == "__main__":
    main()
