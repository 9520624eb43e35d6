"""The ticket filters, shared by the HTML queue and the API (one FilterSet, two front ends)."""
import django_filters as df
from django.db.models import Q

from .choices import Kind, Priority, Status, Tier
from .models import AssignmentGroup, Service, Ticket


class TicketFilterSet(df.FilterSet):
    # distinct=False: these filter the ticket's own columns; a DISTINCT would force a sort of every match.
    kind = df.MultipleChoiceFilter(choices=Kind.choices, distinct=False)
    status = df.MultipleChoiceFilter(choices=Status.choices, distinct=False)
    priority = df.MultipleChoiceFilter(choices=Priority.choices, distinct=False)
    group = df.ModelChoiceFilter(queryset=AssignmentGroup.objects.all())
    tier = df.ChoiceFilter(field_name="group__tier", choices=Tier.choices, label="Tier")
    assignee = df.CharFilter(method="filter_assignee", help_text="A user id, 'me' or 'none'.")
    requester = df.NumberFilter(field_name="requester_id")
    service = df.ModelChoiceFilter(queryset=Service.objects.all())
    created = df.IsoDateTimeFromToRangeFilter(field_name="created_at",
                                              help_text="created_after / created_before (ISO 8601)")
    updated = df.IsoDateTimeFromToRangeFilter(field_name="updated_at",
                                              help_text="updated_after / updated_before (ISO 8601)")
    open = df.BooleanFilter(method="filter_open", label="Open only")
    q = df.CharFilter(method="filter_text", label="Text", help_text="A key (INC-42) or words of the title.")

    class Meta:
        model = Ticket
        fields = ["kind", "status", "priority", "group", "tier", "assignee", "requester", "service"]

    def filter_assignee(self, queryset, name, value):
        value = (value or "").strip().lower()
        if value == "me":
            return queryset.filter(assignee=self.request.user) if self.request else queryset.none()
        if value == "none":
            return queryset.filter(assignee__isnull=True)
        if value.isdigit():
            return queryset.filter(assignee_id=int(value))
        return queryset.filter(assignee__username=value)

    def filter_open(self, queryset, name, value):
        if value is None:
            return queryset
        from .choices import OPEN_STATUSES
        return queryset.filter(status__in=OPEN_STATUSES) if value else queryset.exclude(status__in=OPEN_STATUSES)

    def filter_text(self, queryset, name, value):
        value = (value or "").strip()
        if not value:
            return queryset
        cond = Q(title__icontains=value)
        if "-" in value and value.split("-", 1)[1].isdigit():
            cond |= Q(key=value.upper())
        return queryset.filter(cond)
