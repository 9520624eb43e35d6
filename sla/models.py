"""The SLA engine's schema: business calendars, policies, clocks, their effects, notifications, outbox.

A clock is one row per (ticket, metric, tier, cycle). While it runs it stores the instant of its next
warning or breach in `next_check_at` behind a partial index, so "what is due now" is one indexed range
scan however many clocks run. Effects (warning, breach) are rows unique per (clock, level): a second
sweeper, a retry or a crash-and-redo can never apply one twice.

The manager dashboard reads daily roll-ups (`ClockRollup`, `EscalationRollup`) for the whole days of its
period and aggregates `Clock` live for the rest: `group` and `priority` are snapshots taken when the
clock starts, is re-planned or breaches, and `ticket__kind` / `tier` / `metric` give the other axes.
"""

from datetime import datetime, timedelta

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from tracker.choices import Kind, Priority, Status, Tier
from tracker.models import LoadedFast

from .choices import (
    DEFAULT_PAUSE_STATUSES,
    DEFAULT_WARN_PERCENTS,
    Channel,
    ClockState,
    DeliveryState,
    InboundOutcome,
    Metric,
    NotificationKind,
)


def _default_warn_percents():
    return list(DEFAULT_WARN_PERCENTS)


def _default_pause_statuses():
    return list(DEFAULT_PAUSE_STATUSES)


class Calendar(models.Model):
    """Business hours in a time zone, minus holidays; or 24x7."""

    name = models.CharField(max_length=120, unique=True)
    time_zone = models.CharField(max_length=64, default="UTC", help_text="IANA name, e.g. Europe/London.")
    always_open = models.BooleanField(
        default=False, help_text="24x7: every second counts (holidays still apply if any are listed)."
    )
    holiday_country = models.CharField(
        max_length=8, blank=True, help_text="ISO country whose public holidays were imported, e.g. GB."
    )
    holiday_subdivision = models.CharField(max_length=16, blank=True, help_text="e.g. ENG for England.")
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


class WorkingHours(models.Model):
    """One open interval of a weekday; a day may have several (e.g. 08:00-12:00 and 13:00-17:00)."""

    calendar = models.ForeignKey(Calendar, on_delete=models.CASCADE, related_name="hours")
    weekday = models.PositiveSmallIntegerField(
        choices=[
            (i, d)
            for i, d in enumerate(
                ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
            )
        ]
    )
    start = models.TimeField()
    end = models.TimeField(help_text="00:00 means midnight at the end of the day.")

    class Meta:
        ordering = ["calendar", "weekday", "start"]
        verbose_name_plural = "working hours"

    def __str__(self):
        return f"{self.get_weekday_display()} {self.start:%H:%M}-{self.end:%H:%M}"


class Holiday(models.Model):
    calendar = models.ForeignKey(Calendar, on_delete=models.CASCADE, related_name="holidays")
    date = models.DateField()
    name = models.CharField(max_length=120, blank=True)

    class Meta:
        ordering = ["calendar", "date"]
        constraints = [models.UniqueConstraint(fields=["calendar", "date"], name="sla_holiday_calendar_date")]

    def __str__(self):
        return f"{self.date} {self.name}"


class Policy(models.Model):
    """Targets for the tickets it matches; the first active policy by `order` whose conditions all hold wins.

    An empty condition matches anything. Targets are seconds so tests and demos can use short ones.
    """

    name = models.CharField(max_length=120, unique=True)
    order = models.PositiveIntegerField(default=100, help_text="Lower is tried first.")
    active = models.BooleanField(default=True)
    calendar = models.ForeignKey(Calendar, on_delete=models.PROTECT, related_name="policies")
    # conditions
    kinds = models.JSONField(
        default=list, blank=True, help_text=f"Any of {', '.join(Kind.values)}; empty = any."
    )
    priorities = models.JSONField(default=list, blank=True, help_text="Any of 1..5; empty = any.")
    services = models.ManyToManyField("tracker.Service", blank=True, related_name="sla_policies")
    organisations = models.ManyToManyField(
        "tracker.Organisation",
        blank=True,
        related_name="sla_policies",
        help_text="The requester's organisation.",
    )
    sites = models.JSONField(default=list, blank=True, help_text="The requester's site; empty = any.")
    # targets
    response_s = models.PositiveIntegerField(
        null=True, blank=True, help_text="First response target, seconds."
    )
    resolution_s = models.PositiveIntegerField(null=True, blank=True, help_text="Resolution target, seconds.")
    warn_percents = models.JSONField(
        default=_default_warn_percents,
        blank=True,
        help_text="Warning thresholds in percent of the target, e.g. [75, 90].",
    )
    pause_statuses = models.JSONField(
        default=_default_pause_statuses,
        blank=True,
        help_text=f"Statuses that pause the clocks; any of {', '.join(Status.values)}.",
    )
    # escalation
    functional_escalation = models.BooleanField(
        default=True, help_text="On a breach, move the ticket to the next tier's group."
    )
    hierarchical_escalation = models.BooleanField(
        default=True, help_text="On a breach (and the last warning), notify the group's manager."
    )
    tell_requester = models.BooleanField(
        default=False, help_text="When the resolution target is breached, tell the requester (by mail and in the "
        "portal, in their language) that it is late and what happens next.")
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["order", "id"]
        verbose_name_plural = "policies"

    def __str__(self):
        return self.name


