"""Mounted at /api/v1/ by tracker/urls.py, after the ticket API: the development side's endpoints.

- releases: `releases/` (list, plan, read, update with If-Match, tickets, assemble, review, uat, publish, ship);
- a defect raised from an incident (`tickets/INC-4/defect/`) and time logs across tickets (`time-logs/`).
"""

from django.urls import path
from rest_framework.routers import SimpleRouter

from .defects import DefectFromIncidentView
from .releases import ReleaseViewSet
from .timelogs import TimeLogListView

app_name = "devflow-api"

_releases = SimpleRouter()
_releases.register("releases", ReleaseViewSet, basename="release")

urlpatterns: list = [
    *_releases.urls,
    path("tickets/<str:key>/defect/", DefectFromIncidentView.as_view(), name="defect-from-incident"),
    path("time-logs/", TimeLogListView.as_view(), name="time-logs"),
]
