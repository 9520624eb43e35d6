"""What a new team hits in week one: a huge word does not widen the page, the queue fits a phone and a
laptop, and the filters show what is chosen."""

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import PHONE
from tracker import services
from tracker.choices import Kind

WIDTH = "document.documentElement.scrollWidth <= window.innerWidth + 1"


@pytest.fixture
def ticket(cast):
    return services.ticket_create(actor=cast.agent1, kind=Kind.INCIDENT, title="Payslips are blank",
                                  service=cast.services["payroll"], group=cast.l1)


def test_a_100kb_word_wraps_inside_its_box(cast, ticket, signed_in, shot):
    services.ticket_comment(ticket=ticket, actor=cast.agent1, body="x" * 100_000)
    services.ticket_comment(ticket=ticket, actor=cast.agent1, body="```\n" + "y" * 5_000 + "\n```")
    page = signed_in(cast.agent1)
    page.goto(f"/tickets/{ticket.key}/")
    expect(page.get_by_role("heading", name=ticket.title)).to_be_visible()
    assert page.evaluate(WIDTH), page.evaluate("document.documentElement.scrollWidth")
    shot(page, "long-word")


@pytest.mark.parametrize("path", ["/queue/", "TICKET"])
def test_pages_do_not_scroll_sideways_at_phone_width(cast, ticket, signed_in, path):
    page = signed_in(cast.agent1, viewport=PHONE)
    page.goto(f"/tickets/{ticket.key}/" if path == "TICKET" else path)
    page.wait_for_load_state()
    assert page.evaluate(WIDTH), page.evaluate("document.documentElement.scrollWidth")


def test_queue_filters_are_checkbox_dropdowns_that_name_the_choice(cast, ticket, signed_in, shot):
    change = services.ticket_create(actor=cast.agent1, kind=Kind.CHANGE, title="Upgrade payroll")
    page = signed_in(cast.agent1)
    page.goto("/queue/?view=open")
    kind = page.locator("details.multi").filter(has=page.locator("input[name=kind]"))
    expect(kind.locator("summary")).to_have_text("Any kind", use_inner_text=True)
    kind.locator("summary").click()
    kind.get_by_label("Change").check()
    expect(page.locator("#results")).to_contain_text(change.key)
    expect(page.locator("#results")).not_to_contain_text(ticket.key)
    expect(kind.locator("summary")).to_have_text("Change", use_inner_text=True)
    for option in ("In CAB review", "P4"):
        expect(page.locator("details.multi label").filter(has_text=option).first).to_be_attached()
    # the group column does not wrap at a laptop's width
    cell = page.locator("table.data td.nowrap").first
    assert cell.evaluate("td => td.getClientRects().length === 1 && td.scrollHeight < 40")
    shot(page, "queue-filters")
