"""Inline editing that feels inline: a click on a value opens its editor in place, Enter (or a choice) saves,
Esc cancels; the workflow's next step is the main button, the rest wait in a menu."""

import pytest
from playwright.sync_api import expect

from tracker import services
from tracker.choices import Kind, Status
from tracker.models import Ticket


@pytest.fixture
def ticket(cast):
    return services.ticket_create(actor=cast.requester, kind=Kind.INCIDENT, title="Payslips are blank",
                                  description="All of finance.", service=cast.services["payroll"])


def test_click_a_title_type_and_press_enter_to_save(cast, ticket, signed_in):
    page = signed_in(cast.agent1)
    page.goto(f"/tickets/{ticket.key}/")
    page.get_by_role("heading", name="Payslips are blank").click()
    box = page.get_by_role("textbox", name="Title")
    expect(box).to_be_focused()
    box.fill("Payslips are blank for March")
    box.press("Enter")
    expect(page.get_by_role("heading", name="Payslips are blank for March")).to_be_visible()
    assert Ticket.objects.get(pk=ticket.pk).title == "Payslips are blank for March"


def test_a_choice_saves_at_once(cast, ticket, signed_in):
    page = signed_in(cast.agent1)
    page.goto(f"/tickets/{ticket.key}/")
    page.locator("#f-urgency .editable").click()
    select = page.get_by_label("Urgency")
    expect(select).to_be_focused()
    select.select_option(label="High")
    expect(page.locator("#id_edit_urgency")).to_have_count(0)  # saved: the editor closed
    expect(page.locator("#f-urgency")).to_contain_text("High")
    assert Ticket.objects.get(pk=ticket.pk).urgency == 1


def test_escape_cancels_and_keeps_the_value(cast, ticket, signed_in):
    page = signed_in(cast.agent1)
    page.goto(f"/tickets/{ticket.key}/")
    page.locator("#f-description").click()
    box = page.get_by_role("textbox", name="Description")
    expect(box).to_be_focused()
    box.fill("Something else entirely")
    box.press("Escape")
    expect(page.locator("#f-description")).to_contain_text("All of finance.")
    expect(page.get_by_role("textbox", name="Description")).to_have_count(0)
    assert Ticket.objects.get(pk=ticket.pk).description == "All of finance."


def test_ctrl_enter_saves_a_long_text(cast, ticket, signed_in):
    page = signed_in(cast.agent1)
    page.goto(f"/tickets/{ticket.key}/")
    page.locator("#f-description").click()
    box = page.get_by_role("textbox", name="Description")
    box.fill("Only the **Leeds** office.")
    box.click()  # a click inside the open editor keeps it, and what was typed
    expect(box).to_have_value("Only the **Leeds** office.")
    box.press("Control+Enter")
    expect(page.locator("#f-description strong")).to_have_text("Leeds")


def test_the_next_step_is_the_main_button_and_the_rest_are_in_a_menu(cast, ticket, signed_in):
    services.ticket_transition(ticket=ticket, to=Status.IN_PROGRESS, actor=cast.agent1)
    page = signed_in(cast.agent1)
    page.goto(f"/tickets/{ticket.key}/")
    workflow = page.get_by_role("group", name="Workflow")
    expect(workflow.locator("summary.primary")).to_have_text("Resolve…")
    expect(workflow.get_by_role("button", name="Wait on requester")).to_be_hidden()
    workflow.get_by_label("More moves").first.click()
    workflow.get_by_role("button", name="Wait on requester").click()
    expect(page.locator(".badge.status").first).to_have_text("Waiting on requester")
    assert Ticket.objects.get(pk=ticket.pk).status == Status.PENDING
