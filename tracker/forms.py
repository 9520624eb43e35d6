"""Forms of the pages every kind shares (queue, ticket page, new ticket). They check shape only; the domain
functions decide."""

import re

from django import forms
from django.contrib.auth import get_user_model
from django.db.models import Q
from django.utils import timezone

from . import extensions
from .choices import Kind, Level, LinkType, Role, ServiceLifecycle, Status
from .filtersets import ListedChoices
from .models import AssignmentGroup, Category, Service, Ticket
from .workflows import APP_MADE_CHOICES, KIND_FIELDS, creatable_fields

User = get_user_model()
TEXT_FIELDS = {
    "description",
    "resolution_note",
    "implementation_plan",
    "backout_plan",
    "decision_note",
    "emergency_justification",
    "review_notes",
    "review_cause",
    "review_actions",
    "root_cause",
    "workaround",
}


DASHES = "---------"
WINDOW_FIELDS = ("window_start", "window_end")


def _local_moment_widget():
    """The browser's date-time picker; Django reads and shows its value in the viewer's zone (activated per
    request by tracker.timezones), so what the agent picks is what they mean."""
    return forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")


def _zone_help() -> str:
    return f"In your time zone, {timezone.get_current_timezone_name()}."


def humanize_blanks(fields) -> None:
    """Django's "---------" placeholder reads as a glitch: a blank choice says "—" (or a field's own label)."""
    for field in fields.values():
        if getattr(field, "empty_label", None) == DASHES:
            field.empty_label = "—"
        if isinstance(field, forms.ChoiceField) and not isinstance(field, forms.ModelChoiceField):
            choices = list(field.choices)
            if any(value == "" and label == DASHES for value, label in choices):
                field.choices = [(v, "—" if (v == "" and lbl == DASHES) else lbl) for v, lbl in choices]


def staff_users():
    return User.objects.exclude(role=Role.REQUESTER).filter(is_active=True).order_by("username")


class CommentForm(forms.Form):
    body = forms.CharField(
        label="Comment",
        widget=forms.Textarea(attrs={"rows": 4, "data-comment": ""}),
        help_text="Markdown: **bold**, `code`, lists, links.",
        error_messages={"required": "Write something before sending: a comment cannot be empty."},
    )
    internal = forms.BooleanField(label="Internal note (hidden from the requester)", required=False)
    macro = forms.IntegerField(required=False, widget=forms.HiddenInput)


class LinkForm(forms.Form):
    type = forms.ChoiceField(label="Link type", choices=LinkType.choices)
    key = forms.CharField(
        label="Ticket key", max_length=24, widget=forms.TextInput(attrs={"placeholder": "PRB-12"})
    )

    def clean_key(self):
        return self.cleaned_data["key"].strip().upper()


BULK_ACTIONS = (
    ("assign_me", "Assign to me"),
    ("assign", "Assign to…"),
    ("escalate", "Escalate"),
    ("status", "Change status to…"),
)


