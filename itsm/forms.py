"""Forms of the self-service portal and the change calendar. They check shape only; the domain functions
decide."""

from django import forms
from django.utils import timezone

from tracker.choices import Kind, Level
from tracker.models import Service
from tracker.workflows import REQUESTER_KINDS

from .choices import Repeat


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


# --- the change calendar ------------------------------------------------------------------------------------


def _moment(label: str, help_text: str = "") -> forms.DateTimeField:
    """A date and time picked in the browser and read in the viewer's zone (activated per request), so what the
    person picks is what they mean; stored in UTC."""
    return forms.DateTimeField(label=label, required=False, help_text=help_text, widget=forms.DateTimeInput(
        attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"))


class ScheduleForm(forms.Form):
    """The Schedule panel of a change: its window, and a change manager's override of a blackout."""

    window_start = _moment("Start")
    window_end = _moment("End")
    override = forms.BooleanField(required=False, label="Override the blackout")
    override_reason = forms.CharField(required=False, label="Reason for the override", max_length=2000,
                                      widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", "id_schedule_%s")
        super().__init__(*args, **kwargs)
        zone = timezone.get_current_timezone_name()
        self.fields["window_end"].help_text = f"In your time zone, {zone}."

    def clean(self):
        data = super().clean()
        if data.get("override") and not (data.get("override_reason") or "").strip():
            self.add_error("override_reason", "Say why this change may run in the blackout: the reason goes on "
                                              "its timeline.")
        return data


class BlackoutForm(forms.Form):
    name = forms.CharField(max_length=120, required=False, widget=forms.TextInput(attrs={"size": 40}))
    service = forms.ModelChoiceField(queryset=Service.objects.all(), required=False,
                                     empty_label="All services (a global freeze)")
    starts_at = _moment("Starts")
    ends_at = _moment("Ends")
    repeat = forms.ChoiceField(choices=Repeat.choices, initial=Repeat.NEVER)
    repeat_until = forms.DateField(required=False, label="Repeat until",
                                   widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
                                   help_text="Empty: keeps repeating.")
    reason = forms.CharField(required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2}),
                             help_text="Shown to whoever schedules a change into it.")

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", "id_blackout_%s")
        super().__init__(*args, **kwargs)
        zone = timezone.get_current_timezone_name()
        self.fields["ends_at"].help_text = (f"In your time zone, {zone}. A repeating blackout repeats these times "
                                            "(the first occurrence), on the wall clock, across summer-time changes.")


class CalendarQueryForm(forms.Form):
    """The calendar's query string: month or week, a day in it, and a service."""

    view = forms.ChoiceField(choices=[("month", "Month"), ("week", "Week")], required=False)
    date = forms.DateField(required=False, input_formats=["%Y-%m-%d"])
    service = forms.ModelChoiceField(queryset=Service.objects.all(), required=False, empty_label="All services")
