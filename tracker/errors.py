"""Refusals of the domain. Each carries a message that says what to fix and the HTTP status it maps to.

The API maps them in `tracker.api.errors.exception_handler`; the UI shows `message` as a form error.
"""


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
