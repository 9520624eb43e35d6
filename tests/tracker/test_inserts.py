"""`tracker.inserts.insert` writes the ORM's rows: compared column by column with bulk_create's."""
from datetime import UTC, datetime

import pytest
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext

from sla.choices import ClockState, Metric
from sla.models import Calendar, Clock, Policy, WebhookDelivery, WebhookSubscription
from tests.factories import TicketFactory
from tracker import inserts
from tracker.choices import EventKind, Kind, Level, Status
from tracker.models import Ticket, TicketEvent

pytestmark = pytest.mark.django_db
NOW = datetime(2026, 3, 2, 9, 30, 15, 123456, tzinfo=UTC)


def _row(obj, drop=("id",)):
    values = type(obj).objects.filter(pk=obj.pk).values().get()
    return {k: v for k, v in values.items() if k not in drop}


def _both(make, drop=("id",)):
    """Rows written by bulk_create and by insert() from instances made alike by `make(i)`."""
    orm = [make(0), make(1)]
    type(orm[0]).objects.bulk_create(orm)
    fast = [make(2), make(3)]
    inserts.insert(fast)
    assert all(o.pk is not None and not o._state.adding for o in fast)
    assert fast[0].pk < fast[1].pk  # ids in the order given
    return [_row(o, drop) for o in orm], [_row(o, drop) for o in fast]


def test_a_ticket_is_written_as_the_orm_writes_it(cast):
    def make(i):
        return Ticket(kind=Kind.INCIDENT, number=900 + i, key=f"INC-{900 + i}", title="Printer on fire",
                      requester=cast.requester, impact=Level.HIGH, urgency=2, priority=2, status=Status.NEW,
                      service=cast.services["payroll"], created_at=NOW, updated_at=NOW, description="x\ny")

    orm, fast = _both(make, drop=("id", "number", "key"))
    assert orm == fast


def test_timeline_rows_and_clocks_are_written_as_the_orm_writes_them(cast):
    ticket = TicketFactory(requester=cast.requester)
    orm, fast = _both(lambda i: TicketEvent(ticket=ticket, actor=cast.agent1 if i % 2 else None, kind=EventKind.SLA,
                                            field="sla", new=f"v{i % 2}", note="n", internal=True, created_at=NOW))
    assert orm == fast
    policy = Policy.objects.create(name="P", calendar=Calendar.objects.create(name="24x7", always_open=True))
    orm, fast = _both(lambda i: Clock(ticket=ticket, policy=policy, metric=Metric.RESPONSE, cycle=i + 1,
                                      goal_s=3600, started_at=NOW, resumed_at=NOW, due_at=NOW, next_check_at=NOW,
                                      state=ClockState.RUNNING, priority=3),
                      drop=("id", "cycle"))
    assert orm == fast


def test_a_delivery_whose_key_exists_is_skipped_as_bulk_create_skips_it(cast):
    sub = WebhookSubscription.objects.create(name="s", url="https://example.test/hook", events=["ticket.created"],
                                             secret="x", created_at=NOW)

    def delivery(key):
        return WebhookDelivery(subscription=sub, event="ticket.created", event_id=key, key=key,
                               payload={"a": [1, "b"], "at": NOW.isoformat()}, created_at=NOW, available_at=NOW)

    inserts.insert([delivery("k1")], ignore_conflicts=True)
    WebhookDelivery.objects.bulk_create([delivery("k2")], ignore_conflicts=True)
    inserts.insert([delivery("k1"), delivery("k3")], ignore_conflicts=True)
    rows = {d["key"]: {k: v for k, v in d.items() if k not in ("id", "key", "event_id")}
            for d in WebhookDelivery.objects.values()}
    assert sorted(rows) == ["k1", "k2", "k3"]
    assert rows["k1"] == rows["k2"] == rows["k3"]


def test_a_refused_row_raises_as_the_orm_does(cast):
    TicketFactory(kind=Kind.INCIDENT, number=1, key="INC-1", requester=cast.requester)
    with pytest.raises(IntegrityError), transaction.atomic():
        inserts.insert([Ticket(kind=Kind.INCIDENT, number=1, key="INC-1", title="t", requester=cast.requester,
                               status=Status.NEW, created_at=NOW, updated_at=NOW)])


@pytest.mark.postgres
def test_the_statement_is_made_once_and_larger_batches_go_through_bulk_create(cast):
    ticket = TicketFactory(requester=cast.requester)

    def events(n):
        return [TicketEvent(ticket=ticket, kind=EventKind.SLA, created_at=NOW) for _ in range(n)]

    with CaptureQueriesContext(connection) as ctx:
        inserts.insert(events(2))
        inserts.insert(events(inserts.MAX_ROWS + 1))
    first, second = (q["sql"] for q in ctx.captured_queries)
    assert "VALUES (" in first and "UNNEST" in second
    assert TicketEvent.objects.filter(ticket=ticket).count() == inserts.MAX_ROWS + 3


