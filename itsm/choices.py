"""Enumerations of service management."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Repeat(models.TextChoices):
    """How a blackout window repeats. It keeps its wall-clock times in its own zone across summer-time changes
    (a weekend freeze from Friday 18:00 to Monday 06:00 stays that, in winter and in summer)."""

    NEVER = "never", _("Does not repeat")
    DAILY = "daily", _("Every day")
    WEEKLY = "weekly", _("Every week")
    MONTHLY = "monthly", _("Every month on the same day")
    MONTHLY_LAST_WORKDAY = "monthly_last_workday", _("Every month on the last working day")
    YEARLY = "yearly", _("Every year")
