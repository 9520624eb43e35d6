"""A foreign key without an index of its own must lead another index of its table, or its lookups (and the
checks of a deleted parent) scan the table."""
import pytest
from django.apps import apps
from django.db import connection


def _leading_columns(model) -> set[str]:
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, model._meta.db_table)
    return {c["columns"][0] for c in constraints.values() if c["columns"] and (c["index"] or c["unique"])}


@pytest.mark.django_db
def test_every_foreign_key_leads_an_index():
    unserved = []
    for model in apps.get_models():
        if model._meta.app_label not in {"tracker", "sla", "itsm", "devflow"} or not model._meta.managed:
            continue
        leading = _leading_columns(model)
        unserved += [f"{model._meta.db_table}.{f.column}" for f in model._meta.concrete_fields
                     if f.is_relation and f.column not in leading]
    assert unserved == []


@pytest.mark.django_db
def test_the_covered_keys_have_no_index_of_their_own():
    from sla.models import ClockEffect, Notification
    from tracker.models import Ticket, TicketEvent

    covered = {Ticket: ["requester_id", "group_id", "owner_id", "assignee_id", "service_id"],
               TicketEvent: ["ticket_id"], ClockEffect: ["clock_id"], Notification: ["recipient_id"]}
    for model, columns in covered.items():
        with connection.cursor() as cursor:
            constraints = connection.introspection.get_constraints(cursor, model._meta.db_table)
        single = {c["columns"][0] for c in constraints.values() if c["index"] and len(c["columns"]) == 1}
        assert single.isdisjoint(columns), model
        assert set(columns) <= _leading_columns(model), model


@pytest.mark.django_db
def test_keys_are_unique_through_one_index_each():
    from sla.models import OutboxMessage
    from tracker.models import Ticket

    for model in (Ticket, OutboxMessage):
        with connection.cursor() as cursor:
            constraints = connection.introspection.get_constraints(cursor, model._meta.db_table)
        on_key = [name for name, c in constraints.items() if c["columns"] == ["key"]]
        assert len(on_key) == 1, (model, on_key)
        assert constraints[on_key[0]]["unique"], model
