from csp.constants import UNSAFE_INLINE
from csp.decorators import csp_update
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerSplitView
from rest_framework.routers import DefaultRouter

from .auth import TokenView
from .views import AttachmentViewSet, PriorityMatrixView, TicketViewSet, UserViewSet

app_name = "api"
swagger_inline_styles = csp_update({"style-src": [UNSAFE_INLINE]})
router = DefaultRouter()
router.register("tickets", TicketViewSet, basename="ticket")
router.register("users", UserViewSet, basename="user")
router.register("attachments", AttachmentViewSet, basename="attachment")

urlpatterns = [
    path("v1/auth/token/", TokenView.as_view(), name="auth-token"),
    path("v1/", include(router.urls)),
    path("v1/priority-matrix/", PriorityMatrixView.as_view({"get": "retrieve", "put": "update"}),
         name="priority-matrix"),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    # The split view serves Swagger UI's start-up script as a file, so the page runs under the CSP.
    # Swagger UI sets inline styles on its own elements: allowed on this page only.
    path("docs/", swagger_inline_styles(SpectacularSwaggerSplitView.as_view(url_name="api:schema")), name="docs"),
    path("redoc/", SpectacularRedocView.as_view(url_name="api:schema"), name="redoc"),
]
