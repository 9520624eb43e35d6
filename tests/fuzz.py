"""What the schemathesis runs of the API share: the served schema built in-process, and a database connection
kept open across WSGI calls so that calls run inside the test's transaction."""

import json

import pytest
import schemathesis
from django.core import signals
from django.db import close_old_connections
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.renderers import OpenApiJsonRenderer
from hypothesis import HealthCheck, Phase, settings

from tracker.wsgi import application

# Deterministic (derandomized) and bounded, so that a run fits in the normal suite.
BOUNDED = settings(max_examples=40, derandomize=True, phases=[Phase.generate], deadline=None, database=None,
                   suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                          HealthCheck.filter_too_much])


def api_schema(path_regex: str):
    """The schema the app serves at /api/schema/, built in-process (no request, no database), for some paths."""
    raw = json.loads(OpenApiJsonRenderer().render(SchemaGenerator().get_schema(request=None, public=True)))
    loaded = schemathesis.openapi.from_dict(raw)
    loaded.app = application  # calls go through the WSGI app in this process, inside the test's transaction
    return loaded.include(path_regex=path_regex)


@pytest.fixture
def in_test_transaction():
    """Keep the test's database connection open across WSGI calls, as Django's own test client does."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


def call_never_500(case, token: str, targets: dict) -> None:
    """Point the generated path parameters at real rows (`targets`: name -> values), so calls reach past the
    404, and call as the token's user: any answer but a 5xx passes."""
    for name, values in targets.items():
        if name in (case.path_parameters or {}):
            case.path_parameters[name] = values[len(str(case.path_parameters[name])) % len(values)]
    response = case.call(headers={"Authorization": f"Token {token}"})
    assert response.status_code < 500, f"{case.method} {case.formatted_path}: {response.text[:500]}"
