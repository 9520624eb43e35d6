"""The core schema: people, assignment groups and tiers, services, and one ticket table for every kind.

Kind-specific fields (change, problem, defect) are nullable columns of the same table: every kind is
filtered, sorted and indexed without a join, and `tracker.workflows.KIND_FIELDS` says which kind owns
which column (writes of another kind's field are refused).
"""
from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.db.models import Q
from django.db.models.base import ModelState
from django.db.models.functions import Coalesce, Upper
from django.db.models.signals import post_init, pre_init

from .choices import (
    KEY_PREFIX,
    OPEN_STATUSES,
    CauseCategory,
    ChangeType,
    EventKind,
    ImplementationResult,
    Kind,
    Language,
    Level,
    LinkType,
    Ownership,
    Priority,
    Risk,
    Role,
    ServiceLifecycle,
    Severity,
    Status,
    Tier,
)


class LoadedFast:
    """A model mixin for rows read by the hundred (a queue page builds ~250 instances, a ticket page's timeline
    dozens): `from_db`, Django's documented hook for loading, fills the instance's fields directly instead of
    through `Model.__init__`, which sends two signals and sets each field through its descriptor. The instance is
    the same: each selected column's value under its attribute name, a deferred column absent (read on first
    use), `_state` not adding and bound to the database read. A model with a pre_init or post_init receiver is
    loaded by `Model.__init__`, as before."""

    @classmethod
    def from_db(cls, db, field_names, values):
        if pre_init.has_listeners(cls) or post_init.has_listeners(cls):
            return super().from_db(db, field_names, values)
        new = cls.__new__(cls)
        new.__dict__.update(zip(field_names, values, strict=True))
        state = new._state = ModelState()
        state.adding, state.db = False, db
        return new


class Organisation(models.Model):
    name = models.CharField(max_length=120, unique=True)

    def __str__(self):
        return self.name


class User(LoadedFast, AbstractUser):
    role = models.CharField(max_length=20, choices=Role.choices, default=Role.REQUESTER)
    organisation = models.ForeignKey(Organisation, null=True, blank=True, on_delete=models.SET_NULL)
    site = models.CharField(max_length=80, blank=True)
    time_zone = models.CharField(max_length=64, default="UTC")
    language = models.CharField(max_length=8, blank=True, choices=Language.choices,
                                help_text="For the mail this person receives; empty: the site's language.")
    # How this person works the queue (kept with the person, so no page spends a query on it).
    queue_columns = models.JSONField(
        default=list, blank=True, help_text="The queue's columns this person chose, in order; empty: the defaults.")
    queue_split = models.BooleanField(default=False, help_text="Show the queue as a list with a ticket preview.")
    manager = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="reports",
        help_text="Line manager: approves the catalogue requests that need the requester's manager.")
    queue_pins = models.JSONField(
        null=True, blank=True, help_text="Views shown with their counts in the top bar (\"mine\", \"saved-12\"); "
        "empty: My open and the views this person or their teams saved.")

    class Meta(AbstractUser.Meta):
        swappable = "AUTH_USER_MODEL"
        indexes = [
            # Mail finds its sender by address whatever the case (`email__iexact`, UPPER(email) on PostgreSQL).
            models.Index(Upper("email"), name="tracker_user_email_upper"),
        ]

    @property
    def display_name(self) -> str:
        return self.get_full_name() or self.username

    @property
    def is_requester(self) -> bool:
        return self.role == Role.REQUESTER and not self.is_superuser

    def __str__(self):
        return self.display_name


