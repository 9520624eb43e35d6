"""Query discipline: a list costs the same number of SQL queries for 1 row and for 50 (and the queue for any
columns); the queue's ticket preview the same however long the ticket's timeline."""
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.factories import CategoryFactory, TicketFactory
from tracker import selectors, services
from tracker.choices import Kind


def _queries_for_list(client) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get("/api/v1/tickets/?page_size=50")
    assert response.status_code == 200
    return len(ctx.captured_queries), len(response.json()["results"])


def test_ticket_list_queries_are_constant_for_1_and_50_rows(cast, client):
    client.force_login(cast.agent1)
    related = {"requester": cast.requester, "group": cast.l1, "assignee": cast.agent1,
               "service": cast.services["payroll"]}
    TicketFactory.create(**related)
    one, rows = _queries_for_list(client)
    assert rows == 1
    TicketFactory.create_batch(49, **related)
    fifty, rows = _queries_for_list(client)
    assert rows == 50
    assert one == fifty <= 4  # session, user, the page (+ its prefetched SLA clocks)


ALL_COLUMNS = ["title", "status", "priority", "sla", "major", "not-operational", "kind", "group", "owner",
               "assignee", "requester", "service", "category", "created", "updated"]


def _queue_queries(client) -> tuple[int, int]:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get("/queue/", {"view": "open"})
    assert response.status_code == 200
    return len(ctx.captured_queries), response.content.count(b"data-row ")


def test_the_queue_costs_the_same_queries_for_1_or_50_rows_and_any_columns(cast, client_for):
    assert set(ALL_COLUMNS) == {c.slug for c in selectors.queue_columns()} != set(selectors.default_columns())
    client = client_for(cast.agent1)
    related = {"requester": cast.requester, "group": cast.l1, "assignee": cast.agent1,
               "service": cast.services["payroll"], "category": CategoryFactory()}
    TicketFactory(**related)
    client.get("/queue/")  # warm the session
    budget = {}
    for rows in (1, 50):
        if rows == 50:
            TicketFactory.create_batch(49, **related)
        for columns in ("default", "all"):
            cast.agent1.queue_columns = ALL_COLUMNS if columns == "all" else []
            cast.agent1.save(update_fields=["queue_columns"])
            queries, shown = _queue_queries(client)
            assert shown == rows
            budget[(rows, columns)] = queries
    assert set(budget.values()) == {8}, budget  # README: queue 8


def test_the_preview_costs_the_same_queries_however_long_the_timeline(cast, client_for):
    ticket = services.ticket_create(actor=cast.requester, kind=Kind.INCIDENT, title="Payslips are blank",
                                    service=cast.services["payroll"], category=CategoryFactory())
    client = client_for(cast.agent1)
    client.get("/queue/")
    seen = {}
    for comments in (1, 30):
        while ticket.comments.count() < comments:
            services.ticket_comment(ticket=ticket, actor=cast.agent1, body=f"note {ticket.comments.count()}")
        with CaptureQueriesContext(connection) as ctx:
            response = client.get(f"/tickets/{ticket.key}/preview/", HTTP_HX_REQUEST="true")
        assert response.status_code == 200
        seen[comments] = len(ctx.captured_queries)
    page = response.content.decode()
    assert "note 29" in page and "note 24" not in page  # the latest five entries
    assert seen[1] == seen[30] <= 5, seen  # session, user, the ticket, its SLA clocks, the latest entries
