"""Mounted at /api/v1/ by tracker/urls.py, after the ticket API: the development side's endpoints."""

from django.urls import path  # noqa: F401

app_name = "devflow-api"

urlpatterns: list = []

# VCS: signed webhook deliveries, the repositories that send them, and the code of a ticket.
from rest_framework.routers import SimpleRouter  # noqa: E402

from .repositories import RepositoryViewSet  # noqa: E402
from .vcs import TicketCodeView, WebhookView  # noqa: E402

_vcs_router = SimpleRouter()
_vcs_router.register("repositories", RepositoryViewSet, basename="repository")
urlpatterns += [
    path("vcs/<path:repository>/webhook/", WebhookView.as_view(), name="vcs-webhook"),
    path("tickets/<str:key>/code/", TicketCodeView.as_view(), name="ticket-code"),
    *_vcs_router.urls,
]
