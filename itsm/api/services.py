"""The services API (staff): services with their support groups per tier, SLA policies, lifecycle and gate
summary (`/api/v1/services/`, edited by their service manager or an admin); assignment groups with members, tier
and services (`/api/v1/groups/`); a service's operations gate (`/api/v1/services/<id>/gate/`: open, sign off an
item, reopen it, accept the service); and the setup of a service's catalogue items and their form fields
(`/api/v1/services/<id>/catalogue/items/`). Every write validates its shape, then calls one domain function."""

from django.db.models import Prefetch
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.response import Response
from rest_framework.views import APIView

from tracker import access
from tracker.choices import ServiceLifecycle, Tier
from tracker.errors import AccessDenied, NotFound, ValidationFailed
from tracker.models import AssignmentGroup, Service, User

from ..choices import ApprovalMode, CatalogAudience, FieldType, GateItemCode, GateItemState
from ..models import CatalogField, CatalogItem, GateItem, OperationsGate
from ..services import catalogue_setup as setup
from ..services import gate as gates

SERVICE_ID = OpenApiParameter("service_id", int, OpenApiParameter.PATH, description="The service's id.")


def _staff(request) -> None:
    if not access.is_staff_member(request.user):
        raise AccessDenied("Services and their gates are for staff.")


def _person(pk, name: str):
    if pk is None:
        return None
    user = User.objects.filter(pk=pk).first()
    if user is None:
        raise ValidationFailed(f"No person with id {pk}.", fields={name: ["Unknown person."]})
    return user


# --- shapes -----------------------------------------------------------------------------------------------------

class PersonSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    username = serializers.CharField()
    name = serializers.CharField(source="display_name")


class GroupBriefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    tier = serializers.IntegerField()


class PolicyBriefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class GateSummarySerializer(serializers.Serializer):
    open = serializers.BooleanField(help_text="The gate has been opened.")
    signed = serializers.IntegerField()
    total = serializers.IntegerField()
    accepted_at = serializers.DateTimeField(allow_null=True)


class ServiceSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    description = serializers.CharField()
    lifecycle = serializers.ChoiceField(choices=ServiceLifecycle.choices)
    service_manager = PersonSerializer(allow_null=True)
    owners = PersonSerializer(many=True)
    project_group = GroupBriefSerializer(allow_null=True)
    groups = serializers.DictField(child=GroupBriefSerializer(many=True), help_text='Support groups by tier: '
                                   '{"L1": [...], "L2": [...], "L3": [...]}.')
    policies = PolicyBriefSerializer(many=True, help_text="Active SLA policies naming the service.")
    default_policies = PolicyBriefSerializer(many=True, help_text="Active policies with no service condition.")
    gate = GateSummarySerializer()


def _service_data(service: Service, policies: dict) -> dict:
    groups = list(service.groups.all())
    gate = gates.gate_of(service)
    items = list(gate.items.all()) if gate else []
    return ServiceSerializer({
        "id": service.pk, "name": service.name, "description": service.description,
        "lifecycle": service.lifecycle, "service_manager": service.service_manager,
        "owners": list(service.owners.all()), "project_group": service.project_group,
        "groups": {f"L{t}": [g for g in groups if g.tier == t] for t in Tier.values},
        "policies": policies["own"], "default_policies": policies["default"],
        "gate": {"open": gate is not None, "signed": sum(i.state == GateItemState.SIGNED_OFF for i in items),
                 "total": len(items), "accepted_at": gate.accepted_at if gate else None},
    }).data


class ServiceUpdateSerializer(serializers.Serializer):
    service_manager = serializers.IntegerField(required=False, allow_null=True, min_value=1,
                                               help_text="A staff member's id.")
    owners = serializers.ListField(child=serializers.IntegerField(min_value=1), required=False, max_length=50)
    project_group = serializers.IntegerField(required=False, allow_null=True, min_value=1)
    description = serializers.CharField(required=False, allow_blank=True, max_length=4000)


def _services():
    return (Service.objects.select_related("service_manager", "project_group")
            .prefetch_related("owners", "groups",
                              Prefetch("gate__items", queryset=GateItem.objects.only("gate_id", "state")))
            .order_by("name"))


