"""On PostgreSQL the database fills in a sweep batch's notification and mail texts (`ClockTexts.write`): the rows
are those the per-row path writes (the path SQLite takes, kept as the reference), for a mixed batch of warnings
and breaches, readers in several languages and zones, requesters told or not, hierarchical managers and members
with and without mail, in-app rows and addresses."""

from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from sla import services as sla
from sla.choices import NotificationKind
from sla.models import ClockEffect, Notification, OutboxMessage
from sla.services import notifications, sweep
from tests.factories import UserFactory
from tests.sla.conftest import MONDAY_9
from tracker import services
from tracker.choices import Role
from tracker.models import Ticket, TicketEvent

pytestmark = pytest.mark.django_db
SWEEP_AT = MONDAY_9 + timedelta(seconds=1000)


@pytest.fixture
def mixed(cast, always, make_policy):
    """Tickets whose clocks are due at one sweep: breaches and warnings, told requesters and staff requesters."""
    make_policy(always, response_s=100, resolution_s=1000, warn_percents=[50, 75], hierarchical_escalation=True,
                tell_requester=True)
    cast.agent1.language, cast.agent1.time_zone = "de", "Europe/Berlin"
    cast.manager.language, cast.manager.time_zone = "", "America/New_York"
    cast.requester.language, cast.requester.time_zone = "de", "Asia/Kolkata"
    cast.other_requester.time_zone = "Not/AZone"
    for user in (cast.agent1, cast.manager, cast.requester, cast.other_requester):
        user.save()
    quiet = UserFactory(username="quiet", role=Role.AGENT_L1, email="", time_zone="Australia/Sydney")
    no_bell = UserFactory(username="nobell", role=Role.AGENT_L1, language="de", time_zone="UTC")
    no_mail = UserFactory(username="nomail", role=Role.AGENT_L1, time_zone="Europe/London")
    UserFactory(username="iris", role=Role.INCIDENT_MANAGER, language="de", time_zone="Europe/Paris")
    UserFactory(username="ivan", role=Role.INCIDENT_MANAGER, time_zone="Asia/Tokyo")
    UserFactory(username="gone", role=Role.AGENT_L1, is_active=False)
    cast.l1.members.add(quiet, no_bell, no_mail, *type(cast.agent1).objects.filter(username="gone"))
    sla.preference_set(user=no_bell, kind=NotificationKind.BREACH, in_app=False)
    sla.preference_set(user=no_bell, kind=NotificationKind.WARNING, email=False)
    sla.preference_set(user=no_mail, kind=NotificationKind.BREACH, email=False)
    sla.preference_set(user=no_mail, kind=NotificationKind.WARNING, email=False, in_app=False)
    titles = ['Payroll <down> & "late" {x}', "Mail 50% down — naïve café", "x" * 190, "two\nlines",
              "  spaced  ", "tab\tin the middle, %2$s and 100%%"]
    people = [cast.requester, cast.other_requester, cast.requester, cast.requester, cast.other_requester, cast.agent1]
    created = []
    for n, (title, who) in enumerate(zip(titles, people, strict=True)):
        # Raised 60 s to 1,000 s before the sweep: breached resolutions, breached responses and passed warnings.
        at = SWEEP_AT - timedelta(seconds=(60, 1000, 1000, 1000, 55, 80)[n])
        ticket = services.ticket_create(actor=who, kind="incident", title=f"T{n}", now=at,
                                        service=cast.services["payroll"])
        created.append(ticket)
        # As stored, whatever a form would have trimmed; the third one assigned (its assignee is told, not the group).
        Ticket.objects.filter(pk=ticket.pk).update(title=title, assignee=cast.agent2 if n == 2 else None)
    return created


def _rows() -> dict:
    def stored(model, order):
        return [{k: v for k, v in row.items() if k != "id"} for row in model.objects.order_by(*order).values()]

    return {
        "notifications": stored(Notification, ["recipient_id", "key"]),
        "mails": stored(OutboxMessage, ["key"]),
        "events": stored(TicketEvent.objects.none().model, ["ticket_id", "created_at", "note"]),
        "effects": stored(ClockEffect, ["clock_id", "level"]),
    }


def _swept(monkeypatch, *, in_db: bool) -> dict:
    monkeypatch.setattr(sweep, "FILL_IN_DB", in_db)
    with transaction.atomic():
        swept = sla.clocks_sweep(now=SWEEP_AT)
        rows = {**_rows(), "swept": swept}
        transaction.set_rollback(True)
    return rows


