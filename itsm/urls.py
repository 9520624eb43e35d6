from django.urls import path

from . import views

app_name = "itsm"
K = "<str:key>"

urlpatterns = [
    path("queue/", views.queue, name="queue"),
    path("queue/bulk/", views.queue_bulk, name="queue-bulk"),
    path("tickets/new/", views.ticket_new, name="ticket-new"),
    path("tickets/new/priority/", views.priority_preview, name="priority-preview"),
    path("tickets/new/similar/", views.similar_tickets, name="similar"),
    path("tickets/new/requesters/", views.requester_suggestions, name="requester-suggestions"),
    path(f"tickets/{K}/", views.ticket_detail, name="ticket"),
    path(f"tickets/{K}/transition/", views.ticket_transition, name="ticket-transition"),
    path(f"tickets/{K}/fields/<str:name>/", views.ticket_field, name="ticket-field"),
    path(f"tickets/{K}/comment/", views.ticket_comment, name="ticket-comment"),
    path(f"tickets/{K}/link/", views.ticket_link, name="ticket-link"),
    path(f"tickets/{K}/links/<int:link_id>/delete/", views.ticket_unlink, name="ticket-unlink"),
    path(f"tickets/{K}/assign-me/", views.ticket_assign_me, name="ticket-assign-me"),
    path(f"tickets/{K}/escalate/", views.ticket_escalate, name="ticket-escalate"),
    path(f"tickets/{K}/changes/", views.ticket_changes, name="ticket-changes"),
    path("portal/", views.portal, name="portal"),
    path("portal/new/", views.portal_new, name="portal-new"),
    path(f"portal/tickets/{K}/", views.portal_ticket, name="portal-ticket"),
    path(f"portal/tickets/{K}/transition/", views.portal_transition, name="portal-transition"),
    path("kb/", views.kb, name="kb"),
    path("kb/<int:pk>/", views.kb_article, name="kb-article"),
]
