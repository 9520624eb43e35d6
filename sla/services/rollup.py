"""The dashboard roll-up: per-day cells of decided clocks, effects and escalations, and the backlog snapshot."""

import time
from datetime import date, datetime, timedelta

from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone

from tracker.choices import OPEN_STATUSES, EventKind
from tracker.models import Ticket, TicketEvent

from ..choices import BREACH_LEVEL
from ..models import BacklogRollup, Clock, ClockEffect, ClockRollup, EscalationRollup, RollupDay, SweepHeartbeat
from .sweep import heartbeat_record

ROLLUP_HEARTBEAT = "sla-rollup"
# Look back this much before the last run for SLA changes, so a transaction that committed late is seen.
ROLLUP_MARGIN = timedelta(minutes=10)


def rollup_refresh(*, day: date, now: datetime | None = None) -> int:
    """Recompute the dashboard roll-up of one day from its clocks, effects and escalations; idempotent.

    Atomic: the day's rows are replaced and the day is stamped refreshed at `now` (taken before reading,
    so a change committed meanwhile is picked up by the next refresh). Returns the number of cells.
    """
    from ..dashboard import day_start, decided_cells

    now = now or timezone.now()
    ranges = [(day_start(day), day_start(day + timedelta(days=1)))]
    cells: dict[tuple, ClockRollup] = {}

    def cell(group_id, priority, kind, metric) -> ClockRollup:
        key = (group_id, priority, kind, metric)
        if key not in cells:
            cells[key] = ClockRollup(day=day, group_id=group_id, priority=priority, kind=kind, metric=metric)
        return cells[key]

    for c in decided_cells(ranges):
        row = cell(c["group_id"], c["priority"], c["ticket__kind"], c["metric"])
        row.decided, row.breached, row.met, row.met_time = c["total"], c["breached_n"], c["met_n"], c["met_time"]
    effects = (
        ClockEffect.objects.filter(created_at__gte=ranges[0][0], created_at__lt=ranges[0][1])
        .values("clock__group_id", "clock__priority", "ticket__kind", "clock__metric")
        .annotate(
            breaches=Count("id", filter=Q(level__gte=BREACH_LEVEL)),
            warnings=Count("id", filter=Q(level__lt=BREACH_LEVEL)),
        )
        .order_by()
    )
    for e in effects:
        row = cell(e["clock__group_id"], e["clock__priority"], e["ticket__kind"], e["clock__metric"])
        row.warnings, row.breaches = e["warnings"], e["breaches"]
    escalations = [
        EscalationRollup(day=day, to_group=e["new"], escalations=e["n"], automatic=e["auto"])
        for e in TicketEvent.objects.filter(
            kind=EventKind.ESCALATION, created_at__gte=ranges[0][0], created_at__lt=ranges[0][1]
        )
        .values("new")
        .annotate(n=Count("id"), auto=Count("id", filter=Q(actor__isnull=True)))
        .order_by()
    ]
    RollupDay.objects.get_or_create(day=day, defaults={"refreshed_at": now})
    with transaction.atomic():
        RollupDay.objects.select_for_update().get(day=day)  # two refreshes of one day take turns
        ClockRollup.objects.filter(day=day).delete()
        EscalationRollup.objects.filter(day=day).delete()
        ClockRollup.objects.bulk_create(cells.values(), batch_size=1000)
        EscalationRollup.objects.bulk_create(escalations, batch_size=1000)
        RollupDay.objects.filter(day=day).update(refreshed_at=now)
    return len(cells)


def backlog_snapshot(*, now: datetime | None = None) -> int:
    """Count open tickets per kind created before the start of the day 31 days ago (all > 30 days old).

    Idempotent; one grouped scan of the open tickets. Returns the number of open tickets counted.
    """
    from ..dashboard import day_start, local_date

    now = now or timezone.now()
    before = day_start(local_date(now) - timedelta(days=31))
    counts = dict(
        Ticket.objects.filter(status__in=OPEN_STATUSES, created_at__lt=before)
        .values("kind")
        .annotate(n=Count("id"))
        .order_by()
        .values_list("kind", "n")
    )
    with transaction.atomic():
        BacklogRollup.objects.exclude(kind__in=list(counts)).delete()
        for kind, n in counts.items():
            BacklogRollup.objects.update_or_create(
                kind=kind, defaults={"created_before": before, "open": n, "taken_at": now}
            )
    return sum(counts.values())


def rollup_refresh_recent(*, now: datetime | None = None) -> list[date]:
    """Refresh yesterday, every day since the last run, and every earlier day whose decided clocks an SLA
    change touched since then (a stop, cancel or re-plan of a clock breached that day); then the backlog
    snapshot. Today is not rolled up: the dashboard reads the current day live.
    """
    from ..dashboard import local_date

    started = time.monotonic()
    now = now or timezone.now()
    today = local_date(now)
    last = SweepHeartbeat.objects.filter(name=ROLLUP_HEARTBEAT).values_list("last_run_at", flat=True).first()
    since = (last or now - timedelta(days=1)) - ROLLUP_MARGIN
    days = {local_date(since) + timedelta(days=i) for i in range((today - local_date(since)).days + 1)}
    touched = TicketEvent.objects.filter(kind=EventKind.SLA, created_at__gte=since).values("ticket_id")
    for stopped, breached in (
        Clock.objects.filter(ticket__in=touched)
        .filter(Q(stopped_at__isnull=False) | Q(breached=True))
        .values_list("stopped_at", "breached_at")
    ):
        days.update(local_date(at) for at in (stopped, breached) if at is not None)
    days = sorted(d for d in days | {today - timedelta(days=1)} if d < today)
    for day in days:
        rollup_refresh(day=day, now=now)
    backlog_snapshot(now=now)
    heartbeat_record(name=ROLLUP_HEARTBEAT, processed=len(days), duration_s=time.monotonic() - started, now=now)
    return days
