"""Accessibility basics on the main pages, in the light and the dark theme: named inputs, landmarks, a skip
link, visible focus, contrast; and of the components that open on demand (the command palette, the moves
menu, an inline editor, toasts, the queue's column picker, split view and pinned views)."""

import pytest
from django.http import QueryDict
from playwright.sync_api import expect

from tests.factories import TicketFactory
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
      ".badge, .bell, .alert, .muted, .help, .toast, .empty, .editable, .search-results a, .menu-items button, " +
      ".count, .pins a, .column-list label, .preview-pane .key, .preview-pane dt")) {
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


FOCUSED = """() => { const el = document.activeElement; const s = getComputedStyle(el);
  const name = el.getAttribute("aria-label") || el.labels?.[0]?.textContent.trim() || el.textContent.trim();
  return [name, s.outlineStyle]; }"""


def tab_names(page, count):
    """What the next `count` presses of Tab focus, by name; each must show a focus ring."""
    names = []
    for _ in range(count):
        page.keyboard.press("Tab")
        name, outline = page.evaluate(FOCUSED)
        assert outline != "none", f"no visible focus on {name}"
        names.append(name)
    return names


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_the_queues_column_picker_split_view_and_pins_are_named_in_order_and_legible(cast, signed_in, scheme):
    ticket = services.ticket_create(actor=cast.requester, kind=Kind.INCIDENT, title="Payslips are blank",
                                    service=cast.services["payroll"], description="All of **finance**.")
    services.ticket_comment(ticket=ticket, actor=cast.agent1, body="Looking at the export.")
    TicketFactory(requester=cast.requester, group=cast.l1, title="Printer jams")
    services.queue_view_save(actor=cast.agent1, name="Desk P1", query=QueryDict("view=open&priority=1"),
                             group=cast.l1)
    page = signed_in(cast.agent1, scheme=scheme, viewport={"width": 1440, "height": 900})
    page.goto("/queue/?view=open&sort=created")
    expect(page.get_by_role("navigation", name="Pinned views").locator(".count").first).to_be_visible()
    expect(page.get_by_role("navigation", name="Saved views").locator(".count").first).to_be_visible()
    problems = [f"queue: {p}" for p in page.evaluate(AUDIT)]

    # the column picker: named controls, in a sensible focus order, each with a visible focus
    summary = page.locator("#column-picker summary")
    summary.focus()
    page.keyboard.press("Enter")
    assert tab_names(page, 6) == ["Apply", "Reset to defaults", "Title", "Move Title up", "Move Title down",
                                  "Status"]
    problems += [f"picker: {p}" for p in page.evaluate(AUDIT)]
    page.keyboard.press("Escape")  # closes the menu, back on its button
    expect(page.locator("#column-picker")).not_to_have_attribute("open", "")
    expect(summary).to_be_focused()

    # the split view: a pressed toggle, the preview as a named region, its next step reachable by Tab
    toggle = page.get_by_role("button", name="Split view")
    toggle.focus()
    page.keyboard.press("Enter")
    expect(toggle).to_have_attribute("aria-pressed", "true")
    page.keyboard.press("j")
    preview = page.get_by_role("complementary", name="Ticket preview")
    expect(preview.get_by_role("heading", name="Payslips are blank")).to_be_visible()
    expect(page.locator(f"#row-{ticket.key} a[data-open]")).to_be_focused()
    page.keyboard.press("ArrowRight")  # into the preview, and back with ArrowLeft
    assert page.evaluate(FOCUSED) == ["Payslips are blank", "solid"]
    assert tab_names(page, 2) == ["Start work", "Open for more moves Enter"]
    page.keyboard.press("ArrowLeft")
    expect(page.locator(f"#row-{ticket.key} a[data-open]")).to_be_focused()
    problems += [f"split view: {p}" for p in page.evaluate(AUDIT)]
    assert problems == [], "\n".join(problems)
