"""The sweep writes its rows as plain tuples (`copy_rows`), updates its clocks with one array per column and
attaches what a claimed clock reads from one read per kind of row: the same rows the instance path writes."""

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from sla import services as sla
from sla.choices import NotificationKind
from sla.models import Clock, ClockEffect, Notification, OutboxMessage
from sla.services.notifications import (
    EVENT_COLUMNS,
    NOTIFICATION_COLUMNS,
    OUTBOX_COLUMNS,
    ClockTexts,
    _Outgoing,
    _queue,
    thread_headers,
)
from sla.services.sweep import _EFFECT_COLUMNS, _claim, _update_swept
from tests.sla.conftest import MONDAY_9
from tracker import services
from tracker.choices import EventKind
from tracker.inserts import copy_rows, insert_rows
from tracker.models import Ticket, TicketEvent, User

pytestmark = pytest.mark.django_db
NOW = datetime(2026, 3, 30, 9, 0, tzinfo=UTC)


@pytest.fixture
def incident(cast, always, make_policy):
    make_policy(always, response_s=100, resolution_s=1000)
    return services.ticket_create(actor=cast.requester, kind="incident", title="Payroll down", now=MONDAY_9,
                                  service=cast.services["payroll"])


def _stored(model, **filters) -> list[dict]:
    rows = list(model.objects.filter(**filters).order_by("pk").values())
    return [{k: v for k, v in row.items() if k != "id"} for row in rows]


def test_tuples_are_stored_as_the_instances_with_the_same_values(cast, incident):
    ticket = incident
    odd = 'b\tody\\ with "quotes"\nand {braces}'
    cases = [
        (TicketEvent, EVENT_COLUMNS, (ticket.pk, None, EventKind.SLA, "response", "75%", odd, True, NOW),
         {"kind": EventKind.SLA, "field": "response"}),
        (Notification, NOTIFICATION_COLUMNS,
         (cast.agent1.pk, ticket.pk, NotificationKind.WARNING, "k:1", "Title", odd, "/tickets/x/", NOW), {}),
        (OutboxMessage, OUTBOX_COLUMNS,
         ("k:1:email", NotificationKind.WARNING, cast.agent1.pk, ticket.pk, "a@example.test", "Subject", odd,
          "<p>html</p>", NOW, NOW, "<k.1.email@example.test>", "<root@x>", "<root@x>", "desk@example.test"),
         {"kind": NotificationKind.WARNING}),
    ]
    for model, columns, row, filters in cases:
        model.objects.filter(**filters).delete()
        insert_rows([model(**dict(zip(columns, row, strict=True)))])
        by_instance = _stored(model, **filters)
        model.objects.filter(**filters).delete()
        copy_rows(model, columns, [row])
        assert _stored(model, **filters) == by_instance, model
        assert len(by_instance) == 1


def test_copied_rows_whose_key_exists_are_skipped(cast, incident):
    row = (cast.agent1.pk, incident.pk, NotificationKind.WARNING, "k:1", "first", "", "", NOW)
    copy_rows(Notification, NOTIFICATION_COLUMNS, [row], ignore_conflicts=True)
    with transaction.atomic():  # twice in one transaction: the second batch starts from an empty incoming table
        copy_rows(Notification, NOTIFICATION_COLUMNS, [(*row[:4], "again", *row[5:])], ignore_conflicts=True)
        copy_rows(Notification, NOTIFICATION_COLUMNS,
                  [(cast.manager.pk, *row[1:])], ignore_conflicts=True)
    copy_rows(Notification, NOTIFICATION_COLUMNS, [], ignore_conflicts=True)
    assert sorted(Notification.objects.filter(key="k:1").values_list("recipient", "title")) == sorted(
        [(cast.agent1.pk, "first"), (cast.manager.pk, "first")])


def test_an_effect_row_stays_unique_per_clock_and_level(incident):
    clock = Clock.objects.filter(ticket=incident).first()
    copy_rows(ClockEffect, _EFFECT_COLUMNS, [(clock.pk, incident.pk, 75, NOW, NOW, None, "")])
    effect = ClockEffect.objects.get()
    assert (effect.clock_id, effect.level, effect.note, effect.escalated_to_id) == (clock.pk, 75, "", None)
    with pytest.raises(Exception), transaction.atomic():  # noqa: B017, PT011 - IntegrityError, by backend
        copy_rows(ClockEffect, _EFFECT_COLUMNS, [(clock.pk, incident.pk, 75, NOW, NOW, None, "")])


def test_batch_rows_as_tuples_are_the_rows_instances_hold(cast):
    users = [
        User(pk=cast.agent1.pk, username="a", email="a@example.test", language="de", time_zone="Europe/Berlin"),
        User(pk=cast.manager.pk, username="m", email="", language="", time_zone="UTC"),
    ]
    ticket = Ticket(pk=7, key="INC-7", title="Payroll {down} {{x}} & <late>", priority=2, requester=users[0],
                    kind="incident")
    context = {"clock": SimpleNamespace(policy=SimpleNamespace(functional_escalation=True)), "label": "Resolution",
               "level": 100, "group": SimpleNamespace(name="Desk {L1}"), "due_at": NOW}

    def queued(ids):
        out = _Outgoing(ids=ids)
        _queue(out, ticket=ticket, users=users, kind=NotificationKind.BREACH, now=NOW, key="clock1:L100",
               context=context, prefs={}, texts=ClockTexts())
        return out

    as_instances, as_tuples = queued(True), queued(False)
    assert [tuple(getattr(n, c) for c in NOTIFICATION_COLUMNS) for n in as_instances.notifications] == \
        as_tuples.notification_rows
    assert [(m.ticket, tuple(getattr(m, c) for c in OUTBOX_COLUMNS[:11])) for m in as_instances.outbox] == \
        as_tuples.outbox_rows
    assert "Payroll {down} {{x}}" in as_tuples.notification_rows[0][4]


