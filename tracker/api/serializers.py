"""Shapes of the ticket API. Serializers check shape only; every write goes through tracker.services."""
import copy
from enum import Enum

from django.contrib.auth import get_user_model
from django.urls import get_script_prefix, reverse
from django.utils import timezone
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.fields import ISO_8601, SkipField, empty
from rest_framework.relations import PKOnlyObject
from rest_framework.settings import api_settings

from tracker import config_cache, services
from tracker.choices import (
    ChangeType,
    ImplementationResult,
    Kind,
    Level,
    LinkType,
    Risk,
    Severity,
    Status,
)
from tracker.markdown import render_markdown
from tracker.models import (
    AssignmentGroup,
    Attachment,
    Category,
    Comment,
    Contributor,
    Service,
    Ticket,
    TicketEvent,
    WorkLog,
)
from tracker.workflows import KIND_FIELDS

User = get_user_model()


class FieldsBuiltOnce:
    """Build a serializer class's fields once per process, not once per instance.

    DRF builds the fields of every serializer instance anew (model introspection for a ModelSerializer, a deep
    copy of each declared field otherwise): about a third of the Python time of POST /tickets/. The fields
    keep no per-request state apart from their binding (name, parent), which each instance sets on its own
    shallow copies; the prototypes are never bound.
    """

    def get_fields(self):
        built = type(self).__dict__.get("_built_fields")
        if built is None:
            built = super().get_fields()
            type(self)._built_fields = built
        return {name: _shallow_copy(field) for name, field in built.items()}


def _shallow_copy(field):
    """`copy.copy` of a field without its generic reduce protocol (a third of the cost)."""
    clone = object.__new__(type(field))
    clone.__dict__.update(field.__dict__)
    return clone


# --- reading a row through a serializer's fields without DRF's per-field machinery ---------------------------
# A ticket's answer is some forty fields. DRF binds a copy of every field per answer, then asks each for its
# attribute and its representation; for the plain kinds of field (text, number, yes/no, choice, UTC date and
# time, a nested reference to a row) the same values are read here by a reader made once per process. Any other
# field keeps DRF's own path. tests/tracker/test_api_answer.py compares both paths for every kind.

_SKIP = object()  # a reader's answer for a field DRF leaves out of the representation (SkipField)


def _read(readers, obj, parent, tz) -> dict:
    """The answer of `obj` from (name, reader) pairs, without the names whose reader skips them."""
    data = {}
    for name, read in readers:
        got = read(obj, parent, tz)
        if got is not _SKIP:
            data[name] = got
    return data


def _scalar_reader(field):
    """fn(value, tz) -> the field's representation of a value that is not None; None: not a plain field."""
    kind = type(field)
    if kind is serializers.CharField:
        return lambda value, tz: str(value)
    if kind is serializers.IntegerField or (
            kind is serializers.BigIntegerField
            and not getattr(field, "coerce_to_string", api_settings.COERCE_BIGINT_TO_STRING)):
        return lambda value, tz: int(value)
    if kind is serializers.BooleanField:
        return lambda value, tz: value if value is True or value is False else field.to_representation(value)
    if kind is serializers.ChoiceField:
        strings = field.choice_strings_to_values

        def choice(value, tz):
            if value == "":
                return value
            if isinstance(value, Enum) and str(value) != str(value.value):
                value = value.value
            return strings.get(str(value), value)
        return choice
    if kind is serializers.DateTimeField and not hasattr(field, "timezone") and not hasattr(field, "format") \
            and (api_settings.DATETIME_FORMAT or "").lower() == ISO_8601:
        def when(value, tz):
            if not value:
                return None
            if tz is None or isinstance(value, str) or value.tzinfo is None:
                return field.to_representation(value)
            text = value.astimezone(tz).isoformat()
            return text[:-6] + "Z" if text.endswith("+00:00") else text
        return when
    return None


