"""Service-management records beyond the ticket itself: knowledge articles with their versions, uses and
deflections; the request catalogue (items, their forms and task templates, the requests ordered from them and
their fulfilment tasks); services' operations gates; change
enablement (CABs and their approval rounds, standard-change templates), the tasks of a change at each site,
the rollbacks of changes whose backout plan ran, and the change calendar's blackout windows, their recorded
overrides and the personal calendar feeds."""

import hashlib
from datetime import UTC, datetime, time, timedelta

from dateutil import rrule
from django.conf import settings
from django.contrib.postgres.search import SearchVectorField
from django.db import models
from django.db.models import F, Q

from tracker.choices import Risk
from tracker.models import AssignmentGroup, Service, Ticket
from tracker.timezones import zone_named

from .choices import (
    OPEN_TASK_STATES,
    ApprovalMode,
    ApprovalState,
    ArticleAudience,
    ArticleState,
    ArticleUseKind,
    AutomationState,
    CabRule,
    CatalogAudience,
    FieldType,
    GateItemCode,
    GateItemState,
    Repeat,
    RollbackOutcome,
    RoundStatus,
    TaskState,
    Vote,
)


class KnowledgeArticle(models.Model):
    """A knowledge article: written and reviewed in the app, each saved version kept; public articles answer
    the portal (without signing in), internal ones the desk."""

    title = models.CharField(max_length=200)
    body = models.TextField(help_text="Markdown; rendered sanitised.")
    state = models.CharField(max_length=12, choices=ArticleState.choices, default=ArticleState.DRAFT)
    audience = models.CharField(max_length=12, choices=ArticleAudience.choices, default=ArticleAudience.PUBLIC)
    services = models.ManyToManyField(Service, blank=True, related_name="articles")
    faq = models.BooleanField(default=False, help_text="Listed among the portal's frequent questions.")
    version = models.PositiveIntegerField(default=1, help_text="The current version's number (optimistic lock).")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                               related_name="+")
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    submitted_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                     related_name="+", help_text="Who sent the current text for review.")
    submitted_at = models.DateTimeField(null=True, blank=True)
    reviewed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="+", help_text="Who reviewed and published the current text.")
    published_at = models.DateTimeField(null=True, blank=True)
    retired_at = models.DateTimeField(null=True, blank=True)
    source_ticket = models.ForeignKey(Ticket, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
                                      help_text="The resolved ticket it was drafted from.")
    views = models.PositiveIntegerField(default=0, help_text="Times it was opened.")
    # PostgreSQL: the weighted title and body, kept by the domain functions and read through a GIN index
    # (itsm_article_search, made by migration on PostgreSQL only); empty on SQLite, which ranks in Python.
    search_vector = SearchVectorField(null=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["title"]
        indexes = [
            # The portal and the desk: published articles of an audience, newest edits first.
            models.Index(fields=["state", "audience", "-updated_at"], name="itsm_article_state"),
        ]

    def __str__(self):
        return self.title


class ArticleVersion(models.Model):
    """One saved text of an article, kept for its history and diffs."""

    article = models.ForeignKey(KnowledgeArticle, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    title = models.CharField(max_length=200)
    body = models.TextField()
    audience = models.CharField(max_length=12, choices=ArticleAudience.choices)
    note = models.CharField(max_length=200, blank=True, help_text="What changed in this version.")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["article", "number"]
        constraints = [models.UniqueConstraint(fields=["article", "number"], name="itsm_articleversion_number")]

    def __str__(self):
        return f"{self.article_id} v{self.number}"


class ArticleUse(models.Model):
    """An article met a ticket: linked as its answer, sent as a reply, or drafted from it."""

    article = models.ForeignKey(KnowledgeArticle, on_delete=models.CASCADE, related_name="uses")
    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="article_uses")
    how = models.CharField(max_length=12, choices=ArticleUseKind.choices)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["article", "ticket", "how"], name="itsm_articleuse_once")]

    def __str__(self):
        return f"{self.article_id} {self.how} {self.ticket_id}"