class Service(models.Model):
    name = models.CharField(max_length=120, unique=True)
    description = models.TextField(blank=True)
    lifecycle = models.CharField(
        max_length=16, choices=ServiceLifecycle.choices, default=ServiceLifecycle.OPERATIONAL,
        help_text="Operational only through the operations gate; until then tickets are accepted but flagged to "
        "the desk and the portal does not offer the service; a retired service takes no new tickets.")
    service_manager = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="managed_services",
        help_text="Owns the service through its life; accepts it last at the operations gate.")
    project_group = models.ForeignKey(
        "AssignmentGroup", null=True, blank=True, on_delete=models.SET_NULL, related_name="project_services",
        help_text="The project team building the service: the desk escalates its tickets there until it is "
        "operational.")
    intake_group = models.ForeignKey(
        "AssignmentGroup", null=True, blank=True, on_delete=models.SET_NULL, related_name="direct_services",
        help_text="Direct support: new incidents and requests for this service go straight to this team "
        "(e.g. a product team that supports its users). Empty: the service desk (L1) first.")
    owners = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="owned_services",
        help_text="Service owners: accountable for the service, told at once of its major incidents.")

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name

    @property
    def takes_tickets(self) -> bool:
        """Every service but a retired one takes new tickets (one not yet operational is flagged)."""
        return self.lifecycle != ServiceLifecycle.RETIRED

    @property
    def is_operational(self) -> bool:
        return self.lifecycle == ServiceLifecycle.OPERATIONAL


class Category(models.Model):
    name = models.CharField(max_length=120, unique=True)

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "categories"

    def __str__(self):
        return self.name


class AssignmentGroup(models.Model):
    """A team at one tier; an L3 group is a development team."""

    name = models.CharField(max_length=120, unique=True)
    tier = models.PositiveSmallIntegerField(choices=Tier.choices)
    services = models.ManyToManyField(Service, blank=True, related_name="groups")
    members = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="assignment_groups")
    manager = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="managed_groups"
    )
    escalates_to = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL,
        help_text="Default target of a functional escalation; otherwise a group of the next tier "
        "covering the ticket's service.",
    )
    ownership = models.CharField(
        max_length=12, choices=Ownership.choices, default=Ownership.HOLD,
        help_text="On a functional escalation out of this group: keep the ticket's owner (touch and hold), "
        "or hand ownership over with the ticket.")
    swarming = models.BooleanField(
        default=False, help_text="A swarming team brings experts and other groups onto a ticket as contributors "
        "instead of handing it off.")
    support_share = models.PositiveSmallIntegerField(
        default=0, help_text="Share of a development team's time reserved for 3rd-line work, in percent."
    )
    member_hours = models.PositiveSmallIntegerField(
        default=40, help_text="Working hours per member per week: the team's hours that its support share is of."
    )

    class Meta:
        ordering = ["tier", "name"]

    def __str__(self):
        return f"{self.name} (L{self.tier})"


class PriorityRule(models.Model):
    """One cell of the impact x urgency matrix; admins edit the priority it gives."""

    impact = models.PositiveSmallIntegerField(choices=Level.choices)
    urgency = models.PositiveSmallIntegerField(choices=Level.choices)
    priority = models.PositiveSmallIntegerField(choices=Priority.choices)

    class Meta:
        ordering = ["impact", "urgency"]
        constraints = [models.UniqueConstraint(fields=["impact", "urgency"], name="tracker_priorityrule_cell")]

    def __str__(self):
        return f"impact {self.impact} x urgency {self.urgency} = P{self.priority}"


class KeyCounter(models.Model):
    """The next number of each kind; bumped with a row lock in the ticket's own transaction."""

    kind = models.CharField(max_length=16, choices=Kind.choices, primary_key=True)
    next_number = models.PositiveBigIntegerField(default=1)

    def __str__(self):
        return f"{KEY_PREFIX[self.kind]} next {self.next_number}"


class TicketQuerySet(models.QuerySet):
    def open(self):
        return self.filter(status__in=OPEN_STATUSES)