def _readers(fields: dict, *, nested: bool = False) -> list | None:
    """[(name, fn(obj, serializer, tz))] for these (unbound) fields, in their order; None when one of them has no
    fast reader (its serializer then goes through DRF). `nested`: the fields of a nested row (no methods)."""
    out = []
    for name, field in fields.items():
        if field.write_only:
            continue
        read = None if nested and isinstance(field, serializers.SerializerMethodField) else _reader(name, field)
        if read is None:
            return None
        out.append((name, read))
    return out


def _reader(name: str, field):
    """fn(obj, serializer, tz) -> the field's representation (or _SKIP), as DRF's get_attribute and
    to_representation give it; None when the field is not one of the plain kinds."""
    if isinstance(field, serializers.SerializerMethodField):
        method = field.method_name or f"get_{name}"
        return lambda obj, parent, tz: getattr(parent, method)(obj)
    source = field.source or name
    if source == "*" or "." in source:
        return None
    if isinstance(field, serializers.BaseSerializer):
        if isinstance(field, serializers.ListSerializer) or type(field).to_representation is not \
                serializers.Serializer.to_representation:
            return None
        nested = _readers(type(field)().get_fields(), nested=True)
        if nested is None:
            return None

        def row(obj, parent, tz):
            value = getattr(obj, source)
            if value is None:
                return None
            return _read(nested, value, None, tz)
        return row
    scalar = _scalar_reader(field)
    if scalar is None:
        return None

    def plain(obj, parent, tz):
        value = getattr(obj, source)
        return None if value is None else scalar(value, tz)
    return plain


def _services_load() -> dict[int, Service]:
    return {service.pk: service for service in Service.objects.all()}


# Every create names its service: the rows are configuration, kept per process until the stamp changes.
config_cache.watch(Service)
_services = config_cache.Cached(_services_load)


class CachedServiceField(serializers.PrimaryKeyRelatedField):
    """A service by its id, found in the per-process cache of services (`tracker.config_cache`) instead of a
    query; the same answers as a `PrimaryKeyRelatedField` over all services, errors included."""

    def to_internal_value(self, data):
        if isinstance(data, bool):
            self.fail("incorrect_type", data_type=type(data).__name__)
        try:
            pk = Service._meta.pk.get_prep_value(data)
        except (TypeError, ValueError):
            self.fail("incorrect_type", data_type=type(data).__name__)
        service = _services.get().get(pk)
        if service is None:
            self.fail("does_not_exist", pk_value=data)
        return copy.copy(service)  # the caller's own instance, not the cache's


class UserRefSerializer(FieldsBuiltOnce, serializers.ModelSerializer):
    name = serializers.CharField(source="display_name", read_only=True)

    class Meta:
        model = User
        fields = ["id", "username", "name"]


class GroupRefSerializer(FieldsBuiltOnce, serializers.ModelSerializer):
    class Meta:
        model = AssignmentGroup
        fields = ["id", "name", "tier"]


class ServiceRefSerializer(FieldsBuiltOnce, serializers.ModelSerializer):
    class Meta:
        model = Service
        fields = ["id", "name"]


class CategoryRefSerializer(FieldsBuiltOnce, serializers.ModelSerializer):
    class Meta:
        model = Category
        fields = ["id", "name"]


class TransitionOptionSerializer(serializers.Serializer):
    to = serializers.CharField()
    label = serializers.CharField()
    requires = serializers.ListField(child=serializers.CharField())
    offers = serializers.ListField(child=serializers.CharField(), help_text="Fields the move may also set.")


KIND_FIELD_NAMES = [f for fields in KIND_FIELDS.values() for f in fields]


