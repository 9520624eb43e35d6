"""The ticket filters, shared by the HTML queue and the API (one FilterSet, two front ends)."""
from datetime import UTC, datetime, timedelta

import django_filters as df
from django.core.exceptions import ValidationError
from django.db.models import DateTimeField, Exists, OuterRef, Q, Subquery, Value
from django.db.models.functions import Coalesce
from django.forms.models import ModelChoiceIterator
from django.utils import timezone
from django.utils.choices import BaseChoiceIterator, normalize_choices
from django_filters import fields as df_fields

from . import config_cache
from .choices import Kind, Priority, Status, Tier
from .models import AssignmentGroup, Service, Ticket


class ListedChoices(ModelChoiceIterator):
    """The options of a short list (groups, services, staff) in one plain query.

    Django's iterator reads them through queryset.iterator(), which on PostgreSQL opens a server-side
    cursor: DECLARE, FETCH and CLOSE, three round trips per select on every page that shows it."""

    def __iter__(self):
        if self.field.empty_label is not None:
            yield ("", self.field.empty_label)
        for obj in self.queryset:
            yield self.choice(obj)


# Groups and services are configuration: their whole lists are read once per change of it, not once per page.
CONFIG_LISTS = (AssignmentGroup, Service)
config_cache.watch(*CONFIG_LISTS)


@config_cache.cached
def _config_lists() -> dict[str, list]:
    return {model._meta.label: list(model.objects.all()) for model in CONFIG_LISTS}


@config_cache.cached
def _config_by_id() -> dict[str, dict]:
    return {label: {obj.pk: obj for obj in objs} for label, objs in _config_lists.get().items()}


def config_rows(model) -> dict:
    """Every group (or service) by id, as the configuration cache holds them: shared, read-only objects."""
    return _config_by_id.get()[model._meta.label]


class ConfigListedChoices(ListedChoices):
    """The options of a whole configuration table (every group, every service), from the configuration cache;
    a narrowed queryset is still read from the database."""

    def _objects(self):
        lists = _config_lists.get() if not self.queryset.query.has_filters() else {}
        return lists.get(self.queryset.model._meta.label, self.queryset)

    def __iter__(self):
        if self.field.empty_label is not None:
            yield ("", self.field.empty_label)
        for obj in self._objects():
            yield self.choice(obj)

    def __len__(self):
        return len(self._objects()) + (self.field.empty_label is not None)


class _ListedFilterChoices(df_fields.ModelChoiceIterator, ConfigListedChoices):
    pass  # django-filter's null choice on top of the plain list


class _ListedChoiceField(df_fields.ModelChoiceField):
    iterator = _ListedFilterChoices


class ListedModelChoiceFilter(df.ModelChoiceFilter):
    field_class = _ListedChoiceField


class SharedChoices(BaseChoiceIterator):
    """A field's fixed choices, shared by every copy of the field. A form copies its fields for each request, and
    Django copies and normalises a plain list of choices one by one (field and widget) each time: for the queue's
    filters that cost more than the rest of the form."""

    def __init__(self, choices):
        self._choices = tuple(normalize_choices(choices))

    def __iter__(self):
        return iter(self._choices)

    def __len__(self):
        return len(self._choices)

    def __copy__(self):
        return self  # immutable: nothing changes it in place

    def __deepcopy__(self, memo):
        return self


def share_choices(form_class) -> None:
    """Give the form class's choice fields with a fixed list of choices `SharedChoices` (a form's own copies then
    share them); fields reading a queryset (groups, services) keep their iterator."""
    for field in form_class.base_fields.values():
        choices = getattr(field, "_choices", None)
        # django-filter's iterator adds the fixed empty and null choices to a fixed list: read once, it is the same
        if isinstance(choices, list | df_fields.ChoiceIterator):
            # Set around the `choices` setter, which would wrap them in a new django-filter iterator again.
            field._choices = field.widget.choices = SharedChoices(list(choices))


