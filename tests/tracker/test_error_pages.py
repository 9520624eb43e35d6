"""Crossline's own error pages: styled, and never Django's debug page with the URL list."""
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import PermissionDenied
from django.test import RequestFactory
from django.urls import path
from django.views import defaults


def test_an_unknown_ticket_key_shows_the_styled_not_found_page(cast, client_for):
    response = client_for(cast.agent1).get("/tickets/INC-999999/")
    assert response.status_code == 404
    page = response.content.decode()
    assert "<h1>Not found</h1>" in page and "/static/css/app.css" in page and "Back to Crossline" in page
    assert "URLconf" not in page and "tracker.urls" not in page and "Traceback" not in page


def test_an_unknown_address_shows_it_too_when_signed_out(client, db):
    response = client.get("/no/such/page/")
    assert response.status_code == 404
    assert "<h1>Not found</h1>" in response.content.decode() and "Sign in" in response.content.decode()


def test_a_refused_page_shows_the_styled_forbidden_page(cast, client_for):
    request = RequestFactory().get("/queue/")
    request.user = cast.requester
    response = defaults.permission_denied(request, PermissionDenied())
    assert response.status_code == 403
    page = response.content.decode()
    assert "<h1>Not allowed</h1>" in page and "signed in as <strong>alice</strong>" in page


def test_the_server_error_page_renders_without_a_database_or_request_context():
    # No `db` fixture: any query here would fail the test.
    response = defaults.server_error(RequestFactory().get("/"))
    assert response.status_code == 500
    page = response.content.decode()
    assert "Something went wrong" in page and "/static/css/app.css" in page


def _crash(request):
    raise RuntimeError("a bug with a secret in its message")


urlpatterns = [path("crash/", login_not_required(_crash))]  # this module is the URLconf of the next test


def test_a_crashing_view_answers_with_the_styled_500_page(client, settings, db):
    settings.ROOT_URLCONF = __name__
    client.raise_request_exception = False
    response = client.get("/crash/")
    assert response.status_code == 500
    page = response.content.decode()
    assert "Something went wrong" in page and "secret" not in page and "RuntimeError" not in page


def test_static_files_are_served_without_debug_and_without_collectstatic(client, settings):
    assert settings.DEBUG is False
    response = client.get("/static/js/app.js")
    assert response.status_code == 200
    assert b"htmx:configRequest" in b"".join(response.streaming_content)