class SlaClockSerializer(serializers.Serializer):
    """One SLA clock as embedded in a ticket; the full view is /api/v1/sla/clocks/?ticket=KEY."""

    metric = serializers.CharField()
    tier = serializers.IntegerField(allow_null=True)
    cycle = serializers.IntegerField()
    state = serializers.CharField()
    goal_s = serializers.IntegerField()
    remaining_s = serializers.IntegerField(help_text="Business seconds left; negative once breached.")
    breached = serializers.BooleanField()
    due_at = serializers.DateTimeField(allow_null=True)
    stopped_at = serializers.DateTimeField(allow_null=True)


class ExternalRefSerializer(serializers.Serializer):
    """The ticket's id in another tracker."""

    system = serializers.RegexField(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,39}$", max_length=40,
                                    help_text="The other tracker, e.g. jira or servicenow (kept lower-case).")
    id = serializers.CharField(source="external_id", max_length=200, help_text="Its id there, e.g. PAY-123.")
    url = serializers.URLField(max_length=500, required=False, allow_blank=True, default="")


_list_paths: dict[str, str] = {}


def _ticket_list_path() -> str:
    """The API's ticket list path, reversed once per script prefix."""
    prefix = get_script_prefix()
    path = _list_paths.get(prefix)
    if path is None:
        path = _list_paths[prefix] = reverse("api:ticket-list")
    return path


