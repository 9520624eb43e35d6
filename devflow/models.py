"""Development-side records: releases, which ship defects and changes to a service."""
from django.conf import settings
from django.db import models

from tracker.models import Service, Ticket


class Release(models.Model):
    """A version of a service; shipping it puts a 'release' event on each ticket it carries."""

    name = models.CharField(max_length=120)
    version = models.CharField(max_length=40)
    service = models.ForeignKey(Service, on_delete=models.PROTECT, related_name="releases")
    notes = models.TextField(blank=True, help_text="Release notes (Markdown) the service desk reads.")
    tickets = models.ManyToManyField(Ticket, blank=True, related_name="releases")
    shipped_at = models.DateTimeField(null=True, blank=True)
    shipped_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-shipped_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["service", "version"], name="devflow_release_version")]
        indexes = [
            # "What changed on this service recently" in the ticket workspace.
            models.Index(fields=["service", "-shipped_at"], name="devflow_release_recent"),
        ]

    def __str__(self):
        return f"{self.service} {self.version}"
