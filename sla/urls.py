from django.urls import path

from . import views

app_name = "sla"

urlpatterns = [
    path("dashboard/", views.dashboard, name="dashboard"),
    path("notifications/", views.notifications, name="notifications"),
    path("notifications/read/", views.notifications_read, name="notifications-read"),
    path("notifications/preferences/", views.notification_preferences, name="notification-preferences"),
]
