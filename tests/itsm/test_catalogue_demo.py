"""The demo shows the request catalogue with believable data: six items on the demo services, the requesters'
line manager, and requests ordered through the catalogue in several states."""

import pytest

from itsm.choices import ApprovalState, AutomationState, CatalogAudience
from itsm.models import CatalogItem, CatalogRequest
from itsm.services import catalogue as cat
from tracker.choices import Status
from tracker.models import User

DEMO_HISTORY = 30
pytestmark = pytest.mark.usefixtures("seeded_demo")


def test_the_demo_catalogue_offers_six_items_with_forms(db):
    alice = User.objects.get(username="alice")
    names = set(CatalogItem.objects.values_list("name", flat=True))
    assert {"New laptop", "Access to a shared mailbox", "VPN access", "Software licence",
            "Admin rights on a build server"} <= names and len(names) >= 6
    offered = {i.name for i in cat.catalogue_items(user=alice)}
    assert "Admin rights on a build server" not in offered and "New laptop" in offered
    assert CatalogItem.objects.get(name="Admin rights on a build server").audience == CatalogAudience.STAFF
    vpn = CatalogItem.objects.get(name="VPN access")
    assert vpn.handler == "group_access" and vpn.handler_config == {"group": "VPN users"}
    seats = CatalogItem.objects.get(name="Software licence").fields.get(name="seats")
    assert (seats.min_value, seats.max_value) == (1, 50)
    assert list(CatalogItem.objects.get(name="New laptop").task_templates.values_list("title", flat=True)) == [
        "Procure the laptop", "Image and set up the laptop"]
    assert alice.manager.username == "maria"


def test_the_demo_has_requests_waiting_automated_with_the_desk_and_fulfilled(db):
    requests = CatalogRequest.objects.select_related("ticket__requester", "item", "approver").order_by("pk")
    by_item = {(r.ticket.requester.username, r.item.name): r for r in requests}
    waiting = [r for r in requests if (r.ticket.requester.username, r.item.name) == ("alice", "New laptop")
               and r.approval == ApprovalState.PENDING]
    assert [r.approver.username for r in waiting] == ["maria"]
    assert by_item[("bob", "VPN access")].automation == AutomationState.SUCCEEDED  # the handler ran
    assert by_item[("bob", "Mailbox quota increase")].ticket.status == Status.NEW
    assert by_item[("alice", "Mailbox quota increase")].ticket.status == Status.RESOLVED
