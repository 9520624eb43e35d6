from django.urls import path

from . import views

app_name = "devflow"

urlpatterns = [
    path("", views.queue, name="queue"),
    path("tickets/<str:key>/pick/", views.pick, name="pick"),
    path("tickets/<str:key>/defect/", views.defect_from, name="defect-from"),
]

# VCS: the repositories that send code to the tracker (administrators manage them).
from . import vcs as vcs_pages  # noqa: E402

urlpatterns += [
    path("repositories/", vcs_pages.repositories, name="repositories"),
    path("repositories/<int:pk>/", vcs_pages.repository_edit, name="repository-edit"),
    path("repositories/<int:pk>/secret/", vcs_pages.repository_secret, name="repository-secret"),
]
