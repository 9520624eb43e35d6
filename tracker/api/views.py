"""The ticket API: one viewset; reads go through the filterset, every write calls one domain function."""
import json
import re
from contextlib import nullcontext

from django.contrib.auth import get_user_model
from django.db import transaction
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import filters, mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response

from tracker import access, selectors, services
from tracker.errors import AccessDenied, NotFound, PreconditionRequired, ValidationFailed
from tracker.filtersets import TicketFilterSet
from tracker.models import Attachment, Comment, Contributor, Link
from tracker.views import attachment_response

from .idempotency import replay_or_run
from .pagination import TicketCursorPagination
from .serializers import (
    AssignSerializer,
    AttachmentSerializer,
    AttachmentUploadSerializer,
    CommentSerializer,
    ContributorSerializer,
    EscalateSerializer,
    EventSerializer,
    ExternalRefSerializer,
    HelpSerializer,
    InviteSerializer,
    LeaveSerializer,
    LinkSerializer,
    PriorityMatrixSerializer,
    TicketCreateSerializer,
    TicketListSerializer,
    TicketSerializer,
    TicketUpdateSerializer,
    TransitionSerializer,
    UserSerializer,
    WorkLogSerializer,
)

User = get_user_model()
_ETAG = re.compile(r'^\s*(?:W/)?"?(\d+)"?\s*$')
IF_MATCH = OpenApiParameter("If-Match", OpenApiTypes.STR, OpenApiParameter.HEADER, required=True,
                            description='The ETag read with the ticket, e.g. "3". A stale one answers 412.')

IDEMPOTENCY_KEY = OpenApiParameter(
    "Idempotency-Key", OpenApiTypes.STR, OpenApiParameter.HEADER, required=False,
    description="A unique key per intended ticket: a retry with the same key and body returns the first answer "
                "instead of creating a second ticket (kept 24 h).")
IDEMPOTENCY_KEY_WRITE = OpenApiParameter(
    "Idempotency-Key", OpenApiTypes.STR, OpenApiParameter.HEADER, required=False,
    description="A unique key per intended change: a retry with the same key, address and body returns the first "
                "answer (status and body) instead of applying it again; the same key with another request: 409 "
                "(kept 24 h, per user).")
EXTERNAL = OpenApiParameter(
    "external", OpenApiTypes.STR, OpenApiParameter.QUERY, required=False,
    description="The ticket synced with an id of another tracker, as system:id (e.g. jira:PAY-123).")


def _json(data) -> dict:
    return json.loads(JSONRenderer().render(data))


def _replayable(request, run, *, status_header=True) -> Response:
    """Run a ticket write under the request's Idempotency-Key (if any): a retry gets the first answer."""
    code, body, replayed = replay_or_run(user=request.user, key=request.headers.get("Idempotency-Key"),
                                         data=request.data, run=run, method=request.method, path=request.path)
    response = Response(body, status=code)
    if isinstance(body, dict) and "version" in body:
        response["ETag"] = f'"{body["version"]}"'
    if replayed:
        response["Idempotent-Replayed"] = "true"
    return response


def if_match(request, *, required: bool) -> int | None:
    """The ticket version an `If-Match` header names: None when it is absent and not `required` (428 when it is),
    400 when it is not an ETag. The apps' endpoints on a ticket read it the same way."""
    header = request.headers.get("If-Match")
    if not header:
        if required:
            raise PreconditionRequired(
                'Send the If-Match header with the ETag you read (e.g. If-Match: "3") so that concurrent edits '
                "are not overwritten.")
        return None
    match = _ETAG.match(header)
    if not match:
        raise ValidationFailed(f'If-Match must be the ticket\'s ETag such as "3", not {header!r}.',
                               fields={"If-Match": ["Malformed ETag."]})
    return int(match.group(1))


