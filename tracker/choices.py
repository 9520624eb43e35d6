"""Enumerations of the core schema."""
from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    REQUESTER = "requester", _("Requester")
    AGENT_L1 = "agent_l1", _("1st-line agent")
    AGENT_L2 = "agent_l2", _("2nd-line agent")
    ENGINEER_L3 = "engineer_l3", _("3rd-line engineer")
    CHANGE_MANAGER = "change_manager", _("Change manager")
    INCIDENT_MANAGER = "incident_manager", _("Incident manager")
    PROBLEM_MANAGER = "problem_manager", _("Problem manager")
    MANAGER = "manager", _("Manager")
    ADMIN = "admin", _("Administrator")


class Kind(models.TextChoices):
    INCIDENT = "incident", _("Incident")
    REQUEST = "request", _("Service request")
    PROBLEM = "problem", _("Problem")
    CHANGE = "change", _("Change")
    DEFECT = "defect", _("Defect")


KEY_PREFIX = {
    Kind.INCIDENT: "INC",
    Kind.REQUEST: "REQ",
    Kind.PROBLEM: "PRB",
    Kind.CHANGE: "CHG",
    Kind.DEFECT: "DEF",
}
PREFIX_KIND = {prefix: kind for kind, prefix in KEY_PREFIX.items()}

# The process manager who owns each process end to end: sees all of its tickets, receives its
# hierarchical escalations, and lands on its health. Service requests follow the incident process.
PROCESS_MANAGER = {
    Kind.INCIDENT: Role.INCIDENT_MANAGER,
    Kind.REQUEST: Role.INCIDENT_MANAGER,
    Kind.PROBLEM: Role.PROBLEM_MANAGER,
    Kind.CHANGE: Role.CHANGE_MANAGER,
}


class Status(models.TextChoices):
    NEW = "new", _("New")
    IN_PROGRESS = "in_progress", _("In progress")
    PENDING = "pending", _("Waiting on requester")
    REVIEW = "review", _("In CAB review")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")
    KNOWN_ERROR = "known_error", _("Known error")
    TRIAGED = "triaged", _("Triaged")  # a defect: understood, sized and given to a team
    IN_REVIEW = "in_review", _("In review")  # a defect's fix in code review
    FIXED = "fixed", _("Fixed")  # a defect's fix merged, not yet verified or shipped
    VERIFIED = "verified", _("Verified")  # a defect's fix verified (UAT), waiting for its release
    RESOLVED = "resolved", _("Resolved")
    CLOSED = "closed", _("Closed")
    CANCELLED = "cancelled", _("Cancelled")


# States in which a ticket still needs work; everything else is done for queues and SLA resolution.
OPEN_STATUSES = frozenset(
    {Status.NEW, Status.IN_PROGRESS, Status.PENDING, Status.REVIEW, Status.APPROVED, Status.REJECTED,
     Status.KNOWN_ERROR, Status.TRIAGED, Status.IN_REVIEW}
)
DONE_STATUSES = frozenset({Status.RESOLVED, Status.FIXED, Status.VERIFIED, Status.CLOSED, Status.CANCELLED})
# Done with a result (the resolution clock met, `resolved_at` set); reopening from one starts a new cycle.
RESOLVED_STATUSES = frozenset({Status.RESOLVED, Status.FIXED, Status.VERIFIED, Status.CLOSED})


class Level(models.IntegerChoices):
    """Impact and urgency share one scale: 1 is the highest."""

    HIGH = 1, _("High")
    MEDIUM = 2, _("Medium")
    LOW = 3, _("Low")


class Priority(models.IntegerChoices):
    P1 = 1, _("P1 - Critical")
    P2 = 2, _("P2 - High")
    P3 = 3, _("P3 - Moderate")
    P4 = 4, _("P4 - Low")
    P5 = 5, _("P5 - Planning")


# The default impact x urgency matrix (ITIL's); admins edit the PriorityRule rows that it seeds.
DEFAULT_PRIORITY_MATRIX = {
    (1, 1): 1, (1, 2): 2, (1, 3): 3,
    (2, 1): 2, (2, 2): 3, (2, 3): 4,
    (3, 1): 3, (3, 2): 4, (3, 3): 5,
}


class Tier(models.IntegerChoices):
    L1 = 1, _("L1 - Service desk")
    L2 = 2, _("L2 - Application support")
    L3 = 3, _("L3 - Development")


