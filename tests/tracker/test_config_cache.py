"""The configuration a create reads is kept per process and seen again the moment it changes.

A change made by another process is simulated with `QuerySet.update` / `bulk_create` and by emptying nothing
in this process: those send no signals, so only the one-query stamp can tell.
"""
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from sla.choices import WebhookEvent
from sla.models import WebhookSubscription
from sla.services import subscriptions_for
from tracker import config_cache, services
from tracker.choices import Level, Tier
from tracker.models import AssignmentGroup, PriorityRule

pytestmark = pytest.mark.django_db


def test_a_priority_cell_changed_by_another_process_applies_to_the_next_ticket(cast):
    assert services.priority_for(impact=Level.HIGH, urgency=Level.HIGH) == 1
    PriorityRule.objects.filter(impact=Level.HIGH, urgency=Level.HIGH).delete()
    PriorityRule.objects.bulk_create([PriorityRule(impact=Level.HIGH, urgency=Level.HIGH, priority=3)])
    assert services.priority_for(impact=Level.HIGH, urgency=Level.HIGH) == 3
    PriorityRule.objects.filter(impact=Level.HIGH, urgency=Level.HIGH).update(priority=4)
    ticket = services.ticket_create(actor=cast.agent1, kind="incident", title="Down", impact=Level.HIGH,
                                    urgency=Level.HIGH)
    assert ticket.priority == 4
    assert services.priority_matrix()[(Level.HIGH, Level.HIGH)] == 4


def test_the_matrix_set_through_the_api_is_seen_by_the_next_create_at_once(api, cast):
    cells = [{"impact": i, "urgency": u, "priority": 5} for i in Level.values for u in Level.values]
    assert api(cast.admin).put("/api/v1/priority-matrix/", {"cells": cells}, format="json").status_code == 200
    response = api(cast.requester).post("/api/v1/tickets/", {"kind": "incident", "title": "Slow", "impact": 1,
                                                             "urgency": 1}, format="json")
    assert response.json()["priority"] == 5


def test_a_default_group_added_by_another_process_takes_the_next_ticket(cast):
    service = cast.services["payroll"]
    first = services.ticket_create(actor=cast.requester, kind="incident", title="Payslips", service=service)
    newcomer = AssignmentGroup.objects.bulk_create([AssignmentGroup(name="AAA desk", tier=Tier.L1)])[0]
    # it covers nothing yet: the first L1 group by id that covers the service still takes it
    assert services.ticket_create(actor=cast.requester, kind="incident", title="Payslips",
                                  service=service).group_id == first.group_id
    AssignmentGroup.services.through.objects.filter(service=service).delete()
    AssignmentGroup.services.through.objects.bulk_create([
        AssignmentGroup.services.through(assignmentgroup=newcomer, service=service)])
    assert services.ticket_create(actor=cast.requester, kind="incident", title="Payslips",
                                  service=service).group_id == newcomer.pk


def test_a_group_renamed_by_another_process_shows_in_the_next_ticket(cast):
    ticket = services.ticket_create(actor=cast.requester, kind="incident", title="Payslips")
    AssignmentGroup.objects.filter(pk=ticket.group_id).update(name="Renamed desk")
    again = services.ticket_create(actor=cast.requester, kind="incident", title="Payslips")
    assert again.group.name == "Renamed desk"
    again.group.name = "Changed by a caller"  # the caller's own copy: the cached row stays as it was
    assert services.ticket_create(actor=cast.requester, kind="incident", title="Payslips").group.name == \
        "Renamed desk"


def test_a_webhook_subscription_switched_off_by_another_process_gets_no_more_deliveries(cast):
    sub = WebhookSubscription.objects.create(name="CRM", url="https://crm.example.com/hook", secret="s",
                                             events=[WebhookEvent.TICKET_CREATED], created_at=timezone.now())
    assert subscriptions_for(WebhookEvent.TICKET_CREATED) == [sub]
    WebhookSubscription.objects.filter(pk=sub.pk).update(active=False)
    assert subscriptions_for(WebhookEvent.TICKET_CREATED) == []
    WebhookSubscription.objects.filter(pk=sub.pk).update(active=True, events=[WebhookEvent.TICKET_UPDATED])
    assert subscriptions_for(WebhookEvent.TICKET_CREATED) == []
    assert [s.pk for s in subscriptions_for(WebhookEvent.TICKET_UPDATED)] == [sub.pk]


