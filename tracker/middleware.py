"""Refuse input no view can use before it reaches one: NUL characters and API bodies over the size limit; read
the signed-in person with a query compiled once per process; send the Content-Security-Policy built once per
process.

PostgreSQL text cannot hold a NUL (psycopg raises DataError on the query), so a `%00` in any query
parameter or form field would turn a search into a 500. Answered here once, for every page and endpoint:
400 with the API's error shape (`{"detail", "code"}`) under /api/, a plain message elsewhere.
"""
import http.client
import re

from csp.constants import HEADER, HEADER_REPORT_ONLY
from csp.middleware import CheckableLazyObject
from csp.middleware import CSPMiddleware as DjangoCSPMiddleware
from csp.utils import build_policy
from django.conf import settings
from django.contrib import auth
from django.contrib.auth.middleware import AuthenticationMiddleware as DjangoAuthenticationMiddleware
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, ValidationError
from django.core.signals import setting_changed
from django.http import HttpResponse, JsonResponse
from django.http.multipartparser import MultiPartParserError
from django.utils.crypto import constant_time_compare
from django.utils.functional import SimpleLazyObject

from . import config_cache
from .precompiled import Precompiled

API_PREFIX = "/api/"
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
# A JSON string escape for NUL: `\u0000` preceded by an even number of backslashes (`\\u0000` is text).
_JSON_NUL = re.compile(rb"(?<!\\)(?:\\\\)*\\u0000", re.IGNORECASE)

NUL_MESSAGE = "The request contains a NUL character (%00 or \\u0000); remove it and send the request again."


def _has_nul(querydict) -> bool:
    return any("\x00" in key or any("\x00" in value for value in values) for key, values in querydict.lists())


class BadInputMiddleware:
    """400 for a NUL anywhere in the query string or the form/JSON body; 413 for an API body over the limit."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        refusal = self._refusal(request)
        return refusal if refusal is not None else self.get_response(request)

    def _refusal(self, request):
        is_api = request.path.startswith(API_PREFIX)
        if "\x00" in request.path or _has_nul(request.GET):
            return self._answer(request, is_api, 400, "invalid_characters", NUL_MESSAGE)
        if request.method in ("GET", "HEAD", "OPTIONS", "DELETE"):
            return None
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        content_type = request.content_type or ""
        try:
            if is_api and limit is not None and int(request.META.get("CONTENT_LENGTH") or 0) > limit:
                # Checked before reading, so a client learns the limit instead of getting Django's bare 400.
                raise RequestDataTooBig()
            if content_type in FORM_TYPES:
                nul = _has_nul(request.POST)
            elif "json" in content_type:
                nul = b"\x00" in request.body or bool(_JSON_NUL.search(request.body))
            else:
                nul = False
        except RequestDataTooBig:
            if not is_api:
                raise  # pages keep Django's own answer (400 through the error pages)
            return self._answer(request, is_api, 413, "too_large",
                                f"The request body is larger than the limit of {limit // 1024} KB; send less data.")
        except TooManyFieldsSent:
            if not is_api:
                raise
            return self._answer(request, is_api, 400, "too_many_fields",
                                f"The request has more than {settings.DATA_UPLOAD_MAX_NUMBER_FIELDS} fields.")
        except MultiPartParserError as exc:
            if not is_api:
                raise
            return self._answer(request, is_api, 400, "parse_error", f"The multipart body cannot be read: {exc}")
        except ValueError:  # a CONTENT_LENGTH that is not a number: let Django and DRF answer it
            return None
        if nul:
            return self._answer(request, is_api, 400, "invalid_characters", NUL_MESSAGE)
        return None

    @staticmethod
    def _answer(request, is_api: bool, status: int, code: str, message: str):
        if is_api:
            return JsonResponse({"detail": message, "code": code}, status=status)
        return HttpResponse(message, status=status, content_type="text/plain; charset=utf-8")


class ConfigScopeMiddleware:
    """One request reads the configuration's stamp (`tracker.config_cache`) at most once."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        with config_cache.scope():
            return self.get_response(request)


MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"

# The person of a session (what ModelBackend.get_user reads: the default manager's row of that primary key).
_user_by_pk = Precompiled(lambda shape, *, pk: auth.get_user_model()._default_manager.filter(pk=pk)[:1])


