"""Property-based run of the change-calendar endpoints from their OpenAPI schema: whatever a client sends, never a
500. Deterministic and bounded like the ticket API's run (tests/tracker/test_api_fuzz.py), as a change manager, so
that writes reach the domain functions."""

import json
from datetime import UTC, datetime

import pytest
import schemathesis
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.renderers import OpenApiJsonRenderer
from hypothesis import HealthCheck, Phase, settings
from rest_framework.authtoken.models import Token

from itsm import services
from itsm.choices import Repeat
from tests.tracker.test_api_fuzz import in_test_transaction  # noqa: F401 - the fixture, shared
from tracker import services as core
from tracker.choices import Kind
from tracker.wsgi import application

_raw = json.loads(OpenApiJsonRenderer().render(SchemaGenerator().get_schema(request=None, public=True)))
schema = schemathesis.openapi.from_dict(_raw)
schema.app = application  # in this process, inside the test's transaction
schema = schema.include(path_regex=r"^/api/v1/changes/(blackouts|calendar|\{key\}/schedule)")


@pytest.fixture
def targets(cast):
    """A change and a blackout: generated paths are pointed at them so that calls reach past the 404."""
    change = core.ticket_create(actor=cast.agent2, kind=Kind.CHANGE, title="Tax tables",
                                service=cast.services["payroll"])
    blackout = services.blackout_create(actor=cast.change_manager, name="Payroll run", reason="Payslips.",
                                        service=cast.services["payroll"],
                                        starts_at=datetime(2026, 12, 24, 18, tzinfo=UTC),
                                        ends_at=datetime(2026, 12, 25, 8, tzinfo=UTC), repeat=Repeat.MONTHLY)
    return {"key": change.key, "id": blackout.pk}


@pytest.fixture
def token(cast, in_test_transaction):  # noqa: F811
    return Token.objects.create(user=cast.change_manager).key


@schema.parametrize()
@settings(max_examples=25, derandomize=True, phases=[Phase.generate], deadline=None, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                 HealthCheck.filter_too_much])
def test_no_input_makes_the_calendar_api_answer_500(case, token, targets):
    for name in ("key", "id"):
        if name in (case.path_parameters or {}):
            case.path_parameters[name] = targets[name]
    response = case.call(headers={"Authorization": f"Token {token}"})
    assert response.status_code < 500, f"{case.method} {case.formatted_path}: {response.text[:500]}"
