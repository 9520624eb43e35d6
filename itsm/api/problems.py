"""The problem-management API: a problem raised from incidents, the known-error database, a known error applied
to an incident (linked, workaround sent), and a problem resolved with the linked incidents chosen. Staff only;
every write calls one domain function of itsm.services."""

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from tracker import access, selectors
from tracker.api.serializers import TicketSerializer
from tracker.errors import AccessDenied, ValidationFailed

from .. import selectors as q
from .. import services

KEY = OpenApiParameter("key", str, OpenApiParameter.PATH, description="The ticket's key, e.g. INC-12 or PRB-3.")


def _key_field(**kwargs):
    """A ticket key such as INC-12 (a new field each time: a DRF field belongs to one serializer)."""
    return serializers.RegexField(r"^[A-Za-z]{3}-\d{1,12}$", max_length=24, **kwargs)


def _staff(request) -> None:
    if not access.is_staff_member(request.user):
        raise AccessDenied("Problem management is for staff.")


def _tickets(request, keys: list[str], what: str) -> list:
    """The tickets named, in the order given, or a 400 naming the keys that are not there."""
    keys = [k.upper() for k in keys]
    found = {t.key: t for t in selectors.ticket_list(user=request.user).filter(key__in=keys)}
    missing = [k for k in keys if k not in found]
    if missing:
        raise ValidationFailed(f"No ticket {', '.join(missing)} that you can see; check the keys.",
                               fields={what: ["Unknown key."]})
    return [found[k] for k in keys]


class FromIncidentsSerializer(serializers.Serializer):
    incidents = serializers.ListField(child=_key_field(), min_length=1, max_length=50,
                                      help_text="The incidents' keys; each becomes an instance of the problem.")
    title = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    description = serializers.CharField(max_length=20000, required=False, allow_blank=True, default="")


class ApplyKnownErrorSerializer(serializers.Serializer):
    problem = _key_field(help_text="The known error's key, e.g. PRB-3.")


class ApplyResultSerializer(serializers.Serializer):
    incident = serializers.CharField()
    problem = serializers.CharField()
    comment_id = serializers.IntegerField(help_text="The public reply that carried the workaround.")


class ResolveWithIncidentsSerializer(serializers.Serializer):
    resolution_note = serializers.CharField(max_length=20000)
    incidents = serializers.ListField(child=_key_field(), max_length=200, required=False, default=list,
                                      help_text="Linked open incidents to resolve with it; the others stay open.")


class ResolveResultSerializer(serializers.Serializer):
    problem = TicketSerializer()
    resolved = serializers.ListField(child=serializers.CharField(), help_text="The incidents resolved with it.")


class KnownErrorSerializer(serializers.Serializer):
    key = serializers.CharField()
    title = serializers.CharField()
    status = serializers.CharField()
    service = serializers.CharField(source="service.name", allow_null=True, default=None)
    category = serializers.CharField(source="category.name", allow_null=True, default=None)
    root_cause = serializers.CharField()
    workaround = serializers.CharField()
    incident_count = serializers.IntegerField()
    updated_at = serializers.DateTimeField()


class KnownErrorQuerySerializer(serializers.Serializer):
    q = serializers.CharField(required=False, allow_blank=True, max_length=200, default="")
    service = serializers.IntegerField(required=False, min_value=1, max_value=2**31 - 1)
    category = serializers.IntegerField(required=False, min_value=1, max_value=2**31 - 1)


class ProblemFromIncidentsView(APIView):
    @extend_schema(request=FromIncidentsSerializer, responses={201: TicketSerializer})
    def post(self, request):
        """Raise a problem from incidents and link each as an instance of it (the caller is its requester)."""
        _staff(request)
        body = FromIncidentsSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        incidents = _tickets(request, body.validated_data["incidents"], "incidents")
        problem = services.problem_from_incidents(incidents=incidents, actor=request.user,
                                                  title=body.validated_data["title"],
                                                  description=body.validated_data["description"])
        data = TicketSerializer(selectors.ticket_for_user(request.user, problem.key),
                                context={"request": request}).data
        return Response(data, status=status.HTTP_201_CREATED)


class KnownErrorListView(APIView):
    @extend_schema(parameters=[KnownErrorQuerySerializer], responses={200: KnownErrorSerializer(many=True)})
    def get(self, request):
        """The known-error database: open known errors, searchable (title, root cause, workaround), by service
        and category, each with its workaround and the number of its incidents."""
        _staff(request)
        query = KnownErrorQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        rows = q.known_error_list(user=request.user, text=query.validated_data["q"],
                                  service_id=query.validated_data.get("service"),
                                  category_id=query.validated_data.get("category"))
        return Response(KnownErrorSerializer(rows, many=True).data)


@extend_schema(parameters=[KEY])
class ApplyKnownErrorView(APIView):
    @extend_schema(request=ApplyKnownErrorSerializer, responses={200: ApplyResultSerializer})
    def post(self, request, key=None):
        """Link the incident as an instance of the known error and send its workaround to the requester."""
        _staff(request)
        incident = selectors.ticket_for_user(request.user, key)
        body = ApplyKnownErrorSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        problem = selectors.ticket_for_user(request.user, body.validated_data["problem"])
        comment = services.known_error_apply(incident=incident, problem=problem, actor=request.user)
        return Response({"incident": incident.key, "problem": problem.key, "comment_id": comment.pk})


@extend_schema(parameters=[KEY])
class ResolveWithIncidentsView(APIView):
    @extend_schema(request=ResolveWithIncidentsSerializer, responses={200: ResolveResultSerializer})
    def post(self, request, key=None):
        """Resolve the problem and exactly the linked open incidents named, each with the note and one public
        reply to its requester."""
        _staff(request)
        problem = selectors.ticket_for_user(request.user, key)
        body = ResolveWithIncidentsSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        incidents = _tickets(request, body.validated_data["incidents"], "incidents")
        done = services.problem_resolve(problem=problem, actor=request.user,
                                        note=body.validated_data["resolution_note"], incidents=incidents)
        problem = selectors.ticket_for_user(request.user, problem.key)
        return Response({"problem": TicketSerializer(problem, context={"request": request}).data,
                         "resolved": [i.key for i in done]})
