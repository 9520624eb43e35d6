"""Property-based run of the knowledge API from its OpenAPI schema: whatever a client sends, never a 500, and a
refused write leaves nothing half-written. As a 1st-line agent (a writer), on one draft and one published article."""

import json

import pytest
import schemathesis
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.renderers import OpenApiJsonRenderer
from hypothesis import HealthCheck, Phase, settings
from rest_framework.authtoken.models import Token

from itsm.models import ArticleVersion, KnowledgeArticle
from itsm.services import knowledge as kb
from tests.tracker.test_api_fuzz import in_test_transaction  # noqa: F401 - the fixture, shared
from tracker.wsgi import application

from .test_knowledge import publish

_raw = json.loads(OpenApiJsonRenderer().render(SchemaGenerator().get_schema(request=None, public=True)))
schema = schemathesis.openapi.from_dict(_raw)
schema.app = application
schema = schema.include(path_regex=r"^/api/v1/articles/")


@pytest.fixture
def targets(cast):
    draft = kb.article_create(actor=cast.agent2, title="Printer jams", body="Open tray 2.")
    return {"draft": draft.pk, "published": publish(cast).pk}


@pytest.fixture
def token(cast, in_test_transaction):  # noqa: F811
    return Token.objects.create(user=cast.agent1).key


@schema.parametrize()
@settings(max_examples=25, derandomize=True, phases=[Phase.generate], deadline=None, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                 HealthCheck.filter_too_much])
def test_no_input_makes_the_knowledge_api_answer_500(case, token, targets):
    for name in ("id", "pk"):  # the schema names the article's id `id`
        if name in (case.path_parameters or {}):
            case.path_parameters[name] = targets["draft" if "publish" not in case.path else "published"]
    before = ArticleVersion.objects.count(), KnowledgeArticle.objects.count()
    response = case.call(headers={"Authorization": f"Token {token}"})
    assert response.status_code < 500, f"{case.method} {case.formatted_path}: {response.text[:500]}"
    if response.status_code >= 400:
        assert (ArticleVersion.objects.count(), KnowledgeArticle.objects.count()) == before