def test_rows_filled_in_by_the_database_are_the_rows_written_per_row(mixed, monkeypatch):
    reference = _swept(monkeypatch, in_db=False)
    filled = _swept(monkeypatch, in_db=True)
    assert reference["swept"] >= 8
    levels = {e["level"] for e in reference["effects"]}
    assert {75, 100} <= levels
    kinds = {(n["kind"], n["title"][:4]) for n in reference["notifications"]}
    assert any(k == NotificationKind.BREACH for k, _ in kinds) and any(k == NotificationKind.WARNING for k, _ in kinds)
    assert any("Mail" in m["subject"] and "de" in m["body"] for m in reference["mails"]) or reference["mails"]
    for name in ("notifications", "mails", "events", "effects"):
        assert filled[name] == reference[name], name
    assert len(filled["mails"]) > 10 and len(filled["notifications"]) > 10


def test_the_database_fills_in_what_it_can_and_python_the_rest(mixed, monkeypatch):
    """One statement writes the filled rows on PostgreSQL; titles with a line break, values with white space at
    their ends and titles past 200 characters are filled in (or rendered) by Python, as on SQLite."""
    written = []
    original = notifications.ClockTexts.write

    def write(self):
        written.append((len(self.readers), {(row[9], row[5]) for row in self.text_rows}))
        original(self)

    monkeypatch.setattr(notifications.ClockTexts, "write", write)
    with CaptureQueriesContext(connection) as queries:
        sla.clocks_sweep(now=SWEEP_AT)
    filling = [q for q in queries.captured_queries if q["sql"].lstrip().startswith("WITH s AS")]
    if connection.vendor != "postgresql":
        assert written == [] and filling == []
        return
    assert len(filling) == 1
    (readers, titles), = written
    assert readers > 10
    assert not any("two" in t or "spaced" in t for t, _ in titles)  # left to Python
    assert any("Payroll <down>" in t for t, _ in titles) and any("café" in t for t, _ in titles)
    # The requester's "late" title of the 190-character ticket is past 200 characters: Python shortens it.
    assert any(t == "x" * 190 for t, _ in titles)
    assert not any(t == "x" * 190 and "x" * 100 in title for t, title in titles)
    assert Notification.objects.filter(ticket=mixed[2], recipient__username="alice", kind=NotificationKind.BREACH,
                                        title__endswith="x" * 100).exists()
    assert Notification.objects.filter(body__contains="%2$s and 100%%").exists()  # a value is not a format


def test_a_redone_batch_skips_the_rows_that_exist_as_copied_rows_are(mixed, monkeypatch):
    reference = _swept(monkeypatch, in_db=False)
    original = notifications.ClockTexts.write

    def twice(self):
        again = (list(self.readers), list(self.text_rows), list(self.text_tickets))
        original(self)
        self.readers, self.text_rows, self.text_tickets = again
        original(self)  # every key exists now: nothing is written, nothing fails

    monkeypatch.setattr(notifications.ClockTexts, "write", twice)
    filled = _swept(monkeypatch, in_db=True)
    assert filled["notifications"] == reference["notifications"]
    assert filled["mails"] == reference["mails"]


def test_the_statements_of_a_sweep_batch_do_not_grow_with_it(cast, always, make_policy):
    make_policy(always, response_s=100, resolution_s=1000, functional_escalation=False)
    sla.clocks_sweep(now=SWEEP_AT)  # its heartbeat row exists from now on
    counts = []
    for n in (1, 6):
        for i in range(n):
            services.ticket_create(actor=cast.requester, kind="incident", title=f"Payroll {n}.{i}",
                                   now=SWEEP_AT - timedelta(seconds=150), service=cast.services["payroll"])
        with CaptureQueriesContext(connection) as queries:
            assert sla.clocks_sweep(now=SWEEP_AT) == n
        counts.append(list(queries.captured_queries))
    assert len(counts[0]) == len(counts[1]), [[q["sql"][:60] for q in c] for c in counts]
    # PostgreSQL: one statement writes the in-app and mail rows (it was six: a temporary table, COPY and move each)
    assert len(counts[1]) <= (17 if connection.vendor == "postgresql" else 18)



@pytest.mark.skipif(connection.vendor != "postgresql", reason="array parameters are PostgreSQL's")
def test_array_literals_carry_every_value_as_it_is():
    from datetime import UTC, datetime

    texts = ["", "NULL", 'say "hi"', "back\\slash\\", "{a,b}", " spaced ", "tab\tline\nbreak", "naïve ☃", "%1$s"]
    numbers = [0, -1, 2**40]
    flags = [True, False, None]
    times = [datetime(2026, 3, 30, 9, 0, 1, 250, tzinfo=UTC), None]
    with connection.cursor() as cursor:  # all text, text and nulls, all numbers, numbers and nulls, and the rest
        values = (texts, [*texts, None], numbers, [None, *numbers], flags, times, [])
        cursor.execute("SELECT %s::text[], %s::text[], %s::bigint[], %s::bigint[], %s::boolean[], %s::timestamptz[],"
                       " %s::text[]", [notifications.array_literal(v) for v in values])
        assert list(cursor.fetchone()) == list(values)


def test_the_database_trims_what_str_strip_trims():
    assert notifications._WHITE_SPACE == "".join(c for c in map(chr, range(0x110000)) if c.isspace())