@extend_schema(tags=["services"])
class ServiceViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Services with their people, support groups per tier, SLA policies, lifecycle and gate progress."""

    serializer_class = ServiceSerializer
    pagination_class = None

    def get_queryset(self):
        return _services()

    @extend_schema(parameters=[OpenApiParameter("lifecycle", str, enum=ServiceLifecycle.values)])
    def list(self, request):
        _staff(request)
        qs = self.get_queryset()
        lifecycle = request.query_params.get("lifecycle")
        if lifecycle:
            if lifecycle not in ServiceLifecycle.values:
                raise ValidationFailed(f"Unknown lifecycle; use one of {', '.join(ServiceLifecycle.values)}.",
                                       fields={"lifecycle": ["Unknown."]})
            qs = qs.filter(lifecycle=lifecycle)
        services = list(qs)
        policies = gates.policies_for(services)
        return Response([_service_data(s, policies[s.pk]) for s in services])

    def retrieve(self, request, pk=None):
        _staff(request)
        service = get_object_or_404(self.get_queryset(), pk=pk)
        return Response(_service_data(service, gates.policies_for([service])[service.pk]))

    @extend_schema(request=ServiceUpdateSerializer, responses={200: ServiceSerializer})
    def partial_update(self, request, pk=None):
        """Edit the service's manager, owners, project team and description (its manager or an admin)."""
        _staff(request)
        service = get_object_or_404(self.get_queryset(), pk=pk)
        data = ServiceUpdateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        changes = dict(data.validated_data)
        if "service_manager" in changes:
            changes["service_manager"] = _person(changes["service_manager"], "service_manager")
        if "owners" in changes:
            ids = set(changes["owners"])
            owners = list(User.objects.filter(pk__in=ids))
            if len(owners) != len(ids):
                raise ValidationFailed("Some owners are unknown.", fields={"owners": ["Unknown person."]})
            changes["owners"] = owners
        if changes.get("project_group") is not None:
            group = AssignmentGroup.objects.filter(pk=changes["project_group"]).first()
            if group is None:
                raise ValidationFailed("No such group.", fields={"project_group": ["Unknown group."]})
            changes["project_group"] = group
        gates.service_update(service=service, actor=request.user, changes=changes)
        service = get_object_or_404(self.get_queryset(), pk=pk)
        return Response(_service_data(service, gates.policies_for([service])[service.pk]))


class GroupSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    tier = serializers.ChoiceField(choices=Tier.choices)
    manager = PersonSerializer(allow_null=True)
    members = PersonSerializer(many=True)
    services = serializers.ListField(child=serializers.CharField(), help_text="Names of the services it supports.")


