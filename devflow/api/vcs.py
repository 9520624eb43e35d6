"""POST /api/v1/vcs/<repository>/webhook/: a repository's push and pull-request deliveries.

No session and no token: a delivery is authenticated only by its signature, made with the repository's own
secret (GitHub: `X-Hub-Signature-256: sha256=<HMAC-SHA256 of the raw body>`; GitLab: `X-Gitlab-Token`
equal to the secret). An unknown repository answers like a bad signature (401), so names do not leak, and
nothing is stored for either.
"""

import json

from django.http.request import RawPostDataException
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from tracker import access, selectors
from tracker.errors import AccessDenied, ValidationFailed

from ..models import CodeLink
from ..services import vcs

_RESULT = inline_serializer("VcsDeliveryResult", {
    "status": serializers.ChoiceField(choices=["processed", "ignored", "already processed"]),
    "detail": serializers.CharField(required=False),
    "tickets": serializers.ListField(child=serializers.CharField(), help_text="Keys of the tickets mentioned."),
    "fixed": serializers.ListField(child=serializers.CharField(), help_text="Defects moved to fixed."),
})
_ERROR = inline_serializer("VcsDeliveryError", {"detail": serializers.CharField(), "code": serializers.CharField()})


def _refuse(code: int, detail: str, kind: str) -> Response:
    return Response({"detail": detail, "code": kind}, status=code)


class WebhookView(APIView):
    """Receive one signed delivery of a repository."""

    authentication_classes = []  # the signature is the authentication; no cookie, so no CSRF
    permission_classes = [AllowAny]

    @extend_schema(
        operation_id="vcs_webhook_receive",
        tags=["vcs"],
        auth=[],
        request=OpenApiTypes.OBJECT,
        parameters=[
            OpenApiParameter("repository", OpenApiTypes.STR, OpenApiParameter.PATH,
                             description="The repository's id or its owner/name."),
            OpenApiParameter("X-Hub-Signature-256", OpenApiTypes.STR, OpenApiParameter.HEADER,
                             description="GitHub: sha256=<HMAC-SHA256 hex of the raw body, keyed by the secret>."),
            OpenApiParameter("X-GitHub-Event", OpenApiTypes.STR, OpenApiParameter.HEADER,
                             description="GitHub: push or pull_request (others are ignored)."),
            OpenApiParameter("X-GitHub-Delivery", OpenApiTypes.STR, OpenApiParameter.HEADER,
                             description="GitHub: the delivery id; a replay of it has no second effect."),
            OpenApiParameter("X-Gitlab-Token", OpenApiTypes.STR, OpenApiParameter.HEADER,
                             description="GitLab: the repository's secret."),
            OpenApiParameter("X-Gitlab-Event", OpenApiTypes.STR, OpenApiParameter.HEADER,
                             description="GitLab: Push Hook or Merge Request Hook (others are ignored)."),
            OpenApiParameter("X-Gitlab-Event-UUID", OpenApiTypes.STR, OpenApiParameter.HEADER,
                             description="GitLab: the delivery id (or send Idempotency-Key)."),
        ],
        responses={
            200: OpenApiResponse(_RESULT, description="Processed, or already processed (a replay)."),
            202: OpenApiResponse(_RESULT, description="An event that mentions no tickets (ping, ...): ignored."),
            400: OpenApiResponse(_ERROR, description="Malformed JSON, or a field the event needs is missing."),
            401: OpenApiResponse(_ERROR, description="Bad or missing signature, or no such repository."),
            403: OpenApiResponse(_ERROR, description="The repository is registered but not active."),
        },
    )
    def post(self, request, repository: str):
        try:
            body = request.body  # the raw bytes, as signed
        except RawPostDataException:  # a form body already parsed on the way in: not what providers send
            return _refuse(status.HTTP_400_BAD_REQUEST, "Send the payload as JSON (Content-Type: application/json).",
                           "invalid")
        repo = vcs.repository_named(repository)
        if repo is None or not vcs.signature_ok(repo, request.headers, body):
            return _refuse(status.HTTP_401_UNAUTHORIZED,
                           "The signature does not match this repository's secret (or there is no such repository).",
                           "bad_signature")
        if not repo.active:
            return _refuse(status.HTTP_403_FORBIDDEN,
                           f"{repo.name} is not active here; an administrator can turn it back on.", "inactive")
        event, delivery_id = vcs.event_and_delivery(repo, request.headers)
        if not event:
            return _refuse(status.HTTP_400_BAD_REQUEST, "The event header (X-GitHub-Event or X-Gitlab-Event) "
                                                        "is missing.", "invalid")
        if vcs.normalised_event(provider=repo.provider, event=event) is None:
            return Response({"status": "ignored", "detail": f"The {event} event is not used.", "tickets": [],
                             "fixed": []}, status=status.HTTP_202_ACCEPTED)
        if not delivery_id:
            return _refuse(status.HTTP_400_BAD_REQUEST, "The delivery id header (X-GitHub-Delivery, "
                                                        "X-Gitlab-Event-UUID or Idempotency-Key) is missing.",
                           "invalid")
        try:
            payload = json.loads(body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            return _refuse(status.HTTP_400_BAD_REQUEST, "The body is not valid JSON.", "invalid")
        try:
            result = vcs.vcs_delivery_receive(repository=repo, delivery_id=delivery_id, event=event,
                                              payload=payload)
        except ValidationFailed as exc:
            return Response({"detail": exc.message, "code": exc.code, "fields": exc.fields},
                            status=status.HTTP_400_BAD_REQUEST)
        return Response(result, status=status.HTTP_200_OK)


# --- the code of a ticket -----------------------------------------------------------------------------------

class CodeLinkSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    repository = serializers.CharField(source="repository.name")
    kind = serializers.ChoiceField(choices=CodeLink.Kind.choices)
    ref = serializers.CharField(help_text="The commit's sha or the pull request's number.")
    title = serializers.CharField()
    url = serializers.CharField()
    author = serializers.CharField()
    state = serializers.ChoiceField(choices=CodeLink.State.choices)
    fixes = serializers.BooleanField(help_text="It says it fixes this ticket.")
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


class TicketCodeView(APIView):
    """The commits and pull requests that mention a ticket, oldest first."""

    @extend_schema(operation_id="tickets_code_list", tags=["vcs"],
                   parameters=[OpenApiParameter("key", OpenApiTypes.STR, OpenApiParameter.PATH,
                                                description="The ticket's key, e.g. DEF-12.")],
                   responses={200: CodeLinkSerializer(many=True)})
    def get(self, request, key: str):
        ticket = selectors.ticket_for_user(request.user, key)
        if not access.is_staff_member(request.user):
            raise AccessDenied(f"Only staff see the code of {ticket.key}.")
        return Response(CodeLinkSerializer(vcs.ticket_code_links(ticket=ticket), many=True).data)
