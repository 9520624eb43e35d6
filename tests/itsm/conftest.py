"""Change enablement's cast: a global CAB, a Payroll CAB and an emergency CAB, and helpers that raise and
submit changes through the domain functions."""

import pytest

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
