"""Property-based run of the catalogue-request endpoints (approval, fulfilment tasks, automation) from their
OpenAPI schema: whatever a client sends, never a 500, and a refused write leaves nothing half-written."""

import pytest
from rest_framework.authtoken.models import Token

from itsm.models import CatalogRequest, FulfilmentTask
from itsm.services import fulfilment
from tests.fuzz import BOUNDED, api_schema, in_test_transaction  # noqa: F401 - the fixture
from tests.itsm.test_fulfilment import laptop_item, order, vpn_item

schema = api_schema(r"^/api/v1/catalogue/(approvals|requests/\{key\}/(approve|reject|tasks|automation))")


@pytest.fixture
def requests(cast):
    """A laptop waiting for Maria, one approved with tasks, and a VPN request whose automation failed."""
    cast.requester.manager = cast.manager
    cast.requester.save(update_fields=["manager"])
    item = laptop_item(cast)
    waiting = order(item, cast.requester)
    approved = order(item, cast.requester)
    fulfilment.request_decide(request=approved, actor=cast.manager, decision="approve")
    failed = order(vpn_item(cast, handler="missing"), cast.other_requester)
    with pytest.raises(LookupError):
        fulfilment.automation_run(request_pk=failed.pk)
    return {"key": [waiting.ticket.key, approved.ticket.key, failed.ticket.key], "number": [1, 2]}


def _rows():
    return (list(FulfilmentTask.objects.order_by("pk").values_list("pk", "state", "assignee", "version")),
            list(CatalogRequest.objects.order_by("pk").values_list("pk", "approval", "automation", "attempts")))


@schema.parametrize()
@BOUNDED
def test_no_input_makes_the_fulfilment_api_answer_500(case, cast, requests, in_test_transaction):  # noqa: F811
    user = cast.manager if "approv" in case.path or "reject" in case.path else cast.agent2
    for name, values in requests.items():
        if name in (case.path_parameters or {}):
            case.path_parameters[name] = values[len(str(case.path_parameters[name])) % len(values)]
    before = _rows()
    response = case.call(headers={"Authorization": f"Token {Token.objects.get_or_create(user=user)[0].key}"})
    assert response.status_code < 500, f"{case.method} {case.formatted_path}: {response.text[:500]}"
    if response.status_code >= 400:  # refused: nothing half-written
        assert _rows() == before