class TierTarget(models.Model):
    """A per-tier target: a ticket waiting at `tier` must be picked (assigned) within `goal_s`."""

    policy = models.ForeignKey(Policy, on_delete=models.CASCADE, related_name="tier_targets")
    tier = models.PositiveSmallIntegerField(choices=Tier.choices)
    goal_s = models.PositiveIntegerField(
        help_text="Seconds of business time to pick the ticket at this tier."
    )

    class Meta:
        ordering = ["policy", "tier"]
        constraints = [models.UniqueConstraint(fields=["policy", "tier"], name="sla_tiertarget_policy_tier")]

    def __str__(self):
        return f"L{self.tier} pick within {timedelta(seconds=self.goal_s)}"


class ClockQuerySet(models.QuerySet):
    def running(self):
        return self.filter(state=ClockState.RUNNING)

    def due(self, now: datetime):
        """Running clocks with a warning or breach at or before `now` (served by sla_clock_due)."""
        return self.filter(state=ClockState.RUNNING, next_check_at__lte=now)


class Clock(LoadedFast, models.Model):
    """One SLA clock of a ticket: a metric (and tier, for pick targets) in one cycle.

    Time is banked in business seconds: `elapsed_s` holds what was counted up to the last pause or stop;
    while running, the current segment counts from `resumed_at`. `due_at` is when `goal_s` is reached
    (null while paused: it moves with the pause). `next_check_at` is the next warning or breach instant.
    """

    ticket = models.ForeignKey("tracker.Ticket", on_delete=models.CASCADE, related_name="sla_clocks")
    policy = models.ForeignKey(Policy, on_delete=models.PROTECT, related_name="clocks")
    metric = models.CharField(max_length=12, choices=Metric.choices)
    tier = models.PositiveSmallIntegerField(choices=Tier.choices, null=True, blank=True)
    cycle = models.PositiveIntegerField(default=1)
    state = models.CharField(max_length=10, choices=ClockState.choices, default=ClockState.RUNNING)
    breached = models.BooleanField(default=False)
    breached_at = models.DateTimeField(null=True, blank=True)
    warned_percent = models.PositiveSmallIntegerField(default=0, help_text="Highest warning applied.")
    goal_s = models.PositiveIntegerField()
    elapsed_s = models.PositiveIntegerField(
        default=0, help_text="Business seconds banked at the last pause/stop."
    )
    started_at = models.DateTimeField()
    resumed_at = models.DateTimeField(null=True, blank=True, help_text="Start of the running segment.")
    paused_at = models.DateTimeField(null=True, blank=True)
    due_at = models.DateTimeField(null=True, blank=True)
    stopped_at = models.DateTimeField(null=True, blank=True)
    next_check_at = models.DateTimeField(null=True, blank=True)
    # snapshots for reporting (compliance by group / priority)
    group = models.ForeignKey(
        "tracker.AssignmentGroup", null=True, blank=True, on_delete=models.SET_NULL, related_name="sla_clocks"
    )
    priority = models.PositiveSmallIntegerField(choices=Priority.choices, null=True, blank=True)

    objects = ClockQuerySet.as_manager()

    class Meta:
        ordering = ["ticket", "metric", "tier", "cycle"]
        constraints = [
            models.UniqueConstraint(
                fields=["ticket", "metric", "cycle"],
                condition=Q(tier__isnull=True),
                name="sla_clock_unique_cycle",
            ),
            models.UniqueConstraint(
                fields=["ticket", "metric", "tier", "cycle"],
                condition=Q(tier__isnull=False),
                name="sla_clock_unique_tier_cycle",
            ),
        ]
        indexes = [
            # The sweep: running clocks whose next warning/breach is due (ORDER BY next_check_at). A clock with
            # nothing left to check (breached, or warned and breached) has no entry: the sweep's update skips it.
            models.Index(fields=["next_check_at"], condition=Q(state="running", next_check_at__isnull=False),
                         name="sla_clock_due"),
            # Ticket list: "breaching within N minutes" and "order by time remaining".
            models.Index(
                fields=["ticket", "due_at"], condition=Q(state="running"), name="sla_clock_running_due"
            ),
            # 3rd-line queue (devflow.selectors.l3_queue): running clocks walked in due order, riskiest first.
            models.Index(fields=["due_at", "id"], condition=Q(state="running"), name="sla_clock_running_by_due"),
            # Queue "Breaching soon" (itsm.selectors.saved_view): running, not yet breached, due before a horizon.
            models.Index(
                fields=["due_at"], condition=Q(state="running", breached=False), name="sla_clock_breaching"
            ),
            # Ticket list "breached" filter and the dashboard's breach lists.
            models.Index(fields=["breached_at"], condition=Q(breached=True), name="sla_clock_breached"),
            # Dashboard: compliance over stopped clocks in a period. Running clocks have no entry, so their
            # updates (every sweep, every re-plan) do not write one.
            models.Index(fields=["stopped_at", "metric"], condition=Q(stopped_at__isnull=False),
                         name="sla_clock_stopped"),
        ]

    def __str__(self):
        tier = f" L{self.tier}" if self.tier else ""
        return f"{self.metric}{tier} #{self.cycle} of ticket {self.ticket_id} ({self.state})"

    def elapsed_at(self, now: datetime, calendar=None) -> int:
        """Business seconds counted up to `now` (needs the business calendar while running)."""
        if self.state != ClockState.RUNNING or self.resumed_at is None:
            return self.elapsed_s
        from .calendars import business_calendar

        cal = calendar or business_calendar(self.policy.calendar)
        return self.elapsed_s + cal.seconds_between(self.resumed_at, max(now, self.resumed_at))

    def remaining_at(self, now: datetime, calendar=None) -> int:
        """Business seconds left before the breach; negative once breached."""
        return self.goal_s - self.elapsed_at(now, calendar)

    @property
    def is_active(self) -> bool:
        return self.state in (ClockState.RUNNING, ClockState.PAUSED)


