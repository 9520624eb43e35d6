"""Enumerations of service management: how a CAB decides and the states of its rounds and votes; the states
of a change's tasks and how a rollback ended; how a blackout window repeats."""

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


class Repeat(models.TextChoices):
    """How a blackout window repeats. It keeps its wall-clock times in its own zone across summer-time changes
    (a weekend freeze from Friday 18:00 to Monday 06:00 stays that, in winter and in summer)."""

    NEVER = "never", _("Does not repeat")
    DAILY = "daily", _("Every day")
    WEEKLY = "weekly", _("Every week")
    MONTHLY = "monthly", _("Every month on the same day")
    MONTHLY_LAST_WORKDAY = "monthly_last_workday", _("Every month on the last working day")
    YEARLY = "yearly", _("Every year")
