"""Reads of the manager dashboard: SLA compliance, breaches, backlog, MTTR and escalations over a period.

Every table is a roll-up in Python of "cells": clocks decided (stopped, or breached while open) grouped
by (day, group, priority, kind, metric). Whole days of the period come from the daily roll-up
(`ClockRollup`, `EscalationRollup`, kept by `sla.services.rollup_refresh`) when it was refreshed after
the day ended; the rest (the period's partial first day, today, any day not rolled up) is aggregated
live from the clocks over those ranges only (indexes `sla_clock_stopped`, `sla_clock_breached`). Both
paths produce the same cells, so the numbers do not depend on which one served a day.
"""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from django.db.models import Count, DurationField, Exists, ExpressionWrapper, F, OuterRef, Q, Sum
from django.db.models.functions import Coalesce, TruncDate
from django.utils import timezone

from tracker.choices import OPEN_STATUSES, EventKind, Kind, Priority, Status, Tier
from tracker.errors import ValidationFailed
from tracker.models import AssignmentGroup, Contributor, Ticket, TicketEvent

from .choices import BREACH_LEVEL, ClockState, Metric
from .models import BacklogRollup, Clock, ClockEffect, ClockRollup, EscalationRollup, RollupDay

AGE_BUCKETS = (
    ("< 1 day", 0, 1),
    ("1–3 days", 1, 3),
    ("3–7 days", 3, 7),
    ("7–30 days", 7, 30),
    ("> 30 days", 30, None),
)
METRICS = (Metric.RESPONSE, Metric.RESOLUTION)
BACKLOG_SNAPSHOT_MAX_AGE = timedelta(hours=1)  # older: the backlog is counted live (the worker is down)


@dataclass
class Period:
    start: datetime
    end: datetime

    @property
    def days(self) -> int:
        return max(1, round((self.end - self.start).total_seconds() / 86400))


@dataclass
class Table:
    slug: str
    title: str
    headers: list[str]
    rows: list[list] = field(default_factory=list)


MAX_PERIOD_DAYS = 366


def _date_param(params, name: str) -> date | None:
    value = params.get(name, "")
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ValidationFailed(
            f"Period: {name} must be a date like 2026-01-31.", fields={name: ["Not a date."]}
        ) from None


def period_from(params, now: datetime) -> Period:
    """`days=N` (default 30), or `start`/`end` dates (inclusive) from the query string.

    Raises ValidationFailed for a period that is not a date range of at most a year ending by today.
    """
    start, end = _date_param(params, "start"), _date_param(params, "end")
    if start is not None or end is not None:
        today = local_date(now)
        end = min(end or today, today)
        if start is None:
            raise ValidationFailed("Period: give a start date as well as the end.", fields={"start": ["Missing."]})
        if start > today:
            raise ValidationFailed("Period: the start cannot be after today.", fields={"start": ["In the future."]})
        if start > end:
            raise ValidationFailed("Period: the start must be on or before the end.", fields={"start": ["After end."]})
        if (end - start).days >= MAX_PERIOD_DAYS:
            raise ValidationFailed(f"Period: choose at most {MAX_PERIOD_DAYS} days.", fields={"start": ["Too early."]})
        return Period(day_start(start), min(now, day_start(end + timedelta(days=1))))
    days = params.get("days", "30")
    days = int(days) if days.isdigit() and 0 < int(days) <= 366 else 30
    return Period(now - timedelta(days=days), now)


def period_or_default(params, now: datetime) -> tuple[Period, str]:
    """The asked period and "", or, when it is refused, the default period and the message saying why."""
    try:
        return period_from(params, now), ""
    except ValidationFailed as exc:
        return period_from({}, now), exc.message


def _pct(ok: int, total: int) -> str:
    return f"{100 * ok / total:.1f}" if total else "—"


def day_start(day: date) -> datetime:
    """Midnight starting `day` in the reporting zone, settings.TIME_ZONE (the zone TruncDate groups by). Not
    the viewer's zone: the nightly roll-up's days must be the same days whoever looks at the dashboard."""
    return datetime.combine(day, time.min, timezone.get_default_timezone())


