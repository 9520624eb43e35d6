"""Reads of the SLA engine."""

from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Count, Exists, F, FilteredRelation, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.utils import timezone

from tracker import access
from tracker.precompiled import Precompiled
from tracker.selectors import ticket_for_user

from .calendars import business_calendar
from .choices import NotificationKind
from .models import Calendar, Clock, Notification, NotificationPreference, Policy, SweepHeartbeat
from .services import OUTBOX_HEARTBEAT, SWEEP_HEARTBEAT
from .services.mail_poll import MAIL_HEARTBEAT
from .services.webhooks import WEBHOOK_HEARTBEAT

CLOCK_LIVE = ("running", "paused")
BREACHING_SOON = timedelta(hours=2)


# --- what the core's pages show of the clocks (registered in sla.ui) ----------------------------------


# What the badges and the clocks panel read of a clock (`sla.ui.clock_view`, `current_clocks`): a page of 50
# tickets prefetches ~100 clocks, and their other columns (six more dates) would be read and converted for nothing.
BADGE_CLOCK_FIELDS = ("id", "ticket_id", "metric", "tier", "cycle", "state", "breached", "due_at", "goal_s",
                      "warned_percent")


def with_clocks(qs: QuerySet) -> QuerySet:
    """Prefetch every ticket's SLA clocks in one query (queue badges, the ticket header, the 3rd-line queue),
    with the columns the badges read (BADGE_CLOCK_FIELDS); another column read from them is fetched on use."""
    clocks = Clock.objects.only(*BADGE_CLOCK_FIELDS).order_by("metric", "-cycle")
    return qs.prefetch_related(Prefetch("sla_clocks", queryset=clocks))


def ticket_clocks(ticket) -> list[Clock]:
    """Every clock of a ticket, newest cycle first (the ticket page's SLA panel)."""
    return list(Clock.objects.filter(ticket=ticket).order_by("-cycle", "metric", "tier"))


def breaching_soon(qs: QuerySet, *, user, now: datetime) -> QuerySet:
    """Tickets with a running clock due within two hours and not yet breached."""
    # Ids first, from the few clocks about to breach (index sla_clock_breaching): as a semi-join the
    # planner would rather scan every open ticket.
    soon = Clock.objects.filter(state="running", breached=False, due_at__lte=now + BREACHING_SOON)
    return qs.filter(pk__in=list(soon.order_by().values_list("ticket_id", flat=True)))


def breached(qs: QuerySet, *, user, now: datetime) -> QuerySet:
    """Tickets with a live (running or paused) clock that has breached."""
    live = Clock.objects.filter(ticket=OuterRef("pk"), state__in=CLOCK_LIVE, breached=True)
    return qs.filter(Exists(live))


def with_next_due(qs: QuerySet) -> QuerySet:
    """Annotate `next_due`, the earliest due time of a running clock, as a join on that clock: the queue's
    "SLA due" page walks the running clocks by due time (index sla_clock_running_by_due) and stops after a
    page, where a per-ticket subquery had to be computed for every open ticket before sorting them. A ticket
    without a running clock joins none (`next_due` is NULL); one with several joins its earliest only."""
    qs = qs.alias(running_clock=FilteredRelation(
        "sla_clocks", condition=Q(sla_clocks__state="running", sla_clocks__due_at__isnull=False)))
    # The subquery names the joined clock through annotations (an OuterRef through the relation would join it again).
    qs = qs.alias(next_clock=F("running_clock__id")).annotate(next_due=F("running_clock__due_at"))
    due, clock_id = OuterRef("next_due"), OuterRef("next_clock")
    earlier = Clock.objects.filter(ticket=OuterRef("pk"), state="running").filter(
        Q(due_at__lt=due) | Q(due_at=due, id__lt=clock_id))
    return qs.filter(~Exists(earlier))


def with_next_due_per_ticket(qs: QuerySet) -> QuerySet:
    """`next_due` as a per-ticket subquery (index sla_clock_running_due): what `with_next_due` must equal."""
    earliest = Clock.objects.filter(ticket=OuterRef("pk"), state="running", due_at__isnull=False)
    return qs.annotate(next_due=Subquery(earliest.order_by("due_at").values("due_at")[:1]))


def unread_count(user) -> int:
    """The bell's number (served by the partial index sla_notification_unread)."""
    if not user or not user.is_authenticated:
        return 0
    found = _unread(user_id=user.pk)
    return found[0] if found else 0


# Every page's top bar asks it: compiled once per process. Grouped by the one recipient, so none unread is no row.
_unread = Precompiled(lambda shape, *, user_id: Notification.objects.filter(
    recipient_id=user_id, read_at__isnull=True).order_by().values("recipient_id").annotate(
    n=Count("id")).values_list("n", flat=True))


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
    """Liveness of the sweep, the outbox relay and the webhook relay: stale when older than three periods."""
    now = now or timezone.now()
    period = float(settings.SLA_SWEEP_SECONDS)
    periods = {SWEEP_HEARTBEAT: period, OUTBOX_HEARTBEAT: max(period, 2.0), WEBHOOK_HEARTBEAT: max(period, 2.0)}
    periods[MAIL_HEARTBEAT] = float(settings.CROSSLINE_MAIL_POLL_SECONDS)  # the intake mailboxes' poll
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
