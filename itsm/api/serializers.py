"""Shapes of the change-enablement API. Serializers check shape only; every write goes through itsm.services."""
from django.contrib.auth import get_user_model
from rest_framework import serializers

from tracker.api.serializers import GroupRefSerializer, UserRefSerializer
from tracker.models import AssignmentGroup
from tracker.timezones import zone_named

from ..choices import RollbackOutcome, TaskState
from ..models import ChangeRollback, ChangeTask

User = get_user_model()


class SiteDateTimeField(serializers.DateTimeField):
    """A date-time with an offset (kept as given), or without one: then it is the site's wall clock, read in
    the task's own time zone by the domain function."""

    def enforce_timezone(self, value):
        return value


class ChangeTaskSerializer(serializers.ModelSerializer):
    change = serializers.CharField(source="change.key", read_only=True)
    assignee = UserRefSerializer(read_only=True, allow_null=True)
    group = GroupRefSerializer(read_only=True, allow_null=True)
    state = serializers.ChoiceField(choices=TaskState.choices, read_only=True)
    planned_start_local = serializers.SerializerMethodField(help_text="The start on the site's clock, with offset.")
    planned_end_local = serializers.SerializerMethodField(help_text="The end on the site's clock, with offset.")

    class Meta:
        model = ChangeTask
        fields = ["change", "number", "title", "business_unit", "site", "country", "time_zone", "planned_start",
                  "planned_end", "planned_start_local", "planned_end_local", "assignee", "group", "state",
                  "result_note", "started_at", "finished_at", "created_at", "updated_at", "version"]
        read_only_fields = fields

    def _local(self, value, task) -> str:
        zone = zone_named(task.time_zone)
        return value.astimezone(zone).isoformat() if zone else value.isoformat()

    def get_planned_start_local(self, task) -> str:
        return self._local(task.planned_start, task)

    def get_planned_end_local(self, task) -> str:
        return self._local(task.planned_end, task)


class _Strict(serializers.Serializer):
    """Unknown fields are refused (a typo must not pass silently)."""

    def validate(self, attrs):
        unknown = set(getattr(self, "initial_data", {}) or {}) - set(self.fields)
        if unknown:
            raise serializers.ValidationError({name: ["Unknown field."] for name in sorted(unknown)})
        return attrs


class TaskWriteSerializer(_Strict):
    title = serializers.CharField(max_length=200)
    business_unit = serializers.CharField(max_length=120)
    site = serializers.CharField(max_length=120)
    country = serializers.CharField(max_length=2, help_text="ISO 3166 code, e.g. DE.")
    time_zone = serializers.CharField(max_length=64, help_text="IANA zone of the site, e.g. Asia/Singapore.")
    planned_start = SiteDateTimeField(help_text="With an offset, or the site's wall clock without one.")
    planned_end = SiteDateTimeField(help_text="With an offset, or the site's wall clock without one.")


class TaskCreateSerializer(TaskWriteSerializer):
    assignee = serializers.PrimaryKeyRelatedField(queryset=User.objects.all(), required=False, allow_null=True)
    group = serializers.PrimaryKeyRelatedField(queryset=AssignmentGroup.objects.all(), required=False,
                                               allow_null=True)


class TaskUpdateSerializer(TaskWriteSerializer):
    """Re-plan a task that has not started; every field optional."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for f in self.fields.values():
            f.required = False


class TaskReportSerializer(_Strict):
    state = serializers.ChoiceField(choices=[(s, TaskState(s).label) for s in (
        TaskState.IN_PROGRESS, TaskState.DONE, TaskState.FAILED, TaskState.CANCELLED)],
        help_text="in_progress (start), done, failed (needs a note) or cancelled (coordinators).")
    note = serializers.CharField(required=False, allow_blank=True, max_length=4000)


class TaskHandoffSerializer(_Strict):
    assignee = serializers.PrimaryKeyRelatedField(queryset=User.objects.all(), required=False, allow_null=True)
    group = serializers.PrimaryKeyRelatedField(queryset=AssignmentGroup.objects.all(), required=False,
                                               allow_null=True)
    note = serializers.CharField(required=False, allow_blank=True, max_length=2000)


class RollbackSerializer(serializers.ModelSerializer):
    run_by = UserRefSerializer(read_only=True)
    recorded_by = UserRefSerializer(read_only=True, allow_null=True)
    outcome = serializers.ChoiceField(choices=RollbackOutcome.choices, read_only=True)

    class Meta:
        model = ChangeRollback
        fields = ["id", "run_by", "ran_at", "outcome", "note", "recorded_by", "recorded_at"]
        read_only_fields = fields


class RollbackCreateSerializer(_Strict):
    run_by = serializers.PrimaryKeyRelatedField(queryset=User.objects.all(), help_text="Who ran the backout plan.")
    ran_at = serializers.DateTimeField(help_text="When the backout finished.")
    outcome = serializers.ChoiceField(choices=RollbackOutcome.choices)
    note = serializers.CharField(required=False, allow_blank=True, max_length=4000)


class RateRowSerializer(serializers.Serializer):
    label = serializers.CharField()
    filter = serializers.DictField(source="params", child=serializers.CharField(),
                                   help_text="What /changes/outcomes/ filters by for this row.")
    total = serializers.IntegerField()
    successful = serializers.IntegerField()
    failed = serializers.IntegerField()
    success_rate = serializers.CharField(help_text="Percent, or — without changes.")
    failure_rate = serializers.CharField(help_text="Percent, or — without changes.")


class RatesSerializer(serializers.Serializer):
    start = serializers.DateTimeField()
    end = serializers.DateTimeField()
    overall = RateRowSerializer()
    by_service = RateRowSerializer(many=True)
    by_team = RateRowSerializer(many=True)
    by_month = RateRowSerializer(many=True)