class TicketSerializer(FieldsBuiltOnce, serializers.ModelSerializer):
    """A ticket as read. Kind-specific fields appear only on tickets of that kind."""

    description_html = serializers.SerializerMethodField()
    requester = UserRefSerializer(read_only=True)
    owner = UserRefSerializer(read_only=True, allow_null=True,
                              help_text="Accountable to the requester through every hand-off (touch and hold).")
    assignee = UserRefSerializer(read_only=True, allow_null=True,
                                 help_text="Responsible: works the ticket now, in its current group.")
    group = GroupRefSerializer(read_only=True, allow_null=True)
    service = ServiceRefSerializer(read_only=True, allow_null=True)
    category = CategoryRefSerializer(read_only=True, allow_null=True)
    transitions = serializers.SerializerMethodField()
    sla = serializers.SerializerMethodField(help_text="SLA clocks: state, due, business time left, breached.")
    url = serializers.SerializerMethodField(help_text="Absolute URL of this ticket in the API.")
    # Blank until set: declared so that the schema's enums admit "" (read-only model fields drop allow_blank).
    change_type = serializers.ChoiceField(choices=ChangeType.choices, allow_blank=True, read_only=True)
    risk = serializers.ChoiceField(choices=Risk.choices, allow_blank=True, read_only=True)
    implementation_result = serializers.ChoiceField(choices=ImplementationResult.choices, allow_blank=True,
                                                    read_only=True)
    severity = serializers.ChoiceField(choices=Severity.choices, allow_blank=True, read_only=True)
    external_refs = serializers.SerializerMethodField(
        help_text="The ticket's ids in other trackers (one per system); on a single ticket, not on list rows.")

    class Meta:
        model = Ticket
        fields = [
            "url", "key", "kind", "number", "title", "description", "description_html", "status", "impact", "urgency",
            "priority", "requester", "group", "owner", "assignee", "service", "category", "resolution_note",
            "created_at", "updated_at", "first_response_at", "resolved_at", "closed_at", "picked_at", "version",
            "transitions", "sla", "external_refs", *KIND_FIELD_NAMES,
        ]
        read_only_fields = fields

    @extend_schema_field(ExternalRefSerializer(many=True))
    def get_external_refs(self, ticket):
        refs = ticket.external_refs.all()
        return ExternalRefSerializer(refs, many=True).data if refs else []

    def get_url(self, ticket) -> str:
        # Resolved once per response, not once per row: a list page would otherwise reverse 50 URLs.
        base = self.context.get("ticket_url_base")
        if base is None:
            request = self.context.get("request")
            base = _ticket_list_path()
            base = self.context["ticket_url_base"] = request.build_absolute_uri(base) if request else base
        return f"{base}{ticket.key}/"

    def get_description_html(self, ticket) -> str:
        return render_markdown(ticket.description)

    @extend_schema_field(SlaClockSerializer(many=True))
    def get_sla(self, ticket):
        now = self.context.setdefault("sla_now", timezone.now())
        rows = []
        clocks = getattr(ticket, "sla_clock_list", None)  # prefetched by the selectors: no query per row
        for c in ticket.sla_clocks.all() if clocks is None else clocks:
            remaining = c.remaining_at(now)
            breached = c.breached or (c.is_active and remaining <= 0)
            rows.append({"metric": c.metric, "tier": c.tier, "cycle": c.cycle, "state": c.state,
                         "goal_s": c.goal_s, "remaining_s": remaining, "breached": breached,
                         "due_at": c.due_at, "stopped_at": c.stopped_at})
        return rows

    @extend_schema_field(TransitionOptionSerializer(many=True))
    def get_transitions(self, ticket):
        request = self.context.get("request")
        if request is None:
            return []
        return [{"to": m.target, "label": m.label, "requires": list(m.requires), "offers": list(m.offers)}
                for m in services.available_moves(ticket=ticket, actor=request.user)]

    def to_representation(self, ticket):
        """The ticket's fields in their declared order; another kind's fields are left out, not computed. Read by
        the readers made once per class and kind (`_readers`), or through DRF's fields when one has none."""
        readers = self._kind_readers(ticket.kind)
        if readers is None:
            return self.fields_representation(ticket)
        return _read(readers, ticket, self, timezone.get_current_timezone())

    def fields_representation(self, ticket):
        """The same answer through DRF's bound fields, one by one (the reference the readers are tested against)."""
        data = {}
        for field in self._fields_of_kind(ticket.kind):
            try:
                attribute = field.get_attribute(ticket)
            except SkipField:
                continue
            check = attribute.pk if isinstance(attribute, PKOnlyObject) else attribute
            data[field.field_name] = None if check is None else field.to_representation(attribute)
        return data

    @classmethod
    def _kind_readers(cls, kind: str) -> list | None:
        by_kind = cls.__dict__.get("_readers_by_kind")
        if by_kind is None:
            by_kind = {}
            type.__setattr__(cls, "_readers_by_kind", by_kind)
        if kind not in by_kind:
            other = set(KIND_FIELD_NAMES) - set(KIND_FIELDS[kind])
            fields = {name: f for name, f in cls().get_fields().items() if name not in other}
            by_kind[kind] = _readers(fields)
        return by_kind[kind]

    def _fields_of_kind(self, kind: str) -> list:
        by_kind = self.__dict__.setdefault("_kind_fields", {})
        fields = by_kind.get(kind)
        if fields is None:
            other = set(KIND_FIELD_NAMES) - set(KIND_FIELDS[kind])
            fields = by_kind[kind] = [f for f in self._readable_fields if f.field_name not in other]
        return fields


class TicketListSerializer(TicketSerializer):
    """A list row: the ticket without its rendered description (Markdown is rendered on the detail only) nor its
    external references (no query per row; find a ticket by one with `?external=system:id`)."""

    class Meta(TicketSerializer.Meta):
        fields = [f for f in TicketSerializer.Meta.fields if f not in ("description_html", "external_refs")]
        read_only_fields = fields


class OptionalBooleanField(serializers.BooleanField):
    """A boolean that stays unset when a form-encoded body leaves it out.

    DRF reads an absent checkbox of an HTML form as False, so every form-encoded create would "set" the
    problem-only `known_error` on an incident and be refused."""

    default_empty_html = serializers.empty