class UtcIsoDateTimeField(df_fields.IsoDateTimeField):
    """An ISO 8601 date-time with a real-world UTC offset (±14:00 at most), normalised to UTC.

    PostgreSQL refuses offsets beyond ±15:59 and Python cannot shift a date past year 1 or 9999: both are a
    form error here, with a message, instead of a failure in SQL."""

    MAX_OFFSET = timedelta(hours=14)
    default_error_messages = {
        "invalid": "Enter an ISO 8601 date and time between the years 1 and 9999, e.g. 2026-01-31T09:00:00Z.",
        "offset": "Use a UTC offset from -14:00 to +14:00 (e.g. 2026-01-31T09:00:00+01:00), or Z for UTC.",
    }

    def to_python(self, value):
        parsed = super().to_python(value)
        if parsed is None or timezone.is_naive(parsed):
            return parsed
        if abs(parsed.utcoffset()) > self.MAX_OFFSET:
            raise ValidationError(self.error_messages["offset"], code="offset")
        try:
            return parsed.astimezone(UTC)
        except OverflowError:
            raise ValidationError(self.error_messages["invalid"], code="invalid") from None


class _UtcIsoDateTimeRangeField(df_fields.RangeField):
    widget = df_fields.DateRangeWidget

    def __init__(self, *args, **kwargs):
        super().__init__((UtcIsoDateTimeField(), UtcIsoDateTimeField()), *args, **kwargs)


class UtcIsoDateTimeFromToRangeFilter(df.IsoDateTimeFromToRangeFilter):
    field_class = _UtcIsoDateTimeRangeField


# Ten years: far beyond any SLA target, and far from the end of the calendar (year 9999).
BREACHING_WITHIN_MAX = 10 * 366 * 24 * 60


