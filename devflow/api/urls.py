"""Mounted at /api/v1/ by tracker/urls.py, after the ticket API: the development side's endpoints."""

from django.urls import path  # noqa: F401

app_name = "devflow-api"

urlpatterns: list = []

# Defects raised from incidents, and time logs across tickets.
from .defects import DefectFromIncidentView  # noqa: E402
from .timelogs import TimeLogListView  # noqa: E402

urlpatterns += [
    path("tickets/<str:key>/defect/", DefectFromIncidentView.as_view(), name="defect-from-incident"),
    path("time-logs/", TimeLogListView.as_view(), name="time-logs"),
]
