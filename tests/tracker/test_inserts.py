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