def test_mail_written_from_tuples_is_threaded_as_mail_written_from_instances(cast, incident):
    sla.clocks_sweep(now=MONDAY_9 + timedelta(seconds=80))
    sent = list(OutboxMessage.objects.filter(ticket=incident, kind=NotificationKind.WARNING))
    assert sent
    expected = [OutboxMessage(ticket=incident, message_id=m.message_id) for m in sent]
    thread_headers(expected)
    assert [(m.references, m.in_reply_to, m.reply_to) for m in sent] == [
        (m.references, m.in_reply_to, m.reply_to) for m in expected]
    assert all(m.references for m in sent)


def test_the_swept_fields_are_written_for_every_clock_of_a_batch_nulls_included(incident):
    clocks = list(Clock.objects.filter(ticket=incident).order_by("pk"))
    assert len(clocks) >= 2
    for i, clock in enumerate(clocks):
        clock.warned_percent, clock.breached, clock.breached_at = 50 + i, bool(i), NOW if i else None
        clock.next_check_at, clock.due_at, clock.group_id = None, NOW + timedelta(hours=i), None
    _update_swept(clocks)
    stored = list(Clock.objects.filter(ticket=incident).order_by("pk").values_list(
        "warned_percent", "breached", "breached_at", "next_check_at", "due_at", "group_id"))
    assert stored == [(50 + i, bool(i), NOW if i else None, None, NOW + timedelta(hours=i), None)
                      for i in range(len(clocks))]
    for clock in clocks:  # a batch of warnings only: a column all null
        clock.breached_at = None
    _update_swept(clocks)
    assert not Clock.objects.filter(ticket=incident, breached_at__isnull=False).exists()


def test_a_claimed_clock_brings_what_its_effects_read_in_one_read_per_kind(cast, incident):
    services.ticket_create(actor=cast.agent1, kind="incident", title="Mail down", now=MONDAY_9,
                           service=cast.services["payroll"], assignee=cast.agent1)
    Clock.objects.update(next_check_at=MONDAY_9)
    with transaction.atomic():
        with CaptureQueriesContext(connection) as claiming:
            claimed = _claim(MONDAY_9 + timedelta(seconds=1), 100)
        with CaptureQueriesContext(connection) as reading:
            people = [u for c in claimed for u in (c.ticket.requester, c.ticket.assignee,
                                                    c.ticket.group and c.ticket.group.manager) if u]
            assert all(c.policy.calendar.pk for c in claimed)
    assert len(claimed) == Clock.objects.count() >= 4
    assert len(claiming.captured_queries) == 4  # clocks with tickets, policies, groups, users
    assert len(reading.captured_queries) == 0
    assert len({id(c.ticket) for c in claimed}) == 2  # one ticket instance per ticket
    assert len({id(u) for u in people}) == len({u.pk for u in people})  # one instance per distinct row


def test_claimed_clocks_and_tickets_are_the_instances_the_orm_builds(cast, incident):
    services.ticket_create(actor=cast.agent1, kind="incident", title="Mail down", now=MONDAY_9,
                           service=cast.services["payroll"], assignee=cast.agent1)
    Clock.objects.update(next_check_at=MONDAY_9)
    orm = {c.pk: c for c in Clock.objects.select_related("ticket")}
    with transaction.atomic():
        claimed = _claim(MONDAY_9 + timedelta(seconds=1), 100)
    assert sorted(c.pk for c in claimed) == sorted(orm)
    for clock in claimed:
        expected = orm[clock.pk]
        for got, want in ((clock, expected), (clock.ticket, expected.ticket)):
            assert type(got) is type(want)
            assert got.get_deferred_fields() == set()
            assert {f.attname: getattr(got, f.attname) for f in type(want)._meta.concrete_fields} == {
                f.attname: getattr(want, f.attname) for f in type(want)._meta.concrete_fields}
            assert (got._state.adding, got._state.db) == (False, want._state.db)
        assert clock.ticket is next(c.ticket for c in claimed if c.ticket_id == clock.ticket_id)
    clock = claimed[0]
    clock.warned_percent = 75  # a claimed instance saves as any other
    clock.save(update_fields=["warned_percent"])
    assert Clock.objects.get(pk=clock.pk).warned_percent == 75


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's timestamptz loader")
@pytest.mark.parametrize("text", ["2026-01-12 09:00:00+00", "2026-01-12 09:00:00.5+00", "2026-03-29 01:59:59.999999+00",
                                  "0099-07-01 12:00:00+00", "2026-01-12 10:00:00+01", "2026-01-12 10:00:00+05:30"])
def test_the_claims_time_loader_reads_what_djangos_reads(text):
    from psycopg.pq import Format

    from sla.services.sweep import _UtcTimestamptzLoader

    connection.ensure_connection()
    psycopg_connection = connection.connection
    oid = psycopg_connection.adapters.types["timestamptz"].oid
    django = psycopg_connection.adapters.get_loader(oid, Format.TEXT)(oid, psycopg_connection)
    got = _UtcTimestamptzLoader(oid, psycopg_connection).load(text.encode())
    want = django.load(text.encode())
    assert (got, got.tzinfo) == (want, want.tzinfo)
