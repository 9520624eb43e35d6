"""Refusals of the domain. Each carries a message that says what to fix and the HTTP status it maps to.

The API maps them in `tracker.api.errors.exception_handler`; the UI shows `message` as a form error.
Messages name fields by their human label (`field_label`, `field_phrase`), never by the column name.
"""

# What people call a field, where its column name does not say it well; other names read with "_" as " ".
FIELD_LABELS = {
    "implementation_plan": "implementation plan",
    "backout_plan": "backout plan",
    "risk": "risk level",
    "window_start": "start of the change window",
    "window_end": "end of the change window",
    "known_error": "known-error flag",
    "fix_version": "fixed-in version",
    "affected_version": "affected version",
    "change_type": "change type",
    "group": "assignment group",
    "review_notes": "what happened (post-implementation review)",
    "review_cause": "cause (post-implementation review)",
    "review_actions": "follow-up actions (post-implementation review)",
    "emergency_justification": "emergency justification",
}


def field_label(name: str, *, capital: bool = False) -> str:
    """The human label of a ticket field: `resolution_note` -> "resolution note" ("Resolution note")."""
    label = FIELD_LABELS.get(name, name.replace("_", " "))
    return label[:1].upper() + label[1:] if capital else label


def with_article(noun: str) -> str:
    """ "an incident", "a resolution note"."""
    return f"{'an' if noun[:1].lower() in 'aeiou' else 'a'} {noun}"


def field_phrase(names) -> str:
    """The fields as a phrase for "needs ...": "a root cause and a workaround"."""
    parts = [with_article(field_label(n)) for n in names]
    return parts[0] if len(parts) == 1 else f"{', '.join(parts[:-1])} and {parts[-1]}"


class DomainError(Exception):
    status = 400
    code = "invalid"

    def __init__(self, message: str, *, fields: dict[str, list[str]] | None = None):
        super().__init__(message)
        self.message = message
        self.fields = fields or {}


class ValidationFailed(DomainError):
    """Input is malformed or inconsistent; `fields` names each field and what is wrong with it."""


class MissingField(ValidationFailed):
    code = "missing_field"


class NotFound(DomainError):
    status = 404
    code = "not_found"


class AccessDenied(DomainError):
    status = 403
    code = "forbidden"


class TransitionRefused(DomainError):
    status = 409
    code = "transition_refused"


class Conflict(DomainError):
    status = 409
    code = "conflict"


class AlreadyClaimed(Conflict):
    code = "already_claimed"


class StaleVersion(DomainError):
    status = 412
    code = "stale_version"

    def __init__(self, key: str, current: int | None = None):
        msg = f"{key} was changed by someone else since you loaded it"
        if current is not None:
            msg += f" (it is now at version {current})"
        super().__init__(msg + "; reload it and apply your change again.")
        self.current = current


class PreconditionRequired(DomainError):
    status = 428
    code = "precondition_required"


class TooLarge(ValidationFailed):
    """A file over the size limit: 413 in the API."""

    status = 413
    code = "too_large"