class Deflection(models.Model):
    """"This solved it": someone about to raise a ticket found the answer in an article, and raised none."""

    article = models.ForeignKey(KnowledgeArticle, on_delete=models.CASCADE, related_name="deflections")
    service = models.ForeignKey(Service, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                             related_name="+", help_text="Empty: someone who had not signed in.")
    query = models.CharField(max_length=200, blank=True, help_text="What they had typed.")
    created_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["created_at"], name="itsm_deflection_created")]

    def __str__(self):
        return f"deflected by {self.article_id} at {self.created_at:%Y-%m-%d %H:%M}"


# --- the request catalogue ------------------------------------------------------------------------------

class CatalogItem(models.Model):
    """A standard request people order: its form, its approval, who fulfils it, and how (by hand, or by a
    fulfilment handler run by the workers)."""

    service = models.ForeignKey(Service, on_delete=models.PROTECT, related_name="catalog_items")
    name = models.CharField(max_length=120)
    summary = models.CharField(max_length=200, blank=True, help_text="One line on the catalogue's card.")
    description = models.TextField(blank=True, help_text="Markdown; rendered sanitised.")
    icon = models.CharField(max_length=32, default="package", help_text="An icon of the design system.")
    audience = models.CharField(max_length=12, choices=CatalogAudience.choices, default=CatalogAudience.EVERYONE)
    fulfilment_group = models.ForeignKey(AssignmentGroup, null=True, blank=True, on_delete=models.SET_NULL,
                                         related_name="catalog_items", help_text="Empty: the service's usual team.")
    sla_policy = models.ForeignKey("sla.Policy", null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="catalog_items",
                                   help_text="Empty: the policy whose conditions match the request.")
    approval = models.CharField(max_length=12, choices=ApprovalMode.choices, default=ApprovalMode.NONE)
    approver = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                 related_name="+", help_text="The named approver (with a named approval).")
    handler = models.CharField(max_length=40, blank=True,
                               help_text="The fulfilment handler the workers run; empty: fulfilled by hand.")
    handler_config = models.JSONField(default=dict, blank=True)
    active = models.BooleanField(default=True)
    order = models.PositiveSmallIntegerField(default=100)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        ordering = ["order", "name"]
        constraints = [models.UniqueConstraint(fields=["service", "name"], name="itsm_catalogitem_name")]

    def __str__(self):
        return self.name


class CatalogField(models.Model):
    """One question of an item's form; the answers are validated on the server against it."""

    item = models.ForeignKey(CatalogItem, on_delete=models.CASCADE, related_name="fields")
    name = models.SlugField(max_length=40, help_text="The answer's key (API and stored answers).")
    label = models.CharField(max_length=120)
    type = models.CharField(max_length=12, choices=FieldType.choices, default=FieldType.TEXT)
    required = models.BooleanField(default=False)
    help_text = models.CharField(max_length=200, blank=True)
    choices = models.JSONField(default=list, blank=True, help_text="The options of a choice.")
    min_value = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    max_value = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    max_length = models.PositiveIntegerField(null=True, blank=True)
    pattern = models.CharField(max_length=200, blank=True, help_text="A regular expression a text must match.")
    pattern_message = models.CharField(max_length=200, blank=True, help_text="Said when the pattern fails.")
    order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["item", "order", "id"]
        constraints = [models.UniqueConstraint(fields=["item", "name"], name="itsm_catalogfield_name")]

    def __str__(self):
        return f"{self.item_id}.{self.name}"


class CatalogTaskTemplate(models.Model):
    """A fulfilment task every approved request of the item gets."""

    item = models.ForeignKey(CatalogItem, on_delete=models.CASCADE, related_name="task_templates")
    title = models.CharField(max_length=200)
    group = models.ForeignKey(AssignmentGroup, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["item", "order", "id"]

    def __str__(self):
        return self.title


class CatalogRequest(models.Model):
    """A service request ordered from the catalogue: the item, the form's answers, its approval and its
    automated fulfilment."""

    ticket = models.OneToOneField(Ticket, on_delete=models.CASCADE, related_name="catalog_request")
    item = models.ForeignKey(CatalogItem, on_delete=models.PROTECT, related_name="requests")
    answers = models.JSONField(default=dict, blank=True, help_text="The validated answers, by field name.")
    approval = models.CharField(max_length=12, choices=ApprovalState.choices, default=ApprovalState.NOT_NEEDED)
    approver = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                 related_name="catalog_approvals")
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.TextField(blank=True)
    automation = models.CharField(max_length=12, choices=AutomationState.choices, default=AutomationState.NONE)
    attempts = models.PositiveSmallIntegerField(default=0)
    result = models.TextField(blank=True, help_text="What the fulfilment handler did, or why it failed.")
    automated_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        indexes = [
            # An approver's list of requests waiting for them.
            models.Index(fields=["approver", "approval"], name="itsm_catalogrequest_approver"),
        ]

    def __str__(self):
        return f"{self.ticket_id} {self.item_id}"


