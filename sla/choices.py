"""Enumerations of the SLA engine."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Metric(models.TextChoices):
    RESPONSE = "response", _("First response")
    RESOLUTION = "resolution", _("Resolution")
    PICK = "pick", _("Picked at tier")  # per-tier target, e.g. "L3 picks a P1 within 30 min"


class ClockState(models.TextChoices):
    RUNNING = "running", _("Running")
    PAUSED = "paused", _("Paused")
    MET = "met", _("Stopped")  # responded / resolved / picked (breached or not: see Clock.breached)
    CANCELLED = "cancelled", _("Cancelled")


class NotificationKind(models.TextChoices):
    WARNING = "warning", _("SLA warning")
    BREACH = "breach", _("SLA breach")
    ESCALATION = "escalation", _("Escalation")
    ASSIGNMENT = "assignment", _("Assignment")
    UPDATE = "update", _("Ticket update")  # public replies and status changes, for requester and watchers
    APPROVAL = "approval", _("Approval request")  # a change waits for your vote as a CAB member
    MAJOR = "major", _("Major incident")  # declared: the incident managers and the service's owners
    SERVICE = "service", _("Service transition")  # an operations gate: an item to sign off, a service accepted


class Channel(models.TextChoices):
    EMAIL = "email", _("Email")


BREACH_LEVEL = 100  # ClockEffect.level of the breach; warnings use their percent (75, 90, ...)
DEFAULT_WARN_PERCENTS = [75, 90]
DEFAULT_PAUSE_STATUSES = ["pending"]
