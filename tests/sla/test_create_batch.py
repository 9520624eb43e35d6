"""A create writes its clocks and history rows in one batch each and answers with the clocks it wrote."""
from datetime import UTC, datetime

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from sla.models import Clock
from tracker import services
from tracker.models import TicketEvent

pytestmark = pytest.mark.django_db


def test_the_clocks_in_a_create_answer_are_the_ones_written(api, cast, always, make_policy):
    make_policy(always)
    with time_machine.travel(datetime(2026, 3, 2, 9, 0, tzinfo=UTC), tick=False):  # "seconds left" as of one instant
        response = api(cast.agent1).post("/api/v1/tickets/", {"kind": "incident", "title": "Printer on fire",
                                                              "service": cast.services["payroll"].pk}, format="json")
        assert response.status_code == 201
        key = response.json()["key"]
        read_back = api(cast.agent1).get(f"/api/v1/tickets/{key}/").json()["sla"]
    assert response.json()["sla"] == read_back
    assert len(read_back) == Clock.objects.filter(ticket__key=key).count() >= 2


def test_a_creates_history_rows_are_written_in_order_in_one_batch(cast, always, make_policy):
    make_policy(always)
    with CaptureQueriesContext(connection) as ctx:
        ticket = services.ticket_create(actor=cast.agent1, kind="incident", title="Printer on fire",
                                        assignee=cast.agent1, service=cast.services["payroll"])
    assert len([q for q in ctx.captured_queries if "INSERT INTO \"tracker_ticketevent\"" in q["sql"]]) == 1
    kinds = list(TicketEvent.objects.filter(ticket=ticket).order_by("id").values_list("kind", flat=True))
    assert kinds[0] == "created"
    assert "sla" in kinds and "assignment" in kinds
    assert not hasattr(ticket, "_events_pending") or ticket._events_pending is None
