"""Property-based run of the ticket endpoints from their OpenAPI schema: whatever a client sends, never a 500.

Deterministic (derandomized) and bounded (about 10 s), so it runs in the normal suite. A deeper run against
a running server, with schemathesis' coverage and stateful phases, as an agent with an API token:

    st run http://127.0.0.1:8000/api/schema/ -H "Authorization: Token $TOKEN" \
        --include-path-regex /api/v1/tickets -c not_a_server_error -n 100 --seed 3 -w 1
"""
import json

import pytest
import schemathesis
from django.core import signals
from django.db import close_old_connections
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.renderers import OpenApiJsonRenderer
from hypothesis import HealthCheck, Phase, settings
from rest_framework.authtoken.models import Token

from tracker import services
from tracker.wsgi import application


def _tickets_schema():
    """The schema the app serves at /api/schema/, built in-process (no request, no database)."""
    raw = json.loads(OpenApiJsonRenderer().render(SchemaGenerator().get_schema(request=None, public=True)))
    loaded = schemathesis.openapi.from_dict(raw)
    loaded.app = application  # calls go through the WSGI app in this process, inside the test's transaction
    return loaded.include(path_regex=r"^/api/v1/tickets")


schema = _tickets_schema()


@pytest.fixture
def in_test_transaction():
    """Keep the test's database connection open across WSGI calls, as Django's own test client does."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def keys(cast):
    """One ticket of each kind: generated paths are pointed at them so that calls reach past the 404."""
    return [services.ticket_create(actor=cast.agent2, kind=kind, title=f"A {kind}",
                                   service=cast.services["payroll"]).key
            for kind in ("incident", "problem", "change", "defect", "request")]


@pytest.fixture
def token(cast, in_test_transaction):
    return Token.objects.create(user=cast.agent2).key


@schema.parametrize()
@settings(max_examples=40, derandomize=True, phases=[Phase.generate], deadline=None, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                 HealthCheck.filter_too_much])
def test_no_input_makes_the_ticket_api_answer_500(case, token, keys):
    if "key" in (case.path_parameters or {}):
        case.path_parameters["key"] = keys[len(str(case.path_parameters["key"])) % len(keys)]
    response = case.call(headers={"Authorization": f"Token {token}"})
    assert response.status_code < 500, f"{case.method} {case.formatted_path}: {response.text[:500]}"
