"""The Requester card's count of open tickets: the requester's open tickets only, up to "100+", read (on PostgreSQL)
from the partial index tracker_ticket_open_requester even by a plan kept for the prepared statement."""
from django.db import connection
from django.utils import timezone

from tests.factories import TicketFactory
from tracker import selectors
from tracker.choices import OPEN_STATUSES, Kind, Status
from tracker.models import Ticket


def test_the_requester_card_counts_the_requesters_open_tickets_up_to_a_hundred(cast):
    ticket = TicketFactory(kind=Kind.INCIDENT, requester=cast.requester)
    TicketFactory(kind=Kind.INCIDENT, requester=cast.requester, status=Status.PENDING)
    TicketFactory(kind=Kind.INCIDENT, requester=cast.requester, status=Status.CLOSED)
    TicketFactory(kind=Kind.INCIDENT, requester=cast.requester, status=Status.RESOLVED)
    TicketFactory(kind=Kind.INCIDENT, requester=cast.other_requester)
    assert selectors.requester_open_count(ticket, cast.agent1) == "2"
    now = timezone.now()
    Ticket.objects.bulk_create([Ticket(kind=Kind.INCIDENT, number=10_000 + n, key=f"INC-{10_000 + n}", title="Load",
                                       requester=cast.requester, status=Status.NEW, created_at=now, updated_at=now)
                                for n in range(98)])
    assert selectors.requester_open_count(ticket, cast.agent1) == "100"
    TicketFactory(kind=Kind.INCIDENT, requester=cast.requester)
    assert selectors.requester_open_count(ticket, cast.agent1) == "100+"
    assert selectors.requester_open_count(ticket, cast.requester) == "100+"  # the requester's own view agrees


def test_the_count_reads_the_partial_index_with_a_generic_plan(cast):
    indexes = connection.introspection.get_constraints(connection.cursor(), "tracker_ticket")
    assert indexes["tracker_ticket_open_requester"]["columns"] == ["requester_id", "id"]
    if connection.vendor != "postgresql":
        return
    assert all(f"'{status}'" in selectors._REQUESTER_OPEN_SQL for status in OPEN_STATUSES)
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL plan_cache_mode = force_generic_plan")  # as a prepared statement's kept plan
        cursor.execute("PREPARE requester_open (bigint) AS " + selectors._REQUESTER_OPEN_SQL.replace("%s", "$1"))
        cursor.execute(f"EXPLAIN EXECUTE requester_open ({int(cast.requester.pk)})")
        plan = "\n".join(row[0] for row in cursor.fetchall())
        cursor.execute("DEALLOCATE requester_open")
    assert "tracker_ticket_open_requester" in plan, plan