def test_within_a_scope_the_stamp_is_read_once_and_a_save_here_is_seen_at_once(cast):
    services.priority_for(impact=1, urgency=1)  # warm
    subscriptions_for(WebhookEvent.TICKET_CREATED)
    with config_cache.scope():
        with CaptureQueriesContext(connection) as ctx:
            services.priority_for(impact=1, urgency=1)
            services.priority_matrix()
            subscriptions_for(WebhookEvent.TICKET_CREATED)
        assert len(ctx.captured_queries) == 1  # the stamp, for all three
        rule = PriorityRule.objects.get(impact=3, urgency=3)
        rule.priority = 1
        rule.save()  # in this process: the signal drops the cache
        assert services.priority_for(impact=3, urgency=3) == 1
    with CaptureQueriesContext(connection) as ctx:  # outside a scope every use reads the stamp
        services.priority_for(impact=1, urgency=1)
        services.priority_for(impact=1, urgency=1)
    assert len(ctx.captured_queries) == 2


def test_a_deactivated_users_token_stops_working_on_the_next_request(cast):
    token = Token.objects.create(user=cast.agent1)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    assert client.get("/api/v1/tickets/").status_code == 200
    type(cast.agent1).objects.filter(pk=cast.agent1.pk).update(is_active=False)  # as another process would
    assert client.get("/api/v1/tickets/").status_code == 401


def _second_token_create(cast) -> list[str]:
    """The statements of an agent's second create through the API with a token (the first warms the caches)."""
    token = Token.objects.create(user=cast.agent1)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    body = {"kind": "incident", "title": "Printer on fire", "service": cast.services["payroll"].pk}
    assert client.post("/api/v1/tickets/", body, format="json").status_code == 201
    with CaptureQueriesContext(connection) as ctx:
        assert client.post("/api/v1/tickets/", body, format="json").status_code == 201
    return [q["sql"] for q in ctx.captured_queries]


def test_a_token_request_reads_the_stamp_with_its_token(cast):
    statements = [sql for sql in _second_token_create(cast)
                  if not sql.startswith(("BEGIN", "COMMIT", "SAVEPOINT", "RELEASE SAVEPOINT"))]
    assert "authtoken_token" in statements[0] and "tracker_config_version" in statements[0]
    assert not [sql for sql in statements[1:] if "tracker_priorityrule" in sql]
    # token (+ stamp), counter, ticket, history rows (no SLA policy here: no clocks; the service is cached); on
    # PostgreSQL the counter's bump and the ticket are one statement (`inserts.insert_from`)
    assert len(statements) == (3 if connection.vendor == "postgresql" else 4), statements



@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_token_create_of_its_own_takes_its_number_in_a_statement_before_its_transaction(cast):
    """As served (no transaction around the request): the counter's bump commits on its own, so creates of one kind
    do not queue on its row until each other's commit; the ticket is then written with its number."""
    statements = _second_token_create(cast)
    # token (+ stamp), counter (committed on its own), then in one transaction the ticket and its history rows
    assert [s.split(None, 1)[0] for s in statements] == ["SELECT", "UPDATE", "BEGIN", "INSERT", "INSERT", "COMMIT"], \
        statements
    assert "tracker_keycounter" in statements[1] and "tracker_ticket" in statements[3]

def test_every_watched_table_changes_the_stamp_on_a_raw_write(cast):
    """Any writer, raw SQL included, changes the version row: each watched table has the triggers."""
    import sla.services  # noqa: F401  (registers the SLA tables)

    assert len(config_cache._tables) >= 11
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT tgrelid::regclass::text FROM pg_trigger WHERE tgname LIKE '%%_config_bump'")
        else:
            cursor.execute("SELECT tbl_name FROM sqlite_master WHERE type = 'trigger' AND name LIKE '%_config_bump_%'")
        assert set(config_cache._tables) <= {row[0] for row in cursor.fetchall()}
    for table in sorted(config_cache._tables):
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT count(*) FROM {connection.ops.quote_name(table)}")
            if not cursor.fetchone()[0]:
                continue  # a row trigger (SQLite) needs a row: the triggers' presence is checked above
            before = config_cache.read_stamp()
            cursor.execute(f"UPDATE {connection.ops.quote_name(table)} SET id = id")
        assert config_cache.read_stamp() != before, table
    before = config_cache.read_stamp()
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM tracker_priorityrule WHERE impact = 3 AND urgency = 3")
    assert config_cache.read_stamp() != before
    assert services.priority_for(impact=3, urgency=3) == 5  # the built-in default once the cell is gone


def test_a_ticket_write_leaves_the_stamp_alone(cast):
    before = config_cache.read_stamp()
    services.ticket_create(actor=cast.agent1, kind="incident", title="Down")
    assert config_cache.read_stamp() == before
