"""Mounted at /api/v1/ by tracker/urls.py, after the ticket API: the development side's endpoints."""

from django.urls import path  # noqa: F401

app_name = "devflow-api"

urlpatterns: list = []
