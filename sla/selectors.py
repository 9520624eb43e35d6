"""Reads of the SLA engine."""

from datetime import datetime

from django.conf import settings
from django.db.models import QuerySet
from django.utils import timezone

from tracker import access
from tracker.selectors import ticket_for_user

from .calendars import business_calendar
from .choices import NotificationKind
from .models import Calendar, Clock, Notification, NotificationPreference, Policy, SweepHeartbeat
from .services import OUTBOX_HEARTBEAT, SWEEP_HEARTBEAT


def unread_count(user) -> int:
    """The bell's number (served by the partial index sla_notification_unread)."""
    if not user or not user.is_authenticated:
        return 0
    return Notification.objects.filter(recipient=user, read_at__isnull=True).count()


def notification_list(*, user, unread_only: bool = False) -> QuerySet:
    qs = Notification.objects.filter(recipient=user).select_related("ticket")
    if unread_only:
        qs = qs.filter(read_at__isnull=True)
    return qs.order_by("-created_at", "-id")


def preference_list(*, user) -> list[NotificationPreference]:
    """The user's settings for every notification kind; a kind without a row is on for both channels."""
    rows = {p.kind: p for p in NotificationPreference.objects.filter(user=user)}
    return [rows.get(kind) or NotificationPreference(user=user, kind=kind) for kind in NotificationKind.values]


def clock_list(*, user, ticket_key: str | None = None) -> QuerySet:
    """Clocks of the tickets this user may see, or of one ticket (NotFound if it is not visible)."""
    qs = Clock.objects.select_related("ticket", "policy__calendar", "group").order_by(
        "ticket_id", "metric", "tier", "cycle"
    )
    if ticket_key:
        return qs.filter(ticket=ticket_for_user(user, ticket_key))
    visible = access.visible(user, Clock._meta.get_field("ticket").related_model.objects.all())
    return qs.filter(ticket__in=visible.values("pk"))


def clock_figures(clock: Clock, now: datetime | None = None) -> dict:
    """What a clock shows: business seconds elapsed and remaining now, breached (also if not yet swept)."""
    now = now or timezone.now()
    cal = business_calendar(clock.policy.calendar)
    elapsed = clock.elapsed_at(now, cal)
    return {
        "elapsed_s": elapsed,
        "remaining_s": clock.goal_s - elapsed,
        "breached": clock.breached or (clock.is_active and elapsed >= clock.goal_s),
        "percent": round(100 * elapsed / clock.goal_s, 1) if clock.goal_s else 100.0,
    }


def policy_list() -> QuerySet:
    return Policy.objects.select_related("calendar").prefetch_related(
        "tier_targets", "services", "organisations"
    )


def calendar_list() -> QuerySet:
    return Calendar.objects.prefetch_related("hours", "holidays")


def heartbeats(now: datetime | None = None) -> list[dict]:
    """Liveness of the sweep and the outbox relay: stale when older than three periods."""
    now = now or timezone.now()
    period = float(settings.SLA_SWEEP_SECONDS)
    periods = {SWEEP_HEARTBEAT: period, OUTBOX_HEARTBEAT: max(period, 2.0)}
    rows = {h.name: h for h in SweepHeartbeat.objects.all()}
    out = []
    for name, p in periods.items():
        h = rows.get(name)
        out.append(
            {
                "name": name,
                "period_s": p,
                "last_run_at": h.last_run_at if h else None,
                "last_processed": h.last_processed if h else 0,
                "last_duration_ms": h.last_duration_ms if h else None,
                "runs": h.runs if h else 0,
                "hostname": h.hostname if h else "",
                "stale": h is None or h.is_stale(now, p),
            }
        )
    return out