class Ticket(LoadedFast, models.Model):
    kind = models.CharField(max_length=16, choices=Kind.choices)
    number = models.PositiveBigIntegerField()
    key = models.CharField(max_length=24, editable=False)  # unique: Meta.constraints
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True, help_text="Markdown; rendered sanitised.")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.NEW)
    impact = models.PositiveSmallIntegerField(choices=Level.choices, default=Level.MEDIUM)
    urgency = models.PositiveSmallIntegerField(choices=Level.choices, default=Level.MEDIUM)
    priority = models.PositiveSmallIntegerField(choices=Priority.choices, default=Priority.P3)
    # Requester, group, owner, assignee and service get no index of their own: each leads one of the
    # composite indexes in Meta, which serves the same lookups, and every index is one more write per change.
    requester = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="requested",
                                  db_index=False)
    group = models.ForeignKey(AssignmentGroup, null=True, blank=True, on_delete=models.PROTECT, related_name="tickets",
                              db_index=False)
    # Touch and hold: the owner is accountable to the requester (normally the L1 agent who took it); the
    # assignee is responsible, working it now in the current group.
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="owned",
        help_text="Accountable to the requester through every hand-off.", db_index=False)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="assigned",
        verbose_name="responsible", help_text="Works the ticket now, in its current group.", db_index=False,
    )
    service = models.ForeignKey(Service, null=True, blank=True, on_delete=models.PROTECT, related_name="tickets",
                                db_index=False)
    category = models.ForeignKey(Category, null=True, blank=True, on_delete=models.SET_NULL)
    watchers = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="watching")
    resolution_note = models.TextField(blank=True)

    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()
    first_response_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    picked_at = models.DateTimeField(null=True, blank=True, help_text="When a 3rd-line engineer picked it.")
    version = models.PositiveIntegerField(default=1, help_text="Optimistic lock; the API's ETag.")

    # Change
    change_type = models.CharField(max_length=12, choices=ChangeType.choices, blank=True)
    risk = models.CharField(max_length=8, choices=Risk.choices, blank=True)
    implementation_plan = models.TextField(blank=True)
    backout_plan = models.TextField(blank=True)
    window_start = models.DateTimeField(null=True, blank=True)
    window_end = models.DateTimeField(null=True, blank=True)
    decision_note = models.TextField(blank=True, help_text="The CAB's decision: who approved or rejected, and why.")
    emergency_justification = models.TextField(
        blank=True, help_text="Emergency changes: why the change cannot wait for its approval.")
    implementation_result = models.CharField(max_length=12, choices=ImplementationResult.choices, blank=True)
    # Post-implementation review: what happened, its cause, and the actions agreed.
    review_notes = models.TextField("review: what happened", blank=True, help_text="Post-implementation review.")
    review_cause = models.TextField("review: cause", blank=True)
    review_actions = models.TextField("review: actions", blank=True, help_text="Follow-up actions, with owners.")
    # Problem
    cause_category = models.CharField(max_length=16, choices=CauseCategory.choices, blank=True)
    root_cause = models.TextField(blank=True)
    workaround = models.TextField(blank=True)
    known_error = models.BooleanField(default=False)
    # Defect
    severity = models.CharField(max_length=4, choices=Severity.choices, blank=True)
    component = models.CharField(max_length=80, blank=True, help_text="The part of the product at fault.")
    affected_version = models.CharField(max_length=40, blank=True)
    fix_version = models.CharField(max_length=40, blank=True)

    objects = TicketQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["kind", "number"], name="tracker_ticket_kind_number"),
            # A constraint rather than unique=True, which on PostgreSQL adds a second, pattern-ops index that no
            # query uses (keys are matched whole) and that every write of a ticket would keep up.
            models.UniqueConstraint(fields=["key"], name="tracker_ticket_key_unique"),
            models.CheckConstraint(condition=Q(window_end__gte=models.F("window_start")) | Q(window_end__isnull=True)
                                   | Q(window_start__isnull=True), name="tracker_ticket_window_order"),
        ]
        # Every list filter ends its index with the list order (-created_at, -id), so a filtered page is a
        # short index range scan with no sort, whatever the table size.
        indexes = [
            # Default order of the queue and the API list, and keyset pagination over it.
            models.Index(fields=["-created_at", "-id"], name="tracker_ticket_created"),
            # "open only" (the queue's default) without touching closed history.
            models.Index(fields=["-created_at", "-id"], name="tracker_ticket_open_created",
                         condition=Q(status__in=sorted(OPEN_STATUSES))),
            # SLA dashboard: open backlog of the last month by kind and age, read index-only.
            models.Index(fields=["kind", "created_at"], name="tracker_ticket_open_kind_age",
                         condition=Q(status__in=sorted(OPEN_STATUSES))),
            # The queue's open tickets of one kind by priority (its default sort), read in order without a sort.
            models.Index(fields=["kind", "priority", "id"], name="tracker_ticket_open_kind_prio",
                         condition=Q(status__in=sorted(OPEN_STATUSES))),
            # "My open" (an agent's open tickets by priority), read in order without a sort.
            models.Index(fields=["assignee", "priority", "id"], name="tracker_ticket_open_mine_prio",
                         condition=Q(status__in=sorted(OPEN_STATUSES))),
            # The ticket page's Requester card: how many open tickets the requester has (up to 100+).
            models.Index(fields=["requester", "id"], name="tracker_ticket_open_requester",
                         condition=Q(status__in=sorted(OPEN_STATUSES))),
            models.Index(fields=["status", "-created_at", "-id"], name="tracker_ticket_status_created"),
            models.Index(fields=["priority", "-created_at", "-id"], name="tracker_ticket_prio_created"),
            models.Index(fields=["kind", "status", "-created_at", "-id"], name="tracker_ticket_kind_status"),
            # My group / unassigned in group / tier (via group).
            models.Index(fields=["group", "status", "-created_at", "-id"], name="tracker_ticket_group_status"),
            # My open.
            models.Index(fields=["assignee", "status", "-created_at", "-id"], name="tracker_ticket_assignee_status"),
            # Owned by me (touch and hold).
            models.Index(fields=["owner", "status", "-created_at", "-id"], name="tracker_ticket_owner_status"),
            # A requester's own tickets (portal, and the isolation filter of every requester query).
            models.Index(fields=["requester", "-created_at", "-id"], name="tracker_ticket_requester"),
            # "What changed on this service recently" (changes of the last 14 days).
            models.Index(fields=["service", "kind", "-updated_at"], name="tracker_ticket_service_recent"),
            # updated_after/before (integrations syncing) and ordering=-updated_at.
            models.Index(fields=["-updated_at", "-id"], name="tracker_ticket_updated"),
            # The change calendar and collision checks: changes whose window overlaps a period, read as
            # "ends after the period starts" (a window without an end is a moment) and "starts before it ends";
            # by service too. Only scheduled changes are in these indexes.
            models.Index(Coalesce("window_end", "window_start"), "window_start", name="tracker_ticket_change_window",
                         condition=Q(kind="change", window_start__isnull=False)),
            models.Index("service", Coalesce("window_end", "window_start"), "window_start",
                         name="tracker_ticket_change_service", condition=Q(kind="change", window_start__isnull=False)),
        ]

    def __str__(self):
        return f"{self.key} {self.title}"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def etag(self) -> str:
        return f'"{self.version}"'


