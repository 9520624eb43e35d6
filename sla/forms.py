"""Forms of the SLA pages. They check shape only; `sla.services` decides."""

from django import forms

from tracker.choices import Language

from .choices import MAIL_ONLY_KINDS, NotificationKind


class PreferencesForm(forms.Form):
    """One pair of checkboxes per notification kind: in the app (the bell) and by email; the mail's language."""

    language = forms.ChoiceField(
        choices=[("", "The site's language (English)"), *Language.choices], required=False, label="Mail language",
        help_text="What the mail you receive is written in.")

    def __init__(self, *args, preferences, language: str = "", **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["language"].initial = language
        self.rows = []
        for pref in preferences:
            label = NotificationKind(pref.kind).label
            for channel, text in (("in_app", "in the app"), ("email", "by email")):
                name = f"{pref.kind}-{channel}"
                self.fields[name] = forms.BooleanField(
                    required=False, initial=getattr(pref, channel), label=f"{label} {text}"
                )
            in_app = None if pref.kind in MAIL_ONLY_KINDS else self[f"{pref.kind}-in_app"]
            self.rows.append({"label": label, "in_app": in_app, "email": self[f"{pref.kind}-email"]})

    def choices(self) -> list[dict]:
        """Keyword arguments for `services.preference_set`, one dict per kind."""
        return [
            {
                "kind": kind,
                "in_app": self.cleaned_data[f"{kind}-in_app"],
                "email": self.cleaned_data[f"{kind}-email"],
            }
            for kind in NotificationKind.values
        ]
