"""Property-based run of the major-incident endpoints from their OpenAPI schema: whatever a client sends, never a
500 (bounded and deterministic, like the other schemathesis runs)."""
import pytest
from rest_framework.authtoken.models import Token

from itsm import services as itsm
from tests.fuzz import BOUNDED, api_schema, call_never_500, in_test_transaction  # noqa: F401 - the fixture
from tracker import services
from tracker.choices import Kind

schema = api_schema(r"^/api/v1/tickets/\{key\}/major/")


@pytest.fixture
def majors(cast):
    """A declared major incident with a child, a P1 not yet declared, and a P3."""
    major = services.ticket_create(actor=cast.agent1, kind=Kind.INCIDENT, title="Email down for all of Berlin",
                                   impact=1, urgency=1)
    itsm.major_declare(ticket=major, actor=cast.agent1, reason="No mail in Berlin")
    child = services.ticket_create(actor=cast.agent1, kind=Kind.INCIDENT, title="No mail on floor 2")
    itsm.major_link_children(major_ticket=major, children=[child], actor=cast.agent1)
    p1 = services.ticket_create(actor=cast.agent1, kind=Kind.INCIDENT, title="VPN down", impact=1, urgency=1)
    p3 = services.ticket_create(actor=cast.agent1, kind=Kind.INCIDENT, title="Printer jammed")
    return [major.key, p1.key, p3.key, child.key]


@schema.parametrize()
@BOUNDED
def test_no_input_makes_the_major_incident_api_answer_500(case, cast, majors, in_test_transaction):  # noqa: F811
    call_never_500(case, Token.objects.get_or_create(user=cast.agent2)[0].key, {"key": majors})
