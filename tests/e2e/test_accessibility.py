"""Accessibility basics on the main pages, in the light and the dark theme: named inputs, landmarks, a skip
link, visible focus, contrast; and of the components that open on demand (the command palette, the moves
menu, an inline editor, toasts)."""

import pytest
from playwright.sync_api import expect

from tracker import services
from tracker.choices import Kind

AUDIT = """() => {
  const problems = [];
  const visible = (el) => !!(el.offsetWidth || el.offsetHeight || el.getClientRects().length);
  for (const el of document.querySelectorAll("input, select, textarea")) {
    if (["hidden", "submit", "button"].includes(el.type) || !visible(el)) continue;
    const named = (el.labels && el.labels.length) || el.getAttribute("aria-label")
      || el.getAttribute("aria-labelledby") || el.getAttribute("title");
    if (!named) problems.push("unnamed " + el.tagName.toLowerCase() + " " + (el.name || el.id));
  }
  for (const el of document.querySelectorAll("button, a[href]")) {
    if (visible(el) && !(el.textContent.trim() || el.getAttribute("aria-label"))) {
      problems.push("unnamed " + el.tagName.toLowerCase() + " " + el.outerHTML.slice(0, 80));
    }
  }
  if (document.querySelectorAll("main").length !== 1) problems.push("not exactly one main landmark");
  if (!document.querySelector("body > header")) problems.push("no banner landmark");
  const skip = document.querySelector("a[href='#main']");
  if (!skip || skip !== document.querySelector("a[href]")) problems.push("skip link is not the first link");
  const rgb = (s) => s.match(/[\\d.]+/g).slice(0, 4).map(Number);
  const lum = ([r, g, b]) => [r, g, b]
    .map((v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; })
    .reduce((sum, v, i) => sum + v * [0.2126, 0.7152, 0.0722][i], 0);
  const background = (el) => {
    for (; el; el = el.parentElement) {
      const c = rgb(getComputedStyle(el).backgroundColor);
      if (c.length < 4 || c[3] > 0) return c;
    }
    return [255, 255, 255];
  };
  for (const el of document.querySelectorAll(
      ".badge, .bell, .alert, .muted, .help, .toast, .empty, .editable, .search-results a, .menu-items button")) {
    if (!visible(el) || !el.textContent.trim()) continue;
    const [a, b] = [lum(rgb(getComputedStyle(el).color)), lum(background(el))];
    const ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
    const text = el.textContent.trim().slice(0, 30);
    if (ratio < 4.5) problems.push(`contrast ${ratio.toFixed(2)} of ${el.className}: ${text}`);
  }
  return problems;
}"""


def audit(page, url):
    page.goto(url)
    problems = page.evaluate(AUDIT)
    page.keyboard.press("Tab")
    focused = page.evaluate(
        "() => { const s = getComputedStyle(document.activeElement); "
        "return [document.activeElement.textContent.trim(), s.outlineStyle, s.left]; }"
    )
    if focused[0] != "Skip to content" or focused[1] == "none" or focused[2].startswith("-"):
        problems.append(f"first Tab does not show the skip link with a visible focus: {focused}")
    return [f"{url}: {p}" for p in problems]


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_main_pages_have_named_inputs_landmarks_skip_link_focus_and_contrast(cast, signed_in, scheme):
    ticket = services.ticket_create(
        actor=cast.requester, kind=Kind.INCIDENT, title="Payslips are blank", service=cast.services["payroll"]
    )
    services.ticket_assign(ticket=ticket, actor=cast.agent2, assignee=cast.agent1)
    agent, requester = signed_in(cast.agent1, scheme=scheme), signed_in(cast.requester, scheme=scheme)
    problems = []
    for url in ("/queue/?view=open", f"/tickets/{ticket.key}/", "/tickets/new/", "/dev/", "/dashboard/",
                "/notifications/", "/kb/"):
        problems += audit(agent, url)
    for url in ("/portal/", "/portal/new/", f"/portal/tickets/{ticket.key}/", "/notifications/"):
        problems += audit(requester, url)
    assert problems == [], "\n".join(problems)
    agent.goto("/queue/?view=open")
    expect(agent.get_by_role("navigation", name="Main")).to_be_visible()


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_components_that_open_on_demand_are_named_focusable_and_legible(cast, signed_in, scheme):
    ticket = services.ticket_create(actor=cast.agent1, kind=Kind.INCIDENT, title="Payslips are blank",
                                    requester=cast.requester, service=cast.services["payroll"])
    services.ticket_transition(ticket=ticket, to="in_progress", actor=cast.agent1)
    page = signed_in(cast.agent1, scheme=scheme)
    page.goto(f"/tickets/{ticket.key}/")
    problems = []

    page.get_by_label("More moves").first.click()  # the moves menu
    expect(page.get_by_role("button", name="Wait on requester")).to_be_visible()
    problems += [f"menu: {p}" for p in page.evaluate(AUDIT)]
    page.keyboard.press("Escape")

    page.locator("#f-urgency .editable").click()  # an inline editor
    expect(page.locator("#id_edit_urgency")).to_be_focused()
    problems += [f"editor: {p}" for p in page.evaluate(AUDIT)]
    page.keyboard.press("Escape")
    expect(page.locator("#id_edit_urgency")).to_have_count(0)

    page.get_by_role("textbox", name="Comment").fill("Checked the export.")
    page.get_by_role("button", name="Add comment").click()
    expect(page.locator("#toasts .toast")).to_have_count(1)  # a toast
    problems += [f"toast: {p}" for p in page.evaluate(AUDIT)]

    page.keyboard.press("Control+k")  # the command palette
    box = page.get_by_role("searchbox", name="Search tickets, articles, people and services")
    expect(box).to_be_focused()
    box.press_sequentially("payslips")
    expect(page.locator("#palette-results").get_by_role("option").first).to_be_visible()
    problems += [f"palette: {p}" for p in page.evaluate(AUDIT) if "skip link" not in p]
    assert problems == [], "\n".join(problems)
