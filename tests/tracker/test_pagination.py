"""Cursor pagination: every ordering the API offers shows every ticket exactly once, forwards and back."""
from datetime import timedelta
from urllib.parse import quote

import pytest
from django.utils import timezone

from tests.factories import TicketFactory, UserFactory
from tracker.choices import KEY_PREFIX, Kind
from tracker.models import Ticket

ORDERINGS = ["", "created_at", "updated_at", "priority", "number", "sla_remaining"]


@pytest.fixture
def many_tickets(db):
    """210 tickets of five kinds with heavy ties: 5 creation times, 4 priorities, numbers shared across kinds."""
    requester = UserFactory()
    base = timezone.now() - timedelta(days=3)
    rows = []
    for i in range(210):
        kind = Kind.values[i % 5]
        number = i // 5 + 1  # INC-1, REQ-1, PRB-1, CHG-1, DEF-1 share 1, and so on
        rows.append(TicketFactory.build(
            kind=kind, number=number, key=f"{KEY_PREFIX[kind]}-{number}", requester=requester,
            priority=i % 4 + 1, created_at=base + timedelta(hours=i % 5), updated_at=base + timedelta(hours=i % 3)))
    Ticket.objects.bulk_create(rows)
    return set(Ticket.objects.values_list("key", flat=True))


def _walk(client, url, link):
    keys, pages = [], 0
    while url:
        response = client.get(url)
        assert response.status_code == 200, response.json()
        body = response.json()
        keys += [row["key"] for row in body["results"]]
        url = body[link]
        pages += 1
        assert pages < 100
    return keys


@pytest.mark.parametrize("direction", ["", "-"])
@pytest.mark.parametrize("ordering", ORDERINGS)
def test_walking_next_shows_every_ticket_exactly_once(cast, api, many_tickets, ordering, direction):
    client = api(cast.agent1)
    query = f"&ordering={direction}{ordering}" if ordering else ""
    keys = _walk(client, f"/api/v1/tickets/?page_size=7{query}", "next")
    assert len(keys) == len(set(keys)) and set(keys) == many_tickets
    # ... and in the ordering asked for
    if ordering in ("priority", "number"):
        values = [Ticket.objects.get(key=k).__dict__[ordering] for k in keys[:40]]
        assert values == sorted(values, reverse=direction == "-")


@pytest.mark.parametrize("ordering", ["priority", "-number", "-created_at,priority"])
def test_walking_previous_from_the_last_page_shows_every_ticket_once_in_the_same_order(
        cast, api, many_tickets, ordering):
    client = api(cast.agent1)
    url = f"/api/v1/tickets/?page_size=7&ordering={quote(ordering)}"
    forward = _walk(client, url, "next")
    pages = [client.get(url).json()]
    while pages[-1]["next"]:
        pages.append(client.get(pages[-1]["next"]).json())
    backward = []
    page = pages[-1]
    while True:
        backward = [row["key"] for row in page["results"]] + backward
        if not page["previous"]:
            break
        page = client.get(page["previous"]).json()
    assert backward == forward


@pytest.mark.parametrize("cursor", ["nonsense", "eyJvIjpbInByaW9yaXR5IiwiaWQiXSwidiI6WzEsMl0sInIiOjB9", "e30"])
def test_a_forged_or_foreign_cursor_is_a_400_saying_to_start_again(cast, api, many_tickets, cursor):
    response = api(cast.agent1).get(f"/api/v1/tickets/?cursor={cursor}")
    assert response.status_code == 400
    assert "first page" in response.json()["detail"]