class ClockEffect(models.Model):
    """A warning or breach applied to a clock: at most one per (clock, level), the idempotency key."""

    # The sweep writes these rows in bulk: their keys are kept by Django (on_delete), not by database constraints,
    # whose per-row checks at commit cost as much as the inserts (tests/sla/test_log_rows.py). Likewise for the
    # notification and outbox rows. No index of its own for the clock: the unique (clock, level) index leads with it.
    clock = models.ForeignKey(Clock, on_delete=models.CASCADE, related_name="effects", db_index=False,
                              db_constraint=False)
    ticket = models.ForeignKey("tracker.Ticket", on_delete=models.CASCADE, related_name="sla_effects",
                               db_constraint=False)
    level = models.PositiveSmallIntegerField(help_text="Warning percent, or 100 for the breach.")
    due_at = models.DateTimeField(help_text="When the threshold was reached.")
    created_at = models.DateTimeField(help_text="When the sweep applied it.")
    escalated_to = models.ForeignKey(
        "tracker.AssignmentGroup", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    note = models.TextField(blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [models.UniqueConstraint(fields=["clock", "level"], name="sla_clockeffect_once")]
        indexes = [
            # Dashboard: warnings and breaches applied in a period, and "Latest breaches" (newest first).
            models.Index(fields=["created_at"], name="sla_clockeffect_created"),
        ]

    def __str__(self):
        return f"clock {self.clock_id} level {self.level}"


class Notification(LoadedFast, models.Model):
    """An in-app notification (the bell). `key` makes a retried effect a no-op for the same recipient."""

    # No index of its own: the inbox and the unique (recipient, key) indexes lead with it.
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications", db_index=False,
        db_constraint=False,
    )
    ticket = models.ForeignKey(
        "tracker.Ticket", null=True, blank=True, on_delete=models.CASCADE, related_name="notifications",
        db_constraint=False,
    )
    kind = models.CharField(max_length=12, choices=NotificationKind.choices)
    key = models.CharField(max_length=120)
    title = models.CharField(max_length=200)
    body = models.TextField(blank=True)
    url = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField()
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["recipient", "key"], name="sla_notification_once")]
        indexes = [
            # The bell's unread count and the unread list.
            models.Index(
                fields=["recipient", "-created_at"],
                condition=Q(read_at__isnull=True),
                name="sla_notification_unread",
            ),
            models.Index(fields=["recipient", "-created_at", "-id"], name="sla_notification_inbox"),
        ]

    def __str__(self):
        return f"{self.kind} to {self.recipient_id}: {self.title}"


