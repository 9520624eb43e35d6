"""The webhooks API (administrators and managers): subscriptions, their delivery log, redelivery.

Mounted under /api/v1/sla/webhooks/. A subscription's secret is returned once, when it is made (create, or an
update with `regenerate_secret`); payloads are documented in docs/webhooks.md."""

from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.pagination import LimitOffsetPagination
from rest_framework.permissions import BasePermission
from rest_framework.response import Response

from tracker.errors import AccessDenied, ValidationFailed

from .. import services
from ..choices import DeliveryState, WebhookEvent
from ..models import WebhookAttempt, WebhookDelivery, WebhookSubscription


class ManagesWebhooks(BasePermission):
    def has_permission(self, request, view):
        if not services.may_manage_webhooks(request.user):
            raise AccessDenied("Only administrators and managers manage webhooks.")
        return True


class WebhookSubscriptionSerializer(serializers.ModelSerializer):
    events = serializers.ListField(child=serializers.ChoiceField(choices=WebhookEvent.choices))
    deliveries_failed = serializers.IntegerField(read_only=True, default=0)

    class Meta:
        model = WebhookSubscription
        fields = ["id", "name", "url", "events", "active", "created_at", "deliveries_failed"]
        read_only_fields = ["id", "created_at", "deliveries_failed"]


class WebhookSubscriptionWriteSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=120)
    url = serializers.CharField(max_length=500, help_text="The receiver: an http:// or https:// address.")
    events = serializers.ListField(child=serializers.ChoiceField(choices=WebhookEvent.choices), max_length=20)
    active = serializers.BooleanField(default=True)
    regenerate_secret = serializers.BooleanField(default=False, help_text="On update: make a new secret.")


class WebhookSubscriptionWithSecretSerializer(WebhookSubscriptionSerializer):
    secret = serializers.CharField(read_only=True, allow_null=True,
                                   help_text="Shown only when it was made: keep it to verify signatures.")

    class Meta(WebhookSubscriptionSerializer.Meta):
        fields = [*WebhookSubscriptionSerializer.Meta.fields, "secret"]


class WebhookAttemptSerializer(serializers.ModelSerializer):
    class Meta:
        model = WebhookAttempt
        fields = ["attempted_at", "status_code", "duration_ms", "error", "ok", "manual"]


class WebhookDeliverySerializer(serializers.ModelSerializer):
    tries = WebhookAttemptSerializer(many=True, read_only=True)

    class Meta:
        model = WebhookDelivery
        fields = ["id", "subscription", "event", "event_id", "state", "created_at", "available_at", "delivered_at",
                  "attempts", "last_status_code", "last_duration_ms", "last_error", "payload", "tries"]


def _write(request, subscription=None):
    data = WebhookSubscriptionWriteSerializer(data=request.data)
    if not data.is_valid():
        fields = {k: [str(e) for e in v] if isinstance(v, list) else [str(v)] for k, v in data.errors.items()}
        raise ValidationFailed(next(iter(fields.values()))[0], fields=fields)
    sub, secret = services.webhook_subscription_save(actor=request.user, subscription=subscription,
                                                     **data.validated_data)
    body = WebhookSubscriptionWithSecretSerializer(sub).data
    body["secret"] = secret
    return body


@extend_schema_view(
    create=extend_schema(request=WebhookSubscriptionWriteSerializer,
                         responses={201: WebhookSubscriptionWithSecretSerializer}),
    update=extend_schema(request=WebhookSubscriptionWriteSerializer,
                         responses={200: WebhookSubscriptionWithSecretSerializer}),
)
class WebhookSubscriptionViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.DestroyModelMixin,
                                 viewsets.GenericViewSet):
    permission_classes = [ManagesWebhooks]
    serializer_class = WebhookSubscriptionSerializer
    pagination_class = None
    http_method_names = ["get", "post", "put", "delete", "head", "options"]

    def get_queryset(self):
        return services.webhook_subscription_list()

    def create(self, request, *args, **kwargs):
        return Response(_write(request), status=status.HTTP_201_CREATED)

    def update(self, request, *args, **kwargs):
        return Response(_write(request, self.get_object()))

    def perform_destroy(self, instance):
        services.webhook_subscription_delete(actor=self.request.user, subscription=instance)


class _Page(LimitOffsetPagination):
    default_limit = 50
    max_limit = 200


@extend_schema_view(list=extend_schema(parameters=[
    OpenApiParameter("subscription", int, description="Only this subscription's deliveries."),
    OpenApiParameter("state", str, enum=DeliveryState.values, description="Only deliveries in this state."),
]))
class WebhookDeliveryViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    permission_classes = [ManagesWebhooks]
    serializer_class = WebhookDeliverySerializer
    pagination_class = _Page

    def get_queryset(self):
        qs = WebhookDelivery.objects.prefetch_related("tries")
        sub = self.request.query_params.get("subscription")
        if sub:
            if not sub.isdigit() or len(sub) > 18:
                raise ValidationFailed("subscription must be a subscription's id.",
                                       fields={"subscription": ["Give a subscription's id."]})
            qs = qs.filter(subscription_id=int(sub))
        state = self.request.query_params.get("state")
        if state:
            if state not in DeliveryState.values:
                raise ValidationFailed(f"state must be one of {', '.join(DeliveryState.values)}.",
                                       fields={"state": ["Unknown state."]})
            qs = qs.filter(state=state)
        return qs

    @extend_schema(request=None, responses={202: WebhookDeliverySerializer})
    @action(detail=True, methods=["post"])
    def redeliver(self, request, pk=None):
        delivery = services.webhook_redeliver(delivery=self.get_object(), actor=request.user)
        return Response(self.get_serializer(WebhookDelivery.objects.prefetch_related("tries").get(pk=delivery.pk)).data,
                        status=status.HTTP_202_ACCEPTED)