@extend_schema(tags=["services"])
class GroupViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Assignment groups with their tier, manager, members and the services they support."""

    serializer_class = GroupSerializer
    pagination_class = None

    def get_queryset(self):
        return (AssignmentGroup.objects.select_related("manager").prefetch_related("members", "services")
                .order_by("tier", "name"))

    def _data(self, group):
        return GroupSerializer({"id": group.pk, "name": group.name, "tier": group.tier, "manager": group.manager,
                                "members": list(group.members.all()),
                                "services": [s.name for s in group.services.all()]}).data

    def list(self, request):
        _staff(request)
        return Response([self._data(g) for g in self.get_queryset()])

    def retrieve(self, request, pk=None):
        _staff(request)
        return Response(self._data(get_object_or_404(self.get_queryset(), pk=pk)))


# --- the gate -----------------------------------------------------------------------------------------------

class GateItemSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    code = serializers.ChoiceField(choices=GateItemCode.choices)
    label = serializers.CharField()
    approver = PersonSerializer()
    state = serializers.ChoiceField(choices=GateItemState.choices)
    evidence = serializers.CharField()
    live_evidence = serializers.CharField(allow_null=True, help_text="What the app knows about it now.")
    signed_by = PersonSerializer(allow_null=True)
    signed_at = serializers.DateTimeField(allow_null=True)


class GateSerializer(serializers.Serializer):
    service = serializers.IntegerField()
    lifecycle = serializers.ChoiceField(choices=ServiceLifecycle.choices)
    opened_by = PersonSerializer(allow_null=True)
    opened_at = serializers.DateTimeField()
    accepted_by = PersonSerializer(allow_null=True)
    accepted_at = serializers.DateTimeField(allow_null=True)
    acceptance_note = serializers.CharField()
    items = GateItemSerializer(many=True)
    open_items = serializers.ListField(child=serializers.CharField())


def _service_for(request, service_id) -> Service:
    _staff(request)
    return get_object_or_404(Service.objects.select_related("service_manager", "project_group"), pk=service_id)


def _gate_data(service: Service) -> dict:
    gate = (OperationsGate.objects.select_related("opened_by", "accepted_by").filter(service=service).first())
    if gate is None:
        raise NotFound(f"{service.name} has no operations gate yet; its service manager opens it with POST "
                       "to …/gate/open/.")
    items = list(gate.items.select_related("approver", "signed_by").order_by("order", "id"))
    evidence = gates.gate_evidence(service)
    return GateSerializer({
        "service": service.pk, "lifecycle": service.lifecycle, "opened_by": gate.opened_by,
        "opened_at": gate.opened_at, "accepted_by": gate.accepted_by, "accepted_at": gate.accepted_at,
        "acceptance_note": gate.acceptance_note,
        "items": [{"id": i.pk, "code": i.code, "label": i.label, "approver": i.approver, "state": i.state,
                   "evidence": i.evidence, "live_evidence": evidence[i.code].text if i.code in evidence else None,
                   "signed_by": i.signed_by, "signed_at": i.signed_at} for i in items],
        "open_items": [i.label for i in items if i.state != GateItemState.SIGNED_OFF],
    }).data


class ExtraItemSerializer(serializers.Serializer):
    label = serializers.CharField(max_length=200)
    approver = serializers.IntegerField(min_value=1)


class GateOpenSerializer(serializers.Serializer):
    approvers = serializers.DictField(child=serializers.IntegerField(min_value=1), required=False, default=dict,
                                      help_text="Appointed approver's id by item code (knowledge, support_groups, "
                                                "sla, monitoring, uat, release_notes, contacts); default: the "
                                                "service manager.")
    extras = ExtraItemSerializer(many=True, required=False, default=list)


class EvidenceSerializer(serializers.Serializer):
    evidence = serializers.CharField(max_length=4000, allow_blank=True, help_text="What you checked.")


class ReasonSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=4000, allow_blank=True)


class AcceptSerializer(serializers.Serializer):
    note = serializers.CharField(max_length=4000, allow_blank=True, required=False, default="")


@extend_schema(tags=["services"], parameters=[SERVICE_ID])
class GateView(APIView):
    @extend_schema(responses={200: GateSerializer})
    def get(self, request, service_id):
        """The service's gate: each item with its approver, state, evidence and what the app knows now."""
        return Response(_gate_data(_service_for(request, service_id)))


@extend_schema(tags=["services"], parameters=[SERVICE_ID])
class GateOpenView(APIView):
    @extend_schema(request=GateOpenSerializer, responses={201: GateSerializer})
    def post(self, request, service_id):
        """Open the gate (service manager or admin): the standard checklist, appointed approvers, extras."""
        service = _service_for(request, service_id)
        data = GateOpenSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        approvers = {code: _person(pk, "approvers") for code, pk in data.validated_data["approvers"].items()}
        extras = [(e["label"], _person(e["approver"], "extras")) for e in data.validated_data["extras"]]
        gates.gate_open(service=service, actor=request.user, approvers=approvers, extras=extras)
        service.refresh_from_db()
        return Response(_gate_data(service), status=status.HTTP_201_CREATED)


def _gate_item(service: Service, item_id) -> GateItem:
    item = gates.gate_item_of(service, item_id)
    if item is None:
        raise NotFound("No such item on this service's gate.")
    return item


ITEM_ID = OpenApiParameter("item_id", int, OpenApiParameter.PATH, description="The gate item's id.")


