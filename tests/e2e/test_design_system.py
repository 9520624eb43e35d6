"""The design system in the browser: light and dark themes (following the system, or chosen), compact and
comfortable density, toasts that stack and fade, icons drawn from the app's own sprite. Screenshots of the
main pages in each look land in test-artifacts/."""

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import ARTIFACTS
from tracker import services
from tracker.choices import Kind

LOOKS = [("light", "comfortable"), ("light", "compact"), ("dark", "comfortable"), ("dark", "compact")]


@pytest.fixture
def ticket(cast):
    incident = services.ticket_create(actor=cast.requester, kind=Kind.INCIDENT, title="Payslips are blank",
                                      service=cast.services["payroll"], description="All of **finance**.")
    services.ticket_comment(ticket=incident, actor=cast.agent1, body="Looking at the export now.")
    for n in range(12):
        services.ticket_create(actor=cast.requester, kind=Kind.INCIDENT, title=f"Printer {n} jams")
    return incident


def background(page) -> str:
    return page.evaluate("getComputedStyle(document.body).backgroundColor")


@pytest.mark.parametrize(("scheme", "density"), LOOKS)
def test_main_pages_in_each_look(cast, ticket, signed_in, scheme, density):
    ARTIFACTS.mkdir(exist_ok=True)
    agent = signed_in(cast.agent1, scheme=scheme, density=density)
    expected_bg = "rgb(15, 19, 24)" if scheme == "dark" else "rgb(244, 245, 247)"
    for name, path in (("queue", "/queue/?view=all"), ("ticket", f"/tickets/{ticket.key}/")):
        agent.goto(path)
        agent.wait_for_load_state("networkidle")
        assert background(agent) == expected_bg
        assert agent.evaluate("document.fonts.check('14px \"Inter Variable\"')")
        agent.screenshot(path=str(ARTIFACTS / f"look-{name}-{scheme}-{density}.png"), full_page=True)
    manager = signed_in(cast.manager, scheme=scheme, density=density)
    manager.goto("/dashboard/")
    manager.screenshot(path=str(ARTIFACTS / f"look-dashboard-{scheme}-{density}.png"), full_page=True)
    requester = signed_in(cast.requester, scheme=scheme, density=density)
    requester.goto("/portal/")
    assert background(requester) == expected_bg
    requester.screenshot(path=str(ARTIFACTS / f"look-portal-{scheme}-{density}.png"), full_page=True)


def test_compact_density_fits_more_rows(cast, ticket, signed_in):
    heights = {}
    for density in ("comfortable", "compact"):
        page = signed_in(cast.agent1, density=density)
        page.goto("/queue/?view=all")
        heights[density] = page.locator("table.data tbody tr").first.bounding_box()["height"]
    assert heights["compact"] < heights["comfortable"] - 4, heights


def test_the_theme_button_cycles_and_the_choice_stays(cast, ticket, signed_in):
    page = signed_in(cast.agent1, scheme="light")
    page.goto("/queue/")
    toggle = page.get_by_role("button", name="Theme: follows the system (change)")
    toggle.click()  # system -> light
    expect(page.locator("html")).to_have_attribute("data-theme", "light")
    page.get_by_role("button", name="Theme: light (change)").click()  # light -> dark
    expect(page.locator("html")).to_have_attribute("data-theme", "dark")
    page.reload()
    expect(page.locator("html")).to_have_attribute("data-theme", "dark")
    assert background(page) == "rgb(15, 19, 24)"
    page.get_by_role("button", name="Density: comfortable (change)").click()
    expect(page.locator("html")).to_have_attribute("data-density", "compact")


def test_confirmations_stack_as_toasts_and_fade(cast, ticket, signed_in):
    page = signed_in(cast.agent1)
    page.goto(f"/tickets/{ticket.key}/")
    for text in ("First note", "Second note"):
        page.get_by_role("textbox", name="Comment").fill(text)
        page.get_by_role("button", name="Add comment").click()
        expect(page.locator(".timeline")).to_contain_text(text)
    toasts = page.locator("#toasts .toast")
    expect(toasts).to_have_count(2)
    expect(toasts.first).to_contain_text("Comment added")
    expect(toasts).to_have_count(0, timeout=9_000)  # they fade on their own


def test_icons_are_drawn_from_the_apps_sprite(cast, ticket, signed_in):
    page = signed_in(cast.agent1)
    page.goto("/queue/")
    icon = page.get_by_role("link", name="Queue").locator("svg.icon")
    expect(icon).to_be_visible()
    box = icon.bounding_box()
    assert 10 <= box["width"] <= 24 and 10 <= box["height"] <= 24  # sized to the text, not 300x150
    assert icon.locator("use").get_attribute("href").startswith("/static/icons/sprite.svg#")