class FulfilmentTask(models.Model):
    """One piece of a request's fulfilment for a team (made from the item's task templates when approved)."""

    request = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="fulfilment_tasks")
    number = models.PositiveSmallIntegerField()
    title = models.CharField(max_length=200)
    group = models.ForeignKey(AssignmentGroup, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    assignee = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                 related_name="fulfilment_tasks")
    state = models.CharField(max_length=12, choices=TaskState.choices, default=TaskState.PLANNED)
    note = models.TextField(blank=True)
    done_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                related_name="+")
    done_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()
    version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["request", "number"]
        constraints = [models.UniqueConstraint(fields=["request", "number"], name="itsm_fulfilmenttask_number")]
        indexes = [models.Index(fields=["assignee", "state"], name="itsm_fulfilmenttask_mine")]

    def __str__(self):
        return f"{self.request_id} task {self.number}"


# --- services and their operations gate ------------------------------------------------------------------

class OperationsGate(models.Model):
    """A service's way to operational: the transition checklist, each item signed off by its appointed
    approver, then the service manager's acceptance."""

    service = models.OneToOneField(Service, on_delete=models.CASCADE, related_name="gate")
    opened_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    opened_at = models.DateTimeField()
    accepted_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="+")
    accepted_at = models.DateTimeField(null=True, blank=True)
    acceptance_note = models.TextField(blank=True)

    def __str__(self):
        return f"gate of {self.service_id}"


class GateItem(models.Model):
    gate = models.ForeignKey(OperationsGate, on_delete=models.CASCADE, related_name="items")
    code = models.CharField(max_length=16, choices=GateItemCode.choices)
    label = models.CharField(max_length=200)
    approver = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="gate_items",
                                 help_text="Appointed to sign this item off.")
    state = models.CharField(max_length=12, choices=GateItemState.choices, default=GateItemState.OPEN)
    evidence = models.TextField(blank=True, help_text="What the approver checked.")
    signed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                  related_name="+")
    signed_at = models.DateTimeField(null=True, blank=True)
    order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["gate", "order", "id"]
        constraints = [models.UniqueConstraint(fields=["gate", "label"], name="itsm_gateitem_label")]
        indexes = [models.Index(fields=["approver", "state"], name="itsm_gateitem_mine")]

    def __str__(self):
        return self.label


# --- change enablement: CABs, their approval rounds, standard-change templates --------------------------


class Cab(models.Model):
    """A change advisory board: named approvers who decide the changes of one service, or of every service
    without a CAB of its own (`service` empty); an emergency CAB decides emergency changes the same way."""

    name = models.CharField(max_length=120, unique=True)
    service = models.ForeignKey(
        Service, null=True, blank=True, on_delete=models.PROTECT, related_name="cabs",
        help_text="Empty: every service without a CAB of its own.")
    emergency = models.BooleanField(default=False, help_text="Decides emergency changes (a smaller board).")
    rule = models.CharField(max_length=12, choices=CabRule.choices, default=CabRule.MAJORITY)
    quorum = models.PositiveSmallIntegerField(default=1, help_text="With 'any N approvers': how many approvals decide.")
    members = models.ManyToManyField(settings.AUTH_USER_MODEL, related_name="cabs", blank=True)
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        ordering = ["emergency", "name"]
        constraints = [
            # One live board per service and kind of change, and one global board of each kind.
            models.UniqueConstraint(fields=["service", "emergency"], condition=Q(active=True, service__isnull=False),
                                    name="itsm_cab_one_per_service"),
            models.UniqueConstraint(fields=["emergency"], condition=Q(active=True, service__isnull=True),
                                    name="itsm_cab_one_global"),
            models.CheckConstraint(condition=Q(quorum__gte=1), name="itsm_cab_quorum_positive"),
        ]

    def __str__(self):
        return self.name