def local_date(instant: datetime) -> date:
    return timezone.localtime(instant, timezone.get_default_timezone()).date()


def _in_ranges(column: str, ranges: list[tuple[datetime, datetime]]) -> Q:
    cond = Q(pk__in=[])
    for start, end in ranges:
        cond |= Q(**{f"{column}__gte": start, f"{column}__lt": end})
    return cond


def decided_cells(ranges: list[tuple[datetime, datetime]]) -> list[dict]:
    """Clocks decided in these time ranges (stopped, or breached while still running), grouped into cells."""
    if not ranges:
        return []
    decided = Q(state=ClockState.MET) & _in_ranges("stopped_at", ranges) | Q(
        state__in=(ClockState.RUNNING, ClockState.PAUSED), breached=True
    ) & _in_ranges("breached_at", ranges)
    day = TruncDate(Coalesce("stopped_at", "breached_at"), tzinfo=timezone.get_default_timezone())
    duration = ExpressionWrapper(F("stopped_at") - F("started_at"), output_field=DurationField())
    return list(
        Clock.objects.filter(decided, metric__in=METRICS)
        .annotate(day=day)
        .values("day", "group_id", "priority", "ticket__kind", "metric")
        .annotate(
            total=Count("id"),
            breached_n=Count("id", filter=Q(breached=True)),
            met_n=Count("id", filter=Q(state=ClockState.MET)),
            met_time=Sum(duration, filter=Q(state=ClockState.MET)),
        )
        .order_by()
    )


def effect_counts(ranges: list[tuple[datetime, datetime]]) -> dict:
    """Warnings and breaches applied in these ranges (index sla_clockeffect_created)."""
    if not ranges:
        return {"breaches": 0, "warnings": 0}
    return ClockEffect.objects.filter(_in_ranges("created_at", ranges)).aggregate(
        breaches=Count("id", filter=Q(level__gte=BREACH_LEVEL)),
        warnings=Count("id", filter=Q(level__lt=BREACH_LEVEL)),
    )


def escalation_counts(ranges: list[tuple[datetime, datetime]]) -> list[dict]:
    """Escalations in these ranges per target group name (index tracker_event_kind_created)."""
    if not ranges:
        return []
    return list(
        TicketEvent.objects.filter(_in_ranges("created_at", ranges), kind=EventKind.ESCALATION)
        .values("new")
        .annotate(n=Count("id"), auto=Count("id", filter=Q(actor__isnull=True)))
        .order_by()
    )


def rolled_up_days(period: Period) -> list[date]:
    """Whole days of the period whose roll-up was refreshed after the day ended."""
    first, last = local_date(period.start), local_date(period.end)
    if day_start(first) < period.start:
        first += timedelta(days=1)
    refreshed = RollupDay.objects.filter(day__gte=first, day__lt=last).values_list("day", "refreshed_at")
    return sorted(d for d, at in refreshed if at >= day_start(d + timedelta(days=1)))


def live_ranges(period: Period, days: list[date]) -> list[tuple[datetime, datetime]]:
    """The parts of the period not covered by these (sorted, whole) days."""
    ranges, cursor = [], period.start
    for d in days:
        if day_start(d) > cursor:
            ranges.append((cursor, day_start(d)))
        cursor = day_start(d + timedelta(days=1))
    if cursor < period.end:
        ranges.append((cursor, period.end))
    return ranges