class NotificationPreference(models.Model):
    """Per user and kind: email on/off, in-app on/off. No row means both on."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notification_preferences"
    )
    kind = models.CharField(max_length=12, choices=NotificationKind.choices)
    email = models.BooleanField(default=True)
    in_app = models.BooleanField(default=True)

    class Meta:
        ordering = ["user", "kind"]
        constraints = [models.UniqueConstraint(fields=["user", "kind"], name="sla_preference_user_kind")]

    def __str__(self):
        return f"{self.user_id} {self.kind}: email={self.email} in_app={self.in_app}"


class OutboxMessage(models.Model):
    """A message to send, written in the transaction of the effect that caused it (transactional outbox).

    `key` is unique, so a redone effect cannot queue a twin. The relay leases one message at a time (pushes
    `available_at` ahead), sends it, then marks `sent_at`; it sends with `message_id`, so the one resend a
    crash between the two can cause is recognisable as a duplicate.
    """

    key = models.CharField(max_length=160)  # unique: Meta.constraints
    channel = models.CharField(max_length=10, choices=Channel.choices, default=Channel.EMAIL)
    kind = models.CharField(max_length=12, choices=NotificationKind.choices)
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        db_constraint=False,
    )
    ticket = models.ForeignKey(
        "tracker.Ticket", null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_constraint=False,
    )
    to_address = models.CharField(max_length=254)
    subject = models.CharField(max_length=250)
    body = models.TextField()
    message_id = models.CharField(max_length=250)
    created_at = models.DateTimeField()
    available_at = models.DateTimeField(help_text="Not before; pushed back after a failed attempt.")
    sent_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True)
    # Mail threading: a reply to this message carries `message_id` back, so it lands on its ticket.
    html_body = models.TextField(blank=True, help_text="The HTML part; empty: plain text only.")
    in_reply_to = models.CharField(max_length=250, blank=True)
    references = models.TextField(blank=True, help_text="Message-IDs of the thread, space-separated.")
    reply_to = models.CharField(max_length=254, blank=True, help_text="The intake address replies go to.")

    class Meta:
        ordering = ["created_at", "id"]
        # A constraint rather than unique=True, which on PostgreSQL adds a pattern-ops index no query uses.
        constraints = [models.UniqueConstraint(fields=["key"], name="sla_outbox_key_unique")]
        indexes = [
            # Threading a reply: the mail it answers, by its Message-ID.
            models.Index(fields=["message_id"], name="sla_outbox_message_id"),
            # The relay: unsent messages that may be tried now.
            models.Index(
                fields=["available_at"], condition=Q(sent_at__isnull=True), name="sla_outbox_pending"
            ),
        ]

    def __str__(self):
        return f"{self.kind} to {self.to_address} ({'sent' if self.sent_at else 'pending'})"


class SweepHeartbeat(models.Model):
    """Liveness of the periodic jobs: one row per job, stamped on every run."""

    name = models.CharField(max_length=40, primary_key=True)
    last_run_at = models.DateTimeField()
    last_processed = models.PositiveIntegerField(default=0)
    last_duration_ms = models.PositiveIntegerField(default=0)
    runs = models.PositiveBigIntegerField(default=0)
    hostname = models.CharField(max_length=120, blank=True)

    def __str__(self):
        return f"{self.name} at {self.last_run_at}"

    def is_stale(self, now: datetime, period_s: float) -> bool:
        """Older than three periods: the worker or beat is not turning the crank."""
        return (now - self.last_run_at).total_seconds() > 3 * period_s


class RollupDay(models.Model):
    """A day whose roll-up rows exist; the dashboard trusts them only if refreshed after the day ended."""

    day = models.DateField(primary_key=True)
    refreshed_at = models.DateTimeField()

    class Meta:
        ordering = ["day"]

    def __str__(self):
        return f"{self.day} (refreshed {self.refreshed_at:%Y-%m-%d %H:%M})"


class ClockRollup(models.Model):
    """One day x group x priority x kind x metric cell of the dashboard, as `sla.services.rollup_refresh`
    computed it: clocks decided that day (stopped, or breached while still open) and effects applied.

    Tier is not stored: like the live query, the dashboard reads it from the group when it renders.
    """

    day = models.DateField()
    group = models.ForeignKey(
        "tracker.AssignmentGroup", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    priority = models.PositiveSmallIntegerField(choices=Priority.choices, null=True, blank=True)
    kind = models.CharField(max_length=12, choices=Kind.choices)
    metric = models.CharField(max_length=12, choices=Metric.choices)
    decided = models.PositiveIntegerField(default=0, help_text="Clocks stopped, or breached while open.")
    breached = models.PositiveIntegerField(default=0)
    met = models.PositiveIntegerField(default=0, help_text="Clocks stopped (state met), breached or not.")
    met_time = models.DurationField(null=True, blank=True, help_text="Sum of start-to-stop of those.")
    warnings = models.PositiveIntegerField(default=0, help_text="Warning effects applied that day.")
    breaches = models.PositiveIntegerField(default=0, help_text="Breach effects applied that day.")

    class Meta:
        ordering = ["day", "id"]
        indexes = [
            # Dashboard: the cells of the whole days of a period; rollup_refresh deletes a day by it.
            models.Index(fields=["day"], name="sla_clockrollup_day"),
        ]

    def __str__(self):
        return f"{self.day} {self.metric} g{self.group_id} P{self.priority} {self.kind}: {self.decided}"


class EscalationRollup(models.Model):
    """Escalations recorded on one day into one group (`TicketEvent.new`, the target group's name)."""

    day = models.DateField()
    to_group = models.TextField(blank=True)
    escalations = models.PositiveIntegerField(default=0)
    automatic = models.PositiveIntegerField(default=0, help_text="Escalations without an actor (the SLA).")

    class Meta:
        ordering = ["day", "to_group"]
        constraints = [
            models.UniqueConstraint(fields=["day", "to_group"], name="sla_escalationrollup_day_group")
        ]

    def __str__(self):
        return f"{self.day} to {self.to_group}: {self.escalations}"


class BacklogRollup(models.Model):
    """Open tickets of a kind created before `created_before`, counted at `taken_at`.

    The dashboard's backlog counts old tickets from here (all in its oldest age bucket) and only the
    recent ones live, so its cost follows the last month's tickets, not the whole open backlog.
    """

    kind = models.CharField(max_length=12, choices=Kind.choices, primary_key=True)
    created_before = models.DateTimeField()
    open = models.PositiveIntegerField(default=0)
    taken_at = models.DateTimeField()

    class Meta:
        ordering = ["kind"]

    def __str__(self):
        return f"{self.kind}: {self.open} open created before {self.created_before:%Y-%m-%d}"


class WebhookSubscription(models.Model):
    """An integrator's endpoint and the event types it receives, each delivery signed with its secret."""

    name = models.CharField(max_length=120)
    url = models.URLField(max_length=500)
    secret = models.CharField(max_length=200, help_text="Signs each delivery (HMAC-SHA256 of the body).")
    events = models.JSONField(default=list, help_text="Event types delivered, e.g. ['ticket.created'].")
    active = models.BooleanField(default=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["name", "id"]

    def __str__(self):
        return f"{self.name} -> {self.url}"


class WebhookDelivery(models.Model):
    """One event for one subscription, written in the transaction of the change it reports (transactional
    outbox); `key` (subscription + event id) is unique, so a redone change cannot queue a twin. The relay
    leases due rows, posts them and records each attempt; failures back off exponentially until given up."""

    subscription = models.ForeignKey(WebhookSubscription, on_delete=models.CASCADE, related_name="deliveries")
    event = models.CharField(max_length=40)
    event_id = models.CharField(max_length=64, help_text="Stable id of the event, sent as X-Crossline-Delivery.")
    key = models.CharField(max_length=160, unique=True)
    payload = models.JSONField()
    state = models.CharField(max_length=10, choices=DeliveryState.choices, default=DeliveryState.PENDING)
    created_at = models.DateTimeField()
    available_at = models.DateTimeField(help_text="Not before; pushed back after a failed attempt.")
    delivered_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    last_duration_ms = models.PositiveIntegerField(null=True, blank=True)
    last_error = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            # The relay: pending deliveries that may be tried now.
            models.Index(fields=["available_at"], condition=Q(state="pending"), name="sla_webhook_pending"),
            # A subscription's delivery log, newest first.
            models.Index(fields=["subscription", "-created_at"], name="sla_webhook_log"),
        ]

    def __str__(self):
        return f"{self.event} to {self.subscription_id} ({self.state})"


class WebhookAttempt(models.Model):
    """One try of a delivery: the receiver's status code and how long it took, or the error."""

    delivery = models.ForeignKey(WebhookDelivery, on_delete=models.CASCADE, related_name="tries")
    attempted_at = models.DateTimeField()
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    duration_ms = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)
    ok = models.BooleanField(default=False)
    manual = models.BooleanField(default=False, help_text="A person asked for this redelivery.")

    class Meta:
        ordering = ["attempted_at", "id"]

    def __str__(self):
        return f"{self.delivery_id} at {self.attempted_at}: {self.status_code or self.error}"


