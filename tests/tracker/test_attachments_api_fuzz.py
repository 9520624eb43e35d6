"""Property-based run of the attachment endpoints from their OpenAPI schema: never a 500."""
import pytest
from rest_framework.authtoken.models import Token

from tests.fuzz import BOUNDED, api_schema, call_never_500, in_test_transaction  # noqa: F401 (a fixture)
from tests.tracker.test_attachments import upload
from tracker import services

schema = api_schema(r"^/api/v1/(tickets/\{key\}/attachments/|attachments/)")


@pytest.fixture
def targets(cast):
    """A ticket with a public and an internal file, and a ticket with none."""
    ticket = services.ticket_create(actor=cast.agent1, kind="incident", title="Blank payslip",
                                    requester=cast.requester)
    bare = services.ticket_create(actor=cast.agent1, kind="incident", title="Nothing attached")
    [public] = services.attachments_add(ticket=ticket, actor=cast.requester, files=[upload()])
    [internal] = services.attachments_add(ticket=ticket, actor=cast.agent1, files=[upload("raw.png")], internal=True)
    return {"key": [ticket.key, bare.key], "id": [public.pk, internal.pk, 999999]}


@pytest.fixture
def token(cast):
    return Token.objects.create(user=cast.requester).key


@schema.parametrize()
@BOUNDED
@pytest.mark.usefixtures("in_test_transaction")
def test_no_input_makes_the_attachments_api_answer_500(case, token, targets):
    call_never_500(case, token, targets)
