"""Mounted at /api/v1/ by tracker/urls.py, after the ticket API: the development side's endpoints.

- releases: `releases/` (list, plan, read, update with If-Match, tickets, assemble, review, uat, publish, ship);
- a defect raised from an incident (`tickets/INC-4/defect/`) and time logs across tickets (`time-logs/`);
- VCS: signed webhook deliveries (`vcs/<repository>/webhook/`), the repositories that send them
  (`repositories/`) and the code of a ticket (`tickets/DEF-2/code/`).
"""

from django.urls import path
from rest_framework.routers import SimpleRouter

from .defects import DefectFromIncidentView
from .releases import ReleaseViewSet
from .repositories import RepositoryViewSet
from .timelogs import TimeLogListView
from .vcs import TicketCodeView, WebhookView

app_name = "devflow-api"

_router = SimpleRouter()
_router.register("releases", ReleaseViewSet, basename="release")
_router.register("repositories", RepositoryViewSet, basename="repository")

urlpatterns: list = [
    *_router.urls,
    path("tickets/<str:key>/defect/", DefectFromIncidentView.as_view(), name="defect-from-incident"),
    path("time-logs/", TimeLogListView.as_view(), name="time-logs"),
    path("vcs/<path:repository>/webhook/", WebhookView.as_view(), name="vcs-webhook"),
    path("tickets/<str:key>/code/", TicketCodeView.as_view(), name="ticket-code"),
]
