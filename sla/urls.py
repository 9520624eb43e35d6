from django.urls import path

from . import views

app_name = "sla"

urlpatterns = [
    path("dashboard/", views.dashboard, name="dashboard"),
    path("notifications/", views.notifications, name="notifications"),
    path("notifications/read/", views.notifications_read, name="notifications-read"),
    path("notifications/preferences/", views.notification_preferences, name="notification-preferences"),
]

# Outbound webhooks (administrators and managers).
from . import webhooks  # noqa: E402 - the webhooks block

urlpatterns += [
    path("settings/webhooks/", webhooks.webhooks, name="webhooks"),
    path("settings/webhooks/new/", webhooks.webhook_form, name="webhook-new"),
    path("settings/webhooks/<int:pk>/edit/", webhooks.webhook_form, name="webhook-edit"),
    path("settings/webhooks/<int:pk>/", webhooks.webhook_log, name="webhook-log"),
    path("settings/webhooks/deliveries/<int:pk>/redeliver/", webhooks.webhook_redeliver, name="webhook-redeliver"),
]