@extend_schema(tags=["services"], parameters=[SERVICE_ID, ITEM_ID])
class GateSignView(APIView):
    @extend_schema(request=EvidenceSerializer, responses={200: GateSerializer})
    def post(self, request, service_id, item_id):
        """Sign an item off, with what you checked: its appointed approver only, once."""
        service = _service_for(request, service_id)
        data = EvidenceSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        gates.gate_item_sign(item=_gate_item(service, item_id), actor=request.user, **data.validated_data)
        return Response(_gate_data(service))


@extend_schema(tags=["services"], parameters=[SERVICE_ID, ITEM_ID])
class GateReopenView(APIView):
    @extend_schema(request=ReasonSerializer, responses={200: GateSerializer})
    def post(self, request, service_id, item_id):
        """Reopen a signed-off item, with a reason: the service manager only."""
        service = _service_for(request, service_id)
        data = ReasonSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        gates.gate_item_reopen(item=_gate_item(service, item_id), actor=request.user, **data.validated_data)
        return Response(_gate_data(service))


@extend_schema(tags=["services"], parameters=[SERVICE_ID])
class GateAcceptView(APIView):
    @extend_schema(request=AcceptSerializer, responses={200: GateSerializer})
    def post(self, request, service_id):
        """Accept the service (its service manager only, every item signed off): it becomes operational."""
        service = _service_for(request, service_id)
        data = AcceptSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        gates.gate_accept(service=service, actor=request.user, **data.validated_data)
        return Response(_gate_data(service))


# --- catalogue setup --------------------------------------------------------------------------------------------

class FieldSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    name = serializers.CharField(max_length=40, required=False, allow_blank=True)
    label = serializers.CharField(max_length=120, required=False)
    type = serializers.ChoiceField(choices=FieldType.choices, required=False)
    required = serializers.BooleanField(required=False)
    help_text = serializers.CharField(max_length=200, required=False, allow_blank=True)
    choices = serializers.ListField(child=serializers.CharField(max_length=200), required=False, max_length=200)
    min_value = serializers.DecimalField(max_digits=14, decimal_places=2, required=False, allow_null=True)
    max_value = serializers.DecimalField(max_digits=14, decimal_places=2, required=False, allow_null=True)
    max_length = serializers.IntegerField(required=False, allow_null=True, min_value=1, max_value=100000)
    pattern = serializers.CharField(max_length=200, required=False, allow_blank=True)
    pattern_message = serializers.CharField(max_length=200, required=False, allow_blank=True)
    order = serializers.IntegerField(read_only=True)


class SetupItemSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    name = serializers.CharField(max_length=120, required=False)
    summary = serializers.CharField(max_length=200, required=False, allow_blank=True)
    description = serializers.CharField(max_length=8000, required=False, allow_blank=True)
    icon = serializers.CharField(max_length=32, required=False)
    audience = serializers.ChoiceField(choices=CatalogAudience.choices, required=False)
    fulfilment_group = serializers.IntegerField(required=False, allow_null=True, min_value=1,
                                                source="fulfilment_group_id")
    sla_policy = serializers.IntegerField(required=False, allow_null=True, min_value=1, source="sla_policy_id")
    approval = serializers.ChoiceField(choices=ApprovalMode.choices, required=False)
    approver = serializers.IntegerField(required=False, allow_null=True, min_value=1, source="approver_id")
    handler = serializers.CharField(max_length=40, required=False, allow_blank=True)
    handler_config = serializers.DictField(required=False)
    active = serializers.BooleanField(required=False)
    order = serializers.IntegerField(required=False, min_value=0, max_value=32767)
    fields = FieldSerializer(many=True, read_only=True)


def _item_data(item: CatalogItem) -> dict:
    return SetupItemSerializer(item).data


