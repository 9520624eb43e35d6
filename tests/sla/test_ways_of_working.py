"""The dashboard's ways of working: per team, the share of the tickets resolved in the period that were never
handed off (no escalation) and the share that had a swarm (a contributor)."""
import csv
import io
from datetime import timedelta

import pytest
from django.utils import timezone

from sla import dashboard as reports
from tracker import services
from tracker.choices import Status


def _resolve(ticket, actor, now):
    services.ticket_transition(ticket=ticket, to=Status.IN_PROGRESS, actor=actor, now=now)
    services.ticket_transition(ticket=ticket, to=Status.RESOLVED, actor=actor, now=now,
                               values={"resolution_note": "Fixed"})


@pytest.fixture
def resolved(cast):
    """App Support swarms: of its four tickets resolved this week one had a swarm, one was escalated to it;
    one more was resolved long ago and one is still open. The desk resolved one of its own."""
    now = timezone.now()
    cast.l2.swarming = True
    cast.l2.save()

    def raise_(title, group):
        return services.ticket_create(actor=cast.agent2, kind="incident", title=title, group=group,
                                      now=now - timedelta(days=60))

    swarmed = raise_("swarmed", cast.l2)
    services.contributor_invite(ticket=swarmed, actor=cast.agent2, user=cast.engineer, now=now - timedelta(days=3))
    escalated = raise_("escalated", cast.l1)
    services.ticket_escalate(ticket=escalated, actor=cast.agent1, now=now - timedelta(days=3))
    plain = [raise_(f"plain {n}", cast.l2) for n in range(2)]
    old = raise_("old", cast.l2)
    raise_("open", cast.l2)
    desk = raise_("desk", cast.l1)
    _resolve(old, cast.agent2, now - timedelta(days=40))
    for ticket in (swarmed, escalated, *plain):
        _resolve(ticket, cast.agent2, now - timedelta(days=2))
    _resolve(desk, cast.agent1, now - timedelta(days=1))
    return now


def test_the_shares_of_resolutions_without_a_hand_off_and_with_a_swarm_per_team(cast, resolved):
    period = reports.Period(resolved - timedelta(days=7), resolved)
    rows = {r["group_id"]: r for r in reports.ways_of_working(period)}
    assert rows[cast.l2.pk] == {"group_id": cast.l2.pk, "resolved": 4, "handed": 1, "swarmed": 1}
    assert rows[cast.l1.pk] == {"group_id": cast.l1.pk, "resolved": 1, "handed": 0, "swarmed": 0}
    table = reports.ways_of_working_table(period, {g.pk: g for g in (cast.l1, cast.l2, cast.l3)})
    assert table.rows == [["App Support", 4, 3, "75.0", 1, "25.0"], ["Service Desk", 1, 1, "100.0", 0, "0.0"]]


def test_the_shares_take_one_query_whatever_the_number_of_tickets(cast, resolved, django_assert_num_queries):
    with django_assert_num_queries(1):
        reports.ways_of_working(reports.Period(resolved - timedelta(days=7), resolved))


def test_the_dashboard_shows_the_shares_and_exports_them(cast, resolved, client_for):
    client = client_for(cast.manager)
    page = client.get("/dashboard/", {"days": "7"}).content.decode()
    assert "Resolved per team: without a hand-off, with a swarm" in page
    rows = list(csv.reader(io.StringIO(client.get("/dashboard/", {"days": "7", "export": "ways"}).content.decode())))
    assert rows[0][0] == "Team" and ["App Support", "4", "3", "75.0", "1", "25.0"] in rows
