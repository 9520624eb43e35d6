"""Mounted at /api/v1/changes/ by tracker/urls.py."""

from django.urls import include, path
from rest_framework.routers import DefaultRouter

from .views import ApprovalListView, CabViewSet, TemplateViewSet, VoteView

app_name = "itsm-api"
router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
router.register("cabs", CabViewSet, basename="cab")
router.register("templates", TemplateViewSet, basename="template")
K = r"<str:key>"

urlpatterns = [
    path("", include(router.urls)),
    path(f"{K}/approvals/", ApprovalListView.as_view(), name="approvals"),
    path(f"{K}/approvals/vote/", VoteView.as_view(), name="vote"),
]
