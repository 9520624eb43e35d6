"""The demo shows services through their life: managers and owners on every service, "Expense claims" in
transition with its gate half signed by two approvers and a flagged ticket, a planned and a retired service."""

import pytest

from itsm.choices import GateItemCode, GateItemState
from itsm.models import GateItem
from tracker.choices import ServiceLifecycle
from tracker.models import Service, Ticket, User

DEMO_HISTORY = 30


@pytest.fixture
def demo(seeded_demo, db):
    return seeded_demo


def test_the_demo_has_services_in_every_stage_of_their_life(demo, client_for):
    lifecycles = dict(Service.objects.values_list("name", "lifecycle"))
    assert lifecycles["Expense claims"] == ServiceLifecycle.IN_TRANSITION
    assert lifecycles["Travel booking"] == ServiceLifecycle.PLANNED
    assert lifecycles["Fax gateway"] == ServiceLifecycle.RETIRED
    assert not Service.objects.filter(service_manager__isnull=True).exclude(name__in=["Fax gateway"]).exists()

    signed = GateItem.objects.filter(gate__service__name="Expense claims", state=GateItemState.SIGNED_OFF)
    assert {(i.code, i.signed_by.username) for i in signed} == {(GateItemCode.UAT, "liam"),
                                                                 (GateItemCode.KNOWLEDGE, "lena")}
    ticket = Ticket.objects.get(service__name="Expense claims")
    lena = client_for(User.objects.get(username="lena"))
    page = lena.get(f"/tickets/{ticket.key}/").content.decode()
    assert "Not yet operational: escalate to the project team Payroll Dev" in page
    services = lena.get("/services/").content.decode()
    assert "gate: 2 of 8 signed off" in services
    expenses = Service.objects.get(name="Expense claims")
    detail = lena.get(f"/services/{expenses.pk}/").content.decode()
    assert "1 published internal article for the desk" in detail
