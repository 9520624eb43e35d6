"""Setting up a service's catalogue in the app: who may, the item's settings, and the form-field definitions the
requester will meet (each bad definition refused with the field named), in the domain and on the pages (refused
in place with what was typed kept; a live preview)."""

from decimal import Decimal

import pytest

from itsm.choices import ApprovalMode, FieldType
from itsm.models import CatalogField, CatalogItem
from itsm.services import catalogue_setup as setup
from tracker.errors import AccessDenied, ValidationFailed


@pytest.fixture
def payroll(cast):
    service = cast.services["payroll"]
    service.service_manager = cast.manager
    service.save()
    service.owners.add(cast.agent2)
    return service


@pytest.fixture
def item(cast, payroll):
    return setup.item_create(service=payroll, actor=cast.agent2, name="Payslip copy", summary="A past payslip again")


def refused(fn, **kwargs) -> dict:
    with pytest.raises(ValidationFailed) as caught:
        fn(**kwargs)
    return caught.value.fields


def test_owners_service_managers_and_admins_set_up_the_catalogue_others_may_not(cast, payroll):
    for who in (cast.agent2, cast.manager, cast.admin):
        setup.item_create(service=payroll, actor=who, name=f"Item by {who.username}")
    with pytest.raises(AccessDenied, match="Only the owners and the service manager of Payroll"):
        setup.item_create(service=payroll, actor=cast.agent1, name="Sneaky")
    assert CatalogItem.objects.count() == 3


def test_item_settings_are_checked(cast, payroll, item):
    fields = refused(setup.item_create, service=payroll, actor=cast.manager, name="payslip COPY", icon="unicorn",
                     approval=ApprovalMode.NAMED, handler="Not A Slug", handler_config=[1])
    assert set(fields) == {"name", "icon", "approver", "handler", "handler_config"}
    assert fields["name"] == ["Payroll already has an item “payslip COPY”."]
    assert fields["icon"] == ["“unicorn” is not an icon of the design system."]
    named = setup.item_update(item=item, actor=cast.manager, changes={"approval": ApprovalMode.NAMED,
                                                                     "approver": cast.manager, "icon": "file-text"})
    assert (named.approval, named.approver, named.icon) == (ApprovalMode.NAMED, cast.manager, "file-text")
    back = setup.item_update(item=item, actor=cast.manager, changes={"approval": ApprovalMode.MANAGER})
    assert back.approver is None  # only a named approval keeps a named approver


def test_a_field_is_added_with_a_key_made_from_its_question(cast, item):
    field = setup.field_add(item=item, actor=cast.agent2, label="Which month?", type=FieldType.CHOICE,
                            choices=["January", "February", "January"], required=True)
    assert (field.name, field.choices, field.order) == ("which_month", ["January", "February"], 10)


@pytest.mark.parametrize("values, field, message", [
    ({"label": "Model", "type": FieldType.CHOICE, "choices": []}, "choices", "at least one option"),
    ({"label": "Seats", "type": FieldType.NUMBER, "min_value": "50", "max_value": "1"}, "max_value",
     "The maximum (1.00) is below the minimum (50.00)."),
    ({"label": "Seats", "type": FieldType.NUMBER, "min_value": "many"}, "min_value", "A number."),
    ({"label": "Cost centre", "pattern": "^(AB$"}, "pattern", "Not a valid regular expression"),
    ({"label": "Cost centre", "max_length": 0}, "max_length", "A whole number from 1 to 100000."),
    ({"label": "", "name": "x"}, "label", "Required."),
    ({"label": "Key", "name": "Bad Key!"}, "name", "A slug of up to 40 characters"),
    ({"label": "Colour", "type": "colour"}, "type", "One of:"),
])
def test_bad_field_definitions_are_refused_with_the_field_named(cast, item, values, field, message):
    fields = refused(setup.field_add, item=item, actor=cast.agent2, **values)
    assert field in fields and message in " ".join(fields[field])
    assert not CatalogField.objects.exists()


def test_field_keys_are_unique_per_item(cast, item):
    setup.field_add(item=item, actor=cast.agent2, label="Month", name="month")
    fields = refused(setup.field_add, item=item, actor=cast.agent2, label="Month again", name="month")
    assert fields == {"name": ["The form already has a field “month”."]}


