"""Property-based run of the defect-from-incident and time-logs endpoints from their OpenAPI schema: whatever a
client sends, never a 500. Deterministic and bounded, as a 3rd-line engineer, so that writes reach the domain."""

import pytest
from rest_framework.authtoken.models import Token

from tests.fuzz import BOUNDED, api_schema, call_never_500, in_test_transaction  # noqa: F401 - the fixture
from tracker import services
from tracker.choices import Kind

schema = api_schema(r"^/api/v1/(time-logs/|tickets/\{key\}/defect/)")


@pytest.fixture
def targets(cast):
    """An incident at the development team, with time logged on it: generated keys are pointed at it."""
    incident = services.ticket_create(actor=cast.agent2, kind=Kind.INCIDENT, title="Net pay wrong", impact=1,
                                      urgency=1, group=cast.l3, requester=cast.requester,
                                      service=cast.services["payroll"])
    services.worklog_add(ticket=incident, actor=cast.engineer, minutes=30)
    return {"key": [incident.key]}


@pytest.fixture
def token(cast, in_test_transaction):  # noqa: F811
    return Token.objects.create(user=cast.engineer).key


@schema.parametrize()
@BOUNDED
def test_no_input_makes_the_defect_and_time_log_api_answer_500(case, token, targets):
    call_never_500(case, token, targets)
