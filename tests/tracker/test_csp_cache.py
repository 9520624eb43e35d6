"""The Content-Security-Policy headers built once per process are django-csp's own, case by case."""
import csp.middleware
import pytest
from csp.constants import NONCE, SELF, UNSAFE_INLINE
from django.http import HttpResponse, JsonResponse
from django.test import RequestFactory, override_settings

from tracker.middleware import CSPMiddleware

HEADERS = ("Content-Security-Policy", "Content-Security-Policy-Report-Only")


def _headers(middleware_class, path="/api/v1/tickets/", *, nonce=False, **attrs):
    request = RequestFactory().post(path)
    middleware = middleware_class(lambda r: None)
    middleware.process_request(request)
    if nonce:
        str(request.csp_nonce)  # a page that used the nonce
        request._csp_nonce = "fixed-nonce"  # the same value for both middlewares
    response = JsonResponse({"key": "INC-1"}, status=201) if path.startswith("/api/") else HttpResponse("page")
    for name, value in attrs.items():
        setattr(response, name, value)
    response = middleware.process_response(request, response)
    return {h: response.get(h) for h in HEADERS}


CASES = [
    pytest.param({}, id="an API answer"),
    pytest.param({"path": "/queue/"}, id="a page"),
    pytest.param({"path": "/api/redoc/"}, id="an excluded prefix"),
    pytest.param({"_csp_exempt": True}, id="an exempt view"),
    pytest.param({"_csp_update": {"style-src": [UNSAFE_INLINE]}}, id="a view's update"),
    pytest.param({"_csp_replace": {"img-src": [SELF]}}, id="a view's replacement"),
    pytest.param({"_csp_config": {"default-src": [SELF]}}, id="a view's own policy"),
    pytest.param({"nonce": True}, id="a nonce used"),
]


@pytest.mark.parametrize("case", CASES)
def test_the_headers_are_django_csps(case):
    ours = _headers(CSPMiddleware, **case)
    assert ours == _headers(csp.middleware.CSPMiddleware, **case)
    assert ours["Content-Security-Policy"] is None or "default-src 'self'" in ours["Content-Security-Policy"] \
        or case.get("_csp_config")


@pytest.mark.parametrize("case", CASES)
def test_a_report_only_policy_too(case):
    policy = {"DIRECTIVES": {"default-src": [SELF], "script-src": [SELF, NONCE], "report-uri": "/csp-report/"}}
    with override_settings(CONTENT_SECURITY_POLICY_REPORT_ONLY=policy):
        ours = _headers(CSPMiddleware, **case)
        assert ours == _headers(csp.middleware.CSPMiddleware, **case)
    if not case.get("_csp_exempt"):
        assert "report-uri /csp-report/" in ours["Content-Security-Policy-Report-Only"]


def test_a_changed_setting_changes_the_header():
    before = _headers(CSPMiddleware)["Content-Security-Policy"]
    with override_settings(CONTENT_SECURITY_POLICY={"DIRECTIVES": {"default-src": ["https://cdn.example"]}}):
        assert _headers(CSPMiddleware)["Content-Security-Policy"] == "default-src https://cdn.example"
    assert _headers(CSPMiddleware)["Content-Security-Policy"] == before


def test_a_nonce_asked_for_after_the_header_is_an_error():
    from csp.exceptions import CSPNonceError

    request = RequestFactory().get("/api/v1/tickets/")
    middleware = CSPMiddleware(lambda r: None)
    middleware.process_request(request)
    middleware.process_response(request, JsonResponse({}))
    with pytest.raises(CSPNonceError):
        str(request.csp_nonce)
