"""Enumerations of service management: how a CAB decides, and the states of its rounds and votes."""

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
