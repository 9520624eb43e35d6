"""Shapes of the change-calendar API. Serializers check shape only; writes go through itsm.services."""

from datetime import timedelta

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from tracker.choices import Risk, Status
from tracker.models import Service

from ..choices import Repeat
from ..models import Blackout

_YEAR = timedelta(days=366)
_MAX_PERIOD = timedelta(days=92)


class StrictFields:
    """Refuse fields the serializer does not know (a typo would otherwise be ignored silently)."""

    def validate(self, attrs):
        unknown = set(getattr(self, "initial_data", {}) or {}) - set(self.fields)
        if unknown:
            raise serializers.ValidationError({name: ["Unknown field."] for name in sorted(unknown)})
        return attrs


class OccurrenceSerializer(serializers.Serializer):
    start = serializers.DateTimeField()
    end = serializers.DateTimeField()


class BlackoutSerializer(serializers.ModelSerializer):
    service_name = serializers.SerializerMethodField()
    next_occurrences = serializers.SerializerMethodField(help_text="The next three occurrences (from now).")
    created_by = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = Blackout
        fields = ["id", "name", "reason", "service", "service_name", "starts_at", "ends_at", "time_zone", "repeat",
                  "repeat_until", "next_occurrences", "created_by", "created_at", "updated_at"]
        read_only_fields = fields

    def get_service_name(self, blackout) -> str:
        return blackout.service.name if blackout.service_id else "All services"

    @extend_schema_field(OccurrenceSerializer(many=True))
    def get_next_occurrences(self, blackout):
        now = self.context["now"]
        found = blackout.occurrences(now, now + _YEAR)[:3]
        return [{"start": s, "end": e} for s, e in found]


class BlackoutWriteSerializer(StrictFields, serializers.Serializer):
    name = serializers.CharField(max_length=120)
    reason = serializers.CharField(max_length=2000)
    service = serializers.PrimaryKeyRelatedField(queryset=Service.objects.all(), required=False, allow_null=True,
                                                 help_text="Empty: every service (a global freeze).")
    starts_at = serializers.DateTimeField(help_text="Start of the (first) occurrence.")
    ends_at = serializers.DateTimeField(help_text="End of the (first) occurrence.")
    repeat = serializers.ChoiceField(choices=Repeat.choices, required=False)
    repeat_until = serializers.DateField(required=False, allow_null=True)
    time_zone = serializers.CharField(max_length=64, required=False, allow_blank=True,
                                      help_text="IANA zone whose wall clock a repeating blackout keeps; default "
                                                "your own.")


class BlackoutUpdateSerializer(BlackoutWriteSerializer):
    name = serializers.CharField(max_length=120, required=False)
    reason = serializers.CharField(max_length=2000, required=False)
    starts_at = serializers.DateTimeField(required=False)
    ends_at = serializers.DateTimeField(required=False)


class ChangeScheduleWriteSerializer(StrictFields, serializers.Serializer):
    window_start = serializers.DateTimeField(allow_null=True)
    window_end = serializers.DateTimeField(allow_null=True)
    override_reason = serializers.CharField(
        required=False, allow_blank=True, max_length=2000,
        help_text="Change managers: schedule into the blackouts the window falls into, for this reason.")


class ChangeRefSerializer(serializers.Serializer):
    key = serializers.CharField()
    title = serializers.CharField()
    service = serializers.CharField(source="service.name", allow_null=True, default=None)
    status = serializers.ChoiceField(choices=Status.choices)
    window_start = serializers.DateTimeField()
    window_end = serializers.DateTimeField(allow_null=True)


class OverrideSerializer(serializers.Serializer):
    blackout = serializers.IntegerField(source="blackout_id", allow_null=True)
    blackout_name = serializers.CharField()
    window_start = serializers.DateTimeField()
    window_end = serializers.DateTimeField(allow_null=True)
    reason = serializers.CharField()
    by = serializers.CharField(source="actor.username", allow_null=True, default=None)
    at = serializers.DateTimeField(source="created_at")


class HitSerializer(serializers.Serializer):
    blackout = serializers.IntegerField(source="blackout.pk")
    name = serializers.CharField(source="blackout.name")
    scope = serializers.CharField(source="occurrence.scope")
    reason = serializers.CharField(source="blackout.reason")
    start = serializers.DateTimeField(source="occurrence.start")
    end = serializers.DateTimeField(source="occurrence.end")
    overridden = serializers.SerializerMethodField()

    def get_overridden(self, hit) -> bool:
        return hit.override is not None


class ChangeScheduleSerializer(serializers.Serializer):
    key = serializers.CharField()
    version = serializers.IntegerField()
    window_start = serializers.DateTimeField(allow_null=True)
    window_end = serializers.DateTimeField(allow_null=True)
    collisions = ChangeRefSerializer(many=True)
    blackouts = HitSerializer(many=True, help_text="The blackouts the window falls into.")
    overrides = OverrideSerializer(many=True, help_text="Every override recorded on this change.")


class ChangeCalendarQuerySerializer(serializers.Serializer):
    start = serializers.DateTimeField(required=False, help_text="Default: now.")
    end = serializers.DateTimeField(required=False, help_text="Default: 31 days after the start; at most 92 days.")
    service = serializers.PrimaryKeyRelatedField(queryset=Service.objects.all(), required=False)

    def validate(self, attrs):
        start, end = attrs.get("start"), attrs.get("end")
        if start and end and end <= start:
            raise serializers.ValidationError({"end": ["Must be after the start."]})
        if start and end and end - start > _MAX_PERIOD:
            raise serializers.ValidationError({"end": ["Ask for at most 92 days at a time."]})
        return attrs


class ChangeCalendarEntrySerializer(serializers.Serializer):
    key = serializers.CharField(source="ticket.key")
    title = serializers.CharField(source="ticket.title")
    service = serializers.CharField(source="ticket.service.name", allow_null=True, default=None)
    risk = serializers.ChoiceField(choices=Risk.choices, source="ticket.risk", allow_blank=True)
    status = serializers.ChoiceField(choices=Status.choices, source="ticket.status")
    window_start = serializers.DateTimeField(source="ticket.window_start")
    window_end = serializers.DateTimeField(source="ticket.window_end", allow_null=True)
    collides_with = serializers.SerializerMethodField()
    blackouts = HitSerializer(source="hits", many=True)

    def get_collides_with(self, entry) -> list[str]:
        return [t.key for t in entry.collisions]


class BlackoutOccurrenceSerializer(serializers.Serializer):
    blackout = serializers.IntegerField(source="blackout.pk")
    name = serializers.CharField(source="blackout.name")
    scope = serializers.CharField()
    reason = serializers.CharField(source="blackout.reason")
    start = serializers.DateTimeField()
    end = serializers.DateTimeField()


class ChangeCalendarSerializer(serializers.Serializer):
    start = serializers.DateTimeField()
    end = serializers.DateTimeField()
    changes = ChangeCalendarEntrySerializer(source="entries", many=True)
    blackouts = BlackoutOccurrenceSerializer(source="occurrences", many=True)
