"""Two agents on one ticket (the collision warning), and the bell as a person uses it."""

import re

import pytest
from playwright.sync_api import expect

from tracker import services
from tracker.choices import Kind
from tracker.models import Ticket


@pytest.fixture
def ticket(cast):
    return services.ticket_create(
        actor=cast.requester,
        kind=Kind.INCIDENT,
        title="Payslips are blank for March",
        description="All of finance sees an empty slip.",
        service=cast.services["payroll"],
    )


def test_second_agent_is_warned_and_the_stale_save_is_refused_without_losing_text(
    cast, ticket, signed_in, shot, settings
):
    settings.CROSSLINE_CHANGES_POLL_SECONDS = 1
    lena, liam = signed_in(cast.agent1), signed_in(cast.agent2)
    for page in (lena, liam):
        page.goto(f"/tickets/{ticket.key}/")
        expect(page.get_by_role("heading", name=ticket.title)).to_be_visible()

    liam.get_by_role("button", name="Edit description").click()
    liam.get_by_role("textbox", name="Description").fill("Only the Leeds office is affected.")

    lena.get_by_role("button", name="Edit title").click()
    lena.get_by_role("textbox", name="Title").fill("Payslips blank for March (finance only)")
    lena.get_by_role("button", name="Save").click()
    expect(lena.get_by_role("heading", name="Payslips blank for March (finance only)")).to_be_visible()

    banner = liam.locator("#changes-banner")
    expect(banner).to_contain_text(f"{ticket.key} was updated by lena")
    liam.get_by_role("button", name="Save").click()
    expect(liam.get_by_role("alert").filter(has_text="Collision")).to_contain_text("changed by someone else")
    expect(liam.get_by_label(re.compile("Your unsaved description"))).to_have_value(
        "Only the Leeds office is affected."
    )
    expect(liam.get_by_role("heading", name="Payslips blank for March (finance only)")).to_be_visible()
    shot(liam, "09-collision-refused")

    saved = Ticket.objects.get(pk=ticket.pk)
    assert saved.title == "Payslips blank for March (finance only)"
    assert saved.description == "All of finance sees an empty slip."


def test_the_bell_shows_an_unread_notification_and_marking_it_read_clears_it(cast, ticket, signed_in, shot):
    services.ticket_assign(ticket=ticket, actor=cast.agent2, assignee=cast.agent1)
    page = signed_in(cast.agent1)

    bell = page.get_by_role("link", name=re.compile(r"^Notifications"))
    expect(bell).to_have_accessible_name("Notifications 1 unread")
    bell.click()
    expect(page.get_by_role("heading", name="Notifications", exact=True)).to_be_visible()
    item = page.locator("#inbox li").filter(has_text=ticket.key)
    expect(item).to_contain_text("New")
    shot(page, "10-notifications")

    item.get_by_role("button", name=re.compile("Mark .* read")).click()
    expect(bell).to_have_accessible_name("Notifications")
    expect(item.get_by_role("button")).to_have_count(0)
    item.get_by_role("link", name=re.compile(ticket.key)).click()
    expect(page.get_by_role("heading", name=ticket.title)).to_be_visible()
    expect(page.get_by_role("link", name="Notifications", exact=True)).to_be_visible()