def _item_values(validated: dict) -> dict:
    from sla.models import Policy

    values = dict(validated)
    lookups = {"fulfilment_group_id": ("fulfilment_group", AssignmentGroup), "sla_policy_id": ("sla_policy", Policy),
               "approver_id": ("approver", User)}
    for key, (name, model) in lookups.items():
        if key in values:
            pk = values.pop(key)
            obj = model.objects.filter(pk=pk).first() if pk is not None else None
            if pk is not None and obj is None:
                raise ValidationFailed(f"No {name.replace('_', ' ')} with id {pk}.", fields={name: ["Unknown."]})
            values[name] = obj
    return values


def _setup_service(request, service_id) -> Service:
    service = _service_for(request, service_id)
    if not setup.may_setup_catalogue(request.user, service):
        raise AccessDenied(f"Only the owners and the service manager of {service.name} or an administrator may set "
                           "up its catalogue.")
    return service


@extend_schema(tags=["services"], parameters=[SERVICE_ID])
class CatalogueItemsView(APIView):
    @extend_schema(responses={200: SetupItemSerializer(many=True)})
    def get(self, request, service_id):
        """The service's catalogue items (active or not) with their form fields."""
        service = _setup_service(request, service_id)
        items = CatalogItem.objects.filter(service=service).prefetch_related("fields").order_by("order", "name")
        return Response([_item_data(i) for i in items])

    @extend_schema(request=SetupItemSerializer, responses={201: SetupItemSerializer})
    def post(self, request, service_id):
        """Create a catalogue item of the service (owners, service manager, admins)."""
        service = _setup_service(request, service_id)
        data = SetupItemSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        item = setup.item_create(service=service, actor=request.user, **_item_values(data.validated_data))
        return Response(_item_data(item), status=status.HTTP_201_CREATED)


ITEM = OpenApiParameter("item_id", int, OpenApiParameter.PATH, description="The catalogue item's id.")
FIELD = OpenApiParameter("field_id", int, OpenApiParameter.PATH, description="The form field's id.")


@extend_schema(tags=["services"], parameters=[SERVICE_ID, ITEM])
class CatalogueItemView(APIView):
    @extend_schema(responses={200: SetupItemSerializer})
    def get(self, request, service_id, item_id):
        service = _setup_service(request, service_id)
        return Response(_item_data(get_object_or_404(CatalogItem, pk=item_id, service=service)))

    @extend_schema(request=SetupItemSerializer, responses={200: SetupItemSerializer})
    def patch(self, request, service_id, item_id):
        """Change the item's settings (only those sent)."""
        service = _setup_service(request, service_id)
        item = get_object_or_404(CatalogItem, pk=item_id, service=service)
        data = SetupItemSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        setup.item_update(item=item, actor=request.user, changes=_item_values(data.validated_data))
        return Response(_item_data(item))


@extend_schema(tags=["services"], parameters=[SERVICE_ID, ITEM])
class CatalogueFieldsView(APIView):
    @extend_schema(request=FieldSerializer, responses={201: FieldSerializer})
    def post(self, request, service_id, item_id):
        """Add a field at the end of the item's form."""
        service = _setup_service(request, service_id)
        item = get_object_or_404(CatalogItem, pk=item_id, service=service)
        data = FieldSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        field = setup.field_add(item=item, actor=request.user, **data.validated_data)
        return Response(FieldSerializer(field).data, status=status.HTTP_201_CREATED)


@extend_schema(tags=["services"], parameters=[SERVICE_ID, ITEM, FIELD])
class CatalogueFieldView(APIView):
    @extend_schema(request=FieldSerializer, responses={200: FieldSerializer})
    def patch(self, request, service_id, item_id, field_id):
        """Change a field (only the settings sent)."""
        service = _setup_service(request, service_id)
        field = get_object_or_404(CatalogField, pk=field_id, item_id=item_id, item__service=service)
        data = FieldSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        setup.field_update(field=field, actor=request.user, changes=dict(data.validated_data))
        return Response(FieldSerializer(field).data)

    @extend_schema(responses={204: None})
    def delete(self, request, service_id, item_id, field_id):
        """Remove a field; requests already ordered keep their answers."""
        service = _setup_service(request, service_id)
        field = get_object_or_404(CatalogField, pk=field_id, item_id=item_id, item__service=service)
        setup.field_remove(field=field, actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)
