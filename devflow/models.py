"""Development-side records: releases that ship defects and changes to a service, the support capacity a
team agreed to exceed, and the code (commits, pull requests) that mentions tickets."""
from django.conf import settings
from django.db import models

from tracker.models import AssignmentGroup, Service, Ticket

USER = settings.AUTH_USER_MODEL


class Release(models.Model):
    """A version of a service: planned, its notes written and reviewed, UAT signed off by 2nd line, published
    to the desk before go-live, then shipped (which moves its defects on and tells the people waiting)."""

    name = models.CharField(max_length=120, blank=True)
    version = models.CharField(max_length=40)
    service = models.ForeignKey(Service, on_delete=models.PROTECT, related_name="releases")
    planned_for = models.DateField(null=True, blank=True, help_text="The go-live date planned.")
    notes = models.TextField(blank=True, help_text="Release notes (Markdown) the service desk reads.")
    notes_edited_by = models.ForeignKey(USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    notes_reviewed_by = models.ForeignKey(USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    notes_reviewed_at = models.DateTimeField(null=True, blank=True)
    uat_signed_by = models.ForeignKey(USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    uat_signed_at = models.DateTimeField(null=True, blank=True)
    uat_note = models.TextField(blank=True)
    published_by = models.ForeignKey(USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    published_at = models.DateTimeField(null=True, blank=True, help_text="Notes published to the desk.")
    desk_article_url = models.CharField(max_length=300, blank=True, help_text="The desk's article of the notes.")
    tickets = models.ManyToManyField(Ticket, blank=True, related_name="releases")
    shipped_at = models.DateTimeField(null=True, blank=True)
    shipped_by = models.ForeignKey(USER, null=True, blank=True, on_delete=models.SET_NULL)
    created_by = models.ForeignKey(USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    revision = models.PositiveIntegerField(default=1, help_text="Optimistic lock of the notes and plan.")

    class Meta:
        ordering = ["-shipped_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["service", "version"], name="devflow_release_version")]
        indexes = [
            # "What changed on this service recently" in the ticket workspace.
            models.Index(fields=["service", "-shipped_at"], name="devflow_release_recent"),
        ]

    def __str__(self):
        return f"{self.service} {self.version}"


class CapacityDecision(models.Model):
    """Who decided that a team works over its reserved support share for a P1 or an emergency change, when,
    and with whom it was agreed (seed 000: "agreed between the change manager and the project manager")."""

    group = models.ForeignKey(AssignmentGroup, on_delete=models.CASCADE, related_name="capacity_decisions")
    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="capacity_decisions")
    week = models.DateField(help_text="The Monday of the week it applies to.")
    decided_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    agreed_with = models.ForeignKey(USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    note = models.TextField()
    decided_at = models.DateTimeField()

    class Meta:
        ordering = ["-week", "-decided_at"]
        constraints = [
            models.UniqueConstraint(fields=["group", "ticket", "week"], name="devflow_capacity_decision_once"),
        ]

    def __str__(self):
        return f"{self.group_id} over share for {self.ticket_id} ({self.week})"


class Repository(models.Model):
    """A code repository that sends push and pull-request webhooks, signed with its own secret."""

    class Provider(models.TextChoices):
        GITHUB = "github", "GitHub"
        GITLAB = "gitlab", "GitLab"

    name = models.CharField(max_length=200, unique=True, help_text="owner/name, as the provider spells it.")
    provider = models.CharField(max_length=10, choices=Provider.choices)
    url = models.URLField(max_length=300, blank=True)
    secret = models.CharField(max_length=200, help_text="The webhook secret shared with the provider.")
    service = models.ForeignKey(Service, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    team = models.ForeignKey(AssignmentGroup, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "repositories"

    def __str__(self):
        return self.name


class VcsDelivery(models.Model):
    """One accepted webhook delivery of a repository; a replay of the same delivery id has no second effect."""

    repository = models.ForeignKey(Repository, on_delete=models.CASCADE, related_name="deliveries")
    delivery_id = models.CharField(max_length=200)
    event = models.CharField(max_length=40)
    summary = models.TextField(blank=True)
    received_at = models.DateTimeField()

    class Meta:
        ordering = ["-received_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["repository", "delivery_id"], name="devflow_vcs_delivery_once"),
        ]

    def __str__(self):
        return f"{self.repository_id} {self.event} {self.delivery_id}"


class CodeLink(models.Model):
    """A commit or pull request that mentions a ticket, shown on the ticket's timeline and its Code panel."""

    class Kind(models.TextChoices):
        COMMIT = "commit", "Commit"
        PULL_REQUEST = "pull_request", "Pull request"

    class State(models.TextChoices):
        PUSHED = "pushed", "Pushed"
        OPEN = "open", "Open"
        MERGED = "merged", "Merged"
        CLOSED = "closed", "Closed"

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="code_links")
    repository = models.ForeignKey(Repository, on_delete=models.CASCADE, related_name="links")
    kind = models.CharField(max_length=14, choices=Kind.choices)
    ref = models.CharField(max_length=80, help_text="The commit's sha or the pull request's number.")
    title = models.TextField(blank=True)
    url = models.URLField(max_length=500, blank=True)
    author = models.CharField(max_length=200, blank=True)
    state = models.CharField(max_length=8, choices=State.choices)
    fixes = models.BooleanField(default=False, help_text="It says it fixes the ticket ('fixes DEF-12').")
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["ticket", "repository", "kind", "ref"], name="devflow_codelink_once"),
        ]

    def __str__(self):
        return f"{self.kind} {self.ref} -> {self.ticket_id}"


class BacklogRank(models.Model):
    """A development team's manual order of its backlog: the team lead's ranking of open defects and changes;
    tickets without a rank follow the ranked ones by priority, severity and age."""

    group = models.ForeignKey(AssignmentGroup, on_delete=models.CASCADE, related_name="backlog_ranks")
    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="backlog_ranks")
    position = models.PositiveIntegerField()

    class Meta:
        ordering = ["group", "position"]
        constraints = [
            models.UniqueConstraint(fields=["group", "ticket"], name="devflow_backlogrank_once"),
        ]
        indexes = [
            # The team's backlog page reads its ranks in order.
            models.Index(fields=["group", "position"], name="devflow_backlogrank_order"),
        ]

    def __str__(self):
        return f"{self.group_id} #{self.position}: {self.ticket_id}"
