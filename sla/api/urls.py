"""Mounted at /api/v1/sla/ by tracker/urls.py."""

from django.urls import include, path
from rest_framework.routers import DefaultRouter

from .views import CalendarViewSet, ClockViewSet, HeartbeatView, NotificationViewSet, PolicyViewSet

app_name = "sla-api"
router = DefaultRouter()
router.register("policies", PolicyViewSet, basename="policy")
router.register("calendars", CalendarViewSet, basename="calendar")
router.register("clocks", ClockViewSet, basename="clock")
router.register("notifications", NotificationViewSet, basename="notification")

from .webhooks import WebhookDeliveryViewSet, WebhookSubscriptionViewSet  # noqa: E402 - the webhooks block

router.register("webhooks/subscriptions", WebhookSubscriptionViewSet, basename="webhook-subscription")
router.register("webhooks/deliveries", WebhookDeliveryViewSet, basename="webhook-delivery")

urlpatterns = [
    path("", include(router.urls)),
    path("heartbeat/", HeartbeatView.as_view(), name="heartbeat"),
]
