"""Notification, outbox and clock-effect rows are append-only rows written in bulk by the sweep; their foreign keys
are kept by the application (Django's on_delete) rather than by database constraints, whose per-row checks at
commit cost as much as the inserts. What the constraints guarded still holds through the ORM."""
import pytest
from django.db import connection
from django.utils import timezone

from sla.choices import NotificationKind
from sla.models import ClockEffect, Notification, OutboxMessage
from tests.factories import TicketFactory, UserFactory

pytestmark = pytest.mark.django_db

APP_KEPT = {ClockEffect: {"clock_id", "ticket_id"}, Notification: {"recipient_id", "ticket_id"},
            OutboxMessage: {"recipient_id", "ticket_id"}}


def test_the_log_rows_carry_no_foreign_key_constraints_and_everything_else_does():
    for model, columns in APP_KEPT.items():
        with connection.cursor() as cursor:
            constraints = connection.introspection.get_constraints(cursor, model._meta.db_table)
        enforced = {c["columns"][0] for c in constraints.values() if c["foreign_key"]}
        assert enforced.isdisjoint(columns), model
        declared = {f.column for f in model._meta.concrete_fields if f.is_relation}
        assert enforced == declared - columns, model


def test_a_deleted_user_takes_their_notifications_and_leaves_their_mails_without_recipient():
    reader, other = UserFactory(), UserFactory()
    ticket = TicketFactory()
    now = timezone.now()
    Notification.objects.create(recipient=reader, ticket=ticket, kind=NotificationKind.BREACH, key="a", title="t",
                                created_at=now)
    Notification.objects.create(recipient=other, ticket=ticket, kind=NotificationKind.BREACH, key="a", title="t",
                                created_at=now)
    mail = OutboxMessage.objects.create(key="m1", kind=NotificationKind.BREACH, recipient=reader, ticket=ticket,
                                        to_address="r@example.test", subject="s", body="b", message_id="<m1@x>",
                                        created_at=now, available_at=now)
    reader.delete()
    assert list(Notification.objects.values_list("recipient_id", flat=True)) == [other.pk]
    mail.refresh_from_db()
    assert mail.recipient_id is None and mail.ticket_id == ticket.pk