class TicketEvent(LoadedFast, models.Model):
    """Append-only history: one row per changed field, state, escalation, link, comment or SLA event."""

    # No index of its own: the timeline index (ticket, created_at, id) leads with it.
    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="events", db_index=False)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    kind = models.CharField(max_length=16, choices=EventKind.choices)
    field = models.CharField(max_length=40, blank=True)
    old = models.TextField(blank=True)
    new = models.TextField(blank=True)
    note = models.TextField(blank=True)
    internal = models.BooleanField(default=False, help_text="Hidden from the requester.")
    comment = models.OneToOneField("Comment", null=True, blank=True, on_delete=models.CASCADE, related_name="event")
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [
            models.Index(fields=["ticket", "created_at", "id"], name="tracker_event_timeline"),
            # SLA dashboard and its roll-up: escalations in a period, and the SLA events that dirty a day.
            models.Index(fields=["kind", "created_at"], name="tracker_event_kind_created"),
        ]

    def __str__(self):
        return f"{self.ticket_id} {self.kind} {self.field} {self.old!r}->{self.new!r}"


class Comment(LoadedFast, models.Model):
    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="comments")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT)
    body = models.TextField()
    internal = models.BooleanField(default=False, help_text="An internal note, never shown to the requester.")
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self):
        return f"{'note' if self.internal else 'comment'} on {self.ticket_id} by {self.author_id}"


def _attachment_path(attachment: "Attachment", filename: str) -> str:
    """Where a file is stored: under its ticket, in a folder of its own (two files may share a name)."""
    import uuid

    return f"attachments/{attachment.ticket_id}/{uuid.uuid4().hex}/{filename}"


