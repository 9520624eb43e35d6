"""A create writes its clocks and history rows in one batch each and answers with the clocks it wrote."""
from datetime import UTC, datetime

import pytest
import time_machine
from django.apps import apps
from django.db import connection, transaction
from django.db.models import AutoField, Max
from django.test.utils import CaptureQueriesContext

from sla.models import Clock, WebhookDelivery, WebhookSubscription
from tracker import inserts, services
from tracker.models import TicketEvent

pytestmark = pytest.mark.django_db
NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


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
    assert not hasattr(ticket, "_rows_pending") or ticket._rows_pending is None


def _ids_from_here() -> dict:
    """The top id of each model, its sequence set to go on from there: a create rolled back and made again
    gets the same ids (and the texts that name them, such as a mail's Message-ID)."""
    tops = {m: m.objects.aggregate(top=Max("pk"))["top"] or 0 for m in apps.get_models()
            if isinstance(m._meta.pk, AutoField)}
    with connection.cursor() as cursor:
        for model, top in tops.items():
            cursor.execute("SELECT setval(pg_get_serial_sequence(%s, %s), %s, false)",
                           [model._meta.db_table, model._meta.pk.column, top + 1])
    return tops


def _written_since(tops: dict) -> dict:
    """Every row written since `tops` (the top id of each model), in id order, by model; the random parts of a
    webhook delivery (its event id) left out."""
    out = {}
    for model, top in tops.items():
        rows = list(model.objects.filter(pk__gt=top).order_by("pk").values())
        if model is WebhookDelivery:
            for row in rows:
                del row["event_id"], row["key"], row["payload"]["id"]
        if rows:
            out[model._meta.label] = rows
    return out


@pytest.mark.postgres
@pytest.mark.parametrize("case", ["incident", "assigned", "request", "change", "idempotent"])
def test_a_create_writes_the_same_rows_and_answer_in_its_few_statements_as_the_orm_would(
        case, api, cast, always, make_policy, monkeypatch):
    """The create's own statements (`inserts.insert_from`, `inserts.insert_together`) against the ORM's inserts,
    which they fall back to: each create rolled back, so both take the same key."""
    make_policy(always)
    WebhookSubscription.objects.create(name="s", url="https://example.test/hook", secret="x", created_at=NOW,
                                       events=["ticket.created"])
    actor, body, headers = cast.agent1, {"kind": "incident", "title": "Printer on fire", "description": "Smoke.",
                                         "service": cast.services["payroll"].pk, "impact": 1}, {}
    if case == "assigned":
        body.update(assignee=cast.agent1.pk, urgency=3)
    elif case == "request":
        actor, body = cast.requester, {"kind": "request", "title": "A new laptop", "description": "Mine broke."}
    elif case == "change":
        actor = cast.change_manager
        body = {"kind": "change", "title": "Patch the mail servers", "service": cast.services["mail"].pk,
                "external_refs": [{"system": "jira", "id": "OPS-7"}]}
    elif case == "idempotent":
        headers = {"HTTP_IDEMPOTENCY_KEY": "retry-1"}

    def create():
        with time_machine.travel(NOW, tick=False), transaction.atomic():
            api(actor).post("/api/v1/tickets/", body, format="json", **headers)  # caches warm, then rolled back
            transaction.set_rollback(True)
        with time_machine.travel(NOW, tick=False), transaction.atomic():
            tops = _ids_from_here()
            with CaptureQueriesContext(connection) as ctx:
                response = api(actor).post("/api/v1/tickets/", body, format="json", **headers)
            assert response.status_code == 201, response.content
            rows = _written_since(tops)
            transaction.set_rollback(True)
        return response.json(), rows, [q["sql"] for q in ctx.captured_queries]

    *fast, statements = create()
    assert any(sql.startswith("WITH s AS (UPDATE") for sql in statements)  # the counter and the ticket
    monkeypatch.setattr(inserts, "_plan_for", lambda *args: None)  # every row through bulk_create
    *orm, orm_statements = create()
    assert not any(sql.startswith("WITH") for sql in orm_statements)
    assert len(statements) < len(orm_statements)
    assert fast == orm
    assert {"tracker.Ticket", "tracker.TicketEvent", "sla.Clock", "sla.WebhookDelivery"} <= set(fast[1])
