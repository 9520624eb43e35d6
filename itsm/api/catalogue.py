"""The request catalogue's API: the items the caller may order with each item's form (field schema), ordering
an item (`itsm.services.catalogue.request_order`, the same rules as the portal), and a request ordered from the
catalogue with its answers, approval, automation and tasks."""

from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from tracker import selectors
from tracker.errors import NotFound, ValidationFailed
from tracker.models import User

from ..services import catalogue as cat

ITEM = OpenApiParameter("id", int, OpenApiParameter.PATH, description="The catalogue item's id.")
KEY = OpenApiParameter("key", str, OpenApiParameter.PATH, description="The request's key, e.g. REQ-12.")


def _decimal(value):
    if value is None:
        return None
    return int(value) if value == value.to_integral_value() else float(value)


class FieldSchemaSerializer(serializers.Serializer):
    name = serializers.CharField()
    label = serializers.CharField()
    type = serializers.CharField(help_text="text, long_text, choice, user, date, number or yes_no.")
    required = serializers.BooleanField()
    help_text = serializers.CharField()
    choices = serializers.SerializerMethodField()
    min = serializers.SerializerMethodField()
    max = serializers.SerializerMethodField()
    max_length = serializers.IntegerField(allow_null=True)
    pattern = serializers.CharField()

    def get_choices(self, f) -> list[str]:
        return cat.choice_values(f)

    def get_min(self, f) -> float | None:
        return _decimal(f.min_value)

    def get_max(self, f) -> float | None:
        return _decimal(f.max_value)


class ItemSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    summary = serializers.CharField()
    description = serializers.CharField()
    icon = serializers.CharField()
    service = serializers.CharField(source="service.name")
    service_id = serializers.IntegerField()
    audience = serializers.CharField()
    approval = serializers.CharField(help_text="none, manager (the requester's line manager) or named.")
    approver = serializers.CharField(source="approver.display_name", allow_null=True, default=None)
    automatable = serializers.SerializerMethodField()
    fulfilment_group = serializers.CharField(source="fulfilment_group.name", allow_null=True, default=None)
    fields = FieldSchemaSerializer(many=True, source="fields.all")

    def get_automatable(self, item) -> bool:
        return bool(item.handler)


class OrderSerializer(serializers.Serializer):
    answers = serializers.DictField(required=False, default=dict,
                                    help_text="The answers by question name, as the item's field schema says.")
    requester = serializers.IntegerField(required=False, allow_null=True, min_value=1, max_value=2**31 - 1,
                                         help_text="Staff only: the id of the person the request is for.")


class TaskSummarySerializer(serializers.Serializer):
    number = serializers.IntegerField()
    title = serializers.CharField()
    state = serializers.CharField()


class RequestSerializer(serializers.Serializer):
    ticket = serializers.CharField(source="ticket.key")
    status = serializers.CharField(source="ticket.status")
    requester = serializers.CharField(source="ticket.requester.display_name")
    item = serializers.IntegerField(source="item_id")
    item_name = serializers.CharField(source="item.name")
    answers = serializers.DictField()
    approval = serializers.CharField()
    approver = serializers.CharField(source="approver.display_name", allow_null=True, default=None)
    approval_text = serializers.SerializerMethodField()
    decided_at = serializers.DateTimeField(allow_null=True)
    decision_note = serializers.CharField()
    automation = serializers.CharField()
    attempts = serializers.IntegerField()
    result = serializers.CharField()
    tasks = serializers.SerializerMethodField()
    tasks_done = serializers.SerializerMethodField()
    created_at = serializers.DateTimeField()

    def get_approval_text(self, request) -> str:
        return cat.approval_text(request)

    def _progress(self, request) -> dict:
        if not hasattr(request, "_progress"):
            request._progress = cat.progress(request)
        return request._progress

    @extend_schema_field(TaskSummarySerializer(many=True))
    def get_tasks(self, request) -> list[dict]:
        return [{"number": t["number"], "title": t["title"], "state": t["state"]}
                for t in self._progress(request)["tasks"]]

    def get_tasks_done(self, request) -> int:
        return self._progress(request)["done"]


class OrderResultSerializer(serializers.Serializer):
    ticket = serializers.CharField(help_text="The new service request's key.")
    request = RequestSerializer()


def _item(request, pk):
    return cat.catalogue_item(user=request.user, pk=pk)


class ItemListView(APIView):
    @extend_schema(parameters=[OpenApiParameter("q", str, description="Words the item's name, summary, "
                                                "description or service contain.")],
                   responses={200: ItemSerializer(many=True)})
    def get(self, request):
        """The active items of operational services the caller may order, each with its form's field schema."""
        text = str(request.query_params.get("q", ""))[:100]
        return Response(ItemSerializer(cat.catalogue_items(user=request.user, text=text), many=True).data)


@extend_schema(parameters=[ITEM])
class ItemDetailView(APIView):
    @extend_schema(responses={200: ItemSerializer})
    def get(self, request, pk=None):
        """One item the caller may order, with its form's field schema."""
        return Response(ItemSerializer(_item(request, pk)).data)


@extend_schema(parameters=[ITEM])
class OrderView(APIView):
    @extend_schema(request=OrderSerializer, responses={201: OrderResultSerializer})
    def post(self, request, pk=None):
        """Order the item: 201 with the new request; 400 naming each bad or missing answer in `fields`."""
        item = _item(request, pk)
        body = OrderSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        requester = None
        if body.validated_data.get("requester") is not None:
            requester = User.objects.filter(pk=body.validated_data["requester"]).first()
            if requester is None:
                raise ValidationFailed("No such person; give the requester's user id.",
                                       fields={"requester": ["Unknown person."]})
        ticket = cat.request_order(actor=request.user, item=item, answers=body.validated_data["answers"],
                                   requester=requester)
        record = cat.request_of(ticket)
        return Response({"ticket": ticket.key, "request": RequestSerializer(record).data},
                        status=status.HTTP_201_CREATED)


@extend_schema(parameters=[KEY])
class RequestView(APIView):
    @extend_schema(responses={200: RequestSerializer})
    def get(self, request, key=None):
        """A request ordered from the catalogue, as its requester or the desk may see it."""
        ticket = selectors.ticket_for_user(request.user, key)
        record = cat.request_of(ticket)
        if record is None:
            raise NotFound(f"{ticket.key} was not ordered from the catalogue.")
        return Response(RequestSerializer(record).data)
