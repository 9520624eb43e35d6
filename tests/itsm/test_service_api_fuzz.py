"""Property-based run of the services, groups, gate and catalogue-setup endpoints from their OpenAPI schema:
whatever a client sends, never a 500; as the service's manager (and owner), so that writes reach the domain
functions. Deterministic and bounded like the other API fuzz runs."""

import json

import pytest
import schemathesis
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.renderers import OpenApiJsonRenderer
from hypothesis import HealthCheck, Phase, settings
from rest_framework.authtoken.models import Token

from itsm.models import CatalogItem, GateItem
from itsm.services import catalogue_setup as setup
from itsm.services import gate as gates
from tests.factories import ServiceFactory
from tests.tracker.test_api_fuzz import in_test_transaction  # noqa: F401 - the fixture, shared
from tracker.choices import ServiceLifecycle
from tracker.wsgi import application

_raw = json.loads(OpenApiJsonRenderer().render(SchemaGenerator().get_schema(request=None, public=True)))
schema = schemathesis.openapi.from_dict(_raw)
schema.app = application  # in this process, inside the test's transaction
schema = schema.include(path_regex=r"^/api/v1/(services|groups)/")


@pytest.fixture
def targets(cast):
    """A service in transition with an open gate, and a catalogue item with a field: generated ids point at them."""
    service = ServiceFactory(name="Expense claims", lifecycle=ServiceLifecycle.PLANNED, service_manager=cast.manager)
    service.owners.add(cast.manager)
    gates.gate_open(service=service, actor=cast.manager)
    item = setup.item_create(service=service, actor=cast.manager, name="Travel claim")
    field = setup.field_add(item=item, actor=cast.manager, label="Amount")
    return {"service_id": service.pk, "pk": service.pk, "item_id": item.pk, "field_id": field.pk,
            "gate_item": GateItem.objects.filter(gate__service=service).first().pk}


@pytest.fixture
def token(cast, in_test_transaction):  # noqa: F811
    return Token.objects.create(user=cast.manager).key


@schema.parametrize()
@settings(max_examples=20, derandomize=True, phases=[Phase.generate], deadline=None, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                 HealthCheck.filter_too_much])
def test_no_input_makes_the_services_api_answer_500(case, token, targets):
    params = case.path_parameters or {}
    for name in ("service_id", "pk", "field_id"):
        if name in params:
            params[name] = targets[name]
    if "item_id" in params:
        params["item_id"] = targets["gate_item" if "/gate/" in case.path else "item_id"]
    response = case.call(headers={"Authorization": f"Token {token}"})
    assert response.status_code < 500, f"{case.method} {case.formatted_path}: {response.text[:500]}"
    assert CatalogItem.objects.filter(name="").count() == 0  # nothing half-written