def get_user(request):
    """The request's user, as `django.contrib.auth.get_user` finds it. A session signed in through ModelBackend
    whose user is active and whose password hash still matches (nearly every request) reads the user with the
    compiled query; any other case (no or another backend, unknown or inactive user, a changed password, the
    fallback secret) goes to Django's own function, which flushes or rotates the session as it always does."""
    session = request.session
    user = None
    if session.get(auth.BACKEND_SESSION_KEY) == MODEL_BACKEND and MODEL_BACKEND in settings.AUTHENTICATION_BACKENDS:
        try:
            pk = auth.get_user_model()._meta.pk.to_python(session[auth.SESSION_KEY])
        except (KeyError, ValidationError):
            pk = None
        found = _user_by_pk(pk=pk) if isinstance(pk, int) and not isinstance(pk, bool) else []
        if found:
            user = found[0]
            session_hash = session.get(auth.HASH_SESSION_KEY)
            if not (user.is_active and session_hash
                    and constant_time_compare(session_hash, user.get_session_auth_hash())):
                user = None
    return user if user is not None else auth.get_user(request)


class AuthenticationMiddleware(DjangoAuthenticationMiddleware):
    """Django's, with `request.user` read by `get_user` above (`request.auser` stays Django's)."""

    def process_request(self, request):
        super().process_request(request)
        request.user = SimpleLazyObject(lambda: _cached_user(request))


def _cached_user(request):
    if not hasattr(request, "_cached_user"):  # the attribute Django's middleware caches the user in
        request._cached_user = get_user(request)
    return request._cached_user


def request_user(request):
    """The request's user itself rather than the lazy `request.user` in front of it (read once, as `request.user`
    reads it): a view that asks a few hundred times who is signed in skips the stand-in's lookup each time. A user
    set on the request otherwise (a test's, a login's) is returned as it is."""
    user = request.user
    return _cached_user(request) if isinstance(user, SimpleLazyObject) else user


# --- Content-Security-Policy ------------------------------------------------------------------------------------
# django-csp builds the header from the settings on every response (a copy of each directive, sorting, joining),
# twice: the policy and the report-only one. Without a nonce or a view's own override the header depends on the
# settings alone, so it is built once per process (and again when a test changes the settings).

_OVERRIDES = ("_csp_config", "_csp_update", "_csp_replace", "_csp_config_ro", "_csp_update_ro", "_csp_replace_ro")
_POLICIES = ((False, HEADER, "CONTENT_SECURITY_POLICY", "_csp_exempt"),
             (True, HEADER_REPORT_ONLY, "CONTENT_SECURITY_POLICY_REPORT_ONLY", "_csp_exempt_ro"))
_built: dict[bool, tuple[str, tuple[str, ...]]] = {}


def _policy(report_only: bool, setting: str) -> tuple[str, tuple[str, ...]]:
    """(the header's value from the settings alone, the path prefixes it is not sent on)."""
    found = _built.get(report_only)
    if found is None:
        policy = getattr(settings, setting, None) or {}
        found = _built[report_only] = (build_policy(report_only=report_only),
                                       tuple(policy.get("EXCLUDE_URL_PREFIXES", None) or ()))
    return found


def _forget_policies(*, setting, **kwargs) -> None:
    if setting.startswith("CONTENT_SECURITY_POLICY"):
        _built.clear()


setting_changed.connect(_forget_policies)


class CSPMiddleware(DjangoCSPMiddleware):
    """django-csp's, with the headers of a response that has no nonce and no override of its view built once per
    process; any other response goes through django-csp itself. The same headers either way
    (tests/tracker/test_csp_cache.py)."""

    def process_response(self, request, response):
        if getattr(request, "_csp_nonce", None) is not None or any(
                getattr(response, name, None) is not None for name in _OVERRIDES):
            return super().process_response(request, response)
        if response.status_code in (http.client.INTERNAL_SERVER_ERROR, http.client.NOT_FOUND) and settings.DEBUG:
            return response
        for report_only, header, setting, exempt in _POLICIES:
            value, excluded = _policy(report_only, setting)
            if (value and header not in response and getattr(response, exempt, False) is False
                    and not request.path_info.startswith(excluded)):
                response[header] = value
        # As django-csp: a nonce asked for after the header is written is an error, not a silent gap.
        request.csp_nonce = CheckableLazyObject(self._csp_nonce_post_response)
        return response
