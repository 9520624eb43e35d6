"""Mounted at /api/v1/ by tracker/urls.py, after the ticket API: a change's tasks and rollbacks live under
its key (`/api/v1/tickets/CHG-12/tasks/2/report/`)."""
from django.urls import path

from .views import ChangeRatesViewSet, ChangeTaskViewSet, MyTaskViewSet, RollbackViewSet

app_name = "itsm-api"
K = "tickets/<str:key>"
T = f"{K}/tasks/<int:number>"

urlpatterns = [
    path(f"{K}/tasks/", ChangeTaskViewSet.as_view({"get": "list", "post": "create"}), name="task-list"),
    path(f"{T}/", ChangeTaskViewSet.as_view({"get": "retrieve", "patch": "partial_update"}), name="task-detail"),
    path(f"{T}/report/", ChangeTaskViewSet.as_view({"post": "report"}), name="task-report"),
    path(f"{T}/handoff/", ChangeTaskViewSet.as_view({"post": "handoff"}), name="task-handoff"),
    path(f"{K}/rollbacks/", RollbackViewSet.as_view({"get": "list", "post": "create"}), name="rollback-list"),
    path("change-tasks/", MyTaskViewSet.as_view({"get": "list"}), name="my-tasks"),
    path("changes/rates/", ChangeRatesViewSet.as_view({"get": "list"}), name="change-rates"),
]
