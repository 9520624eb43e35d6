"""A token request reads its user, the token and the configuration stamp in one statement."""
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from tracker.api.authentication import StampedTokenAuthentication

pytestmark = pytest.mark.django_db


def test_the_token_gives_its_user_as_the_orm_would_in_one_statement(cast):
    token = Token.objects.create(user=cast.agent1)
    with CaptureQueriesContext(connection) as ctx:
        user, auth = StampedTokenAuthentication().authenticate_credentials(token.key)
    assert len(ctx.captured_queries) == 1
    fresh = type(cast.agent1).objects.get(pk=cast.agent1.pk)
    assert user == fresh and auth.key == token.key and auth.user_id == fresh.pk
    assert {f.attname: getattr(user, f.attname) for f in fresh._meta.concrete_fields} == \
        {f.attname: getattr(fresh, f.attname) for f in fresh._meta.concrete_fields}
    assert auth.created == token.created


def test_an_unknown_token_is_refused(cast):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token 0123456789abcdef0123456789abcdef01234567")
    response = client.get("/api/v1/tickets/")
    assert response.status_code == 401