@pytest.mark.postgres
def test_a_statement_run_five_times_is_prepared_on_its_connection(cast):
    """Server-side binding with psycopg's prepare_threshold (tracker/settings.py): the pooled connection plans a
    create's insert once, not per request."""
    ticket = TicketFactory(requester=cast.requester)
    for _ in range(6):
        inserts.insert([TicketEvent(ticket=ticket, kind=EventKind.SLA, created_at=NOW)])
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_prepared_statements WHERE statement LIKE %s",
                       ['INSERT INTO "tracker_ticketevent"%'])
        assert cursor.fetchone()[0] == 1


def _batches(ticket, sub, policy, tag):
    """A create's rows of three models: two timeline rows, two clocks and a delivery whose key may exist."""
    events = [TicketEvent(ticket=ticket, actor=None, kind=EventKind.SLA, field="sla", new=f"{tag}{i}", note="n",
                          internal=bool(i), created_at=NOW) for i in range(2)]
    clocks = [Clock(ticket=ticket, policy=policy, metric=metric, cycle=1, goal_s=3600, started_at=NOW,
                    resumed_at=NOW, due_at=NOW, next_check_at=NOW, state=ClockState.RUNNING, priority=3)
              for metric in (Metric.RESPONSE, Metric.RESOLUTION)]
    deliveries = [WebhookDelivery(subscription=sub, event="ticket.created", event_id=key, key=key,
                                  payload={"k": key}, created_at=NOW, available_at=NOW) for key in ("dup", tag)]
    return [(events, False), (clocks, False), (deliveries, True)]


def test_batches_of_several_models_are_written_as_insert_writes_each(cast):
    policy = Policy.objects.create(name="P", calendar=Calendar.objects.create(name="24x7", always_open=True))
    sub = WebhookSubscription.objects.create(name="s", url="https://example.test/hook", events=["ticket.created"],
                                             secret="x", created_at=NOW)
    inserts.insert([WebhookDelivery(subscription=sub, event="ticket.created", event_id="dup", key="dup",
                                    payload={}, created_at=NOW, available_at=NOW)])
    one, together = TicketFactory(requester=cast.requester), TicketFactory(requester=cast.requester)
    apart = _batches(one, sub, policy, "a")
    for objs, ignore in apart:
        inserts.insert(objs, ignore_conflicts=ignore)
    made = _batches(together, sub, policy, "b")
    with CaptureQueriesContext(connection) as ctx:
        inserts.insert_together(made)
    if connection.vendor == "postgresql":  # 20 and 26 parameters in one statement, the clocks' 38 in another
        assert len(ctx.captured_queries) == 2
        assert ctx.captured_queries[0]["sql"].startswith("WITH b0 AS (INSERT")
    for (a, _), (b, ignore) in zip(apart, made, strict=True):
        if ignore:
            continue
        assert all(not o._state.adding for o in b)
        assert [o.pk for o in b] == sorted(o.pk for o in b)  # ids in the order given
        assert [_row(o, drop=("id", "ticket_id", "new")) for o in a] == \
            [_row(o, drop=("id", "ticket_id", "new")) for o in b]
    assert [e.new for e in made[0][0]] == ["b0", "b1"]
    keys = sorted(WebhookDelivery.objects.values_list("key", flat=True))
    assert keys == ["a", "b", "dup"]  # the existing key skipped, in both ways


@pytest.mark.postgres
def test_a_row_numbered_by_a_counter_in_the_same_statement_is_the_orm_row(cast):
    """`insert_from`: a ticket whose number and key the counter's bump gives, in one statement."""
    from tracker.models import KeyCounter
    from tracker.services import _NUMBERED

    def make(i):
        return Ticket(kind=Kind.INCIDENT, title="Printer on fire", requester=cast.requester, impact=Level.HIGH,
                      urgency=2, priority=2, status=Status.NEW, service=cast.services["payroll"], created_at=NOW,
                      updated_at=NOW, description="x\ny", number=900 + i, key=f"INC-{900 + i}")

    ticket = make(0)
    ticket.number, ticket.key = None, ""
    KeyCounter.objects.filter(kind=Kind.INCIDENT).delete()
    assert not inserts.insert_from(ticket, source=_NUMBERED, params=[Kind.INCIDENT, "INC-"],
                                   attnames=("number", "key"))
    assert ticket.pk is None and not Ticket.objects.exists()  # no counter yet: nothing written
    KeyCounter.objects.create(kind=Kind.INCIDENT, next_number=41)
    with CaptureQueriesContext(connection) as ctx:
        assert inserts.insert_from(ticket, source=_NUMBERED, params=[Kind.INCIDENT, "INC-"],
                                   attnames=("number", "key"))
    assert len(ctx.captured_queries) == 1
    assert (ticket.number, ticket.key, ticket._state.adding) == (41, "INC-41", False)
    assert KeyCounter.objects.get(kind=Kind.INCIDENT).next_number == 42
    assert Ticket.objects.filter(pk=ticket.pk).values_list("number", "key").get() == (41, "INC-41")
    orm = make(1)
    Ticket.objects.bulk_create([orm])
    assert _row(orm, drop=("id", "number", "key")) == _row(ticket, drop=("id", "number", "key"))
