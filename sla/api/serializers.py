"""Shapes of the SLA API. Serializers check shape only; writes go through sla.services."""

from rest_framework import serializers

from tracker.choices import Kind, Status

from ..choices import NotificationKind
from ..models import (
    Calendar,
    Clock,
    Holiday,
    Notification,
    NotificationPreference,
    Policy,
    TierTarget,
    WorkingHours,
)
from ..selectors import clock_figures


class WorkingHoursSerializer(serializers.ModelSerializer):
    class Meta:
        model = WorkingHours
        fields = ["weekday", "start", "end"]


class HolidaySerializer(serializers.ModelSerializer):
    class Meta:
        model = Holiday
        fields = ["date", "name"]


class CalendarSerializer(serializers.ModelSerializer):
    hours = WorkingHoursSerializer(many=True, required=False)
    holidays = HolidaySerializer(many=True, required=False)

    class Meta:
        model = Calendar
        fields = [
            "id",
            "name",
            "time_zone",
            "always_open",
            "holiday_country",
            "holiday_subdivision",
            "hours",
            "holidays",
            "updated_at",
        ]
        read_only_fields = ["id", "holiday_country", "holiday_subdivision", "updated_at"]

    def validate_time_zone(self, value):
        from zoneinfo import available_timezones

        if value not in available_timezones():
            raise serializers.ValidationError(
                f"Unknown time zone {value!r}; use an IANA name like Europe/London."
            )
        return value

    def validate_hours(self, rows):
        for number, row in enumerate(rows, 1):
            # A PATCH makes nested rows partial too, but an interval is only ever replaced whole.
            missing = [name for name in ("weekday", "start", "end") if name not in row]
            if missing:
                raise serializers.ValidationError(
                    f"Row {number} lacks {', '.join(missing)}; each row needs weekday, start and end."
                )
            end = row["end"]
            if end.hour or end.minute or end.second:  # 00:00 = end of day
                if end <= row["start"]:
                    raise serializers.ValidationError(
                        "Each interval must end after it starts (00:00 = midnight)."
                    )
        return rows


class HolidayImportSerializer(serializers.Serializer):
    country = serializers.CharField(max_length=8, help_text="ISO code, e.g. GB.")
    subdivision = serializers.CharField(
        max_length=16, required=False, allow_blank=True, help_text="e.g. ENG."
    )
    years = serializers.ListField(
        child=serializers.IntegerField(min_value=1970, max_value=2100), min_length=1
    )


class TierTargetSerializer(serializers.ModelSerializer):
    class Meta:
        model = TierTarget
        fields = ["tier", "goal_s"]


class PolicySerializer(serializers.ModelSerializer):
    tier_targets = TierTargetSerializer(many=True, required=False)
    kinds = serializers.ListField(child=serializers.ChoiceField(choices=Kind.choices), required=False)
    priorities = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=5), required=False
    )
    sites = serializers.ListField(child=serializers.CharField(max_length=80), required=False)
    warn_percents = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=99), required=False
    )
    pause_statuses = serializers.ListField(
        child=serializers.ChoiceField(choices=Status.choices), required=False
    )

    class Meta:
        model = Policy
        fields = [
            "id",
            "name",
            "order",
            "active",
            "calendar",
            "kinds",
            "priorities",
            "services",
            "organisations",
            "sites",
            "response_s",
            "resolution_s",
            "tier_targets",
            "warn_percents",
            "pause_statuses",
            "functional_escalation",
            "hierarchical_escalation",
            "tell_requester",
            "updated_at",
        ]
        read_only_fields = ["id", "updated_at"]


class ClockSerializer(serializers.ModelSerializer):
    """A clock as shown: state, due, and business seconds elapsed/remaining at the time of the request."""

    ticket = serializers.CharField(source="ticket.key", read_only=True)
    policy_name = serializers.CharField(source="policy.name", read_only=True)
    elapsed_s = serializers.SerializerMethodField()
    remaining_s = serializers.SerializerMethodField()
    percent = serializers.SerializerMethodField()
    breached = serializers.SerializerMethodField()

    class Meta:
        model = Clock
        fields = [
            "id",
            "ticket",
            "metric",
            "tier",
            "cycle",
            "state",
            "policy",
            "policy_name",
            "goal_s",
            "elapsed_s",
            "remaining_s",
            "percent",
            "breached",
            "breached_at",
            "warned_percent",
            "started_at",
            "paused_at",
            "due_at",
            "stopped_at",
            "group",
            "priority",
        ]
        read_only_fields = fields

    def _figures(self, clock) -> dict:
        cache = self.context.setdefault("_figures", {})
        if clock.pk not in cache:
            cache[clock.pk] = clock_figures(clock, self.context.get("now"))
        return cache[clock.pk]

    def get_elapsed_s(self, clock) -> int:
        return self._figures(clock)["elapsed_s"]

    def get_remaining_s(self, clock) -> int:
        return self._figures(clock)["remaining_s"]

    def get_percent(self, clock) -> float:
        return self._figures(clock)["percent"]

    def get_breached(self, clock) -> bool:
        return self._figures(clock)["breached"]


class TicketClockSerializer(ClockSerializer):
    """The compact form embedded in a ticket (no ticket key)."""

    class Meta(ClockSerializer.Meta):
        fields = [
            "metric",
            "tier",
            "cycle",
            "state",
            "goal_s",
            "elapsed_s",
            "remaining_s",
            "percent",
            "breached",
            "due_at",
            "stopped_at",
        ]
        read_only_fields = fields


class NotificationSerializer(serializers.ModelSerializer):
    ticket = serializers.CharField(source="ticket.key", read_only=True, allow_null=True)

    class Meta:
        model = Notification
        fields = ["id", "kind", "title", "body", "url", "ticket", "created_at", "read_at"]
        read_only_fields = fields


class MarkReadSerializer(serializers.Serializer):
    ids = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=2**63 - 1),  # a notification id fits a bigint
        required=False,
        help_text="Omit to mark every unread notification read.",
    )


class PreferenceSerializer(serializers.ModelSerializer):
    kind = serializers.ChoiceField(choices=NotificationKind.choices)

    class Meta:
        model = NotificationPreference
        fields = ["kind", "email", "in_app"]
