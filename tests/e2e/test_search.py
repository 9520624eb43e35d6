"""The command palette: Ctrl+K anywhere, type, arrow keys and Enter; a ticket key jumps straight to it."""

import re

from playwright.sync_api import expect

from tests.factories import published_article
from tracker import services
from tracker.choices import Kind


def test_ctrl_k_finds_a_ticket_an_article_and_a_person_and_enter_opens_the_chosen_one(cast, signed_in, shot):
    ticket = services.ticket_create(actor=cast.requester, kind=Kind.INCIDENT, title="Payroll export is empty",
                                    service=cast.services["payroll"])
    article = published_article(title="Payroll export checklist", body="Steps.")
    cast.agent2.last_name = "Payrollson"
    cast.agent2.save()
    page = signed_in(cast.agent1)
    page.goto("/dashboard/")
    page.keyboard.press("Control+k")
    box = page.get_by_role("searchbox", name=re.compile("Search tickets"))
    expect(box).to_be_focused()
    box.press_sequentially("payroll")
    results = page.locator("#palette-results")
    expect(results).to_contain_text(ticket.title)
    expect(results).to_contain_text(article.title)
    expect(results).to_contain_text("Payrollson")
    shot(page, "command-palette")
    options = results.get_by_role("option")
    titles = [options.nth(i).inner_text() for i in range(options.count())]
    target = next(i for i, text in enumerate(titles) if article.title in text)
    for _ in range(target):
        box.press("ArrowDown")
    expect(options.nth(target)).to_have_attribute("aria-selected", "true")
    box.press("Enter")
    expect(page).to_have_url(re.compile(f"/kb/{article.pk}/$"))


def test_a_key_typed_in_the_palette_jumps_to_the_ticket(cast, signed_in):
    ticket = services.ticket_create(actor=cast.requester, kind=Kind.INCIDENT, title="VPN drops at noon")
    page = signed_in(cast.agent1)
    page.goto("/notifications/")
    page.keyboard.press("/")  # no search box on this page: the slash opens the palette
    box = page.get_by_role("searchbox", name=re.compile("Search tickets"))
    box.fill(ticket.key.lower())
    expect(page.locator("#palette-results")).to_contain_text(ticket.title)
    box.press("Enter")
    expect(page.get_by_role("heading", name=ticket.title)).to_be_visible()
