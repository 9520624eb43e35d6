"""Enumerations of service management: the states of a change's tasks and how a rollback ended."""
from django.db import models
from django.utils.translation import gettext_lazy as _


class TaskState(models.TextChoices):
    PLANNED = "planned", _("Planned")
    IN_PROGRESS = "in_progress", _("In progress")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")
    CANCELLED = "cancelled", _("Cancelled")


# A task still to be worked: the change waits for it (no close, no "successful" go-live).
OPEN_TASK_STATES = frozenset({TaskState.PLANNED, TaskState.IN_PROGRESS})


class RollbackOutcome(models.TextChoices):
    RESTORED = "restored", _("Service restored to the previous state")
    PARTIAL = "partial", _("Partly restored")
    FAILED = "failed", _("Backout failed")


# Outcomes after which the change counts as rolled back (a failed backout leaves it failed).
ROLLED_BACK_OUTCOMES = frozenset({RollbackOutcome.RESTORED, RollbackOutcome.PARTIAL})


class ChangeOutcome(models.TextChoices):
    """How a change that went live is counted in the change success and failure rates."""

    SUCCESSFUL = "successful", _("Successful")
    FAILED = "failed", _("Failed")
