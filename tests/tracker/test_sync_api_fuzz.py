"""Property-based run of the sync endpoints (external references), people and the priority matrix: never a 500."""
import pytest
from rest_framework.authtoken.models import Token

from tests.fuzz import BOUNDED, api_schema, call_never_500, in_test_transaction  # noqa: F401 (a fixture)
from tracker import services

schema = api_schema(r"^/api/v1/(tickets/\{key\}/external-refs|users/|priority-matrix/)")


@pytest.fixture
def targets(cast):
    ticket = services.ticket_create(actor=cast.agent1, kind="incident", title="Synced", group=cast.l1)
    services.external_ref_add(ticket=ticket, actor=cast.agent1, system="jira", external_id="PAY-1")
    return {"key": [ticket.key, "INC-99999"], "system": ["jira", "servicenow"], "id": [cast.agent1.pk, 999999]}


@pytest.fixture
def token(cast):
    return Token.objects.create(user=cast.admin).key


@schema.parametrize()
@BOUNDED
@pytest.mark.usefixtures("in_test_transaction")
def test_no_input_makes_the_sync_api_answer_500(case, token, targets):
    call_never_500(case, token, targets)
