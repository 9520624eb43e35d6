"""Escalating many tickets at once (`tickets_escalate`, the sweep's functional escalation) writes exactly the rows
escalating them one by one (`ticket_escalate`) writes, in a number of statements that does not grow with the batch."""

import re
from datetime import timedelta

import pytest
from django.db import connection
from django.db.models import F
from django.test.utils import CaptureQueriesContext

from sla import services as sla
from sla.models import Clock, ClockEffect, Notification, OutboxMessage, WebhookDelivery, WebhookSubscription
from sla.services.clocks import CLOCK_SYNC_FIELDS, clocks_held
from tests.factories import GroupFactory
from tests.sla.conftest import MONDAY_9
from tracker import hooks, services
from tracker.choices import Ownership, Status, Tier
from tracker.errors import DomainError
from tracker.models import Ticket, TicketEvent

LATER = MONDAY_9 + timedelta(minutes=5)
ROLES = ("plain", "held", "pending", "hand_over", "moved", "top", "closed")


@pytest.fixture
def setup(cast, always, make_policy):
    make_policy(always, response_s=100, resolution_s=1000, tiers={1: 300, 2: 300, 3: 300})
    cast.desk = GroupFactory(name="Hand-over desk", tier=Tier.L1, manager=cast.manager, escalates_to=cast.l2,
                             ownership=Ownership.HAND_OVER)
    cast.desk.members.add(cast.agent1)
    WebhookSubscription.objects.create(name="ops", url="https://hooks.example.test/x", secret="s" * 20,
                                       events=["ticket.updated"], created_at=MONDAY_9)
    return cast


def _twins(cast) -> dict[str, Ticket]:
    """One ticket of each role, as a sweep would find them."""
    groups = {"hand_over": cast.desk, "top": cast.l3}
    made = {}
    for role in ROLES:
        made[role] = services.ticket_create(actor=cast.agent2, requester=cast.requester, kind="incident",
                                            title=f"Payroll {role}", now=MONDAY_9, service=cast.services["payroll"],
                                            group=groups.get(role, cast.l1))
    Ticket.objects.filter(pk=made["held"].pk).update(assignee=cast.agent1, picked_at=MONDAY_9)
    Ticket.objects.filter(pk=made["hand_over"].pk).update(owner=cast.agent1)
    Ticket.objects.filter(pk=made["pending"].pk).update(status=Status.PENDING)
    Ticket.objects.filter(pk=made["closed"].pk).update(status=Status.CLOSED)
    read = Ticket.objects.select_related("group__manager", "assignee", "requester").in_bulk(
        [t.pk for t in made.values()])
    tickets = {role: read[t.pk] for role, t in made.items()}
    # Someone else saves this one after it was read.
    Ticket.objects.filter(pk=tickets["moved"].pk).update(version=F("version") + 1, title="Payroll moved")
    return tickets


def _snapshot(tickets: dict[str, Ticket]) -> dict:
    """What each ticket's escalation left, with its own key and id written as placeholders."""
    out = {}
    for role, t in tickets.items():
        row = Ticket.objects.get(pk=t.pk)

        def plain(text, t=t):
            return re.sub(rf"(?<=[:/]){t.pk}\b(?!\.\d)", "ID", str(text).replace(t.key, "KEY"), count=1)

        out[role] = {
            "ticket": (row.group_id, row.assignee_id, row.owner_id, row.picked_at, row.version - t.version,
                       row.status, sorted(row.watchers.values_list("pk", flat=True))),
            "history": [(e.kind, e.actor_id, e.field, e.old, e.new, plain(e.note), e.internal)
                        for e in TicketEvent.objects.filter(ticket=t, created_at=LATER).order_by("pk")],
            "clocks": [(c.metric, c.tier, c.cycle, c.state, c.goal_s, c.elapsed_s, c.due_at, c.next_check_at,
                        c.stopped_at, c.breached) for c in Clock.objects.filter(ticket=t).order_by("metric", "tier",
                                                                                                  "cycle")],
            "notifications": sorted((n.recipient_id, n.kind, plain(n.key), plain(n.title), plain(n.body), n.url
                                     .replace(t.key, "KEY")) for n in Notification.objects.filter(ticket=t)),
            "mail": sorted((m.recipient_id, m.kind, plain(m.key), plain(m.subject), plain(m.body))
                           for m in OutboxMessage.objects.filter(ticket=t)),
            "webhooks": sorted(
                (d.subscription_id, d.event, plain(repr({**d.payload["data"],
                                                         "ticket": {**d.payload["data"]["ticket"], "url": ""}})))
                for d in WebhookDelivery.objects.all() if d.payload["data"]["ticket"]["key"] == t.key),
        }
    return out