@extend_schema_view(list=extend_schema(parameters=[EXTERNAL]))
class TicketViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """Tickets of every kind, addressed by their key (`INC-42`)."""

    serializer_class = TicketSerializer
    filterset_class = TicketFilterSet
    filter_backends = [*viewsets.GenericViewSet.filter_backends, filters.OrderingFilter]
    ordering_fields = ["created_at", "updated_at", "priority", "number", "sla_remaining"]
    ordering = ["-created_at", "-id"]
    lookup_field = "key"
    lookup_value_regex = r"[A-Za-z]{3}-\d+"

    def get_queryset(self):
        return selectors.ticket_list(user=self.request.user)

    def get_serializer_class(self):
        return TicketListSerializer if self.action == "list" else TicketSerializer

    def filter_queryset(self, queryset):
        queryset = super().filter_queryset(queryset)
        external = self.request.query_params.get("external") if self.action == "list" else None
        if external is not None:
            system, sep, external_id = external.partition(":")
            if not sep or not system.strip() or not external_id.strip():
                raise ValidationFailed("external must be the other tracker and its id as system:id, "
                                       "e.g. jira:PAY-123.", fields={"external": ["Use system:id."]})
            queryset = queryset.filter(external_refs__system=system.strip().lower(),
                                       external_refs__external_id=external_id.strip())
        return queryset

    def get_object(self):
        ticket = selectors.ticket_for_user(self.request.user, self.kwargs["key"])
        self.check_object_permissions(self.request, ticket)
        return ticket

    def _ticket_response(self, ticket, status_code=status.HTTP_200_OK, headers=None):
        data = TicketSerializer(selectors.ticket_with_clocks(ticket), context=self.get_serializer_context()).data
        response = Response(data, status=status_code, headers=headers)
        response["ETag"] = ticket.etag
        return response

    def retrieve(self, request, key=None):
        return self._ticket_response(self.get_object())

    @extend_schema(request=TicketCreateSerializer, responses={201: TicketSerializer}, parameters=[IDEMPOTENCY_KEY])
    def create(self, request):
        serializer = TicketCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        key = request.headers.get("Idempotency-Key")

        def run():
            values = dict(serializer.validated_data)
            refs = values.pop("external_refs", [])
            # the ticket and its references, or neither (a create alone is atomic: no savepoint inside another)
            with transaction.atomic() if refs else nullcontext():
                ticket = services.ticket_create(actor=request.user, kind=values.pop("kind"),
                                                title=values.pop("title"), requester=values.pop("requester", None),
                                                **values)
                made = [services.external_ref_add(ticket=ticket, actor=request.user, system=ref["system"],
                                                  external_id=ref["external_id"], url=ref.get("url", ""))
                        for ref in refs]
            # the answer shows the references just written, not read back
            selectors.with_known_external_refs(ticket, made)
            if not hasattr(ticket, "sla_clock_list"):  # the clocks as written by the create, else read them
                selectors.ticket_with_clocks(ticket)
            data = TicketSerializer(ticket, context=self.get_serializer_context()).data
            # kept for a retry as the JSON it is sent as; without a key it is rendered once, by the response
            return status.HTTP_201_CREATED, json.loads(JSONRenderer().render(data)) if key else data

        code, body, replayed = replay_or_run(user=request.user, key=key, data=request.data, run=run)
        response = Response(body, status=code, headers={
            "Location": request.build_absolute_uri(f"/api/v1/tickets/{body['key']}/"),
            "ETag": f'"{body["version"]}"'})
        if replayed:
            response["Idempotent-Replayed"] = "true"
        return response

    def _ticket_body(self, key) -> tuple[int, dict]:
        ticket = selectors.ticket_with_clocks(selectors.ticket_for_user(self.request.user, key))
        return status.HTTP_200_OK, _json(TicketSerializer(ticket, context=self.get_serializer_context()).data)

    @extend_schema(request=TicketUpdateSerializer, responses={200: TicketSerializer},
                   parameters=[IF_MATCH, IDEMPOTENCY_KEY_WRITE])
    def partial_update(self, request, key=None):
        ticket = self.get_object()
        version = if_match(request, required=True)
        serializer = TicketUpdateSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)

        def run():
            services.ticket_update(ticket=ticket, actor=request.user, version=version,
                                   changes=dict(serializer.validated_data))
            return self._ticket_body(key)

        return _replayable(request, run)

    @extend_schema(request=TransitionSerializer, responses={200: TicketSerializer},
                   parameters=[IDEMPOTENCY_KEY_WRITE])
    @action(detail=True, methods=["post"])
    def transition(self, request, key=None):
        """Move the ticket through its workflow; `If-Match` is honoured when sent."""
        ticket = self.get_object()
        serializer = TransitionSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        values = dict(serializer.validated_data)
        version = if_match(request, required=False)

        def run():
            services.ticket_transition(ticket=ticket, to=values.pop("to"), actor=request.user, version=version,
                                       values=values)
            return self._ticket_body(key)

        return _replayable(request, run)

    @extend_schema(request=ExternalRefSerializer,
                   responses={200: ExternalRefSerializer(many=True), 201: ExternalRefSerializer})
    @action(detail=True, methods=["get", "post"], url_path="external-refs", pagination_class=None,
            filterset_class=None)
    def external_refs(self, request, key=None):
        """The ticket's ids in other trackers; POST adds one (409 when another ticket has it, naming that
        ticket, or when this ticket has another id in that system)."""
        ticket = self.get_object()
        if request.method == "POST":
            serializer = ExternalRefSerializer(data=request.data)
            serializer.is_valid(raise_exception=True)
            ref = services.external_ref_add(ticket=ticket, actor=request.user, **serializer.validated_data)
            return Response(ExternalRefSerializer(ref).data, status=status.HTTP_201_CREATED)
        return Response(ExternalRefSerializer(ticket.external_refs.all(), many=True).data)

    @extend_schema(request=None, responses={204: None},
                   parameters=[OpenApiParameter("system", OpenApiTypes.STR, OpenApiParameter.PATH,
                                                description="The other tracker, e.g. jira.")])
    @action(detail=True, methods=["delete"], url_path=r"external-refs/(?P<system>[A-Za-z0-9_.-]+)",
            filterset_class=None)
    def external_ref_remove(self, request, key=None, system=None):
        """Forget the ticket's id in that tracker."""
        services.external_ref_remove(ticket=self.get_object(), actor=request.user, system=system)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(request=EscalateSerializer, responses={200: TicketSerializer})
    @action(detail=True, methods=["post"])
    def escalate(self, request, key=None):
        """Functional escalation to the next tier, or to the group given."""
        ticket = self.get_object()
        serializer = EscalateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.ticket_escalate(ticket=ticket, actor=request.user, to_group=serializer.validated_data.get("group"),
                                 note=serializer.validated_data.get("note", ""),
                                 version=if_match(request, required=False))
        return self._ticket_response(selectors.ticket_for_user(request.user, key))

    @extend_schema(request=AssignSerializer, responses={200: TicketSerializer})
    @action(detail=True, methods=["post"])
    def assign(self, request, key=None):
        """Assign (or unassign with null); someone else's ticket needs `take_over` (managers excepted)."""
        ticket = self.get_object()
        serializer = AssignSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.ticket_assign(ticket=ticket, actor=request.user, assignee=serializer.validated_data["assignee"],
                               take_over=serializer.validated_data["take_over"],
                               version=if_match(request, required=False))
        return self._ticket_response(selectors.ticket_for_user(request.user, key))

    @extend_schema(request=None, responses={200: TicketSerializer})
    @action(detail=True, methods=["post"])
    def pick(self, request, key=None):
        """Claim the ticket atomically (3rd-line queue); 409 if someone else picked it first."""
        services.ticket_claim(ticket=self.get_object(), actor=request.user)
        return self._ticket_response(selectors.ticket_for_user(request.user, key))

    @extend_schema(request=CommentSerializer, responses={200: CommentSerializer(many=True), 201: CommentSerializer})
    @action(detail=True, methods=["get", "post"], pagination_class=None, filterset_class=None)
    def comments(self, request, key=None):
        ticket = self.get_object()
        if request.method == "POST":
            serializer = CommentSerializer(data=request.data)
            serializer.is_valid(raise_exception=True)
            comment = services.ticket_comment(ticket=ticket, actor=request.user, **serializer.validated_data)
            return Response(CommentSerializer(comment).data, status=status.HTTP_201_CREATED)
        events = selectors.ticket_timeline(ticket=ticket, user=request.user).filter(comment__isnull=False)
        return Response(CommentSerializer([e.comment for e in events], many=True).data)

    @extend_schema(request={"multipart/form-data": AttachmentUploadSerializer},
                   responses={200: AttachmentSerializer(many=True), 201: AttachmentSerializer})
    @action(detail=True, methods=["get", "post"], pagination_class=None, filterset_class=None,
            parser_classes=[MultiPartParser, FormParser])
    def attachments(self, request, key=None):
        """The ticket's files the caller may see (a requester: no internal one); POST adds one (multipart
        `file`, optional `comment` id and `internal`): 400 or 413 with what to fix when it is refused."""
        ticket = self.get_object()
        if request.method == "POST":
            serializer = AttachmentUploadSerializer(data=request.data)
            serializer.is_valid(raise_exception=True)
            data = serializer.validated_data
            comment = None
            if data.get("comment") is not None:
                comment = Comment.objects.filter(pk=data["comment"], ticket=ticket).first()
                if comment is None or (comment.internal and not access.is_staff_member(request.user)):
                    raise ValidationFailed(f"{ticket.key} has no comment {data['comment']}.",
                                           fields={"comment": ["Not a comment of this ticket."]})
            [added] = services.attachments_add(ticket=ticket, actor=request.user, files=[data["file"]],
                                               internal=data["internal"], comment=comment)
            added.ticket = ticket
            return Response(AttachmentSerializer(added, context=self.get_serializer_context()).data,
                            status=status.HTTP_201_CREATED)
        files = selectors.ticket_attachments(ticket=ticket, user=request.user)
        return Response(AttachmentSerializer(files, many=True, context=self.get_serializer_context()).data)

    @extend_schema(request=LinkSerializer, responses={200: LinkSerializer(many=True), 201: LinkSerializer})
    @action(detail=True, methods=["get", "post"], pagination_class=None, filterset_class=None)
    def links(self, request, key=None):
        ticket = self.get_object()
        if request.method == "POST":
            serializer = LinkSerializer(data=request.data)
            serializer.is_valid(raise_exception=True)
            try:
                target = selectors.ticket_for_user(request.user, serializer.validated_data["target"])
            except NotFound as exc:
                raise ValidationFailed(exc.message, fields={"target": [exc.message]}) from None
            link = services.ticket_link(source=ticket, target=target, type=serializer.validated_data["type"],
                                        actor=request.user)
            row = {"link": link, "direction": "out", "other": target}
            return Response(_link_data(row), status=status.HTTP_201_CREATED)
        return Response([_link_data(row) for row in selectors.ticket_links(ticket=ticket, user=request.user)])

    @extend_schema(request=None, responses={204: None})
    @action(detail=True, methods=["delete"], url_path=r"links/(?P<link_id>\d+)", filterset_class=None)
    def unlink(self, request, key=None, link_id=None):
        ticket = self.get_object()
        link = Link.objects.select_related("source", "target").filter(pk=link_id).first()
        if link is None or ticket.pk not in (link.source_id, link.target_id):
            raise NotFound(f"{ticket.key} has no link {link_id}.")
        services.ticket_unlink(link=link, actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(responses={200: EventSerializer(many=True)})
    @action(detail=True, methods=["get"], pagination_class=None, filterset_class=None)
    def history(self, request, key=None):
        """The timeline: every field change, transition, escalation, link, comment and SLA event."""
        ticket = self.get_object()
        events = selectors.ticket_timeline(ticket=ticket, user=request.user)
        return Response(EventSerializer(events, many=True).data)

    # --- swarming and work logs ----------------------------------------------------------------------------

    @extend_schema(request=InviteSerializer, responses={200: ContributorSerializer(many=True),
                                                        201: ContributorSerializer})
    @action(detail=True, methods=["get", "post"], pagination_class=None, filterset_class=None)
    def contributors(self, request, key=None):
        """Who contributes to the ticket now and who did (`active`); POST invites a person or a group (only on a
        swarming team's ticket, by its members, its manager or a manager)."""
        ticket = self.get_object()
        if request.method == "POST":
            serializer = InviteSerializer(data=request.data)
            serializer.is_valid(raise_exception=True)
            contributor = services.contributor_invite(ticket=ticket, actor=request.user, **serializer.validated_data)
            return Response(ContributorSerializer(contributor).data, status=status.HTTP_201_CREATED)
        if not access.is_staff_member(request.user):
            raise AccessDenied(f"Only staff see who contributes to {ticket.key}.")
        rows = selectors.ticket_contributors(ticket=ticket, user=request.user)
        return Response(ContributorSerializer(rows, many=True).data)

    @extend_schema(request=LeaveSerializer, responses={200: ContributorSerializer})
    @action(detail=True, methods=["post"], url_path=r"contributors/(?P<contributor_id>\d+)/leave",
            filterset_class=None)
    def contributor_leave(self, request, key=None, contributor_id=None):
        """End a contribution: the contributor themselves (a group's: any member), the inviter, or the team."""
        ticket = self.get_object()
        serializer = LeaveSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        contributor = Contributor.objects.select_related("user", "group", "invited_by", "ticket__group").filter(
            pk=contributor_id, ticket=ticket).first()
        if contributor is None:
            raise NotFound(f"{ticket.key} has no contributor {contributor_id}.")
        services.contributor_leave(contributor=contributor, actor=request.user, **serializer.validated_data)
        return Response(ContributorSerializer(contributor).data)

    @extend_schema(request=HelpSerializer, responses={201: EventSerializer})
    @action(detail=True, methods=["post"], url_path="contributors/help", filterset_class=None)
    def contributor_help(self, request, key=None):
        """Record what you did as a contributor of the ticket's swarm ("help"); with `minutes` also a work log."""
        ticket = self.get_object()
        serializer = HelpSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        event = services.contribution_record(ticket=ticket, actor=request.user, **serializer.validated_data)
        return Response(EventSerializer(event).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=WorkLogSerializer, responses={200: WorkLogSerializer(many=True), 201: WorkLogSerializer})
    @action(detail=True, methods=["get", "post"], pagination_class=None, filterset_class=None)
    def worklogs(self, request, key=None):
        """Time logged on the ticket, oldest first; POST logs yours (staff), counted for your team."""
        ticket = self.get_object()
        if request.method == "POST":
            serializer = WorkLogSerializer(data=request.data)
            serializer.is_valid(raise_exception=True)
            log = services.worklog_add(ticket=ticket, actor=request.user, **serializer.validated_data)
            return Response(WorkLogSerializer(log).data, status=status.HTTP_201_CREATED)
        if not access.is_staff_member(request.user):
            raise AccessDenied(f"Only staff see the time logged on {ticket.key}.")
        return Response(WorkLogSerializer(selectors.ticket_work_logs(ticket=ticket), many=True).data)


def _link_data(row) -> dict:
    link = row["link"]
    return {"id": link.pk, "type": link.type, "direction": row["direction"], "other": row["other"].key,
            "other_title": row["other"].title, "created_at": link.created_at}


# --- people and the priority matrix ------------------------------------------------------------------------------


class UserCursorPagination(TicketCursorPagination):
    ordering = ("username", "id")


class UserViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """People: staff see everyone; a requester sees only themself."""

    serializer_class = UserSerializer
    pagination_class = UserCursorPagination
    filterset_class = None

    def get_queryset(self):
        people = User.objects.prefetch_related("assignment_groups").order_by("username", "id")
        if not access.is_staff_member(self.request.user):
            people = people.filter(pk=self.request.user.pk)
        return people

    def get_object(self):
        pk = self.kwargs["pk"]
        person = self.get_queryset().filter(pk=int(pk)).first() if str(pk).isdigit() else None
        if person is None:
            raise NotFound(f"No person {pk} that you can see.")
        return person


def _matrix_body(matrix: dict) -> dict:
    return {"cells": [{"impact": i, "urgency": u, "priority": p} for (i, u), p in sorted(matrix.items())]}


class PriorityMatrixView(viewsets.ViewSet):
    """The impact x urgency matrix that gives a ticket its priority: everyone signed in reads it, administrators
    replace it (all nine cells)."""

    @extend_schema(operation_id="priority_matrix_retrieve", responses={200: PriorityMatrixSerializer})
    def retrieve(self, request):
        return Response(_matrix_body(services.priority_matrix()))

    @extend_schema(operation_id="priority_matrix_update", request=PriorityMatrixSerializer,
                   responses={200: PriorityMatrixSerializer})
    def update(self, request):
        serializer = PriorityMatrixSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        matrix = services.priority_matrix_set(actor=request.user, cells=serializer.validated_data["cells"])
        return Response(_matrix_body(matrix))


class AttachmentViewSet(mixins.RetrieveModelMixin, mixins.DestroyModelMixin, viewsets.GenericViewSet):
    """A file of a ticket by its id: its metadata, its content, its removal; 404 for a file the caller may not
    see (ids do not leak)."""

    serializer_class = AttachmentSerializer
    filterset_class = None
    pagination_class = None
    lookup_value_regex = r"\d+"

    def get_queryset(self):  # the schema's model; every read goes through `attachment_for_user`
        return Attachment.objects.none()

    def get_object(self):
        return selectors.attachment_for_user(self.request.user, self.kwargs["pk"])

    def destroy(self, request, pk=None):
        """Remove the file: its uploader while the ticket is open, or staff (403 otherwise)."""
        services.attachment_remove(attachment=self.get_object(), actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(responses={(200, "application/octet-stream"): OpenApiTypes.BINARY})
    @action(detail=True, methods=["get"])
    def content(self, request, pk=None):
        """The file itself: images and PDF inline, anything else as a download, never sniffed."""
        return attachment_response(self.get_object())
