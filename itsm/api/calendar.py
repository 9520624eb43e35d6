"""The change-calendar API: blackouts (staff read, change managers write), a change's schedule (read, and set or
move the window, with an override of a blackout by a change manager), and the calendar of a period. Every write
calls one domain function of itsm.services."""


from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from tracker import access
from tracker import selectors as core
from tracker.api.views import if_match
from tracker.errors import AccessDenied

from .. import selectors, services
from ..models import Blackout
from .serializers import (
    BlackoutSerializer,
    BlackoutUpdateSerializer,
    BlackoutWriteSerializer,
    ChangeCalendarQuerySerializer,
    ChangeCalendarSerializer,
    ChangeScheduleSerializer,
    ChangeScheduleWriteSerializer,
)

IF_MATCH = OpenApiParameter("If-Match", OpenApiTypes.STR, OpenApiParameter.HEADER, required=False,
                            description='The ticket\'s ETag (e.g. "3"); when sent, a stale one answers 412.')


class StaffOnly(BasePermission):
    def has_permission(self, request, view):
        if not access.is_staff_member(request.user):
            raise AccessDenied("The change calendar is for staff.")
        return True


class BlackoutViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Blackout windows: staff read them; change managers add, change and remove them."""

    permission_classes = [IsAuthenticated, StaffOnly]
    serializer_class = BlackoutSerializer
    pagination_class = None
    queryset = Blackout.objects.none()  # for the schema; get_queryset answers

    def get_queryset(self):
        return Blackout.objects.select_related("service", "created_by").order_by("starts_at", "id")

    def get_serializer_context(self):
        return {**super().get_serializer_context(), "now": timezone.now()}

    def _answer(self, blackout, code=status.HTTP_200_OK):
        return Response(BlackoutSerializer(blackout, context=self.get_serializer_context()).data, status=code)

    @extend_schema(request=BlackoutWriteSerializer, responses={201: BlackoutSerializer})
    def create(self, request):
        serializer = BlackoutWriteSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        blackout = services.blackout_create(actor=request.user, **serializer.validated_data)
        return self._answer(blackout, status.HTTP_201_CREATED)

    @extend_schema(request=BlackoutUpdateSerializer, responses={200: BlackoutSerializer})
    def partial_update(self, request, pk=None):
        blackout = self.get_object()
        serializer = BlackoutUpdateSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        services.blackout_update(blackout=blackout, actor=request.user, **serializer.validated_data)
        return self._answer(blackout)

    @extend_schema(request=None, responses={204: None})
    def destroy(self, request, pk=None):
        services.blackout_delete(blackout=self.get_object(), actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class ChangeScheduleView(APIView):
    """A change's window, the changes it collides with, the blackouts it falls into and the overrides recorded."""

    permission_classes = [IsAuthenticated, StaffOnly]

    def _answer(self, request, key):
        ticket = core.ticket_for_user(request.user, key)
        schedule = selectors.change_schedule(ticket=ticket, user=request.user)
        data = {"key": ticket.key, "version": ticket.version, "window_start": schedule.start,
                "window_end": schedule.end, "collisions": schedule.collisions, "blackouts": schedule.hits,
                "overrides": schedule.overrides}
        response = Response(ChangeScheduleSerializer(data).data)
        response["ETag"] = ticket.etag
        return response

    @extend_schema(responses={200: ChangeScheduleSerializer})
    def get(self, request, key):
        return self._answer(request, key)

    @extend_schema(request=ChangeScheduleWriteSerializer, responses={200: ChangeScheduleSerializer},
                   parameters=[IF_MATCH])
    def post(self, request, key):
        """Set, move or clear (both null) the window. A window in a blackout is refused (409, code `blackout`)
        unless a change manager sends `override_reason`; anyone else's override is a 403."""
        ticket = core.ticket_for_user(request.user, key)
        serializer = ChangeScheduleWriteSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        values = serializer.validated_data
        services.change_schedule(ticket=ticket, actor=request.user, start=values["window_start"],
                                 end=values["window_end"], override_reason=values.get("override_reason", ""),
                                 version=if_match(request, required=False))
        return self._answer(request, key)


class CalendarView(APIView):
    """Scheduled changes of a period (at most 92 days), each with its collisions and the blackouts it falls into,
    and the blackout occurrences of the period."""

    permission_classes = [IsAuthenticated, StaffOnly]

    @extend_schema(parameters=[ChangeCalendarQuerySerializer], responses={200: ChangeCalendarSerializer})
    def get(self, request):
        query = ChangeCalendarQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        start, end = query.validated_data["start"], query.validated_data["end"]
        service = query.validated_data.get("service")
        data = selectors.calendar(user=request.user, start=start, end=end, service_id=service.pk if service else None)
        return Response(ChangeCalendarSerializer(data).data)