class TicketFilterSet(df.FilterSet):
    # distinct=False: these filter the ticket's own columns; a DISTINCT would force a sort of every match.
    kind = df.MultipleChoiceFilter(choices=Kind.choices, distinct=False)
    status = df.MultipleChoiceFilter(choices=Status.choices, distinct=False)
    priority = df.MultipleChoiceFilter(choices=Priority.choices, distinct=False)
    group = ListedModelChoiceFilter(queryset=AssignmentGroup.objects.all(), empty_label="Any group")
    tier = df.ChoiceFilter(field_name="group__tier", choices=Tier.choices, label="Tier", empty_label="Any tier")
    assignee = df.CharFilter(method="filter_assignee", label="Responsible",
                             help_text="Who works it now: a user id or username, 'me' or 'none'.")
    owner = df.CharFilter(method="filter_owner", label="Owner",
                          help_text="Who is accountable to the requester: a user id or username, 'me' or 'none'.")
    requester = df.NumberFilter(field_name="requester_id")
    service = ListedModelChoiceFilter(queryset=Service.objects.all(), empty_label="Any service")
    created = UtcIsoDateTimeFromToRangeFilter(field_name="created_at",
                                              help_text="created_after / created_before (ISO 8601)")
    updated = UtcIsoDateTimeFromToRangeFilter(field_name="updated_at",
                                              help_text="updated_after / updated_before (ISO 8601)")
    open = df.BooleanFilter(method="filter_open", label="Open only")
    q = df.CharFilter(method="filter_text", label="Text", help_text="A key (INC-42) or words of the title.")
    breached = df.BooleanFilter(method="filter_breached", label="SLA breached",
                                help_text="Tickets with (true) or without (false) a breached SLA clock.")
    breaching_within = df.NumberFilter(method="filter_breaching_within", label="Breaching within (minutes)",
                                       help_text="A running SLA clock falls due within this many minutes.",
                                       min_value=0, max_value=BREACHING_WITHIN_MAX, error_messages={
                                           "min_value": f"Use a number of minutes from 0 to {BREACHING_WITHIN_MAX}.",
                                           "max_value": f"Use a number of minutes from 0 to {BREACHING_WITHIN_MAX}."})

    class Meta:
        model = Ticket
        fields = ["kind", "status", "priority", "group", "tier", "assignee", "owner", "requester", "service"]

    _form_classes: dict = {}

    def get_form_class(self):
        """The filters' form class, built once per class and set of filters: django-filter builds a new class with
        new fields for every filterset, and none of these fields depends on the request (Form() still copies them
        for each form)."""
        key = (type(self), tuple(self.filters))
        form_class = self._form_classes.get(key)
        if form_class is None:
            form_class = super().get_form_class()
            share_choices(form_class)
            self._form_classes[key] = form_class
        return form_class

    def filter_assignee(self, queryset, name, value):
        return self._person(queryset, "assignee", value)

    def filter_owner(self, queryset, name, value):
        return self._person(queryset, "owner", value)

    def _person(self, queryset, field: str, value):
        value = (value or "").strip().lower()
        if value == "me":
            return queryset.filter(**{field: self.request.user}) if self.request else queryset.none()
        if value == "none":
            return queryset.filter(**{f"{field}__isnull": True})
        if value.isdigit():
            return queryset.filter(**{f"{field}_id": int(value)})
        return queryset.filter(**{f"{field}__username": value})

    def filter_open(self, queryset, name, value):
        if value is None:
            return queryset
        from .choices import OPEN_STATUSES
        return queryset.filter(status__in=OPEN_STATUSES) if value else queryset.exclude(status__in=OPEN_STATUSES)

    # SLA clocks are read through the reverse relation by name: `tracker` never imports `sla`.
    @staticmethod
    def _clocks():
        return Ticket._meta.get_field("sla_clocks").related_model.objects.filter(ticket=OuterRef("pk"))

    def filter_breached(self, queryset, name, value):
        if value is None:
            return queryset
        breached = Exists(self._clocks().filter(breached=True))
        return queryset.filter(breached) if value else queryset.filter(~breached)

    def filter_breaching_within(self, queryset, name, value):
        if value is None:
            return queryset
        horizon = timezone.now() + timedelta(minutes=float(value))
        due = self._clocks().filter(state="running", breached=False, due_at__lte=horizon)
        return queryset.filter(Exists(due))

    def filter_queryset(self, queryset):
        queryset = super().filter_queryset(queryset)
        ordering = (self.data.get("ordering") or "").strip()
        if "sla_remaining" in ordering:
            queryset = with_sla_remaining(queryset)
            if ordering in ("sla_remaining", "-sla_remaining"):
                queryset = queryset.order_by(ordering, "id")
        return queryset

    def filter_text(self, queryset, name, value):
        value = (value or "").strip()
        if not value:
            return queryset
        cond = Q(title__icontains=value)
        if "-" in value and value.split("-", 1)[1].isdigit():
            cond |= Q(key=value.upper())
        return queryset.filter(cond)


# Each filterset copies its filters, and each filter's fixed choices with it: shared instead (see SharedChoices).
for _filter in TicketFilterSet.base_filters.values():
    if isinstance(_filter.extra.get("choices"), list):
        _filter.extra["choices"] = SharedChoices(_filter.extra["choices"])


# Sorts after every real due time: tickets without a running clock come last in "least time left" order.
_NO_CLOCK = datetime(9999, 12, 31, tzinfo=UTC)


def with_sla_remaining(queryset):
    """Annotate `sla_remaining`: the earliest due time of the ticket's running SLA clocks."""
    clocks = Ticket._meta.get_field("sla_clocks").related_model.objects
    earliest = clocks.filter(ticket=OuterRef("pk"), state="running").order_by("due_at").values("due_at")[:1]
    return queryset.annotate(sla_remaining=Coalesce(Subquery(earliest), Value(_NO_CLOCK),
                                                    output_field=DateTimeField()))
