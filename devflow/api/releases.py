"""The releases API under /api/v1/releases/: list (by service, planned or shipped), plan, read, update (If-Match on
`revision`, or `revision` in the body), add and remove tickets, assemble the notes, review, UAT sign-off, publish,
ship. Staff read; each write calls one domain function of devflow.services.releases, which decides who may."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from tracker import access, selectors
from tracker.errors import AccessDenied, NotFound, ValidationFailed
from tracker.models import Service

from .. import selectors as q
from ..models import Release
from ..services import releases as rel

INT_MAX = 2**31 - 1
IF_MATCH = OpenApiParameter("If-Match", OpenApiTypes.STR, OpenApiParameter.HEADER, required=False,
                            description='The revision the edit starts from (its ETag, e.g. "3"); a stale one '
                                        "answers 412. Or send `revision` in the body.")


class ReleaseSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    service = serializers.CharField(source="service.name")
    service_id = serializers.IntegerField()
    version = serializers.CharField()
    name = serializers.CharField()
    planned_for = serializers.DateField(allow_null=True)
    notes = serializers.CharField(help_text="Markdown: what the desk reads.")
    notes_edited_by = serializers.CharField(source="notes_edited_by.username", allow_null=True, default=None)
    notes_reviewed_by = serializers.CharField(source="notes_reviewed_by.username", allow_null=True, default=None)
    notes_reviewed_at = serializers.DateTimeField(allow_null=True)
    uat_signed_by = serializers.CharField(source="uat_signed_by.username", allow_null=True, default=None)
    uat_signed_at = serializers.DateTimeField(allow_null=True)
    uat_note = serializers.CharField()
    published_at = serializers.DateTimeField(allow_null=True)
    desk_article_url = serializers.CharField()
    shipped_at = serializers.DateTimeField(allow_null=True)
    shipped_by = serializers.CharField(source="shipped_by.username", allow_null=True, default=None)
    revision = serializers.IntegerField(help_text="The optimistic lock of the plan and notes (the ETag).")
    tickets = serializers.SerializerMethodField()
    url = serializers.SerializerMethodField()

    def get_tickets(self, release) -> list[str]:
        return [t.key for t in release.tickets.order_by("id")]

    def get_url(self, release) -> str:
        return f"/dev/releases/{release.pk}/"


class ReleaseListQuerySerializer(serializers.Serializer):
    service = serializers.IntegerField(required=False, min_value=1, max_value=INT_MAX, help_text="A service id.")
    state = serializers.ChoiceField(choices=["planned", "shipped"], required=False)


class ReleaseCreateSerializer(serializers.Serializer):
    service = serializers.IntegerField(min_value=1, max_value=INT_MAX, help_text="The service's id.")
    version = serializers.CharField(max_length=40)
    name = serializers.CharField(max_length=120, required=False, allow_blank=True, default="")
    planned_for = serializers.DateField(required=False, allow_null=True, default=None)


class ReleaseUpdateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=120, required=False, allow_blank=True)
    planned_for = serializers.DateField(required=False, allow_null=True)
    notes = serializers.CharField(max_length=50_000, required=False, allow_blank=True)
    revision = serializers.IntegerField(required=False, min_value=0, max_value=INT_MAX,
                                        help_text="The revision loaded (or If-Match).")


class RevisionSerializer(serializers.Serializer):
    revision = serializers.IntegerField(required=False, min_value=0, max_value=INT_MAX,
                                        help_text="The revision of the notes read (or If-Match).")


class TicketKeySerializer(serializers.Serializer):
    key = serializers.CharField(max_length=24, help_text="A defect's or change's key: DEF-12.")


class UatSerializer(serializers.Serializer):
    note = serializers.CharField(max_length=5000, allow_blank=True, help_text="What was tested, by whom.")


def _revision(request, body) -> int:
    header = request.headers.get("If-Match")
    if header:
        raw = header.strip().removeprefix("W/").strip('"')
        if not raw.isdigit() or len(raw) > 9:
            raise ValidationFailed(f'If-Match must be a revision such as "3", not {header!r}.',
                                   fields={"If-Match": ["Malformed ETag."]})
        return int(raw)
    if body.get("revision") is None:
        raise ValidationFailed("Send the revision you edit (If-Match or `revision`) so that concurrent edits are "
                               "not lost.", fields={"revision": ["Required."]})
    return body["revision"]


def _response(release: Release, code=status.HTTP_200_OK) -> Response:
    release = q.release_get(release.pk)
    response = Response(ReleaseSerializer(release).data, status=code)
    response["ETag"] = f'"{release.revision}"'
    return response


@extend_schema(tags=["releases"])
class ReleaseViewSet(viewsets.ViewSet):
    """Releases of the services: staff read them; 2nd line, 3rd line, the change manager and managers plan and
    ship them (UAT: 2nd line or an administrator)."""

    queryset = Release.objects.none()  # types the path's id in the schema; reads go through the selectors
    lookup_value_regex = r"[0-9]+"

    def _release(self, request, pk) -> Release:
        if not access.is_staff_member(request.user):
            raise AccessDenied("Releases are for staff.")
        release = q.release_get(int(pk)) if str(pk).isdigit() and len(str(pk)) < 10 else None
        if release is None:
            raise NotFound("No such release.")
        return release

    @extend_schema(parameters=[ReleaseListQuerySerializer], responses={200: ReleaseSerializer(many=True)})
    def list(self, request):
        """Planned releases by date, then shipped ones newest first; of one service with `service`."""
        if not access.is_staff_member(request.user):
            raise AccessDenied("Releases are for staff.")
        query = ReleaseListQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        planned, shipped = q.release_list(service_id=query.validated_data.get("service"))
        state = query.validated_data.get("state")
        rows = planned if state == "planned" else shipped if state == "shipped" else planned + shipped
        return Response(ReleaseSerializer(rows, many=True).data)

    @extend_schema(responses={200: ReleaseSerializer})
    def retrieve(self, request, pk=None):
        return _response(self._release(request, pk))

    @extend_schema(request=ReleaseCreateSerializer, responses={201: ReleaseSerializer})
    def create(self, request):
        """Plan a release of a service."""
        body = ReleaseCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        d = body.validated_data
        service = Service.objects.filter(pk=d["service"]).first()
        if service is None:
            raise ValidationFailed("No such service.", fields={"service": ["Unknown service id."]})
        release = rel.release_create(actor=request.user, service=service, version=d["version"], name=d["name"],
                                     planned_for=d["planned_for"])
        return _response(release, status.HTTP_201_CREATED)

    @extend_schema(parameters=[IF_MATCH], request=ReleaseUpdateSerializer, responses={200: ReleaseSerializer})
    def partial_update(self, request, pk=None):
        """Change the plan and/or the notes; new notes clear an earlier review."""
        release = self._release(request, pk)
        body = ReleaseUpdateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        d = body.validated_data
        rel.release_update(release=release, actor=request.user, revision=_revision(request, d),
                           name=d.get("name"), planned_for=d.get("planned_for"),
                           clear_planned_for="planned_for" in d and d["planned_for"] is None, notes=d.get("notes"))
        return _response(release)

    @extend_schema(request=TicketKeySerializer, responses={200: ReleaseSerializer})
    @action(detail=True, methods=["post"], url_path="tickets")
    def add_ticket(self, request, pk=None):
        """Carry a defect or change of the release's service (a defect's fixed-in version becomes the release's)."""
        release = self._release(request, pk)
        body = TicketKeySerializer(data=request.data)
        body.is_valid(raise_exception=True)
        rel.release_add_ticket(release=release, actor=request.user, key=body.validated_data["key"])
        return _response(release)

    @extend_schema(request=TicketKeySerializer, responses={200: ReleaseSerializer})
    @action(detail=True, methods=["post"], url_path="tickets/remove")
    def remove_ticket(self, request, pk=None):
        """Take a ticket out of the release."""
        release = self._release(request, pk)
        body = TicketKeySerializer(data=request.data)
        body.is_valid(raise_exception=True)
        ticket = selectors.ticket_for_user(request.user, body.validated_data["key"].strip())
        rel.release_remove_ticket(release=release, actor=request.user, ticket=ticket)  # 404 when not carried
        return _response(release)

    @extend_schema(parameters=[IF_MATCH], request=RevisionSerializer, responses={200: ReleaseSerializer})
    @action(detail=True, methods=["post"])
    def assemble(self, request, pk=None):
        """Replace the notes with a draft from what the release ships (fixes, then changes)."""
        release = self._release(request, pk)
        body = RevisionSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        rel.release_notes_assemble(release=release, actor=request.user,
                                   revision=_revision(request, body.validated_data))
        return _response(release)

    @extend_schema(parameters=[IF_MATCH], request=RevisionSerializer, responses={200: ReleaseSerializer})
    @action(detail=True, methods=["post"])
    def review(self, request, pk=None):
        """Approve the notes read at `revision`: by someone who did not last edit them (403 otherwise)."""
        release = self._release(request, pk)
        body = RevisionSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        rel.release_notes_review(release=release, actor=request.user,
                                 revision=_revision(request, body.validated_data))
        return _response(release)

    @extend_schema(request=UatSerializer, responses={200: ReleaseSerializer})
    @action(detail=True, methods=["post"])
    def uat(self, request, pk=None):
        """Sign UAT off (2nd line or an administrator, with a note): its fixed defects become verified."""
        release = self._release(request, pk)
        body = UatSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        rel.release_uat_sign(release=release, actor=request.user, note=body.validated_data["note"])
        return _response(release)

    @extend_schema(request=None, responses={200: ReleaseSerializer})
    @action(detail=True, methods=["post"])
    def publish(self, request, pk=None):
        """Publish the reviewed notes to the desk (an internal article on the service); needs UAT."""
        release = self._release(request, pk)
        rel.release_publish(release=release, actor=request.user)
        return _response(release)

    @extend_schema(request=None, responses={200: ReleaseSerializer})
    @action(detail=True, methods=["post"])
    def ship(self, request, pk=None):
        """Ship a published release whose defects are verified: they close, the people waiting are told."""
        release = self._release(request, pk)
        rel.release_ship(release=release, actor=request.user)
        return _response(release)
