"""Shapes of the change-enablement API: CABs, templates, approval rounds and votes; a change's tasks, its
rollbacks and the change rates; blackouts, a change's schedule and the calendar. Serializers check shape only;
every write goes through itsm.services."""

from datetime import timedelta

from django.contrib.auth import get_user_model
from django.utils import timezone
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from tracker.api.serializers import GroupRefSerializer, ServiceRefSerializer, UserRefSerializer
from tracker.choices import Risk, Status
from tracker.models import AssignmentGroup, Service
from tracker.timezones import zone_named

from ..choices import CAST_VOTES, CabRule, Repeat, RollbackOutcome, RoundStatus, TaskState, Vote
from ..models import (
    Approval,
    ApprovalRound,
    Blackout,
    Cab,
    ChangeRollback,
    ChangeTask,
    ChangeTemplate,
    ChangeTemplateVersion,
)

_YEAR = timedelta(days=366)
_MAX_PERIOD = timedelta(days=92)

User = get_user_model()


class _KnownFieldsOnly(serializers.Serializer):
    """A write that names a field this resource does not have is a 400 that names it, not silently dropped."""

    def validate(self, attrs):
        unknown = set(getattr(self, "initial_data", None) or {}) - set(self.fields)
        if unknown:
            raise serializers.ValidationError({name: ["Unknown field."] for name in sorted(unknown)})
        return attrs


class CabSerializer(serializers.ModelSerializer):
    service = ServiceRefSerializer(read_only=True, allow_null=True)
    members = UserRefSerializer(many=True, read_only=True)

    class Meta:
        model = Cab
        fields = ["id", "name", "service", "emergency", "rule", "quorum", "members", "active", "created_at",
                  "updated_at"]
        read_only_fields = fields


class CabWriteSerializer(_KnownFieldsOnly):
    name = serializers.CharField(max_length=120)
    service = serializers.PrimaryKeyRelatedField(queryset=Service.objects.all(), required=False, allow_null=True,
                                                 help_text="Empty: every service without a CAB of its own.")
    emergency = serializers.BooleanField(required=False, default=False)
    rule = serializers.ChoiceField(choices=CabRule.choices, required=False, allow_blank=True,
                                   help_text="Default: any (quorum 1) for an emergency CAB, else majority.")
    quorum = serializers.IntegerField(min_value=1, max_value=100, required=False, default=1,
                                      help_text="With rule 'any': how many approvals decide.")
    members = serializers.PrimaryKeyRelatedField(queryset=User.objects.all(), many=True,
                                                 help_text="Approvers: active staff.")
    active = serializers.BooleanField(required=False, default=True)


class CabUpdateSerializer(CabWriteSerializer):
    name = serializers.CharField(max_length=120, required=False)
    emergency = serializers.BooleanField(required=False)
    quorum = serializers.IntegerField(min_value=1, max_value=100, required=False)
    members = serializers.PrimaryKeyRelatedField(queryset=User.objects.all(), many=True, required=False)
    active = serializers.BooleanField(required=False)


class TemplateVersionSerializer(serializers.ModelSerializer):
    service = ServiceRefSerializer(read_only=True, allow_null=True)
    created_by = UserRefSerializer(read_only=True, allow_null=True)

    class Meta:
        model = ChangeTemplateVersion
        fields = ["number", "title", "description", "service", "implementation_plan", "backout_plan", "risk", "note",
                  "created_by", "created_at"]
        read_only_fields = fields


class TemplateSerializer(serializers.ModelSerializer):
    service = ServiceRefSerializer(read_only=True, allow_null=True)
    retired = serializers.BooleanField(read_only=True)

    class Meta:
        model = ChangeTemplate
        fields = ["id", "title", "description", "service", "implementation_plan", "backout_plan", "risk", "version",
                  "retired", "retired_at", "created_at", "updated_at"]
        read_only_fields = fields


class TemplateDetailSerializer(TemplateSerializer):
    versions = TemplateVersionSerializer(many=True, read_only=True)

    class Meta(TemplateSerializer.Meta):
        fields = [*TemplateSerializer.Meta.fields, "versions"]
        read_only_fields = fields