class Attachment(LoadedFast, models.Model):
    """A file on a ticket, or on one of its comments, from the UI, the API or a mail.

    Stored by the default storage (the filesystem, or S3-compatible storage when configured) and served
    only through `attachment_download`, to people who may see the ticket; `internal` files (on an internal
    note, or marked so by staff) are never served to the requester. `content_id`: an inline image's
    `cid:` in the HTML mail it came with."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="attachments")
    comment = models.ForeignKey(Comment, null=True, blank=True, on_delete=models.CASCADE, related_name="attachments")
    file = models.FileField(upload_to=_attachment_path, max_length=400)
    name = models.CharField(max_length=255)
    content_type = models.CharField(max_length=120)
    size = models.PositiveBigIntegerField()
    content_id = models.CharField(max_length=250, blank=True)
    internal = models.BooleanField(default=False, help_text="Hidden from the requester.")
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="+")
    created_at = models.DateTimeField()

    IMAGE_TYPES = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp"})
    # Opened in the browser; anything else (HTML, SVG, XML and scripts among them) is only ever downloaded.
    INLINE_TYPES = IMAGE_TYPES | {"application/pdf"}

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["ticket", "created_at"], name="tracker_attachment_ticket")]

    def __str__(self):
        return f"{self.name} on {self.ticket_id}"

    @property
    def is_image(self) -> bool:
        """A picture the pages may show as a thumbnail (through the file's own, access-checked address)."""
        return self.content_type in self.IMAGE_TYPES

    @property
    def opens_inline(self) -> bool:
        return self.content_type in self.INLINE_TYPES


class Link(LoadedFast, models.Model):
    """A typed edge: `source <type> target` (INC-1 caused_by CHG-2, PRB-3 fixed_by DEF-4)."""

    source = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="links_out")
    target = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="links_in")
    type = models.CharField(max_length=16, choices=LinkType.choices)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["source", "target", "type"], name="tracker_link_unique"),
            models.CheckConstraint(condition=~Q(source=models.F("target")), name="tracker_link_not_self"),
        ]

    def __str__(self):
        return f"{self.source_id} {self.type} {self.target_id}"


class Contributor(LoadedFast, models.Model):
    """Someone (or a whole group) brought onto a ticket without transferring it: a swarm.

    A contributor sees the ticket in their "Swarming" view, hears of its updates, comments and logs work,
    and leaves when done (`left_at`); the row stays as the record of the help given."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="contributors")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE,
                             related_name="contributions")
    group = models.ForeignKey(AssignmentGroup, null=True, blank=True, on_delete=models.CASCADE,
                              related_name="contributions")
    invited_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    note = models.TextField(blank=True, help_text="Why they were asked in.")
    joined_at = models.DateTimeField()
    left_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["joined_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(user__isnull=False, group__isnull=True) | Q(user__isnull=True, group__isnull=False),
                name="tracker_contributor_person_or_group"),
            models.UniqueConstraint(fields=["ticket", "user"], condition=Q(left_at__isnull=True, user__isnull=False),
                                    name="tracker_contributor_one_active_person"),
            models.UniqueConstraint(fields=["ticket", "group"], condition=Q(left_at__isnull=True, group__isnull=False),
                                    name="tracker_contributor_one_active_group"),
        ]
        indexes = [
            # A person's "Swarming" view: the tickets they (or their groups) currently help on.
            models.Index(fields=["user", "ticket"], name="tracker_contrib_user_active",
                         condition=Q(left_at__isnull=True)),
            models.Index(fields=["group", "ticket"], name="tracker_contrib_group_active",
                         condition=Q(left_at__isnull=True)),
        ]

    def __str__(self):
        return f"{self.ticket_id} + {self.user_id or f'group {self.group_id}'}"

    @property
    def name(self) -> str:
        """Who contributes, as people read it: the person's name, or the group's."""
        return self.user.display_name if self.user_id else self.group.name



class WorkLog(LoadedFast, models.Model):
    """Time someone spent on a ticket: support load against a team's reserved share, a swarm's help."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="work_logs")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="work_logs")
    group = models.ForeignKey(AssignmentGroup, null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="work_logs", help_text="The team the time counts for.")
    minutes = models.PositiveIntegerField()
    note = models.TextField(blank=True)
    worked_at = models.DateTimeField(help_text="When the work was done.")
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["worked_at", "id"]
        constraints = [models.CheckConstraint(condition=Q(minutes__gt=0, minutes__lte=24 * 60),
                                              name="tracker_worklog_minutes_range")]
        indexes = [
            models.Index(fields=["ticket", "worked_at"], name="tracker_worklog_ticket"),
            # A team's support load per period.
            models.Index(fields=["group", "worked_at"], name="tracker_worklog_group"),
        ]

    def __str__(self):
        return f"{self.user_id} {self.minutes} min on {self.ticket_id}"


