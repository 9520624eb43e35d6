"""Query discipline: the list costs the same number of SQL queries for 1 row and for 50."""
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.factories import TicketFactory


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
