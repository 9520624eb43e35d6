"""Mounted at /api/v1/ by tracker/urls.py, after the ticket API: the development side's endpoints."""

from django.urls import path  # noqa: F401

app_name = "devflow-api"

urlpatterns: list = []

# Releases: /api/v1/releases/ (list, plan, read, update with If-Match, tickets, assemble, review, uat, publish, ship).
from rest_framework.routers import SimpleRouter  # noqa: E402

from .releases import ReleaseViewSet  # noqa: E402

_releases = SimpleRouter()
_releases.register("releases", ReleaseViewSet, basename="release")
urlpatterns += _releases.urls
