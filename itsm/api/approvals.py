"""The change-enablement API: CABs and standard-change templates (the change manager writes, staff read), standard
changes made from a template, and a change's approval rounds and votes. Every write calls one domain function."""

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import BasePermission
from rest_framework.response import Response
from rest_framework.views import APIView

from tracker import access
from tracker import selectors as core_selectors
from tracker.api.serializers import TicketSerializer
from tracker.errors import AccessDenied

from .. import selectors, services
from ..models import Cab, ChangeTemplate
from .serializers import (
    CabSerializer,
    CabUpdateSerializer,
    CabWriteSerializer,
    RoundSerializer,
    StandardChangeSerializer,
    TemplateDetailSerializer,
    TemplateSerializer,
    TemplateUpdateSerializer,
    TemplateWriteSerializer,
    VoteResultSerializer,
    VoteSerializer,
)


class StaffOnly(BasePermission):
    """CABs and templates are read by staff; the domain functions decide who writes (the change manager)."""

    def has_permission(self, request, view):
        if not access.is_staff_member(request.user):
            raise AccessDenied("Change setup is for staff.")
        return True


class CabViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Change advisory boards: who approves the changes of which service, by which rule."""

    serializer_class = CabSerializer
    pagination_class = None
    permission_classes = [StaffOnly]
    queryset = Cab.objects.none()  # the schema's model; get_queryset() answers

    def get_queryset(self):
        return Cab.objects.select_related("service").prefetch_related("members").order_by("emergency", "name")

    @extend_schema(request=CabWriteSerializer, responses={201: CabSerializer})
    def create(self, request):
        serializer = CabWriteSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        cab = services.cab_save(actor=request.user, **serializer.validated_data)
        return Response(CabSerializer(self.get_queryset().get(pk=cab.pk)).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=CabUpdateSerializer, responses={200: CabSerializer})
    def partial_update(self, request, pk=None):
        cab = self.get_object()
        serializer = CabUpdateSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        values = {"name": cab.name, "service": cab.service, "emergency": cab.emergency, "rule": cab.rule,
                  "quorum": cab.quorum, "members": list(cab.members.all()), "active": cab.active,
                  **serializer.validated_data}
        services.cab_save(actor=request.user, cab=cab, **values)
        return Response(CabSerializer(self.get_queryset().get(pk=cab.pk)).data)


class TemplateViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Standard-change templates: pre-approved, versioned; `?retired=true` lists the retired ones."""

    pagination_class = None
    permission_classes = [StaffOnly]
    queryset = ChangeTemplate.objects.none()  # the schema's model; get_queryset() answers

    def get_queryset(self):
        qs = ChangeTemplate.objects.select_related("service")
        if self.action == "list":
            return qs.filter(retired_at__isnull=self.request.query_params.get("retired") not in ("true", "1"))
        return qs.prefetch_related("versions__service", "versions__created_by")

    def get_serializer_class(self):
        return TemplateSerializer if self.action == "list" else TemplateDetailSerializer

    @extend_schema(parameters=[OpenApiParameter("retired", bool, description="List the retired templates.")])
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    @extend_schema(request=TemplateWriteSerializer, responses={201: TemplateDetailSerializer})
    def create(self, request):
        serializer = TemplateWriteSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        template = services.template_create(actor=request.user, **serializer.validated_data)
        return Response(self._detail(template), status=status.HTTP_201_CREATED)

    @extend_schema(request=TemplateUpdateSerializer, responses={200: TemplateDetailSerializer})
    def partial_update(self, request, pk=None):
        """Edit the template: a new version (the changes already made keep theirs)."""
        template = self.get_object()
        serializer = TemplateUpdateSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        changes = dict(serializer.validated_data)
        note = changes.pop("note", "")
        services.template_update(actor=request.user, template=template, changes=changes, note=note)
        return Response(self._detail(template))

    @extend_schema(request=None, responses={200: TemplateDetailSerializer})
    @action(detail=True, methods=["post"])
    def retire(self, request, pk=None):
        """Retire the template: it makes no new change."""
        template = self.get_object()
        services.template_retire(actor=request.user, template=template)
        return Response(self._detail(template))

    @extend_schema(request=StandardChangeSerializer, responses={201: TicketSerializer})
    @action(detail=True, methods=["post"])
    def changes(self, request, pk=None):
        """Raise a standard change from the template's current version (pre-approved: no CAB)."""
        template = self.get_object()
        serializer = StandardChangeSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        ticket = services.standard_change_create(template=template, actor=request.user, **serializer.validated_data)
        data = TicketSerializer(core_selectors.ticket_with_clocks(ticket), context={"request": request}).data
        return Response(data, status=status.HTTP_201_CREATED, headers={
            "Location": request.build_absolute_uri(f"/api/v1/tickets/{ticket.key}/"), "ETag": ticket.etag})

    def _detail(self, template):
        return TemplateDetailSerializer(self.get_queryset().get(pk=template.pk)).data


class ApprovalListView(APIView):
    """A change's approval rounds, newest first: the board, its rule, each approver's vote and the outcome."""

    @extend_schema(responses={200: RoundSerializer(many=True)})
    def get(self, request, key):
        ticket = core_selectors.ticket_for_user(request.user, key)
        return Response(RoundSerializer(selectors.change_rounds(ticket), many=True).data)


class VoteView(APIView):
    """Vote on the change's open round: approved, rejected or changes_requested (the last two need a comment).
    The vote that decides the round under its CAB's rule moves the change."""

    @extend_schema(request=VoteSerializer, responses={200: VoteResultSerializer})
    def post(self, request, key):
        ticket = core_selectors.ticket_for_user(request.user, key)
        serializer = VoteSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        approval = services.approval_vote(ticket=ticket, actor=request.user, **serializer.validated_data)
        ticket.refresh_from_db(fields=["status", "version"])
        voted = next(r for r in selectors.change_rounds(ticket) if r.pk == approval.round_id)
        return Response({"round": RoundSerializer(voted).data, "status": ticket.status, "version": ticket.version})