class _TicketWriteFields(FieldsBuiltOnce, serializers.Serializer):
    title = serializers.CharField(max_length=200)
    description = serializers.CharField(required=False, allow_blank=True)
    impact = serializers.ChoiceField(choices=Level.choices, required=False)
    urgency = serializers.ChoiceField(choices=Level.choices, required=False)
    group = serializers.PrimaryKeyRelatedField(queryset=AssignmentGroup.objects.all(), required=False, allow_null=True)
    assignee = serializers.PrimaryKeyRelatedField(
        queryset=User.objects.all(), required=False, allow_null=True,
        help_text="The responsible: who works the ticket now (the first one becomes its owner if it has none).")
    owner = serializers.PrimaryKeyRelatedField(
        queryset=User.objects.all(), required=False, allow_null=True,
        help_text="Accountable to the requester: a member of staff. Changed by its owner, its group's members and "
                  "manager, the process managers, managers and admins; once set it cannot be cleared.")
    service = CachedServiceField(queryset=Service.objects.all(), required=False, allow_null=True)
    category = serializers.PrimaryKeyRelatedField(queryset=Category.objects.all(), required=False, allow_null=True)
    resolution_note = serializers.CharField(required=False, allow_blank=True)
    # change
    change_type = serializers.ChoiceField(choices=ChangeType.choices, required=False, allow_blank=True)
    risk = serializers.ChoiceField(choices=Risk.choices, required=False, allow_blank=True)
    implementation_plan = serializers.CharField(required=False, allow_blank=True)
    backout_plan = serializers.CharField(required=False, allow_blank=True)
    window_start = serializers.DateTimeField(required=False, allow_null=True)
    window_end = serializers.DateTimeField(required=False, allow_null=True)
    decision_note = serializers.CharField(required=False, allow_blank=True)
    emergency_justification = serializers.CharField(required=False, allow_blank=True)
    implementation_result = serializers.ChoiceField(choices=ImplementationResult.choices, required=False,
                                                    allow_blank=True)
    review_notes = serializers.CharField(required=False, allow_blank=True)
    review_cause = serializers.CharField(required=False, allow_blank=True)
    review_actions = serializers.CharField(required=False, allow_blank=True)
    # problem
    root_cause = serializers.CharField(required=False, allow_blank=True)
    workaround = serializers.CharField(required=False, allow_blank=True)
    known_error = OptionalBooleanField(required=False)
    # defect
    severity = serializers.ChoiceField(choices=Severity.choices, required=False, allow_blank=True)
    affected_version = serializers.CharField(required=False, allow_blank=True, max_length=40)
    fix_version = serializers.CharField(required=False, allow_blank=True, max_length=40)

    @property
    def _writable_fields(self):
        """DRF's writable fields, less those a JSON body leaves out that are neither required nor defaulted: DRF
        would run each only to skip it (some thirty fields against the five or so a create sends). Form and
        multipart bodies keep every field, since a field there may be read from other keys (`external_refs[0]`)."""
        fields = super()._writable_fields
        data = getattr(self, "initial_data", None)
        if type(data) is not dict:
            return fields
        return (f for f in fields if f.field_name in data or f.required or f.default is not empty)

    def validate(self, attrs):
        unknown = set(self.initial_data) - set(self.fields) if hasattr(self, "initial_data") else set()
        if unknown:
            raise serializers.ValidationError({name: ["Unknown field."] for name in sorted(unknown)})
        return attrs


class TicketCreateSerializer(_TicketWriteFields):
    kind = serializers.ChoiceField(choices=Kind.choices)
    external_refs = ExternalRefSerializer(many=True, required=False, max_length=20,
                                          help_text="Its ids in other trackers; one taken by another ticket: 409.")
    requester = serializers.PrimaryKeyRelatedField(queryset=User.objects.all(), required=False,
                                                   help_text="Staff only: raise on behalf of this user.")


class TicketUpdateSerializer(_TicketWriteFields):
    title = serializers.CharField(max_length=200, required=False)