class BulkForm(forms.Form):
    # Own ids: the queue's filter form above it has an "assignee" too, and the labels point at these.
    action = forms.ChoiceField(choices=BULK_ACTIONS)
    assignee = forms.ModelChoiceField(
        queryset=User.objects.none(), required=False, empty_label="choose a person",
        widget=forms.Select(attrs={"id": "bulk-assignee"})
    )
    to = forms.ChoiceField(
        choices=[("", "—")] + list(Status.choices),
        required=False,
        label="Status",
        widget=forms.Select(attrs={"id": "bulk-to"}),
    )
    resolution_note = forms.CharField(required=False, label="Note (for resolve/cancel)")
    take_over = forms.BooleanField(
        required=False, label="take over tickets others hold", widget=forms.CheckboxInput(attrs={"id": "bulk-take"})
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["action"].choices = BULK_ACTIONS + tuple(
            (b.slug, b.label) for b in extensions.registry.bulk_actions)
        self.fields["assignee"].iterator = ListedChoices  # before the queryset, which builds the widget's options
        self.fields["assignee"].queryset = staff_users()

    @property
    def keys(self) -> list[str]:
        """The checked tickets' keys (at most 200 per bulk action)."""
        return [k.strip().upper() for k in self.data.getlist("keys") if k.strip()][:200]


def field_form_class(name: str):
    """A one-field form for inline edits, built from the model field (labels, choices, widgets)."""
    widgets = {}
    if name in TEXT_FIELDS:
        widgets[name] = forms.Textarea(attrs={"rows": 4})
    elif name in WINDOW_FIELDS:
        widgets[name] = _local_moment_widget()
    form_class = forms.modelform_factory(Ticket, fields=[name], widgets=widgets)
    if name in WINDOW_FIELDS:
        form_class.base_fields[name].help_text = _zone_help()
    if name in APP_MADE_CHOICES:
        field = form_class.base_fields[name]
        field.choices = [(v, lbl) for v, lbl in field.choices if v not in APP_MADE_CHOICES[name]]
    if name in ("assignee", "owner"):
        form_class.base_fields[name].queryset = staff_users()
        form_class.base_fields[name].empty_label = "Nobody"
    humanize_blanks(form_class.base_fields)
    return form_class


class TicketCreateForm(forms.Form):
    kind = forms.ChoiceField(choices=Kind.choices, initial=Kind.INCIDENT)
    title = forms.CharField(max_length=200, widget=forms.TextInput(attrs={"autocomplete": "off", "size": 60}))
    description = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 5}), help_text="Markdown."
    )
    requester = forms.CharField(
        required=False,
        help_text="The person affected: type a part of their name, username or email and pick them; empty = you.",
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    impact = forms.TypedChoiceField(choices=Level.choices, coerce=int, initial=Level.MEDIUM)
    urgency = forms.TypedChoiceField(choices=Level.choices, coerce=int, initial=Level.MEDIUM)
    service = forms.ModelChoiceField(queryset=Service.objects.exclude(lifecycle=ServiceLifecycle.RETIRED),
                                     required=False,
                                     empty_label="No service")
    category = forms.ModelChoiceField(queryset=Category.objects.all(), required=False, empty_label="No category")
    group = forms.ModelChoiceField(
        queryset=AssignmentGroup.objects.all(),
        required=False,
        empty_label="Automatic: the team supporting the service",
        help_text="Empty: the service's direct-support team if it has one, else the service desk covering it.",
    )
    assignee = forms.ModelChoiceField(queryset=User.objects.none(), required=False, empty_label="Nobody yet",
                                      label="Responsible", help_text="Who works it now; the first one also owns it.")

    def __init__(self, *args, kind: str = Kind.INCIDENT, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["assignee"].queryset = staff_users()
        self.kind = kind if kind in Kind.values else Kind.INCIDENT
        creatable = creatable_fields(self.kind)  # no decision or result fields on a new ticket
        for name in KIND_FIELDS[self.kind]:
            if name == "known_error" or name not in creatable:
                continue
            field = Ticket._meta.get_field(name).formfield(required=False)
            if name in APP_MADE_CHOICES:
                field.choices = [(v, lbl) for v, lbl in field.choices if v not in APP_MADE_CHOICES[name]]
            if name in TEXT_FIELDS:
                field.widget = forms.Textarea(attrs={"rows": 3})
            elif name in WINDOW_FIELDS:
                field.widget = _local_moment_widget()
                field.help_text = _zone_help()
            self.fields[name] = field
        humanize_blanks(self.fields)

    @property
    def kind_field_names(self):
        return [n for n in KIND_FIELDS[self.kind] if n in self.fields]

    def clean_requester(self):
        username = self.cleaned_data.get("requester", "").strip()
        if not username:
            return None
        try:
            return User.objects.get(username=username)
        except User.DoesNotExist:
            pass
        # Without JavaScript there are no suggestions: an exact email address is as good as a username.
        by_email = list(User.objects.filter(email__iexact=username, is_active=True)[:2])
        if len(by_email) == 1:
            return by_email[0]
        raise forms.ValidationError(f"No user '{username}'. Type their username or email address.")

    def values(self) -> dict:
        data = dict(self.cleaned_data)
        data.pop("kind")
        data.pop("title")
        return {k: v for k, v in data.items() if v not in (None, "")}


# --- swarming and work logs ------------------------------------------------------------------------------


class InviteForm(forms.Form):
    """Whom to bring onto a ticket: a person by username or email, or a group (the domain checks the rest)."""

    person = forms.CharField(required=False, max_length=150, label="Person",
                             help_text="Their username or email address.")
    group = forms.ModelChoiceField(queryset=AssignmentGroup.objects.all(), required=False, label="or a group",
                                   empty_label="—")
    note = forms.CharField(required=False, max_length=2000, label="Why", widget=forms.Textarea(attrs={"rows": 2}))

    def clean_person(self):
        text = self.cleaned_data.get("person", "").strip()
        if not text:
            return None
        found = list(User.objects.filter(Q(username=text) | Q(email__iexact=text), is_active=True)[:2])
        if len(found) != 1:
            raise forms.ValidationError(f"No one is called “{text}” here; type their username or email address.")
        return found[0]


class HelpForm(forms.Form):
    note = forms.CharField(max_length=4000, label="What you did", widget=forms.Textarea(attrs={"rows": 2}))
    minutes = forms.IntegerField(required=False, label="Minutes spent", help_text="Optional; also logs the time.")


_DURATION = re.compile(
    r"^\s*(?:(?P<h>\d+(?:[.,]\d+)?)\s*h(?:ours?|rs?)?)?\s*(?:(?P<m>\d+)\s*m(?:in(?:utes?|s)?)?)?\s*$", re.IGNORECASE)


def parse_duration(text: str) -> int | None:
    """Minutes from "90", "1h 30m", "1.5h", "45m" or "1:30"; None when it reads as none of these."""
    text = (text or "").strip()
    if text.isdigit():
        return int(text)
    if re.fullmatch(r"\d+:[0-5]\d", text):
        h, m = text.split(":")
        return int(h) * 60 + int(m)
    match = _DURATION.match(text)
    if not text or not match or not (match["h"] or match["m"]):
        return None
    return round(float((match["h"] or "0").replace(",", ".")) * 60) + int(match["m"] or 0)


class DurationField(forms.Field):
    widget = forms.TextInput(attrs={"maxlength": 20, "size": 10, "inputmode": "text"})

    def to_python(self, value):
        value = (value or "").strip()
        if value in self.empty_values:
            return None
        minutes = parse_duration(value[:40])
        if minutes is None:
            raise forms.ValidationError("Give minutes (90) or hours and minutes (1h 30m).")
        return minutes


class WorkLogForm(forms.Form):
    minutes = DurationField(label="Time spent", help_text="Minutes (90) or hours and minutes (1h 30m); at most 24h.")
    note = forms.CharField(required=False, max_length=4000, label="Note", widget=forms.Textarea(attrs={"rows": 2}))
    worked_at = forms.DateTimeField(required=False, label="Worked at", widget=_local_moment_widget())

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["worked_at"].help_text = f"Empty: now. {_zone_help()}"


class LeaveForm(forms.Form):
    note = forms.CharField(required=False, max_length=2000, label="Note")
