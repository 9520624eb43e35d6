"""Service-management records beyond the ticket itself: the knowledge base the portal searches, the tasks of a
change at each site, and the rollbacks of changes whose backout plan ran."""

from django.conf import settings
from django.db import models
from django.db.models import Q

from tracker.models import AssignmentGroup, Service, Ticket

from .choices import OPEN_TASK_STATES, RollbackOutcome, TaskState


class KnowledgeArticle(models.Model):
    """A knowledge-base article or FAQ entry; admins edit it, requesters find it in the portal."""

    title = models.CharField(max_length=200)
    body = models.TextField(help_text="Markdown; rendered sanitised.")
    service = models.ForeignKey(
        Service, null=True, blank=True, on_delete=models.SET_NULL, related_name="articles"
    )
    faq = models.BooleanField(default=True, help_text="Listed on the portal's FAQ page.")
    published = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["title"]
        indexes = [
            # Portal FAQ page and search: published articles, newest edits first.
            models.Index(fields=["published", "-updated_at"], name="itsm_article_published"),
        ]

    def __str__(self):
        return self.title


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
