"""Change enablement's cast: a global CAB, a Payroll CAB and an emergency CAB, helpers that raise and submit
changes through the domain functions, and a change with tasks at sites in several countries and time zones."""
from datetime import datetime, timedelta

import pytest
from django.utils import timezone

from itsm import services as itsm
from itsm.choices import CabRule
from tracker import services
from tracker.choices import Kind, Status

PLAN = {"implementation_plan": "1. Stop the batch\n2. Edit the cron line\n3. Start the batch",
        "backout_plan": "Restore the previous cron line", "risk": "medium"}


@pytest.fixture
def cabs(cast):
    """Global CAB (majority of carl, maria, devon), Payroll CAB (all of carl, maria), emergency CAB (any 1)."""
    global_cab = itsm.cab_save(actor=cast.change_manager, name="Change Advisory Board", rule=CabRule.MAJORITY,
                               members=[cast.change_manager, cast.manager, cast.engineer])
    payroll = itsm.cab_save(actor=cast.change_manager, name="Payroll CAB", service=cast.services["payroll"],
                            rule=CabRule.ALL, members=[cast.change_manager, cast.manager])
    emergency = itsm.cab_save(actor=cast.change_manager, name="Emergency CAB", emergency=True,
                              members=[cast.change_manager, cast.manager])
    return {"global": global_cab, "payroll": payroll, "emergency": emergency}


@pytest.fixture
def raise_change(cast):
    def make(*, actor=None, change_type="normal", **values):
        return services.ticket_create(actor=actor or cast.agent2, kind=Kind.CHANGE, change_type=change_type,
                                      title=values.pop("title", "Move the payroll batch to 02:00"), **values)
    return make


@pytest.fixture
def submitted(cast, cabs, raise_change):
    """A normal change without a service, submitted by liam: round 1 of the global CAB."""
    def make(*, actor=None, **values):
        change = raise_change(actor=actor, **values)
        services.ticket_transition(ticket=change, to=Status.REVIEW, actor=actor or cast.agent2, values=dict(PLAN))
        return change
    return make

def approve(change, cast):
    """Bring a change to 'approved' through its CAB: submitted by its requester, then approved by votes (carl
    alone on a global CAB, or emergency CAB, set up here when the test has none)."""
    emergency = change.change_type == "emergency"
    if itsm.cab_for_change(change) is None:
        itsm.cab_save(actor=cast.change_manager, name="Emergency CAB" if emergency else "Change Advisory Board",
                      emergency=emergency, rule=CabRule.ANY, quorum=1, members=[cast.change_manager])
    services.ticket_transition(ticket=change, to=Status.REVIEW, actor=change.requester, values={
        "implementation_plan": "Site by site, Berlin first", "backout_plan": "Restore the 4.7 images",
        "risk": "high"})
    for member in itsm.cab_for_change(change).members.all():
        change.refresh_from_db()
        if change.status != Status.REVIEW:
            break
        if member != change.requester:
            itsm.approval_vote(ticket=change, actor=member, decision="approved", comment="Go, site by site.")
    change.refresh_from_db()
    assert change.status == Status.APPROVED, change.status
    return change


@pytest.fixture
def change(cast):
    return services.ticket_create(actor=cast.agent2, kind=Kind.CHANGE, title="Payroll 4.8 go-live",
                                  change_type="normal", service=cast.services["payroll"], group=cast.l2)


def local(zone: str, days: int = 2, hour: int = 9) -> datetime:
    """A naive wall time at a site on the (UTC) date `days` from now, as a person there would type it: the
    same date at every site, whatever the hour of the run."""
    day = timezone.now().date() + timedelta(days=days)
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


# the request catalogue's items (a laptop with a form of every kind of question, VPN access by a handler)
from tests.itsm.catalogue_items import hardware, laptop, vpn  # noqa: E402, F401, I001 - fixtures
