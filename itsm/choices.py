"""Enumerations of service management: how a CAB decides and the states of its rounds and votes; the states
of a change's tasks and how a rollback ended."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class CabRule(models.TextChoices):
    ALL = "all", _("All approvers")
    MAJORITY = "majority", _("A majority of approvers")
    ANY = "any", _("Any N approvers")


class RoundStatus(models.TextChoices):
    OPEN = "open", _("Open")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")
    CHANGES_REQUESTED = "changes_requested", _("Changes requested")
    SUPERSEDED = "superseded", _("Superseded")  # the plan changed during review: a new round took over
    WITHDRAWN = "withdrawn", _("Withdrawn")


class Vote(models.TextChoices):
    PENDING = "pending", _("Waiting")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")
    CHANGES_REQUESTED = "changes_requested", _("Changes requested")


# What an approver may cast (a vote is never taken back to "waiting").
CAST_VOTES = (Vote.APPROVED, Vote.REJECTED, Vote.CHANGES_REQUESTED)


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
