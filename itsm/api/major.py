"""The major-incident API, under the incident's key: declare it (`POST /api/v1/tickets/INC-7/major/`), read its
state (`GET`), link children (`POST .../major/children/`) and resolve it with the children chosen
(`POST .../major/resolve/`). Every write validates its shape, then calls one domain function."""

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from tracker import access, selectors
from tracker.choices import EventKind
from tracker.errors import AccessDenied, NotFound
from tracker.models import TicketEvent

from .. import services

KEY = OpenApiParameter("key", str, OpenApiParameter.PATH, description="The incident's key, e.g. INC-7.")
KEYS = serializers.ListField(child=serializers.CharField(max_length=20), max_length=500,
                             help_text="Incident keys, e.g. [\"INC-8\", \"INC-9\"].")


class DeclareSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=2000, allow_blank=True,
                                   help_text="Why it is major: who is hit, what is down.")


class ChildrenSerializer(serializers.Serializer):
    children = KEYS


class ResolveSerializer(serializers.Serializer):
    note = serializers.CharField(max_length=8000, allow_blank=True,
                                 help_text="The resolution note of the major incident and of every child resolved, "
                                           "and a public reply to each child's requester.")
    children = serializers.ListField(child=serializers.CharField(max_length=20), max_length=500, required=False,
                                     default=list, help_text="The open children to resolve with it; the others stay "
                                                             "open. None when left out.")


class ChildSerializer(serializers.Serializer):
    key = serializers.CharField()
    title = serializers.CharField()
    status = serializers.CharField()
    requester = serializers.CharField(source="requester.username", allow_null=True)


class MajorSerializer(serializers.Serializer):
    key = serializers.CharField(source="ticket.key")
    status = serializers.CharField(source="ticket.status")
    reason = serializers.CharField()
    declared_by = serializers.CharField(source="declared_by.username", allow_null=True)
    declared_at = serializers.DateTimeField()
    ended_at = serializers.DateTimeField(allow_null=True)
    told = serializers.ListField(child=serializers.CharField(), help_text="Who was told when it was declared.")
    children = ChildSerializer(many=True)


def _incident(request, key):
    if not access.is_staff_member(request.user):
        raise AccessDenied("Major incidents are for staff.")
    return selectors.ticket_for_user(request.user, key)


def _state(ticket) -> dict:
    major = services.major_of(ticket)
    if major is None:
        raise NotFound(f"{ticket.key} is not a major incident; declare it with POST to this address.")
    note = (TicketEvent.objects.filter(ticket=ticket, kind=EventKind.MAJOR, field="declared")
            .values_list("note", flat=True).first() or "")
    told = [n.strip() for n in note.partition("Told: ")[2].rstrip(".").split(",") if n.strip()]
    return MajorSerializer({"ticket": ticket, "reason": major.reason, "declared_by": major.declared_by,
                            "declared_at": major.declared_at, "ended_at": major.ended_at, "told": told,
                            "children": services.major_children(ticket)}).data


@extend_schema(parameters=[KEY])
class MajorView(APIView):
    """A major incident: its reason, who declared it and who was told, and its children with their status."""

    @extend_schema(responses={200: MajorSerializer})
    def get(self, request, key):
        return Response(_state(_incident(request, key)))

    @extend_schema(request=DeclareSerializer, responses={201: MajorSerializer})
    def post(self, request, key):
        """Declare the incident major (open, P1, with a reason); the incident managers and the service's owners
        are told at once."""
        ticket = _incident(request, key)
        data = DeclareSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.major_declare(ticket=ticket, actor=request.user, **data.validated_data)
        return Response(_state(ticket), status=status.HTTP_201_CREATED)


@extend_schema(parameters=[KEY])
class MajorChildrenView(APIView):
    @extend_schema(request=ChildrenSerializer, responses={200: MajorSerializer})
    def post(self, request, key):
        """Link open incidents as children of the major incident, all or none."""
        ticket = _incident(request, key)
        data = ChildrenSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        children = services.major_children_by_keys(user=request.user, keys=data.validated_data["children"])
        services.major_link_children(major_ticket=ticket, children=children, actor=request.user)
        return Response(_state(ticket))


@extend_schema(parameters=[KEY])
class MajorResolveView(APIView):
    @extend_schema(request=ResolveSerializer, responses={200: MajorSerializer})
    def post(self, request, key):
        """Resolve the major incident and exactly the children named, with one note; ends the major incident."""
        ticket = _incident(request, key)
        data = ResolveSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        keys = data.validated_data["children"]
        children = services.major_children_by_keys(user=request.user, keys=keys) if keys else []
        services.major_resolve(major_ticket=ticket, actor=request.user, note=data.validated_data["note"],
                               children=children)
        ticket.refresh_from_db()
        return Response(_state(ticket))