class ExternalRef(models.Model):
    """The ticket's id in another tracker (`system` + `external_id`), so a sync both ways makes no twin:
    one ticket per external id, one id per system on a ticket."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="external_refs")
    system = models.CharField(max_length=40, help_text="The other tracker, e.g. 'jira' or 'servicenow'.")
    external_id = models.CharField(max_length=200)
    url = models.URLField(max_length=500, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["system", "external_id"]
        constraints = [
            models.UniqueConstraint(fields=["system", "external_id"], name="tracker_externalref_system_id"),
            models.UniqueConstraint(fields=["ticket", "system"], name="tracker_externalref_ticket_system"),
        ]

    def __str__(self):
        return f"{self.system}:{self.external_id}"


class IdempotencyRecord(models.Model):
    """The answer given to a POST that carried an `Idempotency-Key`; a retry gets the same answer (24 h)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
    key = models.CharField(max_length=200)
    request_hash = models.CharField(max_length=64)
    status = models.PositiveSmallIntegerField()
    body = models.JSONField()
    ticket_key = models.CharField(max_length=24, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "key"], name="tracker_idempotency_user_key")]
        indexes = [models.Index(fields=["created_at"], name="tracker_idempotency_created")]  # expiry sweep

    def __str__(self):
        return f"{self.user_id}:{self.key}"


def personal_or_team(name: str) -> models.CheckConstraint:
    """Something an agent keeps for themselves (`owner`) or shares with a team (`group`): exactly one."""
    return models.CheckConstraint(
        condition=models.Q(owner__isnull=False, group__isnull=True) | models.Q(owner__isnull=True, group__isnull=False),
        name=name,
    )


class Macro(models.Model):
    """A canned reply: text with variables, optionally moving the ticket on and handing it to a group, in one
    step. Personal (`owner`) or shared with a team (`group`); exactly one of the two."""

    VARIABLES = ("requester", "requester_first_name", "key", "title", "agent", "group")

    name = models.CharField(max_length=80)
    body = models.TextField(help_text="Variables: {requester}, {requester_first_name}, {key}, {title}, {agent}, "
                                      "{group}.")
    internal = models.BooleanField(default=False, help_text="Post as an internal note.")
    to_status = models.CharField(max_length=20, blank=True, help_text="Also move the ticket to this status.")
    to_group = models.ForeignKey(AssignmentGroup, null=True, blank=True, on_delete=models.SET_NULL,
                                 related_name="+", help_text="Also hand the ticket to this group.")
    owner = models.ForeignKey(User, null=True, blank=True, on_delete=models.CASCADE, related_name="macros")
    group = models.ForeignKey(AssignmentGroup, null=True, blank=True, on_delete=models.CASCADE,
                              related_name="macros", help_text="Shared with this team.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            personal_or_team("tracker_macro_personal_or_team"),
        ]

    def __str__(self):
        return self.name


class QueueView(models.Model):
    """A queue view someone saved: a name for a query (base view, filters, sort) and, optionally, the columns
    it shows. Personal (`owner`) or shared with a team (`group`); exactly one of the two."""

    name = models.CharField(max_length=60)
    query = models.CharField(max_length=1000, help_text="The queue's query string: view, filters and sort.")
    columns = models.JSONField(default=list, blank=True,
                               help_text="The view's columns, in order; empty: each viewer's own columns.")
    owner = models.ForeignKey(User, null=True, blank=True, on_delete=models.CASCADE, related_name="queue_views")
    group = models.ForeignKey(AssignmentGroup, null=True, blank=True, on_delete=models.CASCADE,
                              related_name="queue_views")
    created_by = models.ForeignKey(User, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            personal_or_team("tracker_queueview_personal_or_team"),
            models.UniqueConstraint(fields=["owner", "name"], name="tracker_queueview_unique_personal_name"),
            models.UniqueConstraint(fields=["group", "name"], name="tracker_queueview_unique_team_name"),
        ]

    def __str__(self):
        return self.name