def test_a_mixed_batch_writes_what_escalating_one_by_one_writes(setup):
    cast = setup
    one_by_one, batch = _twins(cast), _twins(cast)
    refused_singly = {}
    for role, ticket in one_by_one.items():
        try:
            services.ticket_escalate(ticket=ticket, actor=None, automatic=True, now=LATER, note="SLA target")
        except DomainError as exc:
            refused_singly[role] = exc.message.replace(ticket.key, "KEY")
    refused = services.tickets_escalate(tickets=list(batch.values()), actor=None, automatic=True, now=LATER,
                                        notes={t.pk: "SLA target" for t in batch.values()})
    by_role = {role: refused[t.pk].message.replace(t.key, "KEY") for role, t in batch.items() if t.pk in refused}

    assert by_role == refused_singly
    assert set(by_role) == {"moved", "top", "closed"}
    singly, batched = _snapshot(one_by_one), _snapshot(batch)
    for role in ROLES:
        for part in batched[role]:
            assert batched[role][part] == singly[role][part], (role, part)
    assert batched["held"]["ticket"][2] == cast.agent1.pk  # touch and hold: the one who held it owns it
    assert batched["hand_over"]["ticket"][2] is None
    assert any(c[3] == "cancelled" and c[1] == 1 for c in batched["plain"]["clocks"])  # the L1 pick clock
    assert batched["plain"]["notifications"] and batched["plain"]["webhooks"]
    assert batch["plain"].group == cast.l2 and batch["plain"].version == one_by_one["plain"].version


def _open_tickets(cast, n: int) -> list[Ticket]:
    made = [services.ticket_create(actor=cast.agent2, requester=cast.requester, kind="incident",
                                   title=f"Payroll {i}", now=MONDAY_9, service=cast.services["payroll"],
                                   group=cast.l1) for i in range(n)]
    Ticket.objects.filter(pk__in=[t.pk for t in made]).update(assignee=cast.agent1)
    return list(Ticket.objects.select_related("group__manager", "assignee", "requester")
                .filter(pk__in=[t.pk for t in made]).order_by("pk"))


def _statements(ctx) -> list[str]:
    """The statements run, by their start. SQLite's `bulk_create` splits an insert past its bound-parameter
    limit into several in a row, counted there as one (PostgreSQL runs each as one statement)."""
    heads = [re.sub(r"s\d+_x\d+", "", q["sql"])[:50] for q in ctx.captured_queries]
    if connection.vendor == "postgresql":
        return heads
    return [h for i, h in enumerate(heads) if i == 0 or h != heads[i - 1] or not h.startswith("INSERT")]


def test_the_statements_of_a_batch_do_not_grow_with_it(setup):
    cast = setup
    tickets = _open_tickets(cast, 51)
    counts = []
    for part in (tickets[:1], tickets[1:]):
        with CaptureQueriesContext(connection) as ctx:
            refused = services.tickets_escalate(tickets=part, actor=None, automatic=True, now=LATER)
        assert refused == {}
        counts.append(_statements(ctx))
    assert counts[0] == counts[1]
    assert Ticket.objects.filter(group=cast.l2).count() == 51


