"""A change with tasks at sites in several countries and time zones, built through the domain functions."""
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from itsm import services as itsm
from tracker import services
from tracker.choices import Kind, Status


def approve(change, cast):
    """Bring a change to 'approved' the way the CAB approves today (one place, for every test)."""
    services.ticket_transition(ticket=change, to=Status.REVIEW, actor=change.requester, values={
        "implementation_plan": "Site by site, Berlin first", "backout_plan": "Restore the 4.7 images",
        "risk": "high"})
    services.ticket_transition(ticket=change, to=Status.APPROVED, actor=cast.change_manager,
                               values={"decision_note": "Go, site by site."})
    return change


@pytest.fixture
def change(cast):
    return services.ticket_create(actor=cast.agent2, kind=Kind.CHANGE, title="Payroll 4.8 go-live",
                                  change_type="normal", service=cast.services["payroll"], group=cast.l2)


def local(zone: str, days: int = 2, hour: int = 9) -> datetime:
    """A naive wall time at a site `days` from now, as a person there would type it."""
    day = timezone.now().astimezone(ZoneInfo(zone)).date() + timedelta(days=days)
    return datetime(day.year, day.month, day.day, hour)


@pytest.fixture
def tasks(cast, change):
    """Berlin (devon), Singapore (dana) and New York (the App Support team) tasks of the change."""
    plan = [("Cut over Berlin stores", "Retail DACH", "Berlin", "DE", "Europe/Berlin", cast.engineer, None),
            ("Cut over Singapore office", "APAC Finance", "Singapore", "SG", "Asia/Singapore", cast.engineer2, None),
            ("Cut over New York office", "Americas Finance", "New York", "US", "America/New_York", None, cast.l2)]
    return [itsm.task_add(change=change, actor=cast.agent2, title=title, business_unit=bu, site=site, country=country,
                          time_zone=zone, planned_start=local(zone), planned_end=local(zone, hour=11),
                          assignee=assignee, group=group)
            for title, bu, site, country, zone, assignee, group in plan]
