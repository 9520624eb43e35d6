"""Forms of the self-service portal, of change enablement (CABs, templates, votes, a change's tasks and
rollback) and of the change calendar. They check shape only; the domain functions decide."""

from django import forms
from django.contrib.auth import get_user_model
from django.utils import timezone

from tracker.choices import Kind, Level, Risk, ServiceLifecycle
from tracker.forms import humanize_blanks, staff_users
from tracker.models import AssignmentGroup, Service, Ticket
from tracker.workflows import REQUESTER_KINDS

from .choices import CAST_VOTES, ArticleAudience, CabRule, Repeat, RollbackOutcome, TaskState, Vote

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
        queryset=Service.objects.filter(lifecycle=ServiceLifecycle.OPERATIONAL), required=False,
        label="Which service?"
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


# --- change enablement ----------------------------------------------------------------------------------


class CabForm(forms.Form):
    name = forms.CharField(max_length=120, widget=forms.TextInput(attrs={"size": 40, "autocomplete": "off"}))
    service = forms.ModelChoiceField(queryset=Service.objects.exclude(lifecycle=ServiceLifecycle.RETIRED),
                                     required=False,
                                     empty_label="Every service without a CAB of its own",
                                     help_text="A CAB for one service decides its changes; a global one the rest.")
    emergency = forms.BooleanField(required=False, label="Emergency CAB (decides emergency changes)")
    rule = forms.ChoiceField(choices=CabRule.choices, initial=CabRule.MAJORITY, label="Decision rule",
                             widget=forms.RadioSelect)
    quorum = forms.IntegerField(min_value=1, max_value=100, initial=1, label="N (for “any N approvers”)")
    members = forms.ModelMultipleChoiceField(queryset=User.objects.none(), label="Approvers",
                                             widget=forms.CheckboxSelectMultiple,
                                             help_text="Staff only. A change's requester is never asked about it.")
    active = forms.BooleanField(required=False, initial=True, label="Live (decides new rounds)")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["members"].queryset = staff_users()
        self.fields["members"].label_from_instance = lambda user: f"{user.display_name} ({user.get_role_display()})"


class TemplateForm(forms.Form):
    title = forms.CharField(max_length=200, widget=forms.TextInput(attrs={"size": 60, "autocomplete": "off"}),
                            help_text="Also the title of the changes made from it (editable when raising one).")
    service = forms.ModelChoiceField(queryset=Service.objects.exclude(lifecycle=ServiceLifecycle.RETIRED),
                                     required=False,
                                     empty_label="No service")
    risk = forms.ChoiceField(choices=Risk.choices, initial=Risk.LOW, label="Risk level")
    description = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}), help_text="Markdown.")
    implementation_plan = forms.CharField(widget=forms.Textarea(attrs={"rows": 5}))
    backout_plan = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}))
    note = forms.CharField(required=False, max_length=2000, label="What changed (for the version history)",
                           widget=forms.TextInput(attrs={"size": 60}))

    def values(self) -> dict:
        data = dict(self.cleaned_data)
        data.pop("note", None)
        return data


class StandardChangeForm(forms.Form):
    title = forms.CharField(max_length=200, widget=forms.TextInput(attrs={"size": 60, "autocomplete": "off"}))
    description = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}), help_text="Markdown.")
    window_start = forms.DateTimeField(required=False, label="Window start",
                                       widget=forms.DateTimeInput(attrs={"type": "datetime-local"},
                                                                  format="%Y-%m-%dT%H:%M"))
    window_end = forms.DateTimeField(required=False, label="Window end",
                                     widget=forms.DateTimeInput(attrs={"type": "datetime-local"},
                                                                format="%Y-%m-%dT%H:%M"))
    assignee = forms.ModelChoiceField(queryset=User.objects.none(), required=False, empty_label="Nobody yet",
                                      label="Responsible")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["assignee"].queryset = staff_users()
        zone = f"In your time zone, {timezone.get_current_timezone_name()}."
        self.fields["window_start"].help_text = zone
        self.fields["window_end"].help_text = zone


class VoteForm(forms.Form):
    decision = forms.ChoiceField(choices=[(v, {Vote.APPROVED: "Approve", Vote.REJECTED: "Reject",
                                               Vote.CHANGES_REQUESTED: "Request changes"}[v]) for v in CAST_VOTES],
                                 widget=forms.RadioSelect, label="Your vote",
                                 error_messages={"required": "Choose approve, reject or request changes."})
    comment = forms.CharField(required=False, max_length=4000, widget=forms.Textarea(attrs={"rows": 3}),
                              label="Comment", help_text="Required to reject or to request changes.")
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


# --- problem management -----------------------------------------------------------------------------------


class AnalysisForm(forms.ModelForm):
    """A problem's root cause analysis, edited in its Analysis panel (the domain function checks the rest)."""

    version = forms.IntegerField(widget=forms.HiddenInput)

    class Meta:
        model = Ticket
        fields = ["cause_category", "root_cause", "workaround", "known_error"]
        widgets = {"root_cause": forms.Textarea(attrs={"rows": 3}), "workaround": forms.Textarea(attrs={"rows": 3})}
        labels = {"known_error": "Known error (cause and workaround recorded; the desk sees it on incidents)"}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["cause_category"].required = False
        humanize_blanks(self.fields)
        if self.instance is not None and self.instance.pk and not self.is_bound:
            self.initial["version"] = self.instance.version


class ProblemFromIncidentsForm(forms.Form):
    title = forms.CharField(max_length=200, required=False, label="Problem title")
    keys = forms.CharField(max_length=400, required=False, label="Other incidents (keys)",
                           help_text="Separated by spaces or commas, e.g. INC-12 INC-15.")

    def key_list(self) -> list[str]:
        raw = self.cleaned_data.get("keys", "") or ""
        return [k.strip().upper() for k in raw.replace(",", " ").split() if k.strip()][:50]


class ProblemResolveForm(forms.Form):
    resolution_note = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), label="Resolution note",
                                      help_text="Sent to the requester of each incident ticked below.")
    version = forms.IntegerField(required=False, widget=forms.HiddenInput)


# --- knowledge management ---------------------------------------------------------------------------------


class ArticleForm(forms.Form):
    """An article's text in the editor (each save a new version; `version` is the newest one loaded)."""

    title = forms.CharField(max_length=200, widget=forms.TextInput(attrs={"size": 60, "autocomplete": "off"}))
    body = forms.CharField(label="Text", max_length=50_000, widget=forms.Textarea(attrs={"rows": 16}),
                           help_text="Markdown: ## headings, **bold**, `code`, lists, links.")
    audience = forms.ChoiceField(choices=ArticleAudience.choices,
                                 widget=forms.RadioSelect, initial=ArticleAudience.PUBLIC)
    services = forms.ModelMultipleChoiceField(queryset=Service.objects.order_by("name"), required=False,
                                              widget=forms.CheckboxSelectMultiple, label="Services")
    faq = forms.BooleanField(required=False, label="List among the portal's frequent questions")
    note = forms.CharField(max_length=200, required=False, label="What changed",
                           widget=forms.TextInput(attrs={"size": 60}),
                           help_text="Kept with this version in the history.")
    version = forms.IntegerField(min_value=0, required=False, widget=forms.HiddenInput)
