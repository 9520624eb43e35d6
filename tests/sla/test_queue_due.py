"""The queue's "SLA due" sort: a join on each ticket's earliest running clock, read in due order, pages every
open ticket once in the order the per-ticket subquery gave; tickets without a running clock come last."""
from datetime import timedelta

import pytest
from django.db import connection
from django.db.models import F
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from sla import selectors as sla_selectors
from sla.models import Clock
from tracker import selectors, services
from tracker.choices import Kind


@pytest.fixture
def due_tickets(cast, always, make_policy):
    """Tickets with one or two running clocks, ties on the earliest due time, a paused clock, and none at all."""
    services.ticket_create(actor=cast.requester, kind=Kind.INCIDENT, title="before any policy: no clock")
    make_policy(always, response_s=3600, resolution_s=8 * 3600)
    tickets = [services.ticket_create(actor=cast.requester, kind=Kind.INCIDENT, title=f"VPN drops {i}")
               for i in range(9)]
    base = timezone.now() + timedelta(hours=1)
    for i, ticket in enumerate(tickets):
        Clock.objects.filter(ticket=ticket, metric="response").update(due_at=base + timedelta(minutes=10 * (i % 3)))
        Clock.objects.filter(ticket=ticket, metric="resolution").update(due_at=base + timedelta(minutes=5 * (i % 4)))
    Clock.objects.filter(ticket=tickets[4]).update(state="paused")  # no running clock: last
    Clock.objects.filter(ticket=tickets[5], metric="response").update(due_at=base - timedelta(hours=3))
    return tickets


def _walk(user, *, desc: bool, size: int) -> list[int]:
    sort = selectors.sorts()["due"]
    view = selectors.saved_view("open")
    keys, after = [], None
    while True:
        page = selectors.paginate(selectors.queue(user=user, view=view), sort=sort, desc=desc, after=after,
                                  size=size)
        keys += [t.pk for t in page.rows]
        if not page.next_cursor:
            return keys
        after = page.next_cursor


@pytest.mark.parametrize("desc", [False, True])
@pytest.mark.parametrize("size", [2, 3, 50])
def test_the_due_sort_pages_every_open_ticket_once_in_the_per_ticket_subquerys_order(cast, due_tickets, desc,
                                                                                     size):
    base = selectors.queue(user=cast.agent1, view=selectors.saved_view("open"))
    due = F("next_due").desc(nulls_last=True) if desc else F("next_due").asc(nulls_last=True)
    expected = list(sla_selectors.with_next_due_per_ticket(base).order_by(due, "-id" if desc else "id")
                    .values_list("pk", flat=True))
    assert len(expected) == 10
    assert _walk(cast.agent1, desc=desc, size=size) == expected


def test_a_ticket_with_two_running_clocks_shows_its_earliest_due_once(cast, due_tickets):
    rows = list(sla_selectors.with_next_due(selectors.queue(user=cast.agent1, view=selectors.saved_view("open"))))
    assert len(rows) == len({r.pk for r in rows}) == 10
    earliest = min(c.due_at for c in Clock.objects.filter(ticket=due_tickets[0], state="running"))
    assert next(r.next_due for r in rows if r.pk == due_tickets[0].pk) == earliest


def test_the_queue_sorted_by_due_reads_the_tickets_without_a_due_time_in_one_statement_more(
        cast, due_tickets, client_for):
    client = client_for(cast.agent1)
    client.get("/queue/")  # warm the session
    counts = {}
    for sort in ("priority", "due", "-due"):
        with CaptureQueriesContext(connection) as ctx:
            response = client.get("/queue/", {"view": "open", "sort": sort})
        assert response.status_code == 200 and response.content.count(b"data-row ") == 10
        counts[sort] = len(ctx.captured_queries)
    assert counts == {"priority": 8, "due": 9, "-due": 9}, counts  # README: queue 8


def test_my_open_tickets_by_priority_have_their_own_partial_index(cast, due_tickets):
    indexes = connection.introspection.get_constraints(connection.cursor(), "tracker_ticket")
    assert indexes["tracker_ticket_open_mine_prio"]["columns"] == ["assignee_id", "priority", "id"]
    if connection.vendor != "postgresql":
        return
    sql, params = (selectors.queue(user=cast.agent1, view=selectors.saved_view("mine"))
                   .order_by("priority", "id")[:51].query.sql_with_params())
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")  # a few rows: let the planner show the index it has
        cursor.execute("SET LOCAL enable_sort = off")
        cursor.execute(f"EXPLAIN {sql}", params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "tracker_ticket_open_mine_prio" in plan, plan
