"""Forms of the self-service portal. They check shape only; the domain functions decide."""

from django import forms

from tracker.choices import Kind, Level
from tracker.models import Service
from tracker.workflows import REQUESTER_KINDS


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
