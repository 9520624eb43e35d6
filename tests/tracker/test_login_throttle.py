"""Sign-in throttling: N failures for one username from one address pause it for the cool-off, everywhere."""
from datetime import timedelta

import pytest
import time_machine
from django.contrib.auth import authenticate
from django.test import Client
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient


@pytest.fixture(autouse=True)
def _three_attempts(settings):
    settings.AXES_FAILURE_LIMIT = 3
    settings.AXES_COOLOFF_TIME = timedelta(minutes=15)


def test_the_login_page_pauses_a_username_after_repeated_failures(cast):
    client = Client()
    for _ in range(2):
        response = client.post("/login/", {"username": "lena", "password": "wrong"})
        assert response.status_code == 200 and b"didn't match" in response.content

    third = client.post("/login/", {"username": "lena", "password": "wrong"})
    assert third.status_code == 429
    assert b"Sign-in paused." in third.content and b"15 minutes" in third.content
    assert b'value="lena"' in third.content  # the styled login page, username kept

    right = client.post("/login/", {"username": "lena", "password": "pw"})
    assert right.status_code == 429 and "_auth_user_id" not in client.session
    assert right["Retry-After"] == str(15 * 60)


def test_the_pause_is_per_username_and_ends_after_the_cool_off(cast):
    client = Client()
    for _ in range(3):
        client.post("/login/", {"username": "lena", "password": "wrong"})
    # Another username from the same address is not affected.
    assert client.post("/login/", {"username": "liam", "password": "pw"}).status_code == 302

    with time_machine.travel(timezone.now() + timedelta(minutes=16)):
        later = Client()
        assert later.post("/login/", {"username": "lena", "password": "pw"}).status_code == 302


def test_a_success_before_the_limit_resets_the_count(cast):
    client = Client()
    for _ in range(2):
        client.post("/login/", {"username": "lena", "password": "wrong"})
    assert client.post("/login/", {"username": "lena", "password": "pw"}).status_code == 302
    client.logout()
    for _ in range(2):
        assert client.post("/login/", {"username": "lena", "password": "wrong"}).status_code == 200


def test_the_admin_login_is_throttled_too(cast):
    client = Client()
    for _ in range(3):
        response = client.post("/admin/login/", {"username": "root", "password": "wrong"})
    assert response.status_code == 429 and b"Sign-in paused." in response.content
    assert client.post("/admin/login/", {"username": "root", "password": "pw"}).status_code == 429


def test_the_token_endpoint_returns_the_users_api_token(cast):
    response = APIClient().post("/api/v1/auth/token/", {"username": "lena", "password": "pw"}, format="json")
    assert response.status_code == 200
    assert response.json() == {"token": Token.objects.get(user=cast.agent1).key}
    # The token works for the API.
    api = APIClient(HTTP_AUTHORIZATION=f"Token {response.json()['token']}")
    assert api.get("/api/v1/tickets/").status_code == 200


def test_the_token_endpoint_refuses_wrong_or_missing_credentials(cast):
    api = APIClient()
    wrong = api.post("/api/v1/auth/token/", {"username": "lena", "password": "nope"}, format="json")
    assert wrong.status_code == 401
    assert wrong.json() == {"detail": "Unable to sign in with that username and password.",
                            "code": "authentication_failed"}
    missing = api.post("/api/v1/auth/token/", {"username": "lena"}, format="json")
    assert missing.status_code == 400 and missing.json()["code"] == "invalid"
    cast.agent2.is_active = False
    cast.agent2.save()
    assert api.post("/api/v1/auth/token/", {"username": "liam", "password": "pw"}).status_code == 401


def test_the_token_endpoint_is_throttled_with_the_api_error_shape(cast):
    api = APIClient()
    codes = [api.post("/api/v1/auth/token/", {"username": "lena", "password": "nope"}, format="json").status_code
             for _ in range(3)]
    assert codes == [401, 401, 429]
    locked = api.post("/api/v1/auth/token/", {"username": "lena", "password": "pw"}, format="json")
    assert locked.status_code == 429
    body = locked.json()
    assert body["code"] == "locked_out" and "15 minutes" in body["detail"]
    assert not Token.objects.filter(user=cast.agent1).exists()
    # The same counter as the login page: the browser sign-in is paused too.
    assert Client().post("/login/", {"username": "lena", "password": "pw"}).status_code == 429


def test_the_token_endpoint_is_in_the_openapi_schema(cast, client):
    client.force_login(cast.agent1)
    schema = client.get("/api/schema/?format=json").json()
    post = schema["paths"]["/api/v1/auth/token/"]["post"]
    assert set(post["responses"]) >= {"200", "401", "429"}
    assert post.get("security", []) in ([], [{}])  # no credentials needed to ask for one
    assert "CredentialsRequest" in schema["components"]["schemas"]


def test_authenticating_without_a_request_is_not_throttled(cast):
    # Shell and management commands have no client address: axes lets them through.
    assert authenticate(username="lena", password="pw") == cast.agent1
