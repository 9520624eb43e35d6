"""The SLA API: policies and calendars (admins write, staff read), clocks, notifications, liveness."""

from django.db import transaction
from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.metadata import SimpleMetadata
from rest_framework.permissions import BasePermission
from rest_framework.response import Response
from rest_framework.views import APIView

from tracker import access
from tracker.choices import Role
from tracker.errors import AccessDenied, ValidationFailed

from .. import selectors, services
from ..choices import ClockState, NotificationKind
from ..models import Holiday, Notification, TierTarget, WorkingHours
from .serializers import (
    CalendarSerializer,
    ClockSerializer,
    HolidayImportSerializer,
    MarkReadSerializer,
    NotificationSerializer,
    PolicySerializer,
    PreferenceSerializer,
)


class StaffReadAdminWrite(BasePermission):
    def has_permission(self, request, view):
        role = access.role_of(request.user)
        if role is None or role == Role.REQUESTER:
            raise AccessDenied("SLA configuration is for staff.")
        if request.method not in ("GET", "HEAD", "OPTIONS") and not access.may(request.user, "configure"):
            raise AccessDenied("Only administrators may change SLA calendars and policies.")
        return True


class _CrudViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    permission_classes = [StaffReadAdminWrite]
    pagination_class = None


class CalendarViewSet(_CrudViewSet):
    serializer_class = CalendarSerializer

    def get_queryset(self):
        return selectors.calendar_list()

    @transaction.atomic
    def perform_create(self, serializer):
        hours = serializer.validated_data.pop("hours", [])
        holidays = serializer.validated_data.pop("holidays", [])
        calendar = serializer.save()
        WorkingHours.objects.bulk_create([WorkingHours(calendar=calendar, **h) for h in hours])
        Holiday.objects.bulk_create([Holiday(calendar=calendar, **h) for h in holidays])
        services.calendar_require_open(calendar=calendar)  # refused: the transaction rolls back

    @transaction.atomic
    def perform_update(self, serializer):
        hours = serializer.validated_data.pop("hours", None)
        holidays = serializer.validated_data.pop("holidays", None)
        calendar = serializer.save()
        if hours is not None:
            calendar.hours.all().delete()
            WorkingHours.objects.bulk_create([WorkingHours(calendar=calendar, **h) for h in hours])
        if holidays is not None:
            calendar.holidays.all().delete()
            Holiday.objects.bulk_create([Holiday(calendar=calendar, **h) for h in holidays])
        services.calendar_changed(calendar=calendar, actor=self.request.user)

    def perform_destroy(self, instance):
        services.calendar_delete(calendar=instance, actor=self.request.user)

    @extend_schema(request=HolidayImportSerializer, responses={200: CalendarSerializer})
    @action(detail=True, methods=["post"], url_path="import-holidays")
    def import_holidays(self, request, pk=None):
        """Add a country's public holidays (from the `holidays` package) for the given years."""
        calendar = self.get_object()
        serializer = HolidayImportSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.calendar_import_holidays(calendar=calendar, actor=request.user, **serializer.validated_data)
        services.calendar_changed(calendar=calendar, actor=request.user)
        return Response(CalendarSerializer(selectors.calendar_list().get(pk=calendar.pk)).data)


class PolicyViewSet(_CrudViewSet):
    serializer_class = PolicySerializer

    def get_queryset(self):
        return selectors.policy_list()

    @transaction.atomic
    def perform_create(self, serializer):
        targets = serializer.validated_data.pop("tier_targets", [])
        policy = serializer.save()
        TierTarget.objects.bulk_create([TierTarget(policy=policy, **t) for t in targets])
        services.policy_require_open_calendar(policy=policy)  # refused: the transaction rolls back

    @transaction.atomic
    def perform_update(self, serializer):
        targets = serializer.validated_data.pop("tier_targets", None)
        policy = serializer.save()
        if targets is not None:
            policy.tier_targets.all().delete()
            TierTarget.objects.bulk_create([TierTarget(policy=policy, **t) for t in targets])
        services.policy_saved(policy=policy, actor=self.request.user)

    def perform_destroy(self, instance):
        services.policy_delete(policy=instance, actor=self.request.user)


class ClockViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """Clocks of one ticket (`?ticket=INC-1`) or of every ticket you may see, with business-time figures."""

    serializer_class = ClockSerializer

    def get_queryset(self):
        params = self.request.query_params
        ticket, state, breached = params.get("ticket"), params.get("state"), params.get("breached")
        if ticket and "\x00" in ticket:
            raise ValidationFailed("ticket: give a ticket key such as INC-1.", fields={"ticket": ["Not a key."]})
        if state and state not in ClockState.values:
            raise ValidationFailed(f"state: use one of {', '.join(ClockState.values)}.",
                                   fields={"state": ["Unknown state."]})
        if breached and breached not in ("true", "false", "1", "0"):
            raise ValidationFailed("breached: use true or false.", fields={"breached": ["Not a boolean."]})
        qs = selectors.clock_list(user=self.request.user, ticket_key=ticket)
        if state:
            qs = qs.filter(state=state)
        if breached in ("true", "1"):
            qs = qs.filter(breached=True)
        return qs

    def get_serializer_context(self):
        return {**super().get_serializer_context(), "now": timezone.now()}

    @extend_schema(
        parameters=[
            OpenApiParameter("ticket", str, description="A ticket key, e.g. INC-1."),
            OpenApiParameter("state", str, enum=ClockState.values),
            OpenApiParameter("breached", bool),
        ]
    )
    def list(self, request, *args, **kwargs):
        if "ticket" in request.query_params:
            return Response(self.get_serializer(self.get_queryset(), many=True).data)
        return super().list(request, *args, **kwargs)

    @property
    def paginator(self):
        from rest_framework.pagination import CursorPagination

        if not hasattr(self, "_paginator"):
            self._paginator = CursorPagination()
            self._paginator.ordering = ("-id",)
            self._paginator.page_size_query_param = "page_size"
            self._paginator.max_page_size = 200
        return self._paginator


class _PreferencesMetadata(SimpleMetadata):
    """OPTIONS on the preferences list: describe the PUT rows (DRF's default looks up one object by pk)."""

    def determine_actions(self, request, view):
        return {"PUT": self.get_serializer_info(PreferenceSerializer())}


class NotificationViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """Your in-app notifications, newest first; `?unread=true` for the bell's list."""

    serializer_class = NotificationSerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # the schema generator has no user
            return Notification.objects.none()
        unread = self.request.query_params.get("unread") in ("true", "1")
        return selectors.notification_list(user=self.request.user, unread_only=unread)

    @property
    def paginator(self):
        from rest_framework.pagination import CursorPagination

        if not hasattr(self, "_paginator"):
            self._paginator = CursorPagination()
            self._paginator.ordering = ("-created_at", "-id")
            self._paginator.page_size_query_param = "page_size"
            self._paginator.max_page_size = 200
        return self._paginator

    @extend_schema(request=None, responses={200: None})
    @action(detail=False, methods=["get"], url_path="unread-count")
    def unread_count(self, request):
        return Response({"unread": selectors.unread_count(request.user)})

    @extend_schema(request=MarkReadSerializer, responses={200: None})
    @action(detail=False, methods=["post"], url_path="read")
    def mark_read(self, request):
        """Mark the given notifications (or all unread ones) read."""
        serializer = MarkReadSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        changed = services.notification_mark_read(user=request.user, ids=serializer.validated_data.get("ids"))
        return Response({"marked": changed, "unread": selectors.unread_count(request.user)})

    @extend_schema(request=PreferenceSerializer(many=True), responses={200: PreferenceSerializer(many=True)})
    @action(detail=False, methods=["get", "put"], pagination_class=None, metadata_class=_PreferencesMetadata)
    def preferences(self, request):
        """Email and in-app on/off per kind; kinds without a row are on."""
        if request.method == "PUT":
            serializer = PreferenceSerializer(data=request.data, many=True)
            serializer.is_valid(raise_exception=True)
            with transaction.atomic():
                for row in serializer.validated_data:
                    services.preference_set(user=request.user, **row)
        stored = {p.kind: p for p in request.user.notification_preferences.all()}
        rows = [
            {
                "kind": k,
                "email": stored[k].email if k in stored else True,
                "in_app": stored[k].in_app if k in stored else True,
            }
            for k in NotificationKind.values
        ]
        return Response(rows, status=status.HTTP_200_OK)


class HeartbeatView(APIView):
    """Liveness of the SLA sweep, the outbox relay and the webhook relay (stale = older than three periods)."""

    @extend_schema(responses={200: None})
    def get(self, request):
        if not access.is_staff_member(request.user):
            raise AccessDenied("Liveness is for staff.")
        rows = selectors.heartbeats()
        return Response({"ok": not any(r["stale"] for r in rows), "jobs": rows})
