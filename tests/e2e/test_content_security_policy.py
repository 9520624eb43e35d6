"""Every main page works under the Content-Security-Policy: no refused script, style or eval in the console."""

import re

from playwright.sync_api import expect

from tracker import services
from tracker.choices import Kind

BLOCKED = re.compile(r"Content Security Policy|Refused to|evalDisallowed|unsafe-eval", re.I)


def _watch(page):
    """Console errors and warnings that a refused resource or eval would print, plus uncaught errors."""
    problems = []
    page.on("console", lambda msg: msg.type in ("error", "warning") and BLOCKED.search(msg.text)
            and problems.append(f"{page.url}: {msg.text}"))
    page.on("pageerror", lambda exc: problems.append(f"{page.url}: {exc}"))
    return problems


def test_the_agent_pages_run_under_the_policy(cast, signed_in, live_server):
    cast.agent1.is_staff = True
    cast.agent1.save()
    ticket = services.ticket_create(actor=cast.requester, kind=Kind.INCIDENT, title="Payslips are blank",
                                    service=cast.services["payroll"])
    page = signed_in(cast.agent1)
    problems = _watch(page)
    response = page.goto("/queue/")
    policy = response.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "unsafe-eval" not in policy and "object-src 'none'" in policy

    # The queue's keyboard-help button still has an inline onclick, allowed by its hash alone.
    page.get_by_role("button", name="Keyboard").click()
    expect(page.locator("#keys-help")).to_be_visible()

    for url in (f"/tickets/{ticket.key}/", "/tickets/new/", "/dev/", "/kb/", "/notifications/", "/admin/",
                "/api/docs/", "/no-such-page/"):
        page.goto(url)
        page.wait_for_load_state("networkidle")
    expect(page.get_by_role("heading", name="Not found")).to_be_visible()

    page.goto("/dashboard/")
    page.wait_for_load_state("networkidle")
    # The charts are drawn by static/js/dashboard.js, and the period select submits itself without inline JS.
    assert page.evaluate("() => !!window.Chart && !!Chart.getChart(document.getElementById('trend-chart'))")
    page.get_by_role("combobox", name="Period").select_option("7")
    expect(page).to_have_url(re.compile(r"days=7"))
    assert problems == []


def test_the_requester_pages_run_under_the_policy(cast, signed_in):
    ticket = services.ticket_create(actor=cast.requester, kind=Kind.INCIDENT, title="Payslips are blank")
    page = signed_in(cast.requester)
    problems = _watch(page)
    page.goto(f"/portal/tickets/{ticket.key}/")
    page.wait_for_load_state("networkidle")
    # The ticket page polls for changes while visible (an htmx trigger filter, rewritten by app.js: no eval).
    expect(page.locator("#changes-banner")).to_have_attribute("hx-trigger", re.compile(r"^every \d+s$"))
    expect(page.locator("#changes-banner")).to_have_attribute("data-poll-visible", "")
    for url in ("/portal/", "/portal/new/?kind=incident", "/kb/"):
        page.goto(url)
        page.wait_for_load_state("networkidle")
    assert problems == []
