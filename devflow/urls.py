from django.urls import path

from . import views

app_name = "devflow"

urlpatterns = [
    path("", views.queue, name="queue"),
    path("tickets/<str:key>/pick/", views.pick, name="pick"),
    path("tickets/<str:key>/defect/", views.defect_from, name="defect-from"),
]

# Defects, team backlog, time logging and support capacity.
from . import backlog, capacity  # noqa: E402

urlpatterns += [
    path("teams/", capacity.teams, name="teams"),
    path("teams/<int:group_id>/backlog/", backlog.backlog, name="backlog"),
    path("teams/<int:group_id>/backlog/move/", backlog.backlog_reorder, name="backlog-move"),
    path("teams/<int:group_id>/capacity/", capacity.capacity, name="capacity"),
    path("teams/<int:group_id>/capacity.csv", capacity.capacity_csv, name="capacity-csv"),
    path("teams/<int:group_id>/capacity/decisions/", capacity.capacity_decide, name="capacity-decide"),
    path("tickets/<str:key>/time/", capacity.log_time, name="log-time"),
]
