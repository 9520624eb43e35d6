"""A ticket's API answer read by the serializers' once-made readers is DRF's field-by-field answer, exactly."""
import zoneinfo
from datetime import UTC, datetime, timedelta

import pytest
from django.test import RequestFactory
from django.utils import timezone
from rest_framework.request import Request

from tests.factories import CategoryFactory, GroupFactory, TicketFactory
from tracker import selectors
from tracker.api.serializers import TicketListSerializer, TicketSerializer, _reader, _readers
from tracker.choices import Kind, Status
from tracker.models import ExternalRef

pytestmark = pytest.mark.django_db

WHEN = datetime(2026, 3, 2, 9, 30, 15, 123456, tzinfo=UTC)
KIND_VALUES = {
    Kind.INCIDENT: {},
    Kind.REQUEST: {},
    Kind.PROBLEM: {"cause_category": "software", "root_cause": "A race", "workaround": "Restart it",
                   "known_error": True},
    Kind.CHANGE: {"change_type": "normal", "risk": "high", "implementation_plan": "Roll out",
                  "backout_plan": "Roll back",
                  "window_start": WHEN, "window_end": WHEN + timedelta(hours=2), "decision_note": "Go",
                  "emergency_justification": "", "implementation_result": "", "review_notes": "Fine",
                  "review_cause": "", "review_actions": ""},
    Kind.DEFECT: {"severity": "s2", "component": "payslip", "affected_version": "4.8", "fix_version": ""},
}


def _request(user):
    request = Request(RequestFactory().get("/api/v1/tickets/"))
    request.user = user
    return request


def _tickets(cast):
    group = GroupFactory(name="Answer desk")
    group.members.add(cast.agent1)
    category = CategoryFactory(name="Hardware")
    bare = TicketFactory(kind=Kind.INCIDENT, requester=cast.requester, description="")
    full = [TicketFactory(kind=kind, requester=cast.requester, group=group, assignee=cast.agent1, owner=cast.agent1,
                          service=cast.services["payroll"], category=category, status=Status.NEW,
                          description="**Bold** and a [link](https://example.test)", resolution_note="Done",
                          impact=1, urgency=3, priority=2, first_response_at=WHEN, resolved_at=WHEN + timedelta(1),
                          closed_at=WHEN.replace(microsecond=0), picked_at=WHEN, **values)
            for kind, values in KIND_VALUES.items()]
    ExternalRef.objects.create(ticket=full[0], system="jira", external_id="PAY-1", url="https://jira.test/PAY-1",
                               created_at=WHEN)
    return [bare, *full]


def test_every_kind_of_ticket_reads_the_same_through_the_readers_as_through_drf(cast):
    request = _request(cast.agent1)
    for ticket in _tickets(cast):
        read = selectors.ticket_with_clocks(selectors.ticket_for_user(cast.agent1, ticket.key))
        read.external_refs.all()  # the single ticket's answer shows them
        for serializer_class in (TicketSerializer, TicketListSerializer):
            assert serializer_class._kind_readers(ticket.kind) is not None  # the fast path is the one taken
            for context in ({"request": request}, {}):
                fast = serializer_class(read, context=dict(context)).data
                reference = serializer_class(read, context=dict(context)).fields_representation(read)
                assert fast == reference
                assert list(fast) == list(reference)  # the same order of keys
                assert [type(v) for v in fast.values()] == [type(v) for v in reference.values()]


def test_the_readers_follow_the_active_time_zone_as_drf_does(cast):
    ticket = TicketFactory(kind=Kind.INCIDENT, requester=cast.requester, first_response_at=WHEN)
    with timezone.override(zoneinfo.ZoneInfo("Asia/Tokyo")):
        fast = TicketListSerializer(ticket).data
        reference = TicketListSerializer(ticket).fields_representation(ticket)
    assert fast == reference
    assert fast["first_response_at"] == "2026-03-02T18:30:15.123456+09:00"
    assert TicketListSerializer(ticket).data["first_response_at"] == "2026-03-02T09:30:15.123456Z"


def test_a_created_ticket_answers_as_it_reads_back(api, cast):
    body = {"kind": "change", "title": "Replace the core switch", "change_type": "normal", "risk": "low",
            "implementation_plan": "Swap it", "window_start": "2026-03-02T09:00:00Z",
            "window_end": "2026-03-02T11:00:00Z", "external_refs": [{"system": "jira", "id": "NET-7"}]}
    created = api(cast.change_manager).post("/api/v1/tickets/", body, format="json")
    assert created.status_code == 201, created.json()
    again = api(cast.change_manager).get(f"/api/v1/tickets/{created.json()['key']}/").json()
    assert created.json() == again


def test_a_field_of_another_shape_keeps_drfs_own_path():
    from rest_framework import serializers

    assert _reader("when", serializers.DateTimeField(format="%Y")) is None
    assert _reader("when", serializers.DateTimeField(default_timezone=UTC)) is None
    assert _reader("amount", serializers.DecimalField(max_digits=5, decimal_places=2)) is None
    assert _reader("name", serializers.CharField(source="requester.username")) is None
    assert _readers({"id": serializers.IntegerField(), "x": serializers.JSONField()}) is None
