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


# --- the request catalogue --------------------------------------------------------------------------------

class FieldType(models.TextChoices):
    """The kinds of question a catalogue item's form asks; each is validated on the server."""

    TEXT = "text", _("Text")
    LONG_TEXT = "long_text", _("Long text")
    CHOICE = "choice", _("Choice")
    USER = "user", _("Person")
    DATE = "date", _("Date")
    NUMBER = "number", _("Number")
    YES_NO = "yes_no", _("Yes / no")


class CatalogAudience(models.TextChoices):
    EVERYONE = "everyone", _("Everyone (portal and desk)")
    STAFF = "staff", _("Staff only")


class ApprovalMode(models.TextChoices):
    NONE = "none", _("No approval")
    MANAGER = "manager", _("The requester's manager")
    NAMED = "named", _("A named approver")


class ApprovalState(models.TextChoices):
    NOT_NEEDED = "not_needed", _("No approval needed")
    PENDING = "pending", _("Waiting for approval")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Not approved")


class AutomationState(models.TextChoices):
    """Where an automatable item's fulfilment handler is; `none`: the item is fulfilled by hand."""

    NONE = "none", _("Fulfilled by hand")
    WAITING = "waiting", _("Waits for the approval")
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Running")
    SUCCEEDED = "succeeded", _("Done")
    FAILED = "failed", _("Failed")


# --- knowledge management ---------------------------------------------------------------------------------

class ArticleState(models.TextChoices):
    DRAFT = "draft", _("Draft")
    REVIEW = "review", _("In review")
    PUBLISHED = "published", _("Published")
    RETIRED = "retired", _("Retired")


class ArticleAudience(models.TextChoices):
    PUBLIC = "public", _("Public: the portal, without signing in")
    INTERNAL = "internal", _("Internal: staff only")


class ArticleUseKind(models.TextChoices):
    """How an article met a ticket."""

    LINKED = "linked", _("Linked as the answer")
    REPLIED = "replied", _("Sent as a reply")
    DRAFTED = "drafted", _("Drafted from the ticket")


# --- services and the operations gate ---------------------------------------------------------------------

class GateItemCode(models.TextChoices):
    """The deliverables of a service's operations gate (a gate may add its own, as `other`)."""

    KNOWLEDGE = "knowledge", _("Knowledge articles for the desk")
    SUPPORT_GROUPS = "support_groups", _("Support groups assigned")
    SLA = "sla", _("SLA policy set")
    MONITORING = "monitoring", _("Monitoring in place")
    UAT = "uat", _("User acceptance test done")
    RELEASE_NOTES = "release_notes", _("Release notes published")
    CONTACTS = "contacts", _("Contacts and escalation paths")
    OTHER = "other", _("Other")


class GateItemState(models.TextChoices):
    OPEN = "open", _("Open")
    SIGNED_OFF = "signed_off", _("Signed off")