def _period_counts(period: Period, groups: dict) -> tuple[list[dict], dict, list[dict]]:
    """Cells, effect counts and escalations of the period: roll-up for whole days, live for the rest."""
    days = rolled_up_days(period)
    live = live_ranges(period, days)
    cells = decided_cells(live)
    effects = effect_counts(live)
    escalations = escalation_counts(live)
    if days:
        wanted = set(days)
        for r in ClockRollup.objects.filter(day__gte=days[0], day__lte=days[-1]).values():
            if r["day"] not in wanted:
                continue
            effects["warnings"] += r["warnings"]
            effects["breaches"] += r["breaches"]
            if r["decided"] and r["metric"] in METRICS:
                cells.append({
                    "day": r["day"], "group_id": r["group_id"], "priority": r["priority"],
                    "ticket__kind": r["kind"], "metric": r["metric"], "total": r["decided"],
                    "breached_n": r["breached"], "met_n": r["met"], "met_time": r["met_time"],
                })
        escalations += [
            {"new": r["to_group"], "n": r["escalations"], "auto": r["automatic"]}
            for r in EscalationRollup.objects.filter(day__gte=days[0], day__lte=days[-1]).values()
            if r["day"] in wanted
        ]
    for c in cells:  # the tier is the group's current one, as a join on the group would read it
        c["group__tier"] = groups[c["group_id"]].tier if c["group_id"] in groups else None
    return cells, effects, escalations


def backlog_counts(now: datetime) -> list[dict]:
    """Open tickets per kind and age bucket: old ones from the latest snapshot, recent ones live.

    Snapshot rows were all created more than 30 days before now, so they belong to the oldest bucket;
    the live part reads only tickets created since the snapshot's boundary (tracker_ticket_open_kind_age).
    Without a fresh snapshot the whole backlog is counted live.
    """
    snapshot = [s for s in BacklogRollup.objects.all() if now - s.taken_at <= BACKLOG_SNAPSHOT_MAX_AGE]
    boundary = min((s.created_before for s in snapshot), default=None)
    if any(s.created_before != boundary for s in snapshot) or (boundary and boundary > now - timedelta(days=30)):
        snapshot, boundary = [], None
    age_aggs = {}
    for i, (_label, lo, hi) in enumerate(AGE_BUCKETS):
        cond = Q(created_at__lte=now - timedelta(days=lo))
        if hi is not None:
            cond &= Q(created_at__gt=now - timedelta(days=hi))
        age_aggs[f"b{i}"] = Count("created_at", filter=cond)  # not "id": the count stays index-only
    qs = Ticket.objects.filter(status__in=OPEN_STATUSES)
    if boundary is not None:
        qs = qs.filter(created_at__gte=boundary)
    rows = {r["kind"]: r for r in qs.values("kind").annotate(**age_aggs).order_by("kind")}
    oldest = f"b{len(AGE_BUCKETS) - 1}"
    for s in snapshot:
        row = rows.setdefault(s.kind, {"kind": s.kind, **{k: 0 for k in age_aggs}})
        row[oldest] += s.open
    return [rows[k] for k in sorted(rows)]


def _compliance_table(slug, title, cells, key, label) -> Table:
    acc: dict = defaultdict(lambda: {m: [0, 0] for m in METRICS})
    for c in cells:
        k = key(c)
        acc[k][c["metric"]][0] += c["total"]
        acc[k][c["metric"]][1] += c["breached_n"]
    table = Table(
        slug,
        title,
        [
            title.split(" by ")[-1].capitalize(),
            "Response clocks",
            "Response met %",
            "Resolution clocks",
            "Resolution met %",
            "Breaches",
        ],
    )
    for k in sorted(acc, key=lambda x: (x is None, x)):
        r, s = acc[k][Metric.RESPONSE], acc[k][Metric.RESOLUTION]
        table.rows.append(
            [label(k), r[0], _pct(r[0] - r[1], r[0]), s[0], _pct(s[0] - s[1], s[0]), r[1] + s[1]]
        )
    return table


