from django.urls import path

from . import views

app_name = "devflow"

urlpatterns = [
    path("", views.queue, name="queue"),
    path("tickets/<str:key>/pick/", views.pick, name="pick"),
    path("tickets/<str:key>/defect/", views.defect_from, name="defect-from"),
]
