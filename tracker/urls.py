from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from . import views

K = "<str:key>"

# The pages every kind shares (namespace "tracker"); the apps mount theirs below.
pages = [
    path("search/", views.search, name="search"),
    path("queue/", views.queue, name="queue"),
    path("queue/bulk/", views.queue_bulk, name="queue-bulk"),
    path("queue/counts/", views.queue_counts, name="queue-counts"),
    path("queue/pins/", views.queue_pins, name="queue-pins"),
    path("queue/columns/", views.queue_columns, name="queue-columns"),
    path("queue/layout/", views.queue_layout, name="queue-layout"),
    path("queue/views/", views.queue_view_new, name="queue-view-new"),
    path("queue/views/<int:view_id>/delete/", views.queue_view_remove, name="queue-view-delete"),
    path("tickets/new/", views.ticket_new, name="ticket-new"),
    path("tickets/new/priority/", views.priority_preview, name="priority-preview"),
    path("tickets/new/similar/", views.similar_tickets, name="similar"),
    path("tickets/new/requesters/", views.requester_suggestions, name="requester-suggestions"),
    path(f"tickets/{K}/", views.ticket_detail, name="ticket"),
    path(f"tickets/{K}/transition/", views.ticket_transition, name="ticket-transition"),
    path(f"tickets/{K}/fields/<str:name>/", views.ticket_field, name="ticket-field"),
    path(f"tickets/{K}/comment/", views.ticket_comment, name="ticket-comment"),
    path(f"tickets/{K}/macro/", views.ticket_macro, name="ticket-macro"),
    path(f"tickets/{K}/link/", views.ticket_link, name="ticket-link"),
    path(f"tickets/{K}/links/<int:link_id>/delete/", views.ticket_unlink, name="ticket-unlink"),
    path(f"tickets/{K}/assign-me/", views.ticket_assign_me, name="ticket-assign-me"),
    path(f"tickets/{K}/escalate/", views.ticket_escalate, name="ticket-escalate"),
    path(f"tickets/{K}/changes/", views.ticket_changes, name="ticket-changes"),
    path(f"tickets/{K}/preview/", views.ticket_preview, name="ticket-preview"),
    path(f"tickets/{K}/contributors/", views.ticket_invite, name="ticket-invite"),
    path(f"tickets/{K}/contributors/<int:contributor_id>/leave/", views.ticket_leave, name="ticket-leave"),
    path(f"tickets/{K}/help/", views.ticket_help, name="ticket-help"),
    path(f"tickets/{K}/worklogs/", views.ticket_worklog, name="ticket-worklog"),
    path(f"tickets/{K}/attachments/", views.ticket_attach, name="ticket-attach"),
    path("attachments/<int:pk>/remove/", views.attachment_remove, name="attachment-remove"),
    path("attachments/<int:pk>/<str:name>", views.attachment_download, name="attachment"),
]

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/", include("tracker.api.urls")),
    path("api/v1/sla/", include("sla.api.urls")),
    path("api/v1/", include("itsm.api.urls")),
    path("api/v1/", include("devflow.api.urls")),
    path("login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("", views.home, name="home"),
    path("preview/", views.markdown_preview, name="markdown-preview"),
    path("", include((pages, "tracker"))),
    path("", include("itsm.urls")),
    path("dev/", include("devflow.urls")),
    path("", include("sla.urls")),
]