class Mailbox(models.Model):
    """An intake address: mail to it raises tickets of `kind` (and threads replies onto theirs).

    Polled over IMAP by the workers when `imap_host` is set; configured here by an administrator or from the
    environment (`CROSSLINE_MAILBOXES`). The address is also the Reply-To of mail about its tickets."""

    name = models.CharField(max_length=120, unique=True)
    address = models.EmailField(unique=True)
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.INCIDENT)
    service = models.ForeignKey("tracker.Service", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    group = models.ForeignKey("tracker.AssignmentGroup", null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="+", help_text="Where its new tickets go; empty: the kind's default.")
    active = models.BooleanField(default=True)
    imap_host = models.CharField(max_length=200, blank=True)
    imap_port = models.PositiveIntegerField(default=993)
    imap_ssl = models.BooleanField(default=True)
    imap_user = models.CharField(max_length=200, blank=True)
    imap_password = models.CharField(max_length=200, blank=True)
    imap_folder = models.CharField(max_length=200, default="INBOX")
    last_polled_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    # A poll's lease: a worker takes the mailbox by moving this past now (a compare-and-set), so two workers never
    # read one mailbox at once; a worker that dies leaves it to expire.
    poll_lease_until = models.DateTimeField(null=True, blank=True)
    from_environment = models.BooleanField(default=False, help_text="Written from CROSSLINE_MAILBOXES: read-only here.")

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return f"{self.name} <{self.address}>"


class InboundMail(models.Model):
    """A mail that reached an intake mailbox: one row per message, written in the transaction that filed it.

    `message_key` is unique (the normalised Message-ID, `<` `>` stripped and lower-cased, which threading
    looks up too; or a digest of the raw message when it has none), so
    a message polled twice, or re-read after a crash half-way, is filed once. Held and quarantined mails keep
    their `raw` bytes for an administrator to inspect, retry or drop."""

    message_key = models.CharField(max_length=250, unique=True)
    message_id = models.CharField(max_length=250, blank=True, help_text="As the sender wrote it.")
    mailbox = models.ForeignKey(Mailbox, null=True, blank=True, on_delete=models.SET_NULL, related_name="mails")
    from_address = models.CharField(max_length=254, blank=True)
    subject = models.CharField(max_length=250, blank=True)
    outcome = models.CharField(max_length=12, choices=InboundOutcome.choices)
    reason = models.TextField(blank=True, help_text="Why it was ignored, held or quarantined.")
    ticket = models.ForeignKey("tracker.Ticket", null=True, blank=True, on_delete=models.SET_NULL,
                               related_name="inbound_mails")
    comment = models.ForeignKey("tracker.Comment", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    raw = models.BinaryField(blank=True, default=b"")
    size = models.PositiveIntegerField(default=0)
    received_at = models.DateTimeField()
    resolved_at = models.DateTimeField(null=True, blank=True, help_text="When a person retried or dropped it.")
    resolved_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="+")

    class Meta:
        ordering = ["-received_at", "-id"]
        indexes = [
            # The rate per sender.
            models.Index(fields=["from_address", "received_at"], name="sla_inbound_sender"),
            # The quarantine list: held and quarantined mails, newest first.
            models.Index(fields=["outcome", "-received_at"], name="sla_inbound_outcome"),
        ]

    def __str__(self):
        return f"{self.message_key} from {self.from_address}: {self.outcome}"
