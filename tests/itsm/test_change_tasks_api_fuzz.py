"""Property-based run of the change-task, rollback and rate endpoints from their OpenAPI schema: whatever a
client sends, never a 500 (bounded and deterministic, like the ticket API's run in tests/tracker)."""
import json

import schemathesis
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.renderers import OpenApiJsonRenderer
from hypothesis import HealthCheck, Phase, settings
from rest_framework.authtoken.models import Token

from tests.tracker.test_api_fuzz import in_test_transaction  # noqa: F401 - the fixture
from tracker.wsgi import application


def _change_schema():
    raw = json.loads(OpenApiJsonRenderer().render(SchemaGenerator().get_schema(request=None, public=True)))
    loaded = schemathesis.openapi.from_dict(raw)
    loaded.app = application
    return loaded.include(path_regex=r"^/api/v1/(change-tasks/|changes/rates/|tickets/\{key\}/(tasks|rollbacks)/)")


schema = _change_schema()


@schema.parametrize()
@settings(max_examples=30, derandomize=True, phases=[Phase.generate], deadline=None, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                 HealthCheck.filter_too_much])
def test_no_input_makes_the_change_task_api_answer_500(case, cast, change, tasks, in_test_transaction):  # noqa: F811
    token = Token.objects.get_or_create(user=cast.agent2)[0].key
    params = case.path_parameters or {}
    if "key" in params:
        params["key"] = change.key
    if "number" in params:
        params["number"] = 1 + len(str(params["number"])) % 3
    response = case.call(headers={"Authorization": f"Token {token}"})
    assert response.status_code < 500, f"{case.method} {case.formatted_path}: {response.text[:500]}"
