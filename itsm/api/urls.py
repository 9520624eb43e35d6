"""Mounted at /api/v1/itsm/ by tracker/urls.py."""

from django.urls import include, path
from rest_framework.routers import DefaultRouter

from .views import BlackoutViewSet, CalendarView, ChangeScheduleView

app_name = "itsm-api"
router = DefaultRouter()
router.register("blackouts", BlackoutViewSet, basename="blackout")

urlpatterns = [
    path("", include(router.urls)),
    path("changes/<str:key>/schedule/", ChangeScheduleView.as_view(), name="change-schedule"),
    path("calendar/", CalendarView.as_view(), name="calendar"),
]
