"""Property-based run of the catalogue's endpoints from their OpenAPI schema: whatever a client sends, never a
500, and a refused order writes nothing. Deterministic and bounded like the other API runs, as a requester (the
portal's caller) and as an agent (who may order on someone's behalf)."""

import pytest
from rest_framework.authtoken.models import Token

from itsm.models import CatalogRequest
from itsm.services import catalogue as cat
from tests.fuzz import BOUNDED, api_schema, call_never_500, in_test_transaction  # noqa: F401 (a fixture)
from tracker.models import Ticket

schema = api_schema(r"^/api/v1/catalogue/")


@pytest.fixture
def targets(cast, laptop, vpn):
    ticket = cat.request_order(actor=cast.requester, item=vpn, answers={"reason": "Contractor"})
    return {"id": [laptop.pk, vpn.pk], "key": [ticket.key]}


@pytest.fixture(params=["requester", "agent1"])
def token(cast, request):
    return Token.objects.create(user=getattr(cast, request.param)).key


@schema.parametrize()
@BOUNDED
@pytest.mark.usefixtures("in_test_transaction")
def test_no_input_makes_the_catalogue_api_answer_500(case, token, targets):
    tickets, requests = Ticket.objects.count(), CatalogRequest.objects.count()
    call_never_500(case, token, targets)
    # a write either made a whole request (ticket and record) or nothing
    assert Ticket.objects.count() - tickets == CatalogRequest.objects.count() - requests
