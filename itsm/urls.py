from django.urls import path

from . import views

app_name = "itsm"
K = "<str:key>"

urlpatterns = [
    path("portal/", views.portal, name="portal"),
    path("portal/new/", views.portal_new, name="portal-new"),
    path(f"portal/tickets/{K}/", views.portal_ticket, name="portal-ticket"),
    path(f"portal/tickets/{K}/transition/", views.portal_transition, name="portal-transition"),
    path("kb/", views.kb, name="kb"),
    path("kb/<int:pk>/", views.kb_article, name="kb-article"),
    # the change calendar
    path("changes/calendar/", views.change_calendar, name="calendar"),
    path("changes/calendar.ics", views.calendar_ics, name="calendar-ics"),
    path("changes/calendar/feed/", views.calendar_feed_new, name="calendar-feed-new"),
    path("changes/calendar/feed/delete/", views.calendar_feed_delete, name="calendar-feed-delete"),
    path("changes/calendar/feed/<str:token>.ics", views.calendar_feed, name="calendar-feed"),
    path("changes/blackouts/", views.blackouts, name="blackouts"),
    path("changes/blackouts/<int:pk>/", views.blackout_edit, name="blackout-edit"),
    path("changes/blackouts/<int:pk>/delete/", views.blackout_delete, name="blackout-delete"),
    path(f"tickets/{K}/schedule/", views.change_schedule, name="change-schedule"),
    path(f"tickets/{K}/calendar.ics", views.change_ics, name="change-ics"),
]