class TransitionSerializer(serializers.Serializer):
    to = serializers.ChoiceField(choices=Status.choices)
    resolution_note = serializers.CharField(required=False, allow_blank=True)
    decision_note = serializers.CharField(required=False, allow_blank=True)
    implementation_plan = serializers.CharField(required=False, allow_blank=True)
    backout_plan = serializers.CharField(required=False, allow_blank=True)
    risk = serializers.ChoiceField(choices=Risk.choices, required=False, allow_blank=True)
    emergency_justification = serializers.CharField(required=False, allow_blank=True)
    implementation_result = serializers.ChoiceField(choices=ImplementationResult.choices, required=False,
                                                    allow_blank=True)
    review_notes = serializers.CharField(required=False, allow_blank=True)
    review_cause = serializers.CharField(required=False, allow_blank=True)
    review_actions = serializers.CharField(required=False, allow_blank=True)
    root_cause = serializers.CharField(required=False, allow_blank=True)
    workaround = serializers.CharField(required=False, allow_blank=True)
    fix_version = serializers.CharField(required=False, allow_blank=True, max_length=40)


class EscalateSerializer(serializers.Serializer):
    group = serializers.PrimaryKeyRelatedField(queryset=AssignmentGroup.objects.all(), required=False,
                                               allow_null=True, help_text="Default: the next tier's group.")
    note = serializers.CharField(required=False, allow_blank=True, max_length=2000)


class AssignSerializer(serializers.Serializer):
    assignee = serializers.PrimaryKeyRelatedField(queryset=User.objects.all(), allow_null=True)
    take_over = serializers.BooleanField(
        default=False,
        help_text="Take the ticket from the person who holds it, or assign someone outside the ticket's group. "
                  "Without it such an assignment is refused (409 when someone else holds it, 400 outside the "
                  "group); managers and admins need no take_over.")


class CommentSerializer(serializers.ModelSerializer):
    author = UserRefSerializer(read_only=True)
    body_html = serializers.SerializerMethodField()

    class Meta:
        model = Comment
        fields = ["id", "author", "body", "body_html", "internal", "created_at"]
        read_only_fields = ["id", "author", "body_html", "created_at"]

    def get_body_html(self, comment) -> str:
        return render_markdown(comment.body)


class LinkSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    type = serializers.ChoiceField(choices=LinkType.choices)
    target = serializers.CharField(help_text="Key of the other ticket, e.g. PRB-3.", write_only=True)
    direction = serializers.CharField(read_only=True)
    other = serializers.CharField(read_only=True, help_text="Key of the other ticket.")
    other_title = serializers.CharField(read_only=True)
    created_at = serializers.DateTimeField(read_only=True)


class EventSerializer(serializers.ModelSerializer):
    actor = UserRefSerializer(read_only=True, allow_null=True)
    comment = CommentSerializer(read_only=True, allow_null=True)

    class Meta:
        model = TicketEvent
        fields = ["id", "kind", "field", "old", "new", "note", "internal", "actor", "comment", "created_at"]
        read_only_fields = fields


# --- swarming and work logs --------------------------------------------------------------------------------


class ContributorSerializer(serializers.ModelSerializer):
    user = UserRefSerializer(read_only=True, allow_null=True)
    group = GroupRefSerializer(read_only=True, allow_null=True)
    invited_by = UserRefSerializer(read_only=True, allow_null=True)
    active = serializers.SerializerMethodField()

    class Meta:
        model = Contributor
        fields = ["id", "user", "group", "invited_by", "note", "joined_at", "left_at", "active"]
        read_only_fields = fields

    def get_active(self, contributor) -> bool:
        return contributor.left_at is None


class InviteSerializer(serializers.Serializer):
    user = serializers.PrimaryKeyRelatedField(queryset=User.objects.all(), required=False, allow_null=True,
                                              help_text="The person to bring in (active staff); or `group`.")
    group = serializers.PrimaryKeyRelatedField(queryset=AssignmentGroup.objects.all(), required=False,
                                               allow_null=True, help_text="The group to bring in; or `user`.")
    note = serializers.CharField(required=False, allow_blank=True, max_length=2000, help_text="Why they are asked.")


