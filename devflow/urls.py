from django.urls import path

from . import backlog, capacity, releases, views
from . import vcs as vcs_pages

app_name = "devflow"

urlpatterns = [
    path("", views.queue, name="queue"),
    path("tickets/<str:key>/pick/", views.pick, name="pick"),
    path("tickets/<str:key>/defect/", views.defect_from, name="defect-from"),
]

# Releases: the list per service, planning one, and one release's page with its steps.

urlpatterns += [
    path("releases/", releases.release_list, name="releases"),
    path("releases/new/", releases.release_new, name="release-new"),
    path("releases/<int:pk>/", releases.release_page, name="release"),
    path("releases/<int:pk>/edit/", releases.release_edit, name="release-edit"),
    path("releases/<int:pk>/preview/", releases.release_preview, name="release-preview"),
    path("releases/<int:pk>/assemble/", releases.release_assemble, name="release-assemble"),
    path("releases/<int:pk>/tickets/", releases.release_add, name="release-add"),
    path("releases/<int:pk>/tickets/<str:key>/remove/", releases.release_remove, name="release-remove"),
    path("releases/<int:pk>/<str:step>/", releases.release_step, name="release-step"),
    path("tickets/<str:key>/release/", releases.ticket_add_to_release, name="ticket-add-to-release"),
]

# Defects, team backlog, time logging and support capacity.

urlpatterns += [
    path("teams/", capacity.teams, name="teams"),
    path("teams/<int:group_id>/backlog/", backlog.backlog, name="backlog"),
    path("teams/<int:group_id>/backlog/move/", backlog.backlog_reorder, name="backlog-move"),
    path("teams/<int:group_id>/capacity/", capacity.capacity, name="capacity"),
    path("teams/<int:group_id>/capacity.csv", capacity.capacity_csv, name="capacity-csv"),
    path("teams/<int:group_id>/capacity/decisions/", capacity.capacity_decide, name="capacity-decide"),
]

# VCS: the repositories that send code to the tracker (administrators manage them).

urlpatterns += [
    path("repositories/", vcs_pages.repositories, name="repositories"),
    path("repositories/<int:pk>/", vcs_pages.repository_edit, name="repository-edit"),
    path("repositories/<int:pk>/secret/", vcs_pages.repository_secret, name="repository-secret"),
]