class Ownership(models.TextChoices):
    """What a group's functional escalation does with the ticket's owner (one rule per group)."""

    HOLD = "hold", _("Touch and hold: the owner stays accountable to the requester")
    HAND_OVER = "hand_over", _("Hand over: ownership moves with the ticket")


class ServiceLifecycle(models.TextChoices):
    """Where a service is in its life. It becomes operational only through its operations gate; until then
    its tickets are accepted but flagged to the desk, and the portal does not offer it. A retired service
    takes no new tickets."""

    PLANNED = "planned", _("Planned")
    IN_TRANSITION = "in_transition", _("In transition")
    OPERATIONAL = "operational", _("Operational")
    RETIRED = "retired", _("Retired")


class CauseCategory(models.TextChoices):
    """Where a problem's root cause lies (root cause analysis)."""

    SOFTWARE = "software", _("Software defect")
    CONFIGURATION = "configuration", _("Configuration")
    CAPACITY = "capacity", _("Capacity or performance")
    INFRASTRUCTURE = "infrastructure", _("Infrastructure or hardware")
    SUPPLIER = "supplier", _("Supplier or third party")
    PROCESS = "process", _("Process or human error")
    SECURITY = "security", _("Security")
    UNKNOWN = "unknown", _("Not yet known")


class LinkType(models.TextChoices):
    CAUSED_BY = "caused_by", _("caused by")
    INSTANCE_OF = "instance_of", _("instance of")
    FIXED_BY = "fixed_by", _("fixed by")
    DUPLICATE_OF = "duplicate_of", _("duplicate of")
    PARENT_OF = "parent_of", _("parent of")
    SHIPPED_IN = "shipped_in", _("shipped in")
    RELATES_TO = "relates_to", _("relates to")


# How a link reads from its target's side, for the timeline and the side panel.
LINK_INVERSE_LABEL = {
    LinkType.CAUSED_BY: "caused",
    LinkType.INSTANCE_OF: "has instance",
    LinkType.FIXED_BY: "fixes",
    LinkType.DUPLICATE_OF: "duplicated by",
    LinkType.PARENT_OF: "sub-task of",
    LinkType.SHIPPED_IN: "ships",
    LinkType.RELATES_TO: "relates to",
}


class ChangeType(models.TextChoices):
    STANDARD = "standard", _("Standard (pre-approved)")
    NORMAL = "normal", _("Normal (CAB)")
    EMERGENCY = "emergency", _("Emergency (ECAB)")


class Risk(models.TextChoices):
    LOW = "low", _("Low")
    MEDIUM = "medium", _("Medium")
    HIGH = "high", _("High")


class ImplementationResult(models.TextChoices):
    SUCCESSFUL = "successful", _("Successful")
    FAILED = "failed", _("Failed")
    ROLLED_BACK = "rolled_back", _("Rolled back")


class Severity(models.TextChoices):
    S1 = "s1", _("S1 - Blocker")
    S2 = "s2", _("S2 - Major")
    S3 = "s3", _("S3 - Minor")
    S4 = "s4", _("S4 - Trivial")


class EventKind(models.TextChoices):
    CREATED = "created", _("Created")
    FIELD = "field", _("Field changed")
    STATUS = "status", _("Status changed")
    COMMENT = "comment", _("Comment")
    ESCALATION = "escalation", _("Escalation")
    ASSIGNMENT = "assignment", _("Assignment")
    LINK = "link", _("Link")
    WATCHER = "watcher", _("Watcher")
    SLA = "sla", _("SLA")
    RELEASE = "release", _("Release")
    MACRO = "macro", _("Macro")
    APPROVAL = "approval", _("Approval")  # a CAB round: request, vote, decision
    TASK = "task", _("Change task")  # a task of a change: hand-off, result
    SCHEDULE = "schedule", _("Schedule")  # a change window set, a blackout overridden, a collision
    SWARM = "swarm", _("Swarm")  # a contributor invited, joining, helping, leaving
    WORK = "work", _("Work logged")  # time spent on the ticket
    MAJOR = "major", _("Major incident")  # declared, children linked, resolved with its children
    CODE = "code", _("Code")  # a commit or pull request that mentions the ticket
    CAPACITY = "capacity", _("Support capacity")  # a team's support share exceeded for this ticket, and who agreed
    ATTACHMENT = "attachment", _("Attachment")  # a file added to the ticket or one of its comments
    MAIL = "mail", _("Mail")  # a mail received for the ticket, or held for review


class Language(models.TextChoices):
    """Languages mail to a person can be written in (`User.language`); empty means the site's."""

    EN = "en", "English"
    DE = "de", "Deutsch"