class LeaveSerializer(serializers.Serializer):
    note = serializers.CharField(required=False, allow_blank=True, max_length=2000)


class HelpSerializer(serializers.Serializer):
    note = serializers.CharField(max_length=4000, help_text="What you did to help (required).")
    minutes = serializers.IntegerField(required=False, allow_null=True,
                                       help_text="Time it took, 1 to 1440; also logged as work.")
    worked_at = serializers.DateTimeField(required=False, allow_null=True,
                                          help_text="When the work was done; default now. Not in the future.")


class WorkLogSerializer(serializers.ModelSerializer):
    user = UserRefSerializer(read_only=True)
    group = GroupRefSerializer(read_only=True, allow_null=True)
    minutes = serializers.IntegerField(help_text="1 to 1440 (24 hours).")
    note = serializers.CharField(required=False, allow_blank=True, max_length=4000)
    worked_at = serializers.DateTimeField(required=False, help_text="When the work was done; default now. "
                                                                    "Not in the future.")

    class Meta:
        model = WorkLog
        fields = ["id", "user", "group", "minutes", "note", "worked_at", "created_at"]
        read_only_fields = ["id", "user", "group", "created_at"]


# --- people and the priority matrix ------------------------------------------------------------------------


class UserSerializer(serializers.ModelSerializer):
    name = serializers.CharField(source="display_name", read_only=True)
    groups = GroupRefSerializer(source="assignment_groups", many=True, read_only=True,
                                help_text="The assignment groups (teams) the person is a member of.")

    class Meta:
        model = User
        fields = ["id", "username", "name", "email", "role", "groups", "time_zone", "is_active"]
        read_only_fields = fields


class PriorityCellSerializer(serializers.Serializer):
    impact = serializers.IntegerField(min_value=1, max_value=3, help_text="1 high, 2 medium, 3 low.")
    urgency = serializers.IntegerField(min_value=1, max_value=3, help_text="1 high, 2 medium, 3 low.")
    priority = serializers.IntegerField(min_value=1, max_value=5, help_text="1 (critical) to 5 (planning).")


class PriorityMatrixSerializer(serializers.Serializer):
    cells = PriorityCellSerializer(many=True, help_text="All nine impact x urgency cells, each once.")


# --- attachments ------------------------------------------------------------------------------------------------


class AttachmentSerializer(serializers.ModelSerializer):
    ticket = serializers.CharField(source="ticket.key", read_only=True, help_text="Key of the ticket it is on.")
    comment = serializers.IntegerField(source="comment_id", read_only=True, allow_null=True,
                                       help_text="The comment it came with, if any.")
    uploaded_by = UserRefSerializer(read_only=True, allow_null=True)
    download_url = serializers.SerializerMethodField(help_text="Where to read its content, with the same rights.")

    class Meta:
        model = Attachment
        fields = ["id", "ticket", "comment", "name", "content_type", "size", "internal", "uploaded_by",
                  "created_at", "download_url"]
        read_only_fields = fields

    def get_download_url(self, attachment) -> str:
        url = reverse("api:attachment-content", args=[attachment.pk])
        request = self.context.get("request")
        return request.build_absolute_uri(url) if request is not None else url


class AttachmentUploadSerializer(serializers.Serializer):
    file = serializers.FileField(allow_empty_file=True, use_url=False,
                                 help_text="The file, as a multipart/form-data part named `file`.",
                                 error_messages={"required": "Send the file as a multipart part named file.",
                                                 "invalid": "Send the file as a multipart part named file."})
    comment = serializers.IntegerField(required=False, min_value=1,
                                       help_text="Id of a comment of this ticket the file belongs with.")
    internal = serializers.BooleanField(required=False, default=False,
                                        help_text="Hidden from the requester (staff only).")
