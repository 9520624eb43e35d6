"""Policies are cached per process: every change to them is seen by the very next ticket change.

Saves in this process drop the cache (signals); a change made by another process (simulated here with
`QuerySet.update` and `bulk_create`, which send no signals) is seen through the configuration stamp.
"""

from datetime import timedelta

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from sla.choices import Metric
from sla.models import Clock, Policy, TierTarget
from tests.sla.conftest import MONDAY_9
from tracker import services
from tracker.choices import Level, Tier
from tracker.models import PriorityRule

H = 3600


def raise_incident(cast, **values):
    values.setdefault("service", cast.services["payroll"])
    return services.ticket_create(actor=cast.requester, kind="incident", title="Payslips are blank", now=MONDAY_9,
                                  **values)


def goal(ticket, metric=Metric.RESOLUTION):
    return Clock.objects.filter(ticket=ticket, metric=metric).values_list("goal_s", flat=True).first()


def test_a_target_changed_through_the_api_applies_to_the_next_ticket(api, cast, always, make_policy):
    policy = make_policy(always, resolution_s=4 * H)
    assert goal(raise_incident(cast)) == 4 * H
    response = api(cast.admin).patch(f"/api/v1/sla/policies/{policy.pk}/", {"resolution_s": 8 * H}, format="json")
    assert response.status_code == 200
    assert goal(raise_incident(cast)) == 8 * H


def test_a_policy_deactivated_elsewhere_stops_starting_clocks(cast, always, make_policy):
    policy = make_policy(always)
    assert goal(raise_incident(cast)) is not None
    # Another process: an UPDATE with the stamp policy_saved() writes, and no signal here.
    Policy.objects.filter(pk=policy.pk).update(active=False, updated_at=timezone.now() + timedelta(seconds=1))
    assert goal(raise_incident(cast)) is None


def test_a_policy_added_elsewhere_is_matched_by_the_next_ticket(cast, always, make_policy):
    make_policy(always, name="Everything", order=50, resolution_s=4 * H)
    assert goal(raise_incident(cast)) == 4 * H
    Policy.objects.bulk_create([Policy(name="Payroll first", order=1, calendar=always, resolution_s=H)])
    assert goal(raise_incident(cast)) == H


def test_a_tier_target_changed_elsewhere_is_used_by_the_next_pick_clock(cast, always, make_policy):
    policy = make_policy(always, tiers={Tier.L1: 600})
    assert goal(raise_incident(cast), Metric.PICK) == 600
    TierTarget.objects.filter(policy=policy).update(goal_s=900)
    assert goal(raise_incident(cast), Metric.PICK) == 900


def test_a_priority_matrix_cell_changed_elsewhere_gives_the_next_ticket_its_priority(cast):
    cell = {"impact": Level.LOW, "urgency": Level.LOW}
    first = raise_incident(cast, **cell)
    PriorityRule.objects.update_or_create(**cell, defaults={"priority": 1})
    PriorityRule.objects.filter(**cell).update(priority=2)
    second = raise_incident(cast, **cell)
    assert (first.priority, second.priority) == (5, 2)


def test_creating_a_ticket_through_the_api_costs_a_fixed_number_of_queries(api, cast, always, make_policy):
    make_policy(always)
    client = api(cast.agent1)
    body = {"kind": "incident", "title": "Printer on fire", "impact": 2, "urgency": 1,
            "service": cast.services["payroll"].pk}
    assert client.post("/api/v1/tickets/", body, format="json").status_code == 201  # warms the policy cache
    with CaptureQueriesContext(connection) as ctx:
        response = client.post("/api/v1/tickets/", body, format="json")
    assert response.status_code == 201
    assert {c["metric"] for c in response.json()["sla"]} == {"response", "resolution"}
    # the configuration stamp (priority matrix, groups, services, policies, webhook subscriptions: all cached);
    # counter, ticket, clocks, and the history rows (created + SLA) in one batch. The answer shows the clocks
    # as written, not read back. Transaction control (BEGIN/COMMIT, savepoints in tests) aside. An agent
    # raising it for themselves gets no acknowledgement by mail (staff); one for a requester costs two more
    # (the test below). On PostgreSQL the counter's bump and the ticket are one statement
    # (`inserts.insert_from`).
    statements = [q["sql"] for q in ctx.captured_queries
                  if not q["sql"].startswith(("BEGIN", "COMMIT", "SAVEPOINT", "RELEASE SAVEPOINT"))]
    assert len(statements) == (4 if connection.vendor == "postgresql" else 5), statements


def test_a_request_raised_through_the_api_for_a_requester_costs_two_statements_more(api, cast, always, make_policy):
    """The acknowledgement the requester receives is written in the create's transaction: their notification
    preferences (they may have turned it off) and the outbox row. Nothing else is read for it: its thread and
    Reply-To are settled when it is sent."""
    make_policy(always)
    client = api(cast.agent1)

    def statements(**extra):
        body = {"kind": "incident", "title": "Printer on fire", "impact": 2, "urgency": 1,
                "service": cast.services["payroll"].pk, **extra}
        with CaptureQueriesContext(connection) as ctx:
            assert client.post("/api/v1/tickets/", body, format="json").status_code == 201
        return [q["sql"] for q in ctx.captured_queries
                if not q["sql"].startswith(("BEGIN", "COMMIT", "SAVEPOINT", "RELEASE SAVEPOINT"))]

    statements()  # warms the policy cache
    own = statements()  # raised for themselves by staff: no acknowledgement
    for_requester = statements(requester=cast.requester.pk)
    extra = [sql for sql in for_requester if "notificationpreference" in sql or "outboxmessage" in sql]
    assert len(extra) == 2, extra
    # The rest is the create as usual, plus reading the requester the agent named.
    assert len(for_requester) == len(own) + 1 + 2, for_requester
