"""Forms of the self-service portal and of a change's tasks and rollback. They check shape only; the domain
functions decide."""

from django import forms
from django.contrib.auth import get_user_model
from django.utils import timezone

from tracker.choices import Kind, Level
from tracker.forms import staff_users
from tracker.models import AssignmentGroup, Service
from tracker.workflows import REQUESTER_KINDS

from .choices import RollbackOutcome, TaskState

User = get_user_model()


class PortalTicketForm(forms.Form):
    kind = forms.ChoiceField(
        choices=[(k, Kind(k).label) for k in Kind.values if k in REQUESTER_KINDS],
        widget=forms.RadioSelect,
        label="What do you need?",
    )
    title = forms.CharField(
        max_length=200, label="Summary", widget=forms.TextInput(attrs={"autocomplete": "off", "size": 60})
    )
    description = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 6}),
        label="Details",
        help_text="What happened, since when, what you already tried.",
    )
    service = forms.ModelChoiceField(
        queryset=Service.objects.filter(active=True), required=False, label="Which service?"
    )
    impact = forms.TypedChoiceField(
        choices=Level.choices,
        coerce=int,
        initial=Level.LOW,
        label="How many people are affected?",
        help_text="High: many people or a whole site. Low: only you.",
    )
    urgency = forms.TypedChoiceField(
        choices=Level.choices,
        coerce=int,
        initial=Level.MEDIUM,
        label="How urgent is it?",
        help_text="High: you cannot work at all.",
    )


# --- change tasks and rollbacks -------------------------------------------------------------------------


class SiteMomentField(forms.DateTimeField):
    """A date-time typed as the site's wall clock: left naive here, read in the task's zone by the domain."""

    widget = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")

    def to_python(self, value):
        value = super().to_python(value)
        return timezone.make_naive(value) if value is not None and timezone.is_aware(value) else value


# Offered as suggestions in the time-zone box (any IANA name is accepted).
COMMON_ZONES = ("Europe/London", "Europe/Berlin", "Europe/Paris", "Europe/Lisbon", "America/New_York",
                "America/Chicago", "America/Los_Angeles", "America/Sao_Paulo", "Asia/Singapore", "Asia/Tokyo",
                "Asia/Kolkata", "Asia/Dubai", "Australia/Sydney", "UTC")


class TaskForm(forms.Form):
    title = forms.CharField(max_length=200)
    business_unit = forms.CharField(max_length=120, label="Business unit")
    site = forms.CharField(max_length=120)
    country = forms.CharField(max_length=2, help_text="Two-letter ISO code: DE, SG, US.",
                              widget=forms.TextInput(attrs={"size": 3, "autocomplete": "off"}))
    time_zone = forms.CharField(max_length=64, label="Time zone", help_text="The site's zone, e.g. Asia/Singapore.",
                                widget=forms.TextInput(attrs={"list": "task-zones", "autocomplete": "off"}))
    planned_start = SiteMomentField(label="Starts (site time)")
    planned_end = SiteMomentField(label="Ends (site time)")
    assignee = forms.ModelChoiceField(queryset=User.objects.none(), required=False, empty_label="Nobody yet",
                                      label="Owner")
    group = forms.ModelChoiceField(queryset=AssignmentGroup.objects.all(), required=False, empty_label="No group",
                                   label="Group")

    def __init__(self, *args, prefix="task", **kwargs):
        super().__init__(*args, prefix=prefix, label_suffix="", **kwargs)
        self.fields["assignee"].queryset = staff_users()


class HandoffForm(forms.Form):
    assignee = forms.ModelChoiceField(queryset=User.objects.none(), required=False, empty_label="Nobody (the group)",
                                      label="To")
    group = forms.ModelChoiceField(queryset=AssignmentGroup.objects.all(), required=False,
                                   empty_label="Keep the group", label="Group")
    note = forms.CharField(required=False, max_length=2000, label="Why")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["assignee"].queryset = staff_users()


class ReportForm(forms.Form):
    state = forms.ChoiceField(choices=TaskState.choices)
    note = forms.CharField(required=False, max_length=4000, label="Result note",
                           widget=forms.Textarea(attrs={"rows": 2}))


class RollbackForm(forms.Form):
    run_by = forms.ModelChoiceField(queryset=User.objects.none(), label="Run by",
                                    help_text="Who ran the backout plan.")
    ran_at = forms.DateTimeField(label="Finished at", widget=forms.DateTimeInput(
        attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"))
    outcome = forms.ChoiceField(choices=RollbackOutcome.choices)
    note = forms.CharField(required=False, max_length=4000, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, label_suffix="", **kwargs)
        self.fields["run_by"].queryset = staff_users()
        self.fields["ran_at"].help_text = f"In your time zone, {timezone.get_current_timezone_name()}."
