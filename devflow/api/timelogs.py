"""Time logged on tickets, across tickets: `GET /api/v1/time-logs/?user=&group=&since=&until=` (staff)."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.generics import ListAPIView
from rest_framework.pagination import CursorPagination

from tracker import access
from tracker.api.serializers import GroupRefSerializer, UserRefSerializer
from tracker.errors import AccessDenied, ValidationFailed
from tracker.models import WorkLog

from .. import selectors as q

MAX_ID = 2**31 - 1


class TimeLogQuerySerializer(serializers.Serializer):
    user = serializers.IntegerField(required=False, min_value=1, max_value=MAX_ID, help_text="Who logged it.")
    group = serializers.IntegerField(required=False, min_value=1, max_value=MAX_ID, help_text="The team it counts for.")
    since = serializers.DateTimeField(required=False, help_text="Worked at or after.")
    until = serializers.DateTimeField(required=False, help_text="Worked at or before.")


class TimeLogSerializer(serializers.ModelSerializer):
    ticket = serializers.CharField(source="ticket.key", read_only=True)
    kind = serializers.CharField(source="ticket.kind", read_only=True)
    user = UserRefSerializer(read_only=True)
    group = GroupRefSerializer(read_only=True, allow_null=True)

    class Meta:
        model = WorkLog
        fields = ["id", "ticket", "kind", "user", "group", "minutes", "note", "worked_at", "created_at"]
        read_only_fields = fields


class TimeLogPagination(CursorPagination):
    ordering = ("-worked_at", "-id")
    page_size = 100
    page_size_query_param = "page_size"
    max_page_size = 500


@extend_schema(parameters=[TimeLogQuerySerializer])
class TimeLogListView(ListAPIView):
    """Time logged on the tickets you may see, newest first (cursor pages), by person, team and period."""

    serializer_class = TimeLogSerializer
    pagination_class = TimeLogPagination
    filter_backends: list = []

    def get_queryset(self):
        if not access.is_staff_member(self.request.user):
            raise AccessDenied("Only staff read time logs.")
        query = TimeLogQuerySerializer(data=self.request.query_params)
        query.is_valid(raise_exception=True)
        data = query.validated_data
        if data.get("since") and data.get("until") and data["since"] > data["until"]:
            raise ValidationFailed("`since` must not be after `until`.", fields={"since": ["After until."]})
        return q.time_logs(user=self.request.user, user_id=data.get("user"), group_id=data.get("group"),
                           since=data.get("since"), until=data.get("until"))
