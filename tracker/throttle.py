"""Login throttling with django-axes: the backend that refuses a locked-out sign-in, and the answer it gets.

One counter per username + client address covers the login page, the admin login and the API token
endpoint (they all go through `django.contrib.auth.authenticate` with the request).
"""
from axes.backends import AxesStandaloneBackend
from django.conf import settings
from django.http import JsonResponse
from django.shortcuts import render


class LoginThrottleBackend(AxesStandaloneBackend):
    """Axes' gate, minus its refusal of request-less calls: `authenticate()` from a shell or a management
    command has no client to throttle, so it passes on to the next backend."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if request is None:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)


def lockout_message() -> str:
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    return (
        f"Too many failed sign-ins for this username from your address. Sign-in is paused for {minutes} "
        f"minutes after the last failed attempt; check the username and password before trying again."
    )


def lockout_response(request, original_response=None, credentials=None):
    """429 for a refused sign-in: the API's error shape under /api/, otherwise the login page saying why."""
    retry_after = str(int(settings.AXES_COOLOFF_TIME.total_seconds()))
    if request.path.startswith("/api/"):
        response = JsonResponse({"detail": lockout_message(), "code": "locked_out"}, status=429)
    else:
        username = (credentials or {}).get("username") or request.POST.get("username", "")
        context = {"locked_out": lockout_message(), "username": username,
                   "next": request.POST.get("next") or request.GET.get("next", "")}
        response = render(request, "registration/login.html", context, status=429)
    response["Retry-After"] = retry_after
    return response
