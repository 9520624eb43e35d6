"""The 3rd-line queue, Pick, defect-from-incident and releases."""

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from devflow import services as dev_services
from devflow.models import Release
from tracker import services
from tracker.choices import EventKind, Kind, LinkType, Status
from tracker.errors import TransitionRefused
from tracker.models import Link, Ticket


def _at_l3(cast, title="Net pay off by one cent"):
    ticket = services.ticket_create(
        actor=cast.requester, kind=Kind.INCIDENT, title=title, service=cast.services["payroll"]
    )
    services.ticket_escalate(ticket=ticket, actor=cast.agent1)
    services.ticket_escalate(ticket=ticket, actor=cast.agent2)
    return ticket


def _client(user):
    client = Client()
    client.force_login(user)
    return client


def test_the_queue_shows_my_teams_l3_work(cast):
    ticket = _at_l3(cast)
    services.ticket_create(actor=cast.requester, kind=Kind.INCIDENT, title="Still at the desk")
    page = _client(cast.engineer).get("/dev/").content.decode()
    assert ticket.key in page and "Still at the desk" not in page


def test_of_two_picks_the_second_is_told_who_won(cast):
    ticket = _at_l3(cast)
    assert (
        _client(cast.engineer).post(f"/dev/tickets/{ticket.key}/pick/", HTTP_HX_REQUEST="true").status_code
        == 200
    )
    response = _client(cast.engineer2).post(f"/dev/tickets/{ticket.key}/pick/", HTTP_HX_REQUEST="true")
    assert response.status_code == 409 and b"already picked by devon" in response.content
    assert Ticket.objects.get(pk=ticket.pk).assignee == cast.engineer


def test_create_defect_from_incident_in_one_step_keeps_the_link(cast):
    ticket = _at_l3(cast)
    response = _client(cast.engineer).post(f"/dev/tickets/{ticket.key}/defect/")
    defect = Ticket.objects.get(kind=Kind.DEFECT)
    assert response["Location"] == f"/tickets/{defect.key}/"
    assert defect.group == cast.l3 and defect.service == ticket.service and defect.severity == "s3"
    assert Link.objects.filter(source=ticket, target=defect, type=LinkType.FIXED_BY).exists()


def test_a_requester_cannot_raise_a_defect(cast):
    ticket = services.ticket_create(actor=cast.requester, kind=Kind.INCIDENT, title="x")
    _client(cast.requester).post(f"/dev/tickets/{ticket.key}/defect/")
    assert not Ticket.objects.filter(kind=Kind.DEFECT).exists()


def test_shipping_a_release_records_it_on_each_ticket_once(cast):
    defect = services.ticket_create(
        actor=cast.engineer, kind=Kind.DEFECT, title="Rounding", service=cast.services["payroll"]
    )
    services.ticket_transition(ticket=defect, to=Status.TRIAGED, actor=cast.engineer, values={"severity": "s3"})
    services.ticket_transition(ticket=defect, to=Status.IN_PROGRESS, actor=cast.engineer)
    services.ticket_transition(ticket=defect, to=Status.FIXED, actor=cast.engineer,
                               values={"resolution_note": "Rounds half up"})
    release = _published_release(cast, defect)
    dev_services.release_ship(release=release, actor=cast.engineer)
    assert defect.events.filter(kind=EventKind.RELEASE, new="2.4.0", note__startswith="shipped").count() == 1
    with pytest.raises(TransitionRefused):
        dev_services.release_ship(release=release, actor=cast.engineer)


def test_the_workspace_shows_recent_changes_and_releases_of_the_service(cast):
    ticket = _at_l3(cast)
    services.ticket_create(
        actor=cast.agent1, kind=Kind.CHANGE, title="Move payroll batch", service=cast.services["payroll"]
    )
    release = _published_release(cast, None)
    dev_services.release_ship(release=release, actor=cast.engineer, now=timezone.now() - timedelta(days=2))
    Release.objects.create(
        name="Old",
        version="1.0.0",
        service=cast.services["payroll"],
        shipped_at=timezone.now() - timedelta(days=30),
    )
    page = _client(cast.agent1).get(f"/tickets/{ticket.key}/").content.decode()
    assert "Move payroll batch" in page and "2.4.0" in page and "1.0.0" not in page


def test_a_defect_from_a_p1_is_set_up_for_its_team_not_copied_from_the_outage(cast):
    """The engineer who raises it holds it in their team and is its requester (a defect is never an end
    user's ticket: the person the outage hit hears through the incident), its priority follows its severity."""
    ticket = services.ticket_create(actor=cast.requester, kind=Kind.INCIDENT, title="Payroll down",
                                    service=cast.services["payroll"], impact=1, urgency=1)
    assert ticket.priority == 1
    services.ticket_escalate(ticket=ticket, actor=cast.agent1, to_group=cast.l2)  # still at L2

    defect = dev_services.defect_from_incident(incident=ticket, actor=cast.engineer)

    assert defect.group == cast.l3  # the next L3 team up the escalation chain
    assert defect.assignee == cast.engineer
    assert defect.requester == cast.engineer
    assert defect.severity == "s1" and defect.priority == 2


def test_a_defect_raised_by_someone_outside_the_team_stays_unassigned_in_the_team(cast):
    ticket = _at_l3(cast)
    defect = dev_services.defect_from_incident(incident=ticket, actor=cast.agent1, severity="s4")
    assert defect.group == cast.l3 and defect.assignee is None and defect.priority == 5


def _published_release(cast, defect):
    """Payroll 2.4.0 through its real path: planned, the defect added, notes reviewed, UAT signed, published."""
    release = dev_services.release_create(actor=cast.engineer, service=cast.services["payroll"], version="2.4.0",
                                          name="Spring")
    if defect is not None:
        dev_services.release_add_ticket(release=release, actor=cast.engineer, ticket=defect)
    dev_services.release_update(release=release, actor=cast.engineer, revision=release.revision,
                                notes="Spring fixes.")
    dev_services.release_notes_review(release=release, actor=cast.engineer2, revision=release.revision)
    dev_services.release_uat_sign(release=release, actor=cast.agent2, note="Tested by App Support")
    dev_services.release_publish(release=release, actor=cast.engineer)
    return release
