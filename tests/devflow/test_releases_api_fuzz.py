"""Property-based run of the releases API from its OpenAPI schema: whatever a client sends, never a 500, and a
refused write leaves the release as it was. As a 2nd-line agent (who may plan, review and sign UAT off), on one
planned release carrying a fixed defect. Deterministic and bounded like the other API fuzz runs."""

import pytest
from rest_framework.authtoken.models import Token

from devflow.models import Release
from tests.fuzz import BOUNDED, api_schema, in_test_transaction  # noqa: F401 - the fixture

from .test_releases import _fixed_defect, _release

schema = api_schema(r"^/api/v1/releases/")


@pytest.fixture
def targets(cast):
    release = _release(cast)
    _fixed_defect(cast)
    return {"id": [release.pk], "pk": [release.pk]}


@pytest.fixture
def token(cast, in_test_transaction):  # noqa: F811
    return Token.objects.create(user=cast.agent2).key


def _state():
    return list(Release.objects.order_by("id").values_list("id", "revision", "notes", "shipped_at"))


@schema.parametrize()
@BOUNDED
def test_no_input_makes_the_releases_api_answer_500(case, token, targets):
    params = case.path_parameters or {}
    for name in ("id", "pk"):
        if name in params:
            params[name] = targets[name][0]
    before = _state()
    response = case.call(headers={"Authorization": f"Token {token}"})
    assert response.status_code < 500, f"{case.method} {case.formatted_path}: {response.text[:500]}"
    if response.status_code >= 400:
        assert _state() == before  # a refused write changed nothing
