"""Service-management records beyond the ticket itself: the knowledge base the portal searches, and the change
calendar's blackout windows, their recorded overrides and the personal calendar feeds."""

import hashlib
from datetime import UTC, datetime, time, timedelta

from dateutil import rrule
from django.conf import settings
from django.db import models
from django.db.models import F, Q

from tracker.models import Service, Ticket
from tracker.timezones import zone_named

from .choices import Repeat


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
