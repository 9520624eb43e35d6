"""A JSON body is validated over the fields it names (and the required ones) only; the outcome is DRF's walk
over every field, exactly: the same validated values, the same errors in the same order."""
import pytest

from tests.factories import CategoryFactory, GroupFactory, ServiceFactory, UserFactory
from tracker.api.serializers import TicketCreateSerializer, TicketUpdateSerializer

pytestmark = pytest.mark.django_db


class EveryField(dict):
    """A body DRF walks field by field, as it walks a form (not a plain dict, so no field is left out)."""


def _bodies():
    group, category, service, user = GroupFactory(), CategoryFactory(), ServiceFactory(), UserFactory()
    return [
        {"kind": "incident", "title": "VPN drops", "description": "Since the update", "impact": 1, "urgency": 3,
         "service": service.pk},
        {"kind": "incident", "title": "VPN drops", "service": None, "group": None, "assignee": None},
        {"kind": "change", "title": "Patch", "change_type": "normal", "risk": "high", "implementation_plan": "Go",
         "backout_plan": "Back", "window_start": "2026-03-02T09:30:00Z", "window_end": "2026-03-02T11:00:00+01:00",
         "group": group.pk, "category": category.pk, "owner": user.pk, "requester": user.pk},
        {"kind": "problem", "title": "Leak", "root_cause": "", "workaround": "Restart", "known_error": None},
        {"kind": "defect", "title": "Crash", "severity": "s2", "affected_version": "4.8", "fix_version": "x" * 41},
        {"kind": "incident", "title": "Refs", "external_refs": [{"system": "jira", "external_id": "PAY-1"}]},
        {"kind": "incident", "title": "Bad refs", "external_refs": [{"system": ""}], "impact": 9},
        {},
        {"title": ""},
        {"kind": "nothing", "title": "x" * 201, "service": 999999, "group": "a", "urgency": None},
        {"kind": "incident", "title": "Unknown", "colour": "blue", "impact": True},
        {"kind": "incident", "title": None, "description": None, "window_start": "yesterday", "owner": [1]},
        {"kind": "request", "title": "Both", "requester": 999999, "assignee": user.pk, "known_error": "yes"},
    ]


def _outcome(serializer):
    valid = serializer.is_valid()
    return valid, (dict(serializer.validated_data) if valid else serializer.errors)


@pytest.mark.parametrize("serializer_class, partial", [(TicketCreateSerializer, False),
                                                       (TicketUpdateSerializer, True),
                                                       (TicketUpdateSerializer, False)])
def test_a_json_body_validates_as_drf_walking_every_field(serializer_class, partial):
    for body in _bodies():
        named = serializer_class(data=body, partial=partial)
        walked = serializer_class(data=EveryField(body), partial=partial)
        named_outcome, walked_outcome = _outcome(named), _outcome(walked)
        assert named_outcome == walked_outcome, body
        if not named_outcome[0]:
            assert list(named.errors) == list(walked.errors), body


def test_a_json_body_runs_only_the_fields_it_names_and_the_required_ones():
    serializer = TicketCreateSerializer(data={"kind": "incident", "impact": 2})
    assert [f.field_name for f in serializer._writable_fields] == ["title", "impact", "kind"]
    assert len(list(TicketCreateSerializer(data=EveryField())._writable_fields)) > 25
