"""A requester orders from the catalogue in the browser: browses it, searches, opens "New laptop", submits with
a required answer missing (the message in place, everything typed kept), fixes it, and lands on her request
page, which says whose approval it waits for."""

import pytest
from playwright.sync_api import expect

from itsm.models import CatalogRequest
from tests.itsm.catalogue_items import hardware, laptop, make_item, vpn  # noqa: F401 - fixtures
from tracker.models import Ticket


@pytest.mark.usefixtures("vpn")
def test_alice_orders_a_laptop_and_follows_it(cast, laptop, signed_in, shot):  # noqa: F811
    cast.manager.first_name, cast.manager.last_name = "Maria", "Moreau"
    cast.manager.save(update_fields=["first_name", "last_name"])
    make_item(cast.services["mail"], name="Mailbox quota increase", summary="More room for large attachments")
    alice = signed_in(cast.requester)

    # browse: "Request something" in the top bar is the catalogue, grouped by service
    alice.get_by_role("link", name="Request something").first.click()
    expect(alice.get_by_role("heading", name="Request something")).to_be_visible()
    expect(alice.get_by_role("heading", name="Payroll")).to_be_visible()
    expect(alice.get_by_role("link", name="Mailbox quota increase")).to_be_visible()
    expect(alice.get_by_role("link", name="Describe it")).to_be_visible()
    shot(alice, "catalogue-browse")

    # search narrows the list in place
    alice.get_by_label("Search the catalogue").fill("laptop")
    expect(alice.get_by_role("link", name="Mailbox quota increase")).to_have_count(0)
    expect(alice.get_by_role("link", name="New laptop")).to_be_visible()
    shot(alice, "catalogue-search")
    alice.get_by_role("link", name="New laptop").click()
    expect(alice.get_by_role("heading", name="New laptop")).to_be_visible()
    expect(alice.get_by_text("Your line manager (Maria Moreau) approves it first.")).to_be_visible()

    # submitted without the date it is needed by: refused in place, what she typed kept
    alice.get_by_label("Model").select_option("MacBook Air 13")
    alice.get_by_label("Business justification").fill("My ThinkPad's hinge broke")
    alice.get_by_label("Cost centre").fill("CC-4100")
    alice.get_by_label("Docking station").check()
    alice.get_by_role("button", name="Order").click()
    expect(alice.get_by_role("alert")).to_contain_text("Needed by: This answer is required.")
    expect(alice.locator("#q-needed_by ~ .errorlist")).to_contain_text("This answer is required.")
    expect(alice.get_by_label("Model")).to_have_value("MacBook Air 13")
    expect(alice.get_by_label("Business justification")).to_have_value("My ThinkPad's hinge broke")
    expect(alice.get_by_label("Cost centre")).to_have_value("CC-4100")
    expect(alice.get_by_label("Docking station")).to_be_checked()
    assert not Ticket.objects.exists()
    shot(alice, "catalogue-order-refused")

    # fixed and ordered: her request page says whose approval it waits for
    alice.get_by_label("Needed by").fill("2030-05-02")
    alice.get_by_role("button", name="Order").click()
    ticket = Ticket.objects.get()
    expect(alice).to_have_url(f"{alice.url.split('/portal/')[0]}/portal/tickets/{ticket.key}/")
    expect(alice.locator("main")).to_contain_text("Waiting for approval by Maria Moreau")
    expect(alice.locator("main")).to_contain_text("Thu 2 May 2030")
    expect(alice.locator("main")).to_contain_text("Starts once it is approved.")
    assert CatalogRequest.objects.get(ticket=ticket).answers["docking"] is True
    shot(alice, "catalogue-request-waiting")


def test_alice_orders_an_item_approved_by_maria_and_fulfilled_by_its_handler(cast, signed_in, shot, eager_tasks):
    from django.contrib.auth.models import Group

    from itsm.choices import ApprovalMode, FieldType

    cast.requester.manager = cast.manager
    cast.requester.save(update_fields=["manager"])
    cast.manager.first_name, cast.manager.last_name = "Maria", "Moreau"
    cast.manager.save(update_fields=["first_name", "last_name"])
    make_item(cast.services["payroll"], name="Payroll reports access", handler="group_access",
              handler_config={"group": "Payroll report readers"}, approval=ApprovalMode.MANAGER,
              summary="Read the monthly payroll reports", fields=[
                  ("reason", "Why you need it", FieldType.TEXT, {"required": True, "max_length": 200}),
                  ("until", "Until", FieldType.DATE, {"required": True})])

    # alice orders it with its form; the missing date is refused in place, her reason kept
    alice = signed_in(cast.requester)
    alice.goto("/portal/catalogue/")
    alice.get_by_role("link", name="Payroll reports access").click()
    alice.get_by_label("Why you need it").fill("I cover the payroll close in May")
    alice.get_by_role("button", name="Order").click()
    expect(alice.get_by_role("alert")).to_contain_text("Until: This answer is required.")
    expect(alice.get_by_label("Why you need it")).to_have_value("I cover the payroll close in May")
    alice.get_by_label("Until").fill("2030-06-30")
    alice.get_by_role("button", name="Order").click()
    expect(alice.locator("main")).to_contain_text("Waiting for approval by Maria Moreau")
    ticket = Ticket.objects.get()
    shot(alice, "catalogue-automated-waiting")

    # maria approves it from her approvals; the handler runs once it is approved
    maria = signed_in(cast.manager)
    maria.goto(f"/approvals/requests/{ticket.key}/")
    expect(maria.locator("main")).to_contain_text("I cover the payroll close in May")
    maria.get_by_role("button", name="Approve").click()
    expect(maria.locator("#decide-form")).to_contain_text(f"{ticket.key} is approved")
    shot(maria, "catalogue-automated-approved")
    request = CatalogRequest.objects.get(ticket=ticket)
    assert (request.automation, request.attempts) == ("succeeded", 1)
    assert Group.objects.get(name="Payroll report readers").user_set.filter(pk=cast.requester.pk).exists()

    # alice follows it to the end: fulfilled, with what the handler did
    alice.goto(f"/portal/tickets/{ticket.key}/")
    expect(alice.locator("main")).to_contain_text("Resolved")
    expect(alice.locator("main")).to_contain_text("to the group “Payroll report readers”")
    shot(alice, "catalogue-automated-fulfilled")
