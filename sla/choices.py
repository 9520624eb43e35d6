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
    RELEASE = "release", _("Release")  # a release shipped the fix for your ticket; release notes to review
    RECEIVED = "received", _("Request received")  # the acknowledgement a requester gets when a ticket is raised


# Kinds sent by mail only, never as an in-app row: the acknowledgement (whoever raised the ticket sees it raised).
MAIL_ONLY_KINDS = frozenset({NotificationKind.RECEIVED})


class Channel(models.TextChoices):
    EMAIL = "email", _("Email")


BREACH_LEVEL = 100  # ClockEffect.level of the breach; warnings use their percent (75, 90, ...)
DEFAULT_WARN_PERCENTS = [75, 90]
DEFAULT_PAUSE_STATUSES = ["pending"]


class WebhookEvent(models.TextChoices):
    """What an outbound webhook subscription may ask for; each has a documented JSON payload."""

    TICKET_CREATED = "ticket.created", _("Ticket created")
    TICKET_UPDATED = "ticket.updated", _("Ticket updated")
    TICKET_TRANSITIONED = "ticket.transitioned", _("Ticket moved to another status")
    TICKET_COMMENTED = "ticket.commented", _("Ticket commented")
    SLA_WARNING = "sla.warning", _("SLA warning")
    SLA_BREACH = "sla.breach", _("SLA breach")
    RELEASE_SHIPPED = "release.shipped", _("Release shipped")


class DeliveryState(models.TextChoices):
    PENDING = "pending", _("Pending")  # waiting for its first or next attempt
    DELIVERED = "delivered", _("Delivered")  # the receiver answered 2xx
    FAILED = "failed", _("Failed")  # every retry failed; a person may redeliver it


class InboundOutcome(models.TextChoices):
    """What became of a mail that reached an intake mailbox (`InboundMail.outcome`)."""

    CREATED = "created", _("Created a ticket")
    REPLIED = "replied", _("Added to a ticket")
    IGNORED = "ignored", _("Ignored")  # an auto-reply, a bounce, a loop, a sender over the rate
    HELD = "held", _("Held for review")  # a reply from someone who is not on the ticket
    QUARANTINED = "quarantined", _("Quarantined")  # could not be parsed or filed
    DROPPED = "dropped", _("Dropped")  # held or quarantined, then dropped by a person
