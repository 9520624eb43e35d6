"""The request catalogue's test items: a laptop with a form of every kind of question, approved by the
requester's manager and fulfilled by a hardware team in two tasks, and VPN access fulfilled by a handler."""

import pytest
from django.utils import timezone

from itsm.choices import ApprovalMode, FieldType
from itsm.models import CatalogField, CatalogItem, CatalogTaskTemplate
from tests.factories import GroupFactory
from tracker.choices import Tier

MODELS = ["ThinkPad T14", "MacBook Air 13", "Dell Latitude 7440"]


def make_item(service, *, name="New laptop", fields=(), **values) -> CatalogItem:
    """An item with its form: `fields` are (name, label, type, extra) tuples, in order."""
    now = timezone.now()
    item = CatalogItem.objects.create(service=service, name=name, created_at=now, updated_at=now, **values)
    for n, (fname, label, ftype, extra) in enumerate(fields):
        CatalogField.objects.create(item=item, name=fname, label=label, type=ftype, order=n, **extra)
    return item


LAPTOP_FIELDS = [
    ("model", "Model", FieldType.CHOICE, {"required": True, "choices": MODELS}),
    ("needed_by", "Needed by", FieldType.DATE, {"required": True, "help_text": "The first working day."}),
    ("justification", "Business justification", FieldType.LONG_TEXT, {"required": True, "max_length": 500}),
    ("cost_centre", "Cost centre", FieldType.TEXT, {"pattern": r"CC-\d{4}",
                                                    "pattern_message": "Use the form CC-1234."}),
    ("for_whom", "For whom", FieldType.USER, {}),
    ("docking", "Docking station", FieldType.YES_NO, {}),
    ("monitors", "Extra monitors", FieldType.NUMBER, {"min_value": 0, "max_value": 2}),
]
GOOD = {"model": "ThinkPad T14", "needed_by": "2030-05-02", "justification": "New starter in Finance",
        "cost_centre": "CC-4100"}


@pytest.fixture
def hardware(db):
    return GroupFactory(name="Hardware", tier=Tier.L2)


@pytest.fixture
def laptop(cast, hardware):
    cast.requester.manager = cast.manager
    cast.requester.save(update_fields=["manager"])
    item = make_item(cast.services["payroll"], fields=LAPTOP_FIELDS, approval=ApprovalMode.MANAGER,
                     fulfilment_group=hardware, icon="monitor", summary="A standard laptop, set up for you")
    CatalogTaskTemplate.objects.create(item=item, title="Procure the laptop", group=hardware, order=1)
    CatalogTaskTemplate.objects.create(item=item, title="Set it up", group=hardware, order=2)
    return item


@pytest.fixture
def vpn(cast):
    return make_item(cast.services["mail"], name="VPN access", handler="group_access",
                     handler_config={"group": "VPN users"},
                     fields=[("reason", "Why", FieldType.TEXT, {"required": True})])
