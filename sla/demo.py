"""Demo SLA set-up: a London business calendar with UK holidays, a 24x7 calendar, policies P1..P5.

`seed_sla_demo()` is idempotent (get-or-create by name) and attaches clocks to the open tickets that
have none, through the same domain function that live tickets use (or the bulk path for many).
"""

from datetime import datetime, time

from django.db import transaction
from django.utils import timezone

from tracker.choices import OPEN_STATUSES, Tier
from tracker.models import Ticket

from .models import Calendar, Clock, Holiday, Policy, TierTarget, WorkingHours
from .services import _active_policies, clocks_start_bulk, clocks_sync

MIN = 60
HOUR = 3600

# (priority, response, resolution, L3 pick, calendar) — P1 is short so a breach shows within minutes.
DEMO_TARGETS = [
    (1, 2 * MIN, 15 * MIN, 5 * MIN, "24x7"),
    (2, 30 * MIN, 8 * HOUR, 2 * HOUR, "24x7"),
    (3, 4 * HOUR, 3 * 8 * HOUR, None, "London business hours"),
    (4, 8 * HOUR, 5 * 8 * HOUR, None, "London business hours"),
    (5, 2 * 8 * HOUR, 20 * 8 * HOUR, None, "London business hours"),
]


def demo_calendars(now: datetime) -> dict[str, Calendar]:
    import holidays

    london, created = Calendar.objects.get_or_create(
        name="London business hours",
        defaults={"time_zone": "Europe/London", "holiday_country": "GB", "holiday_subdivision": "ENG"},
    )
    if created:
        WorkingHours.objects.bulk_create(
            [WorkingHours(calendar=london, weekday=d, start=time(9), end=time(17, 30)) for d in range(5)]
        )
        table = holidays.country_holidays("GB", subdiv="ENG", years=[now.year, now.year + 1])
        Holiday.objects.bulk_create([Holiday(calendar=london, date=d, name=str(n)[:120]) for d, n in table.items()])
    always, _ = Calendar.objects.get_or_create(name="24x7", defaults={"time_zone": "UTC", "always_open": True})
    return {"London business hours": london, "24x7": always}


def demo_policies(now: datetime) -> list[Policy]:
    calendars = demo_calendars(now)
    policies = []
    for priority, response, resolution, pick, cal in DEMO_TARGETS:
        policy, created = Policy.objects.get_or_create(
            name=f"P{priority} standard",
            defaults={
                "order": priority * 10,
                "calendar": calendars[cal],
                "priorities": [priority],
                "kinds": ["incident", "request", "defect"],
                "response_s": response,
                "resolution_s": resolution,
            },
        )
        if created and pick:
            TierTarget.objects.create(policy=policy, tier=Tier.L3, goal_s=pick)
        policies.append(policy)
    return policies


def seed_sla_demo(now: datetime | None = None, *, bulk_over: int = 500) -> dict:
    """Calendars, policies and clocks for every open ticket without clocks. Returns counts.

    Up to `bulk_over` tickets go through `clocks_sync` (timeline rows and all); more use the bulk path.
    """
    now = now or timezone.now()
    with transaction.atomic():
        policies = demo_policies(now)
        pending = (
            Ticket.objects.filter(status__in=OPEN_STATUSES)
            .exclude(sla_clocks__isnull=False)
            .select_related("group", "requester")
            .order_by("id")
        )
        count = pending.count()
        if count <= bulk_over:
            active = _active_policies()
            for ticket in pending:
                clocks_sync(ticket=ticket, now=now, policies=active)
        else:
            by_priority = {p.priorities[0]: p for p in policies}
            for priority, policy in by_priority.items():
                clocks_start_bulk(tickets=list(pending.filter(priority=priority)), policy=policy, now=now)
    return {"policies": len(policies), "tickets": count, "clocks": Clock.objects.count()}
