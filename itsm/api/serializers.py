"""Shapes of the change-enablement API. Serializers check shape only; every write goes through itsm.services."""

from django.contrib.auth import get_user_model
from rest_framework import serializers

from tracker.api.serializers import ServiceRefSerializer, UserRefSerializer
from tracker.choices import Risk
from tracker.models import Service

from ..choices import CAST_VOTES, CabRule, RoundStatus, Vote
from ..models import Approval, ApprovalRound, Cab, ChangeTemplate, ChangeTemplateVersion

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
