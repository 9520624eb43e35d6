from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from . import views

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/", include("tracker.api.urls")),
    path("api/v1/sla/", include("sla.api.urls")),
    path("login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("", views.home, name="home"),
    path("preview/", views.markdown_preview, name="markdown-preview"),
    path("", include("itsm.urls")),
    path("dev/", include("devflow.urls")),
    path("", include("sla.urls")),
]
