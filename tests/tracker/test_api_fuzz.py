"""Property-based run of the ticket endpoints from their OpenAPI schema: whatever a client sends, never a 500.

Deterministic (derandomized) and bounded (about 10 s), so it runs in the normal suite. A deeper run against
a running server, with schemathesis' coverage and stateful phases, as an agent with an API token:

    st run http://127.0.0.1:8000/api/schema/ -H "Authorization: Token $TOKEN" \
        --include-path-regex /api/v1/tickets -c not_a_server_error -n 100 --seed 3 -w 1
"""
import pytest
from rest_framework.authtoken.models import Token

from tests.fuzz import BOUNDED, api_schema, call_never_500, in_test_transaction  # noqa: F401 (a fixture)
from tracker import services

schema = api_schema(r"^/api/v1/tickets")


@pytest.fixture
def keys(cast):
    """One ticket of each kind: generated paths are pointed at them so that calls reach past the 404."""
    return [services.ticket_create(actor=cast.agent2, kind=kind, title=f"A {kind}",
                                   service=cast.services["payroll"]).key
            for kind in ("incident", "problem", "change", "defect", "request")]


@pytest.fixture
def token(cast):
    return Token.objects.create(user=cast.agent2).key


@schema.parametrize()
@BOUNDED
@pytest.mark.usefixtures("in_test_transaction")
def test_no_input_makes_the_ticket_api_answer_500(case, token, keys):
    call_never_500(case, token, {"key": keys})