class ApprovalRound(models.Model):
    """One submission of a change to its CAB: the approvers asked, the rule that decides, and the outcome.
    The approvers and the rule are copied when the round opens, so a later edit of the CAB changes no round."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="approval_rounds")
    number = models.PositiveSmallIntegerField()
    cab = models.ForeignKey(Cab, on_delete=models.PROTECT, related_name="rounds")
    rule = models.CharField(max_length=12, choices=CabRule.choices)
    required = models.PositiveSmallIntegerField(help_text="Approvals that decide the round.")
    status = models.CharField(max_length=20, choices=RoundStatus.choices, default=RoundStatus.OPEN)
    reason = models.TextField(blank=True, help_text="Why the round opened (a resubmission, a plan changed).")
    opened_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    opened_at = models.DateTimeField()
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["ticket", "number"]
        constraints = [
            models.UniqueConstraint(fields=["ticket", "number"], name="itsm_round_number"),
            # A change waits on one round at a time.
            models.UniqueConstraint(fields=["ticket"], condition=Q(status="open"), name="itsm_round_one_open"),
        ]

    def __str__(self):
        return f"round {self.number} of {self.ticket_id} ({self.status})"


class Approval(models.Model):
    """One approver's request in a round, and their vote (approve, reject with a reason, or ask for changes)."""

    round = models.ForeignKey(ApprovalRound, on_delete=models.CASCADE, related_name="approvals")
    approver = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="approvals")
    decision = models.CharField(max_length=20, choices=Vote.choices, default=Vote.PENDING)
    comment = models.TextField(blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["round", "id"]
        constraints = [models.UniqueConstraint(fields=["round", "approver"], name="itsm_approval_once")]
        indexes = [
            # "My approvals": the votes a person still owes (the queue view and its count).
            models.Index(fields=["approver", "round"], name="itsm_approval_pending",
                         condition=Q(decision="pending")),
        ]

    def __str__(self):
        return f"{self.approver_id} on {self.round_id}: {self.decision}"


class ChangeTemplate(models.Model):
    """A standard change the change manager pre-approved: what it does, on which service, how it is backed
    out and its risk. Every edit makes a new version (`ChangeTemplateVersion`); a retired template makes no
    new change, while the changes made from it keep the version they came from."""

    title = models.CharField(max_length=200, unique=True)
    description = models.TextField(blank=True, help_text="Markdown; copied to each change made from it.")
    service = models.ForeignKey(Service, null=True, blank=True, on_delete=models.PROTECT,
                                related_name="change_templates")
    implementation_plan = models.TextField()
    backout_plan = models.TextField()
    risk = models.CharField(max_length=8, choices=Risk.choices, default=Risk.LOW)
    version = models.PositiveIntegerField(default=1, help_text="The current version's number.")
    retired_at = models.DateTimeField(null=True, blank=True)
    retired_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        ordering = ["title"]

    def __str__(self):
        return self.title

    @property
    def retired(self) -> bool:
        return self.retired_at is not None


class ChangeTemplateVersion(models.Model):
    """What a template said at one version: a standard change records the version it was made from."""

    template = models.ForeignKey(ChangeTemplate, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    service = models.ForeignKey(Service, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    implementation_plan = models.TextField()
    backout_plan = models.TextField()
    risk = models.CharField(max_length=8, choices=Risk.choices)
    note = models.TextField(blank=True, help_text="What changed in this version.")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["template", "-number"]
        constraints = [models.UniqueConstraint(fields=["template", "number"], name="itsm_template_version_number")]

    def __str__(self):
        return f"{self.title} v{self.number}"


class StandardChange(models.Model):
    """A standard change and the template version it was made from."""

    ticket = models.OneToOneField(Ticket, on_delete=models.CASCADE, related_name="standard_origin")
    template_version = models.ForeignKey(ChangeTemplateVersion, on_delete=models.PROTECT, related_name="changes")

    def __str__(self):
        return f"{self.ticket_id} from {self.template_version_id}"


# --- change tasks and rollbacks ---------------------------------------------------------------------------


class ChangeTask(models.Model):
    """One implementation step of a change at one business unit / site, worked in that site's time zone.

    Its planned window is stored in UTC and entered and shown in `time_zone` (and in the viewer's zone)."""

    change = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="change_tasks")
    number = models.PositiveSmallIntegerField(help_text="T1, T2, ... within the change.")
    title = models.CharField(max_length=200)
    business_unit = models.CharField(max_length=120)
    site = models.CharField(max_length=120)
    country = models.CharField(max_length=2, help_text="ISO 3166 code, e.g. DE, SG, US.")
    time_zone = models.CharField(max_length=64, help_text="IANA name of the site's zone, e.g. Asia/Singapore.")
    assignee = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                 related_name="change_tasks")
    group = models.ForeignKey(AssignmentGroup, null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="change_tasks")
    planned_start = models.DateTimeField()
    planned_end = models.DateTimeField()
    state = models.CharField(max_length=12, choices=TaskState.choices, default=TaskState.PLANNED)
    result_note = models.TextField(blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()
    version = models.PositiveIntegerField(default=1, help_text="Optimistic lock of hand-offs and reports.")

    class Meta:
        ordering = ["change", "planned_start", "number"]
        constraints = [
            models.UniqueConstraint(fields=["change", "number"], name="itsm_changetask_number"),
            models.CheckConstraint(condition=Q(planned_end__gt=models.F("planned_start")),
                                   name="itsm_changetask_window_order"),
            models.CheckConstraint(condition=Q(assignee__isnull=False) | Q(group__isnull=False),
                                   name="itsm_changetask_has_owner"),
        ]
        indexes = [
            # "My change tasks": a person's open tasks by window.
            models.Index(fields=["assignee", "state", "planned_start"], name="itsm_changetask_assignee"),
            # ... and the unassigned tasks of their groups.
            models.Index(fields=["group", "state", "planned_start"], name="itsm_changetask_group"),
        ]

    def __str__(self):
        return f"T{self.number} {self.title}"

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_TASK_STATES

    @property
    def label(self) -> str:
        return f"T{self.number} {self.site}"


class ChangeRollback(models.Model):
    """The backout plan of a change, run: who ran it, when, and how it ended."""

    change = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="rollbacks")
    run_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
                               help_text="Who ran the backout plan.")
    ran_at = models.DateTimeField(help_text="When the backout finished.")
    outcome = models.CharField(max_length=12, choices=RollbackOutcome.choices)
    note = models.TextField(blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    recorded_at = models.DateTimeField()

    class Meta:
        ordering = ["change", "ran_at", "id"]

    def __str__(self):
        return f"rollback of {self.change_id} ({self.outcome})"


# How each repeat rule runs (dateutil's rrule, RFC 5545), and the longest a repeating window may last so that
# one occurrence ends before the next begins (the last working days of two months can be 26 days apart).
RULES = {
    Repeat.DAILY: {"freq": rrule.DAILY},
    Repeat.WEEKLY: {"freq": rrule.WEEKLY},
    Repeat.MONTHLY: {"freq": rrule.MONTHLY},
    Repeat.MONTHLY_LAST_WORKDAY: {"freq": rrule.MONTHLY, "byweekday": (rrule.MO, rrule.TU, rrule.WE, rrule.TH,
                                                                        rrule.FR), "bysetpos": -1},
    Repeat.YEARLY: {"freq": rrule.YEARLY},
}
LONGEST = {
    Repeat.DAILY: timedelta(days=1),
    Repeat.WEEKLY: timedelta(days=7),
    Repeat.MONTHLY: timedelta(days=28),
    Repeat.MONTHLY_LAST_WORKDAY: timedelta(days=26),
    Repeat.YEARLY: timedelta(days=365),
}


class Blackout(models.Model):
    """A window in which changes may not be implemented without a change manager's recorded override: a change
    freeze, a payroll run, peak trading. Global (no service) or for one service; dated, or repeating from its
    first occurrence (`starts_at`-`ends_at`) by `repeat` until `repeat_until`, at the same wall-clock times in
    `time_zone`."""

    name = models.CharField(max_length=120)
    reason = models.TextField(help_text="Why changes stop here; shown to whoever schedules into it.")
    service = models.ForeignKey(Service, null=True, blank=True, on_delete=models.CASCADE, related_name="blackouts",
                                help_text="Empty: every service (a global change freeze).")
    starts_at = models.DateTimeField(help_text="Start of the (first) occurrence.")
    ends_at = models.DateTimeField(help_text="End of the (first) occurrence.")
    time_zone = models.CharField(max_length=64, default="UTC",
                                 help_text="The wall clock a repeating blackout keeps across summer-time changes.")
    repeat = models.CharField(max_length=24, choices=Repeat.choices, default=Repeat.NEVER)
    repeat_until = models.DateField(null=True, blank=True, help_text="Last day an occurrence may start; empty: "
                                                                     "for ever.")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        ordering = ["starts_at", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(ends_at__gt=F("starts_at")), name="itsm_blackout_ends_after_start"),
        ]
        # No index beyond the key: a company keeps tens of blackouts, and every read takes them all (global and
        # per service) to expand their repeats in Python.

    def __str__(self):
        return self.name

    @property
    def repeats(self) -> bool:
        return self.repeat != Repeat.NEVER

    @property
    def zone(self):
        return zone_named(self.time_zone) or UTC

    def local_span(self) -> tuple[datetime, timedelta]:
        """The first occurrence's start on the blackout's wall clock (naive) and its wall-clock length."""
        first = self.starts_at.astimezone(self.zone).replace(tzinfo=None)
        return first, self.ends_at.astimezone(self.zone).replace(tzinfo=None) - first

    def occurrences(self, start: datetime, end: datetime) -> list[tuple[datetime, datetime]]:
        """The occurrences that overlap [start, end), as aware UTC (start, end) pairs, oldest first."""
        if not self.repeats:
            return [(self.starts_at, self.ends_at)] if self.starts_at < end and start < self.ends_at else []
        zone = self.zone
        first, length = self.local_span()
        until = datetime.combine(self.repeat_until, time.max) if self.repeat_until else None
        rule = rrule.rrule(dtstart=first, until=until, **RULES[self.repeat])
        # An occurrence that began before `start` may still be running: look back by its length (and a day for
        # the zone's offset).
        lo = max(first, start.astimezone(zone).replace(tzinfo=None) - length - timedelta(days=1))
        hi = end.astimezone(zone).replace(tzinfo=None) + timedelta(days=1)
        out = []
        for local in rule.between(lo, hi, inc=True):
            occ_start = local.replace(tzinfo=zone).astimezone(UTC)
            occ_end = (local + length).replace(tzinfo=zone).astimezone(UTC)
            if occ_start < end and start < occ_end:
                out.append((occ_start, occ_end))
        return out


