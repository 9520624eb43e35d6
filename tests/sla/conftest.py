"""SLA fixtures: a London business calendar, a 24x7 calendar and a policy factory."""

from datetime import UTC, datetime, time

import pytest

from sla.models import Calendar, Holiday, Policy, TierTarget, WorkingHours

# A Monday in winter (GMT = UTC), so wall times read the same in London and in UTC.
MONDAY_9 = datetime(2026, 1, 12, 9, 0, tzinfo=UTC)


@pytest.fixture
def london(db):
    cal = Calendar.objects.create(name="London office", time_zone="Europe/London")
    WorkingHours.objects.bulk_create(
        [WorkingHours(calendar=cal, weekday=d, start=time(9), end=time(17)) for d in range(5)]
    )
    Holiday.objects.create(calendar=cal, date=datetime(2026, 12, 25).date(), name="Christmas Day")
    return cal


@pytest.fixture
def always(db):
    return Calendar.objects.create(name="24x7", time_zone="UTC", always_open=True)


@pytest.fixture
def make_policy(db):
    def make(
        calendar,
        *,
        name="P1 incidents",
        order=10,
        response_s=3600,
        resolution_s=4 * 3600,
        tiers=None,
        **fields,
    ):
        policy = Policy.objects.create(
            name=name,
            order=order,
            calendar=calendar,
            response_s=response_s,
            resolution_s=resolution_s,
            **fields,
        )
        for tier, goal in (tiers or {}).items():
            TierTarget.objects.create(policy=policy, tier=tier, goal_s=goal)
        return policy

    return make
