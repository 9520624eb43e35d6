"""The ticket page says what it said before it was made cheaper: every ticket of the demo (incidents with and
without links, clocks, a major incident and its children, known errors and their banner; service requests from
the catalogue with their fulfilment; problems with their incidents; changes with their approval rounds, tasks
and schedule; defects with their code and releases), read by an agent, and the changes and incidents by the
change and the incident manager, renders byte for byte the HTML kept in `ticket_pages/<database>.json.xz`.

That file was written by the ticket page's code as it was before its queries and panels were reworked
(`UPDATE_TICKET_PAGES=1` writes it again: only do so for a change of the page that is meant to be seen). The
demo is seeded at a fixed instant with the database's id counters set back, so ids, keys and times are the
same on every run; only the CSRF tokens of each page are blanked."""
import json
import lzma
import os
import re
from datetime import UTC, datetime
from io import StringIO
from pathlib import Path

import pytest
import time_machine
from django.core.management import call_command
from django.core.management.color import no_style
from django.db import connection, transaction
from django.test import Client
from django.test.utils import override_settings

from tests.conftest import FAST_HASHERS
from tracker.models import Ticket, User

HERE = Path(__file__).resolve().parent / "ticket_pages"
WHEN = datetime(2026, 11, 18, 9, 30, tzinfo=UTC)
CSRF = re.compile(r'(?<=")[A-Za-z0-9]{64}(?=")')  # a masked CSRF token: new on every response
pytestmark = pytest.mark.django_db
VIEWERS = {"lena": None, "carl": ("change",), "iris": ("incident",)}


def _reset_id_counters() -> None:
    """Ids start after the rows the migrations wrote, whatever other tests used before (PostgreSQL's sequences
    do not roll back; SQLite's AUTOINCREMENT remembers in sqlite_sequence)."""
    from django.apps import apps

    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("SELECT name FROM sqlite_master WHERE name = 'sqlite_sequence'")
            if cursor.fetchone():
                cursor.execute("DELETE FROM sqlite_sequence")
        else:
            for sql in connection.ops.sequence_reset_sql(no_style(), apps.get_models(include_auto_created=True)):
                cursor.execute(sql)


@pytest.fixture(scope="module")
def demo_pages(django_db_setup, django_db_blocker):
    """Every demo ticket's page as each viewer reads it, rendered at a fixed instant (rolled back afterwards)."""
    pages = {}
    with django_db_blocker.unblock(), time_machine.travel(WHEN, tick=False):
        outer = transaction.atomic()
        outer.__enter__()
        try:
            _reset_id_counters()
            with override_settings(PASSWORD_HASHERS=FAST_HASHERS):
                call_command("seed_demo", "--history", "60", stdout=StringIO(), stderr=StringIO())
            tickets = list(Ticket.objects.order_by("kind", "number").values_list("key", "kind"))
            for username, kinds in VIEWERS.items():
                client = Client()
                client.force_login(User.objects.get(username=username))
                for key, kind in tickets:
                    if kinds is None or kind in kinds:
                        response = client.get(f"/tickets/{key}/")
                        assert response.status_code == 200, (username, key)
                        pages[f"{username} {key}"] = CSRF.sub("-", response.content.decode())
        finally:
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)
    return pages


def _reference_file() -> Path:
    return HERE / f"{connection.vendor}.json.xz"


def test_every_demo_ticket_page_renders_as_the_reference(demo_pages):
    path = _reference_file()
    if os.environ.get("UPDATE_TICKET_PAGES"):
        path.parent.mkdir(exist_ok=True)
        text = json.dumps(demo_pages, indent=0, sort_keys=True)
        path.write_bytes(lzma.compress(text.encode(), preset=9 | lzma.PRESET_EXTREME))
    reference = json.loads(lzma.decompress(path.read_bytes()))
    assert sorted(demo_pages) == sorted(reference)
    differ = [name for name in reference if demo_pages[name] != reference[name]]
    if differ:  # the first difference, where it starts, to read
        name = differ[0]
        got, want = demo_pages[name], reference[name]
        at = next((i for i, (a, b) in enumerate(zip(got, want, strict=False)) if a != b), min(len(got), len(want)))
        pytest.fail(f"{len(differ)} page(s) differ, first {name!r} at {at}:\n"
                    f"reference: {want[max(0, at - 300):at + 300]!r}\n"
                    f"now:       {got[max(0, at - 300):at + 300]!r}")


def test_the_reference_covers_every_kind_and_the_panels_that_go_with_them(demo_pages):
    """What the reference must hold so that a panel left out by a change of the page would be noticed."""
    text = "\n".join(demo_pages.values())
    for kind in ("INC-", "REQ-", "PRB-", "CHG-", "DEF-"):
        assert any(name.split()[1].startswith(kind) for name in demo_pages), kind
    for seen in ('id="known-errors"', "Major incident", "Approval round", 'aria-labelledby="h-desc"',
                 "Related tickets", "Unlink", "Resp ", "Schedule", "Fulfilment", "Analysis"):
        assert seen in text, seen