class BlackoutOverride(models.Model):
    """A change manager's decision that one change may run in its window although the window falls into a
    blackout: who, when, why, for which window. The window is part of the decision: moved again, the change needs
    a new override."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="blackout_overrides")
    blackout = models.ForeignKey(Blackout, null=True, on_delete=models.SET_NULL, related_name="overrides")
    blackout_name = models.CharField(max_length=120, help_text="The blackout's name when it was overridden.")
    window_start = models.DateTimeField()
    window_end = models.DateTimeField(null=True, blank=True)
    reason = models.TextField()
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [
            # The guard: is there an override of this blackout for this change's window?
            models.Index(fields=["ticket", "blackout", "window_start"], name="itsm_override_ticket"),
            # The calendar: overrides of the windows shown in a month.
            models.Index(fields=["window_start"], name="itsm_override_window"),
        ]

    def __str__(self):
        return f"{self.ticket_id} overrides {self.blackout_name}"


class CalendarFeed(models.Model):
    """A person's secret address of the change calendar as an iCalendar feed, for calendar apps that cannot sign
    in. Only a hash of the token is kept; replacing or deleting the row revokes the old address."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="calendar_feed")
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField()
    last_used_at = models.DateTimeField(null=True, blank=True)

    def __str__(self):
        return f"calendar feed of {self.user_id}"

    @staticmethod
    def hash(token: str) -> str:
        return hashlib.sha256(token.encode()).hexdigest()


class MajorIncident(models.Model):
    """An incident declared major (P1 only, with a reason): the parent its child incidents are linked to
    (`major parent_of child`), told to the incident managers and the service's owners at once."""

    ticket = models.OneToOneField(Ticket, on_delete=models.CASCADE, related_name="major")
    reason = models.TextField()
    declared_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    declared_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True, help_text="When it was resolved (with its children).")

    class Meta:
        ordering = ["-declared_at", "-id"]
        indexes = [models.Index(fields=["ended_at", "-declared_at"], name="itsm_major_open")]

    def __str__(self):
        return f"major {self.ticket_id}"
