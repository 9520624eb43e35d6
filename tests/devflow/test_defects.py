"""Defects raised from incidents: their set-up (people, team, severity, own SLA policy), the triage by rule, the
"Create defect" form with its refusal in place, the defect's page, and the API."""

import pytest
from django.test import Client
from django.utils import timezone

from devflow import services as dev_services
from sla.demo import demo_calendars, demo_defect_policies, demo_policies
from sla.models import Clock
from tracker import services
from tracker.choices import Kind, LinkType, Status
from tracker.errors import AccessDenied, TransitionRefused, ValidationFailed
from tracker.models import Link, Ticket


def _p1_at_l3(cast, title="Payslips show zero net pay"):
    ticket = services.ticket_create(actor=cast.requester, kind=Kind.INCIDENT, title=title, impact=1, urgency=1,
                                    service=cast.services["payroll"])
    services.ticket_escalate(ticket=ticket, actor=cast.agent1)
    services.ticket_escalate(ticket=ticket, actor=cast.agent2)
    return ticket


def _client(user):
    client = Client()
    client.force_login(user)
    return client


def test_a_defect_from_a_p1_is_set_up_for_the_team_that_fixes_it(cast):
    incident = _p1_at_l3(cast)
    defect = dev_services.defect_from_incident(incident=incident, actor=cast.engineer, title="Z tax codes ignored",
                                               severity="s1", component="Tax import", affected_version="2.4.0")
    assert defect.kind == Kind.DEFECT and defect.requester == cast.engineer and defect.assignee == cast.engineer
    assert defect.group == cast.l3 and defect.component == "Tax import" and defect.affected_version == "2.4.0"
    assert defect.severity == "s1" and defect.priority == 2  # a fix runs one step below the outage
    assert Link.objects.filter(source=incident, target=defect, type=LinkType.FIXED_BY).exists()
    assert Ticket.objects.get(pk=incident.pk).requester == cast.requester  # the user keeps their incident


def test_a_defect_with_a_chosen_severity_starts_triaged_by_rule(cast):
    defect = dev_services.defect_from_incident(incident=_p1_at_l3(cast), actor=cast.engineer, severity="s2")
    assert defect.status == Status.TRIAGED
    assert defect.events.filter(field="status", new=Status.TRIAGED, actor=cast.engineer).exists()


def test_a_defect_with_a_guessed_severity_waits_for_triage(cast):
    defect = dev_services.defect_from_incident(incident=_p1_at_l3(cast), actor=cast.engineer)
    assert defect.status == Status.NEW and defect.severity == "s1"


def test_a_defect_runs_on_the_defect_policy_not_the_incidents_p1_targets(cast):
    demo_policies(timezone.now())
    demo_defect_policies(timezone.now())
    incident = _p1_at_l3(cast)
    defect = dev_services.defect_from_incident(incident=incident, actor=cast.engineer, severity="s3")
    incident_policies = set(Clock.objects.filter(ticket=incident).values_list("policy__name", flat=True))
    defect_policies = set(Clock.objects.filter(ticket=defect).values_list("policy__name", flat=True))
    assert incident_policies == {"P1 standard"}
    assert defect_policies == {"Defects"}


def test_the_demo_defect_policies_are_created_once(db):
    demo_calendars(timezone.now())
    first = demo_defect_policies(timezone.now())
    again = demo_defect_policies(timezone.now())
    assert [p.pk for p in first] == [p.pk for p in again] and all(p.kinds == ["defect"] for p in first)


@pytest.mark.parametrize("field,value,message", [
    ("severity", "s9", "Use one of"),
    ("component", "x" * 81, "at most 80"),
    ("affected_version", "1" * 41, "at most 40"),
])
def test_bad_defect_input_is_refused_with_what_to_fix(cast, field, value, message):
    with pytest.raises(ValidationFailed, match=message):
        dev_services.defect_from_incident(incident=_p1_at_l3(cast), actor=cast.engineer, **{field: value})
    assert not Ticket.objects.filter(kind=Kind.DEFECT).exists()


def test_a_defect_is_not_raised_from_a_closed_incident_nor_by_a_requester(cast):
    incident = _p1_at_l3(cast)
    with pytest.raises(AccessDenied):
        dev_services.defect_from_incident(incident=incident, actor=cast.requester)
    services.ticket_transition(ticket=incident, to=Status.IN_PROGRESS, actor=cast.engineer)
    services.ticket_transition(ticket=incident, to=Status.RESOLVED, actor=cast.engineer,
                               values={"resolution_note": "Worked around."})
    with pytest.raises(TransitionRefused, match="reopen it first"):
        dev_services.defect_from_incident(incident=incident, actor=cast.engineer)


def test_the_create_defect_form_refuses_in_place_and_keeps_what_was_typed(cast):
    incident = _p1_at_l3(cast)
    client = _client(cast.engineer)
    response = client.post(f"/dev/tickets/{incident.key}/defect/", {
        "title": "Z codes", "severity": "s2", "component": "C" * 81, "affected_version": "2.4.0"},
        HTTP_HX_REQUEST="true")
    assert response.status_code == 400
    page = response.content.decode()
    assert 'value="Z codes"' in page and 'value="2.4.0"' in page and "at most 80" in page
    response = client.post(f"/dev/tickets/{incident.key}/defect/", {
        "title": "Z codes", "severity": "s2", "component": "Tax import", "affected_version": "2.4.0"},
        HTTP_HX_REQUEST="true")
    defect = Ticket.objects.get(kind=Kind.DEFECT)
    assert response.status_code == 200 and response["HX-Redirect"] == f"/tickets/{defect.key}/"
    assert defect.status == Status.TRIAGED and defect.component == "Tax import"


def test_the_defect_page_shows_its_fields_and_the_fix_move_offers_the_fix_version(cast):
    defect = dev_services.defect_from_incident(incident=_p1_at_l3(cast), actor=cast.engineer, severity="s2",
                                               component="Tax import", affected_version="2.4.0")
    services.ticket_transition(ticket=defect, to=Status.IN_PROGRESS, actor=cast.engineer)
    page = _client(cast.engineer).get(f"/tickets/{defect.key}/").content.decode()
    assert "Tax import" in page and "2.4.0" in page and "Payroll Dev" in page
    assert 'name="fix_version"' in page and "Mark fixed" in page
    response = _client(cast.engineer).post(f"/tickets/{defect.key}/transition/", {
        "to": Status.FIXED, "version": Ticket.objects.get(pk=defect.pk).version, "fix_version": "2.5.0",
        "resolution_note": "Z codes imported."})
    assert response.status_code in (200, 302)
    defect.refresh_from_db()
    assert defect.status == Status.FIXED and defect.fix_version == "2.5.0"


def test_the_api_raises_a_defect_from_an_incident(cast, api):
    incident = _p1_at_l3(cast)
    response = api(cast.engineer).post(f"/api/v1/tickets/{incident.key}/defect/", {
        "title": "Z codes", "severity": "s1", "component": "Tax import"}, format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["kind"] == "defect" and body["status"] == Status.TRIAGED and body["priority"] == 2
    refused = api(cast.engineer).post(f"/api/v1/tickets/{incident.key}/defect/", {"severity": "s7"}, format="json")
    assert refused.status_code == 400
    assert api(cast.requester).post(f"/api/v1/tickets/{incident.key}/defect/", {}, format="json").status_code in (
        403, 404)