def test_the_sweeps_escalations_cost_the_same_statements_for_one_ticket_or_fifty(setup):
    cast = setup
    tickets = _open_tickets(cast, 51)
    Clock.objects.filter(ticket__in=tickets[1:]).update(next_check_at=None)  # only the first is due at first
    due = MONDAY_9 + timedelta(seconds=1000)
    sla.clocks_sweep(now=MONDAY_9)  # the heartbeat row exists
    counts = []
    for part in (tickets[:1], tickets[1:]):
        Clock.objects.filter(ticket__in=part, metric="resolution").update(next_check_at=due)
        Clock.objects.filter(ticket__in=part).exclude(metric="resolution").update(next_check_at=None)
        with CaptureQueriesContext(connection) as ctx:
            assert sla.clocks_sweep(now=due) == len(part)
        counts.append(_statements(ctx))
    assert counts[0] == counts[1]
    assert Ticket.objects.filter(group=cast.l2).count() == 51
    assert ClockEffect.objects.filter(escalated_to=cast.l2).count() == 51


def test_a_sweep_that_sees_two_breaches_of_one_ticket_moves_it_two_tiers(setup):
    cast = setup
    (ticket,) = _open_tickets(cast, 1)
    Clock.objects.filter(ticket=ticket).exclude(metric__in=["response", "resolution"]).update(next_check_at=None)
    assert sla.clocks_sweep(now=MONDAY_9 + timedelta(seconds=1000)) == 2
    ticket.refresh_from_db()
    assert ticket.group == cast.l3
    assert set(ClockEffect.objects.values_list("escalated_to", flat=True)) == {cast.l2.pk, cast.l3.pk}


def test_an_observer_without_a_batch_variant_hears_each_change(monkeypatch):
    monkeypatch.setattr(hooks, "_observers", [])
    monkeypatch.setattr(hooks, "_batch_observers", {})
    heard, batches = [], []

    def single(change):
        heard.append(change.reason)

    def plain(change):
        heard.append("plain")

    hooks.register(single, batch=batches.append)
    hooks.register(plain)
    changes = [hooks.TicketChange(None, None, LATER, "escalated"), hooks.TicketChange(None, None, LATER, "x")]
    hooks.tickets_changed(changes)
    assert batches == [changes]
    assert heard == ["plain", "plain"]


def test_clocks_the_caller_holds_are_re_planned_as_those_read_again(setup, django_assert_max_num_queries):
    """The sweep hands over the clocks it claimed and wrote (`clocks_held`): a batch re-plans those instances
    instead of reading them, and writes what it writes when it reads them."""
    cast = setup
    read, held = _twins(cast), _twins(cast)
    # Held in the sweep's way, with the batch's ticket instances; the pick clocks are left to be read.
    holding = [c for c in Clock.objects.filter(ticket__in=list(held.values())) if c.metric != "pick"]
    for clock in holding:
        clock.ticket = next(t for t in held.values() if t.pk == clock.ticket_id)
    services.tickets_escalate(tickets=list(read.values()), actor=None, automatic=True, now=LATER)
    with clocks_held(holding):
        services.tickets_escalate(tickets=list(held.values()), actor=None, automatic=True, now=LATER)
    snap_held, snap_read = _snapshot(held), _snapshot(read)
    for role in ROLES:
        for part in snap_read[role]:
            assert snap_held[role][part] == snap_read[role][part], (role, part)
    fields = [Clock._meta.get_field(name).attname for name in CLOCK_SYNC_FIELDS]
    for clock in holding:  # the instances held are the rows as written
        row = Clock.objects.get(pk=clock.pk)
        assert [getattr(clock, f) for f in fields] == [getattr(row, f) for f in fields]
    assert any(c.state == "paused" for c in holding)  # the pending ticket's clocks were paused in place