def test_fields_are_edited_reordered_and_removed(cast, item):
    first = setup.field_add(item=item, actor=cast.agent2, label="Month")
    second = setup.field_add(item=item, actor=cast.agent2, label="Seats", type=FieldType.NUMBER, min_value="1",
                             max_value="50")
    assert (second.min_value, second.max_value) == (Decimal("1.00"), Decimal("50.00"))
    setup.field_move(field=second, actor=cast.agent2, up=True)
    assert [f.name for f in item.fields.all()] == ["seats", "month"]
    setup.field_update(field=first, actor=cast.agent2, changes={"type": FieldType.TEXT, "pattern": r"^\d{4}-\d{2}$",
                                                                "pattern_message": "As 2025-03"})
    first.refresh_from_db()
    assert first.pattern == r"^\d{4}-\d{2}$"
    setup.field_remove(field=second, actor=cast.agent2)
    assert [f.name for f in item.fields.all()] == ["month"]


def test_task_templates_need_a_title(cast, item):
    assert refused(setup.task_template_add, item=item, actor=cast.agent2, title=" ") == {
        "title": ["Say what the task is, e.g. “Set up the laptop”."]}
    task = setup.task_template_add(item=item, actor=cast.agent2, title="Print and post", group=cast.l2)
    assert list(item.task_templates.all()) == [task]


# --- the pages ---------------------------------------------------------------------------------------------------


def test_the_editor_creates_an_item_and_refuses_a_bad_one_in_place(cast, payroll, client_for):
    page = client_for(cast.agent2)
    url = f"/services/{payroll.pk}/catalogue/"
    bad = page.post(url, {"name": "", "summary": "Kept summary", "icon": "package", "audience": "everyone",
                          "approval": "named", "order": 100, "active": "on"})
    html = bad.content.decode()
    assert bad.status_code == 400 and 'value="Kept summary"' in html
    missing = page.post(url, {"name": "Payslip copy", "icon": "package", "audience": "everyone", "approval": "named",
                              "order": 100})
    assert missing.status_code == 400 and "Name the approver of a named approval." in missing.content.decode()
    created = page.post(url, {"name": "Payslip copy", "icon": "file-text", "audience": "everyone",
                              "approval": "none", "order": 100, "active": "on", "handler_config": '{"x": 1}'})
    item = CatalogItem.objects.get(name="Payslip copy")
    assert created.status_code == 302 and created["Location"] == f"{url}{item.pk}/"
    assert item.handler_config == {"x": 1}
    assert client_for(cast.agent1).get(url).status_code == 404


def test_a_refused_field_definition_keeps_what_was_typed_and_the_next_submit_works(cast, payroll, item, client_for):
    page = client_for(cast.agent2)
    url = f"/services/{payroll.pk}/catalogue/{item.pk}/fields/"
    response = page.post(url, {"label": "Laptop model", "type": "choice", "choices": "", "help_text": "Pick one"})
    html = response.content.decode()
    assert response.status_code == 400
    assert "A choice needs at least one option (one a line)." in html
    assert 'value="Laptop model"' in html and 'value="Pick one"' in html
    again = page.post(url, {"label": "Laptop model", "type": "choice", "choices": "13-inch\n15-inch\n",
                            "help_text": "Pick one"})
    assert again.status_code == 302
    assert CatalogField.objects.get(item=item).choices == ["13-inch", "15-inch"]


def test_the_preview_shows_the_form_as_the_requester_will_see_it(cast, payroll, item, client_for):
    setup.field_add(item=item, actor=cast.agent2, label="Which month?", type=FieldType.DATE, required=True)
    page = client_for(cast.agent2)
    full = page.get(f"/services/{payroll.pk}/catalogue/{item.pk}/").content.decode()
    assert "Preview: the requester's form" in full and '<input type="date" id="pv-1" disabled>' in full
    live = page.post(f"/services/{payroll.pk}/catalogue/{item.pk}/preview/",
                     {"label": "How many copies?", "type": "number", "min_value": "1", "max_value": "3"},
                     HTTP_HX_REQUEST="true").content.decode()
    assert "Which month?" in live and "How many copies?" in live and 'min="1"' in live and 'max="3"' in live


def test_fields_are_reordered_and_removed_from_the_editor(cast, payroll, item, client_for):
    a = setup.field_add(item=item, actor=cast.agent2, label="First")
    b = setup.field_add(item=item, actor=cast.agent2, label="Second")
    page = client_for(cast.agent2)
    base = f"/services/{payroll.pk}/catalogue/{item.pk}/fields"
    page.post(f"{base}/{b.pk}/move/", {"direction": "up"})
    assert [f.pk for f in item.fields.all()] == [b.pk, a.pk]
    page.post(f"{base}/{a.pk}/remove/")
    assert [f.pk for f in item.fields.all()] == [b.pk]
