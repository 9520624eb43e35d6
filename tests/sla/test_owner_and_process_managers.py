"""The owner hears of every hand-off of their ticket; the process managers receive the hierarchical
escalations of their own process (an incident breach reaches the incident manager, not the problem manager)."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from sla import services as sla
from sla.choices import NotificationKind
from sla.models import Notification
from tests.factories import UserFactory
from tests.sla.conftest import MONDAY_9
from tracker import services
from tracker.choices import EventKind, Kind, Ownership, Role, Status
from tracker.models import TicketEvent


@pytest.fixture
def incident(cast):
    ticket = services.ticket_create(actor=cast.requester, kind=Kind.INCIDENT, title="Payslips are blank",
                                    service=cast.services["payroll"])
    services.ticket_assign(ticket=ticket, actor=cast.agent1, assignee=cast.agent1)
    return ticket


def _told(user, kind=None):
    rows = Notification.objects.filter(recipient=user).order_by("id")
    if kind:
        rows = rows.filter(kind=kind)
    return list(rows.values_list("title", "body"))


def test_taking_a_ticket_oneself_tells_nobody_it_is_owned_by(cast, incident):
    assert incident.owner == cast.agent1
    assert _told(cast.agent1) == []


def test_an_escalation_in_a_hold_team_keeps_the_owner_and_tells_them(cast, incident):
    services.ticket_escalate(ticket=incident, actor=cast.manager)
    [(title, body)] = _told(cast.agent1, NotificationKind.ESCALATION)
    assert title == f"[{incident.key}] Escalated to App Support"
    assert "You keep ownership: you stay accountable to Alice" in body
    # the new group is told to pick it, as before
    assert "Pick it from the queue" in _told(cast.agent2, NotificationKind.ESCALATION)[0][1]


def test_the_owner_who_escalates_is_not_told_of_their_own_move(cast, incident):
    services.ticket_escalate(ticket=incident, actor=cast.agent1)
    assert _told(cast.agent1) == []


def test_an_owner_handing_over_is_told_who_takes_ownership(cast, incident):
    cast.l1.ownership = Ownership.HAND_OVER
    cast.l1.save()
    incident.refresh_from_db()
    services.ticket_escalate(ticket=incident, actor=cast.manager)
    incident.refresh_from_db()
    assert incident.owner is None
    [(_, body)] = _told(cast.agent1, NotificationKind.ESCALATION)
    assert "Service Desk hands ownership over: the next person to take it in App Support owns it." in body


def test_the_owner_is_told_of_a_new_responsible_a_pick_and_a_status_change(cast, incident):
    services.ticket_escalate(ticket=incident, actor=cast.agent1)
    services.ticket_assign(ticket=incident, actor=cast.agent2, assignee=cast.agent2)
    [(title, body)] = _told(cast.agent1, NotificationKind.ASSIGNMENT)
    assert title == f"[{incident.key}] Now with liam: Payslips are blank"
    assert "which you own, is now worked by liam" in body
    services.ticket_transition(ticket=incident, to=Status.IN_PROGRESS, actor=cast.agent2)
    assert "moved from new to in progress (liam)" in _told(cast.agent1, NotificationKind.UPDATE)[0][1]
    services.ticket_escalate(ticket=incident, actor=cast.agent2)
    services.ticket_claim(ticket=incident, actor=cast.engineer)
    assert [t for t, _ in _told(cast.agent1, NotificationKind.ASSIGNMENT)][-1].startswith(
        f"[{incident.key}] Now with devon")


def test_the_owner_reaches_the_requester_with_a_public_reply_after_the_hand_off(cast, incident, client_for):
    services.ticket_escalate(ticket=incident, actor=cast.agent1)
    response = client_for(cast.agent1).post(f"/tickets/{incident.key}/comment/",
                                            {"body": "L2 is on it; I will keep you posted."},
                                            HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    [(title, body)] = _told(cast.requester, NotificationKind.UPDATE)
    assert "I will keep you posted" in body


def test_a_person_named_owner_is_told(cast, incident):
    services.ticket_set_owner(ticket=incident, actor=cast.agent1, owner=cast.agent2)
    [(title, body)] = _told(cast.agent2, NotificationKind.ASSIGNMENT)
    assert title == f"[{incident.key}] You now own it: Payslips are blank"
    assert "named by lena" in body


# --- process managers receive the hierarchical escalations of their process ---------------------------------


@pytest.fixture
def managers(db):
    return {"iris": UserFactory(username="iris", first_name="Iris", last_name="Ibsen", role=Role.INCIDENT_MANAGER),
            "ian": UserFactory(username="ian", first_name="Ian", last_name="Irons", role=Role.INCIDENT_MANAGER),
            "gone": UserFactory(username="gone", role=Role.INCIDENT_MANAGER, is_active=False),
            "pia": UserFactory(username="pia", first_name="Pia", last_name="Petrov", role=Role.PROBLEM_MANAGER)}


def _breaching(cast, kind, n=1):
    return [services.ticket_create(actor=cast.agent2, kind=kind, title=f"{kind} {i}", now=MONDAY_9, group=cast.l2)
            for i in range(n)]


def test_an_incident_breach_reaches_the_incident_managers_and_not_the_problem_manager(
        cast, always, make_policy, managers):
    make_policy(always, response_s=60, resolution_s=None, functional_escalation=False)
    [incident] = _breaching(cast, Kind.INCIDENT)
    assert sla.clocks_sweep(now=MONDAY_9 + timedelta(minutes=2)) == 1
    breach = Notification.objects.filter(kind=NotificationKind.BREACH)
    assert set(breach.values_list("recipient__username", flat=True)) == {"maria", "liam", "iris", "ian"}
    note = TicketEvent.objects.get(ticket=incident, kind=EventKind.SLA, new="breached").note
    assert note.endswith("manager maria notified; incident managers Ian Irons, Iris Ibsen notified")


def test_a_problem_breach_reaches_the_problem_manager_only(cast, always, make_policy, managers):
    make_policy(always, response_s=60, resolution_s=None, functional_escalation=False)
    [problem] = _breaching(cast, Kind.PROBLEM)
    sla.clocks_sweep(now=MONDAY_9 + timedelta(minutes=2))
    told = set(Notification.objects.filter(kind=NotificationKind.BREACH).values_list("recipient__username", flat=True))
    assert "pia" in told and not told & {"iris", "ian"}
    assert "problem manager Pia Petrov notified" in TicketEvent.objects.get(
        ticket=problem, kind=EventKind.SLA, new="breached").note


def test_the_last_warning_reaches_the_process_managers_too(cast, always, make_policy, managers):
    make_policy(always, response_s=100, resolution_s=None, functional_escalation=False)
    _breaching(cast, Kind.INCIDENT)
    sla.clocks_sweep(now=MONDAY_9 + timedelta(seconds=80))  # 75 %: not yet
    assert not Notification.objects.filter(recipient__username="iris").exists()
    sla.clocks_sweep(now=MONDAY_9 + timedelta(seconds=95))  # 90 %, the last warning
    assert Notification.objects.filter(recipient__username="iris", kind=NotificationKind.WARNING).count() == 1


def test_without_hierarchical_escalation_no_process_manager_is_told(cast, always, make_policy, managers):
    make_policy(always, response_s=60, resolution_s=None, functional_escalation=False,
                hierarchical_escalation=False)
    _breaching(cast, Kind.INCIDENT)
    sla.clocks_sweep(now=MONDAY_9 + timedelta(minutes=2))
    assert not Notification.objects.filter(recipient__username__in=["iris", "ian", "pia"]).exists()


def test_the_sweep_reads_the_process_managers_once_however_many_breaches(cast, always, make_policy, managers):
    make_policy(always, response_s=60, resolution_s=None, functional_escalation=False)
    counts = {}
    for n, minute in ((1, 2), (1, 10), (6, 20)):  # the first sweep also fills the process's caches
        start = MONDAY_9 + timedelta(minutes=minute - 2)
        for i in range(n):
            services.ticket_create(actor=cast.agent2, kind=Kind.INCIDENT if i % 2 else Kind.PROBLEM,
                                   title=f"t{i}", now=start, group=cast.l2)
        with CaptureQueriesContext(connection) as ctx:
            assert sla.clocks_sweep(now=start + timedelta(minutes=2)) == n
        counts[n] = len(ctx.captured_queries)
    assert counts[1] == counts[6], counts  # the same for 1 and 6 breaches