class TemplateWriteSerializer(_KnownFieldsOnly):
    title = serializers.CharField(max_length=200)
    description = serializers.CharField(required=False, allow_blank=True, default="")
    service = serializers.PrimaryKeyRelatedField(queryset=Service.objects.all(), required=False, allow_null=True)
    implementation_plan = serializers.CharField()
    backout_plan = serializers.CharField()
    risk = serializers.ChoiceField(choices=Risk.choices, required=False, default=Risk.LOW)


class TemplateUpdateSerializer(_KnownFieldsOnly):
    title = serializers.CharField(max_length=200, required=False)
    description = serializers.CharField(required=False, allow_blank=True)
    service = serializers.PrimaryKeyRelatedField(queryset=Service.objects.all(), required=False, allow_null=True)
    implementation_plan = serializers.CharField(required=False)
    backout_plan = serializers.CharField(required=False)
    risk = serializers.ChoiceField(choices=Risk.choices, required=False)
    note = serializers.CharField(required=False, allow_blank=True, max_length=2000,
                                 help_text="What changed in this version.")


class StandardChangeSerializer(_KnownFieldsOnly):
    title = serializers.CharField(max_length=200, required=False, allow_blank=True,
                                  help_text="Default: the template's title.")
    description = serializers.CharField(required=False, allow_blank=True,
                                        help_text="Default: the template's description.")
    window_start = serializers.DateTimeField(required=False, allow_null=True)
    window_end = serializers.DateTimeField(required=False, allow_null=True)
    requester = serializers.PrimaryKeyRelatedField(queryset=User.objects.all(), required=False, allow_null=True)
    assignee = serializers.PrimaryKeyRelatedField(queryset=User.objects.all(), required=False, allow_null=True)


class ApprovalSerializer(serializers.ModelSerializer):
    approver = UserRefSerializer(read_only=True)
    decision = serializers.ChoiceField(choices=Vote.choices, read_only=True)

    class Meta:
        model = Approval
        fields = ["approver", "decision", "comment", "decided_at"]
        read_only_fields = fields


class CabRefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Cab
        fields = ["id", "name", "emergency"]
        read_only_fields = fields


class RoundSerializer(serializers.ModelSerializer):
    cab = CabRefSerializer(read_only=True)
    opened_by = UserRefSerializer(read_only=True, allow_null=True)
    status = serializers.ChoiceField(choices=RoundStatus.choices, read_only=True)
    approvals = ApprovalSerializer(many=True, read_only=True)

    class Meta:
        model = ApprovalRound
        fields = ["number", "cab", "rule", "required", "status", "reason", "opened_by", "opened_at", "decided_at",
                  "approvals"]
        read_only_fields = fields


class VoteSerializer(_KnownFieldsOnly):
    decision = serializers.ChoiceField(choices=[(v, Vote(v).label) for v in CAST_VOTES])
    comment = serializers.CharField(required=False, allow_blank=True, max_length=4000,
                                    help_text="Required to reject or to request changes.")


class VoteResultSerializer(serializers.Serializer):
    round = RoundSerializer()
    status = serializers.CharField(help_text="The change's status after the vote.")
    version = serializers.IntegerField(help_text="The change's version (ETag) after the vote.")




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


class TaskWriteSerializer(_KnownFieldsOnly):
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


class TaskReportSerializer(_KnownFieldsOnly):
    state = serializers.ChoiceField(choices=[(s, TaskState(s).label) for s in (
        TaskState.IN_PROGRESS, TaskState.DONE, TaskState.FAILED, TaskState.CANCELLED)],
        help_text="in_progress (start), done, failed (needs a note) or cancelled (coordinators).")
    note = serializers.CharField(required=False, allow_blank=True, max_length=4000)


class TaskHandoffSerializer(_KnownFieldsOnly):
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


class RollbackCreateSerializer(_KnownFieldsOnly):
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


class BlackoutWriteSerializer(_KnownFieldsOnly):
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


class ChangeScheduleWriteSerializer(_KnownFieldsOnly):
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
        """The period asked for, with its defaults: from now, 31 days; it ends after it starts, 92 days at most."""
        start = attrs.get("start") or timezone.now()
        end = attrs.get("end") or start + timedelta(days=31)
        if end <= start:
            raise serializers.ValidationError({"end": ["Must be after the start."]})
        if end - start > _MAX_PERIOD:
            raise serializers.ValidationError({"end": ["Ask for at most 92 days at a time."]})
        return {**attrs, "start": start, "end": end}


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