def dashboard(*, period: Period, now: datetime) -> dict:
    groups = {g.pk: g for g in AssignmentGroup.objects.all()}
    cells, applied, esc = _period_counts(period, groups)
    tier_label = {t.value: t.label for t in Tier}
    prio_label = {p.value: p.label for p in Priority}
    kind_label = {k.value: k.label for k in Kind}
    tables = [
        _compliance_table(
            "tier",
            "Compliance by tier",
            cells,
            lambda c: c["group__tier"],
            lambda k: tier_label.get(k, "No group"),
        ),
        _compliance_table(
            "group",
            "Compliance by group",
            cells,
            lambda c: c["group_id"],
            lambda k: groups[k].name if k in groups else "No group",
        ),
        _compliance_table(
            "priority",
            "Compliance by priority",
            cells,
            lambda c: c["priority"],
            lambda k: prio_label.get(k, "—"),
        ),
        _compliance_table(
            "kind", "Compliance by kind", cells, lambda c: c["ticket__kind"], lambda k: kind_label.get(k, k)
        ),
    ]
    # KPIs
    totals = {m: [0, 0] for m in METRICS}
    for c in cells:
        totals[c["metric"]][0] += c["total"]
        totals[c["metric"]][1] += c["breached_n"]

    # MTTR by priority: resolution clocks that stopped in the period (wall time from start to stop).
    mttr: dict = defaultdict(lambda: [0, timedelta()])
    for c in cells:
        if c["metric"] == Metric.RESOLUTION and c["met_n"] and c["met_time"] is not None:
            mttr[c["priority"]][0] += c["met_n"]
            mttr[c["priority"]][1] += c["met_time"]
    mttr_table = Table("mttr", "Mean time to resolve by priority", ["Priority", "Resolved", "MTTR (hours)"])
    all_n, all_t = 0, timedelta()
    for p in sorted(mttr, key=lambda x: (x is None, x)):
        n, t = mttr[p]
        all_n, all_t = all_n + n, all_t + t
        mttr_table.rows.append([prio_label.get(p, "—"), n, f"{t.total_seconds() / n / 3600:.1f}"])

    # Daily trend of compliance (both metrics) and of breaches.
    days = [(period.start + timedelta(days=i)).date() for i in range(period.days + 1)]
    trend = {d: {m: [0, 0] for m in METRICS} for d in days}
    for c in cells:
        if c["day"] in trend:
            trend[c["day"]][c["metric"]][0] += c["total"]
            trend[c["day"]][c["metric"]][1] += c["breached_n"]
    trend_table = Table(
        "trend",
        "Daily compliance",
        ["Day", "Response clocks", "Response met %", "Resolution clocks", "Resolution met %", "Breaches"],
    )
    for d in days:
        r, s = trend[d][Metric.RESPONSE], trend[d][Metric.RESOLUTION]
        trend_table.rows.append(
            [d.isoformat(), r[0], _pct(r[0] - r[1], r[0]), s[0], _pct(s[0] - s[1], s[0]), r[1] + s[1]]
        )

    # Latest breaches applied in the period (index sla_clockeffect_created, newest first).
    effects = ClockEffect.objects.filter(created_at__gte=period.start, created_at__lt=period.end)
    recent = (
        effects.filter(level__gte=BREACH_LEVEL)
        .select_related("ticket", "clock", "escalated_to")
        .order_by("-created_at")[:25]
    )
    breach_table = Table("breaches", "Latest breaches", ["When", "Ticket", "Title", "Metric", "Escalated to"])
    for e in recent:
        breach_table.rows.append(
            [
                timezone.localtime(e.created_at).strftime("%Y-%m-%d %H:%M"),
                e.ticket.key,
                e.ticket.title,
                e.clock.get_metric_display() + (f" L{e.clock.tier}" if e.clock.tier else ""),
                e.escalated_to.name if e.escalated_to else "",
            ]
        )

    # Open backlog by age and kind.
    backlog_rows = backlog_counts(now)
    backlog = Table("backlog", "Open backlog by age", ["Kind", *[b[0] for b in AGE_BUCKETS], "Total"])
    age_totals = [0] * len(AGE_BUCKETS)
    for row in backlog_rows:
        counts = [row[f"b{i}"] for i in range(len(AGE_BUCKETS))]
        age_totals = [a + b for a, b in zip(age_totals, counts, strict=True)]
        backlog.rows.append([kind_label.get(row["kind"], row["kind"]), *counts, sum(counts)])

    # Escalations per tier reached, in the period (timeline rows; `new` is the target group's name).
    by_name = {g.name: g.tier for g in groups.values()}
    esc_acc: dict = defaultdict(lambda: [0, 0])
    for row in esc:
        tier = by_name.get(row["new"])
        esc_acc[tier][0] += row["n"]
        esc_acc[tier][1] += row["auto"]
    escalations = Table("escalations", "Escalations per tier", ["To tier", "Escalations", "Automatic (SLA)"])
    for tier in sorted(esc_acc, key=lambda x: (x is None, x)):
        escalations.rows.append([tier_label.get(tier, "Other group"), *esc_acc[tier]])

    ways = ways_of_working_table(period, groups)

    return {
        "kpis": {
            "response": _pct(
                totals[Metric.RESPONSE][0] - totals[Metric.RESPONSE][1], totals[Metric.RESPONSE][0]
            ),
            "resolution": _pct(
                totals[Metric.RESOLUTION][0] - totals[Metric.RESOLUTION][1], totals[Metric.RESOLUTION][0]
            ),
            "breaches": applied["breaches"],
            "warnings": applied["warnings"],
            "backlog": sum(age_totals),
            "mttr_h": f"{all_t.total_seconds() / all_n / 3600:.1f}" if all_n else "—",
            "escalations": sum(v[0] for v in esc_acc.values()),
        },
        "tables": [*tables, mttr_table, backlog, escalations, ways, breach_table, trend_table],
        "chart": {
            "days": [d.isoformat() for d in days],
            "response": [_chart_pct(trend[d][Metric.RESPONSE]) for d in days],
            "resolution": [_chart_pct(trend[d][Metric.RESOLUTION]) for d in days],
            "breaches": [trend[d][Metric.RESPONSE][1] + trend[d][Metric.RESOLUTION][1] for d in days],
            "age_labels": [b[0] for b in AGE_BUCKETS],
            "age": age_totals,
        },
    }


