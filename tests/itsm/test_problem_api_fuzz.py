"""Property-based run of the problem-management endpoints from their OpenAPI schema: whatever a client sends,
never a 500. Deterministic and bounded like the ticket API's run (tests/tracker/test_api_fuzz.py), as a 2nd-line
agent, so that writes reach the domain functions."""

import json

import pytest
import schemathesis
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.renderers import OpenApiJsonRenderer
from hypothesis import HealthCheck, Phase, settings
from rest_framework.authtoken.models import Token

from tests.itsm.test_problems import incident, known_error
from tests.tracker.test_api_fuzz import in_test_transaction  # noqa: F401 - the fixture, shared
from tracker.wsgi import application

_raw = json.loads(OpenApiJsonRenderer().render(SchemaGenerator().get_schema(request=None, public=True)))
schema = schemathesis.openapi.from_dict(_raw)
schema.app = application  # in this process, inside the test's transaction
schema = schema.include(path_regex=r"^/api/v1/(problems/from-incidents|known-errors|tickets/\{key\}/"
                                   r"(apply-known-error|resolve-with-incidents))/")


@pytest.fixture
def targets(cast):
    """An incident and a known error: generated keys are pointed at them so that calls reach past the 404."""
    problem = known_error(cast)
    return {"incident": incident(cast, "Blank payslip").key, "problem": problem.key}


@pytest.fixture
def token(cast, in_test_transaction):  # noqa: F811
    return Token.objects.create(user=cast.agent2).key


@schema.parametrize()
@settings(max_examples=25, derandomize=True, phases=[Phase.generate], deadline=None, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                 HealthCheck.filter_too_much])
def test_no_input_makes_the_problem_api_answer_500(case, token, targets):
    if "key" in (case.path_parameters or {}):
        case.path_parameters["key"] = targets["problem" if "resolve" in case.path else "incident"]
    response = case.call(headers={"Authorization": f"Token {token}"})
    assert response.status_code < 500, f"{case.method} {case.formatted_path}: {response.text[:500]}"
