"""The repositories that send webhooks: `/api/v1/repositories/`. Staff read them; administrators register,
edit and give them a new secret. A secret is returned once, by the create and by `regenerate-secret/`, never
by a read."""

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.response import Response

from tracker import access
from tracker.errors import NotFound
from tracker.models import AssignmentGroup, Service

from ..models import Repository
from ..services import vcs


class StaffOnly(BasePermission):
    message = "Repositories are for staff."

    def has_permission(self, request, view):
        return access.is_staff_member(request.user)


class RepositorySerializer(serializers.ModelSerializer):
    service = serializers.PrimaryKeyRelatedField(queryset=Service.objects.all(), required=False, allow_null=True)
    team = serializers.PrimaryKeyRelatedField(queryset=AssignmentGroup.objects.all(), required=False,
                                              allow_null=True)
    webhook_url = serializers.SerializerMethodField(help_text="Where the provider sends its deliveries.")

    class Meta:
        model = Repository
        fields = ["id", "name", "provider", "url", "service", "team", "active", "created_at", "webhook_url"]
        read_only_fields = ["id", "created_at", "webhook_url"]
        extra_kwargs = {"name": {"validators": []}}  # uniqueness is the domain function's, with its message

    def get_webhook_url(self, repo) -> str:
        path = f"/api/v1/vcs/{repo.pk}/webhook/"
        request = self.context.get("request")
        return request.build_absolute_uri(path) if request else path


class RepositoryUpdateSerializer(RepositorySerializer):
    class Meta(RepositorySerializer.Meta):
        extra_kwargs = {"name": {"validators": [], "required": False},
                        "provider": {"required": False}}


class RepositoryWithSecretSerializer(RepositorySerializer):
    secret = serializers.CharField(read_only=True, help_text="The webhook secret: shown this once.")

    class Meta(RepositorySerializer.Meta):
        fields = [*RepositorySerializer.Meta.fields, "secret"]
        read_only_fields = fields


class RepositoryViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Registered repositories; writes are for administrators."""

    permission_classes = [IsAuthenticated, StaffOnly]
    serializer_class = RepositorySerializer
    queryset = Repository.objects.all()
    pagination_class = None
    filterset_class = None

    def get_object(self):
        pk = self.kwargs["pk"]
        repo = Repository.objects.filter(pk=int(pk)).first() if str(pk).isdigit() else None
        if repo is None:
            raise NotFound(f"No repository {pk}.")
        return repo

    @extend_schema(request=RepositorySerializer, responses={201: RepositoryWithSecretSerializer})
    def create(self, request):
        data = RepositorySerializer(data=request.data)
        data.is_valid(raise_exception=True)
        repo = vcs.repository_create(actor=request.user, **data.validated_data)
        return Response(RepositoryWithSecretSerializer(repo, context={"request": request}).data,
                        status=status.HTTP_201_CREATED)

    @extend_schema(request=RepositoryUpdateSerializer, responses={200: RepositorySerializer})
    def partial_update(self, request, pk=None):
        repo = self.get_object()
        data = RepositoryUpdateSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        values = {"name": repo.name, "provider": repo.provider, "url": repo.url, "service": repo.service,
                  "team": repo.team, "active": repo.active, **data.validated_data}
        vcs.repository_update(repository=repo, actor=request.user, **values)
        return Response(RepositorySerializer(repo, context={"request": request}).data)

    @extend_schema(request=None, responses={200: RepositoryWithSecretSerializer})
    @action(detail=True, methods=["post"], url_path="regenerate-secret")
    def regenerate_secret(self, request, pk=None):
        """A new webhook secret, returned this once; the old one stops working at once."""
        repo = self.get_object()
        vcs.repository_regenerate_secret(repository=repo, actor=request.user)
        return Response(RepositoryWithSecretSerializer(repo, context={"request": request}).data)
