"""Forms of the SLA pages. They check shape only; `sla.services` decides."""

from django import forms

from .choices import NotificationKind


class PreferencesForm(forms.Form):
    """One pair of checkboxes per notification kind: in the app (the bell) and by email."""

    def __init__(self, *args, preferences, **kwargs):
        super().__init__(*args, **kwargs)
        self.rows = []
        for pref in preferences:
            label = NotificationKind(pref.kind).label
            for channel, text in (("in_app", "in the app"), ("email", "by email")):
                name = f"{pref.kind}-{channel}"
                self.fields[name] = forms.BooleanField(
                    required=False, initial=getattr(pref, channel), label=f"{label} {text}"
                )
            self.rows.append(
                {"label": label, "in_app": self[f"{pref.kind}-in_app"], "email": self[f"{pref.kind}-email"]}
            )

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
