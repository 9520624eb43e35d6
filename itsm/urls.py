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
]
