"""A defect raised from an incident or problem: `POST /api/v1/tickets/<key>/defect/` (staff who may link it)."""

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from tracker import access, selectors
from tracker.api.serializers import TicketSerializer
from tracker.choices import Severity
from tracker.errors import AccessDenied

from .. import services

KEY = OpenApiParameter("key", str, OpenApiParameter.PATH, description="The incident's or problem's key, e.g. INC-12.")


class DefectFromIncidentSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=200, required=False, allow_blank=True, default="",
                                  help_text="Empty: the incident's title.")
    severity = serializers.ChoiceField(choices=Severity.choices, required=False, allow_blank=True, default="",
                                       help_text="Chosen: the defect starts triaged. Empty: from the incident's "
                                                 "priority, and it starts new.")
    component = serializers.CharField(max_length=80, required=False, allow_blank=True, default="")
    affected_version = serializers.CharField(max_length=40, required=False, allow_blank=True, default="")


@extend_schema(parameters=[KEY])
class DefectFromIncidentView(APIView):
    @extend_schema(request=DefectFromIncidentSerializer, responses={201: TicketSerializer})
    def post(self, request, key=None):
        """Raise a defect for the incident's development team, linked `incident fixed_by defect`; the caller is
        its requester and, in that team, its assignee; its priority (and SLA) come from its severity."""
        if not access.is_staff_member(request.user):
            raise AccessDenied("Only staff raise defects.")
        incident = selectors.ticket_for_user(request.user, key)
        body = DefectFromIncidentSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        defect = services.defect_from_incident(incident=incident, actor=request.user, **body.validated_data)
        data = TicketSerializer(selectors.ticket_for_user(request.user, defect.key), context={"request": request}).data
        return Response(data, status=status.HTTP_201_CREATED)