def _chart_pct(pair) -> float | None:
    total, breached = pair
    return round(100 * (total - breached) / total, 1) if total else None


# --- ways of working: hand-offs and swarms ------------------------------------------------------------------


def ways_of_working(period: Period) -> list[dict]:
    """Per team (the ticket's group when it was resolved), the tickets resolved in the period: how many, how many
    were ever escalated (a hand-off), and how many had a contributor (a swarm). One grouped query: the
    resolutions come from the timeline (index tracker_event_kind_created), each ticket once by its
    `resolved_at`; the two EXISTS read the timeline's and the contributors' ticket indexes."""
    resolving = TicketEvent.objects.filter(kind=EventKind.STATUS, field="status", new__in=(Status.RESOLVED,
                                           Status.CLOSED), created_at__gte=period.start, created_at__lt=period.end)
    handed = Exists(TicketEvent.objects.filter(ticket=OuterRef("pk"), kind=EventKind.ESCALATION))
    swarmed = Exists(Contributor.objects.filter(ticket=OuterRef("pk")))
    return list(
        Ticket.objects.filter(pk__in=resolving.values("ticket_id"), resolved_at__gte=period.start,
                              resolved_at__lt=period.end)
        .values("group_id")
        .annotate(resolved=Count("id"), handed=Count("id", filter=Q(handed)), swarmed=Count("id", filter=Q(swarmed)))
        .order_by()
    )


def ways_of_working_table(period: Period, groups: dict) -> Table:
    table = Table("ways", "Resolved per team: without a hand-off, with a swarm",
                  ["Team", "Resolved", "Without a hand-off", "Without a hand-off %", "With a swarm", "With a swarm %"])
    rows = ways_of_working(period)
    name = {r["group_id"]: groups[r["group_id"]].name if r["group_id"] in groups else "No group" for r in rows}
    for r in sorted(rows, key=lambda r: (r["group_id"] is None, name[r["group_id"]])):
        kept = r["resolved"] - r["handed"]
        table.rows.append([name[r["group_id"]], r["resolved"], kept, _pct(kept, r["resolved"]), r["swarmed"],
                           _pct(r["swarmed"], r["resolved"])])
    return table
