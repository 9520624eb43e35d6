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

# Intake mailboxes (administrators) and held & quarantined mail (administrators and managers).
from . import mail_pages  # noqa: E402 - the email channel's block

urlpatterns += [
    path("settings/mailboxes/", mail_pages.mailboxes, name="mailboxes"),
    path("settings/mailboxes/new/", mail_pages.mailbox_form, name="mailbox-new"),
    path("settings/mailboxes/<int:pk>/edit/", mail_pages.mailbox_form, name="mailbox-edit"),
    path("settings/mailboxes/<int:pk>/check/", mail_pages.mailbox_check_view, name="mailbox-check"),
    path("settings/mailboxes/<int:pk>/poll/", mail_pages.mailbox_poll_view, name="mailbox-poll"),
    path("settings/mail/", mail_pages.mail_review, name="mail-review"),
    path("settings/mail/<int:pk>/", mail_pages.mail_detail, name="mail-detail"),
    path("settings/mail/<int:pk>/raw/", mail_pages.mail_raw, name="mail-raw"),
    path("settings/mail/<int:pk>/<slug:action>/", mail_pages.mail_action, name="mail-action"),
]
