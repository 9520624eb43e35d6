"""The change calendar in the browser: month and week, previous/next/today, the service filter, a collision on
both changes; the Schedule panel refusing a window in a blackout in place (typed values kept, the next submit
works) and carl's override; blackouts managed by the change manager; the personal feed address in a calendar
app."""

import re
from datetime import UTC, datetime

import pytest
from icalendar import Calendar
from playwright.sync_api import expect

from itsm import services
from itsm.choices import Repeat
from itsm.models import Blackout, BlackoutOverride
from tests.e2e.changes import schedule
from tracker import services as core
from tracker.choices import Kind
from tracker.models import Ticket


def at(*args):
    return datetime(*args, tzinfo=UTC)


def change(cast, service, title, start, end, risk="medium"):
    return core.ticket_create(actor=cast.agent2, kind=Kind.CHANGE, title=title, service=service, risk=risk,
                              change_type="normal", window_start=start, window_end=end)


@pytest.fixture
def february(cast):
    payroll, mail = cast.services["payroll"], cast.services["mail"]
    services.blackout_create(actor=cast.change_manager, name="Payroll run", reason="Payslips go out on the 25th.",
                             service=payroll, starts_at=at(2027, 1, 24, 18), ends_at=at(2027, 1, 25, 8),
                             repeat=Repeat.MONTHLY)
    return {
        "release": change(cast, payroll, "Deploy payroll release", at(2027, 2, 2, 19), at(2027, 2, 2, 22), "high"),
        "patch": change(cast, payroll, "Patch payroll database", at(2027, 2, 2, 21), at(2027, 2, 2, 23), "low"),
        "mail": change(cast, mail, "Upgrade mail gateway", at(2027, 2, 10, 19), at(2027, 2, 10, 20)),
        "march": change(cast, mail, "Retire the old SMTP relay", at(2027, 3, 9, 19), at(2027, 3, 9, 21)),
    }


def test_month_and_week_navigation_the_service_filter_and_a_collision(cast, february, signed_in, shot):
    page = signed_in(cast.agent1)
    page.goto("/queue/")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Changes").click()
    expect(page.get_by_role("heading", name="Change calendar")).to_be_visible()
    page.goto("/changes/calendar/?view=month&date=2027-02-14")
    expect(page.get_by_role("heading", name="February 2027")).to_be_visible()
    grid = page.get_by_role("grid")
    for chg in ("release", "patch", "mail"):
        expect(grid).to_contain_text(february[chg].key)
    expect(grid).not_to_contain_text(february["march"].key)
    # the collision is flagged on both changes, and listed with both
    for chg in ("release", "patch"):
        item = grid.locator(".cal-event", has_text=february[chg].title)
        expect(item.get_by_text("Collision")).to_be_visible()
    expect(grid.locator(".cal-event", has_text=february["mail"].title).get_by_text("Collision")).to_have_count(0)
    expect(page.locator("#collisions")).to_contain_text(february["release"].key)
    expect(page.locator("#collisions")).to_contain_text(february["patch"].key)
    expect(grid).to_contain_text("Payroll run")  # the blackout is drawn on the 24th
    shot(page, "calendar-month")

    page.get_by_role("link", name="Next month").click()
    expect(page.get_by_role("heading", name="March 2027")).to_be_visible()
    expect(page.get_by_role("grid")).to_contain_text(february["march"].key)
    page.get_by_role("link", name="Previous month").click()
    expect(page.get_by_role("heading", name="February 2027")).to_be_visible()

    page.get_by_role("group", name="View").get_by_role("link", name="Week").click()
    expect(page.get_by_role("heading", name="Week of 1 Feb 2027")).to_be_visible()
    expect(page.locator(".cal-week")).to_contain_text("Deploy payroll release")
    shot(page, "calendar-week")
    page.get_by_role("link", name="Next week").click()
    expect(page.get_by_role("heading", name="Week of 8 Feb 2027")).to_be_visible()
    expect(page.locator(".cal-week")).to_contain_text(february["mail"].key)
    page.get_by_role("link", name="Previous week").click()
    expect(page.get_by_role("heading", name="Week of 1 Feb 2027")).to_be_visible()

    page.get_by_label("Service", exact=True).select_option(label="Mail")
    expect(page).to_have_url(re.compile(r"service=\d+"))
    expect(page.locator(".cal-week")).not_to_contain_text(february["release"].key)
    page.get_by_role("link", name="Next week").click()
    expect(page.locator(".cal-week")).to_contain_text(february["mail"].key)
    expect(page.get_by_label("Service", exact=True)).to_have_value(str(cast.services["mail"].pk))

    page.get_by_role("link", name="Today").click()
    expect(page.locator(".cal-day.today")).to_be_visible()


def test_the_calendar_on_a_phone(cast, february, signed_in, shot):
    from tests.e2e.conftest import PHONE

    page = signed_in(cast.agent1, viewport=PHONE)
    page.goto("/changes/calendar/?view=month&date=2027-02-01")
    expect(page.get_by_role("grid")).to_contain_text(february["release"].key)
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    shot(page, "calendar-phone")


@pytest.fixture
def freeze(cast):
    return services.blackout_create(actor=cast.change_manager, name="Year-end freeze", reason="Year-end trading.",
                                    starts_at=at(2026, 12, 18, 18), ends_at=at(2027, 1, 4, 6))


@pytest.fixture
def tax_tables(cast):
    return core.ticket_create(actor=cast.agent2, kind=Kind.CHANGE, title="Load 2027 tax tables",
                              service=cast.services["payroll"], risk="low", change_type="normal")


def test_a_window_in_a_blackout_is_refused_in_place_and_the_next_submit_works(cast, freeze, tax_tables, signed_in,
                                                                              shot):
    page = signed_in(cast.agent2)
    page.goto(f"/tickets/{tax_tables.key}/")
    panel = page.locator("#schedule-panel")
    expect(panel.get_by_text("Not scheduled yet")).to_be_visible()
    expect(panel.get_by_label("Override a blackout (change manager)")).to_have_count(0)  # liam is no change manager
    schedule(page, "2026-12-22T19:00", "2026-12-22T21:00")
    form = page.locator("#schedule-form")
    expect(form.get_by_role("alert")).to_contain_text("“Year-end freeze”")
    expect(form.get_by_role("alert")).to_contain_text("Year-end trading.")
    expect(form.get_by_label("Start")).to_have_value("2026-12-22T19:00")
    expect(form.get_by_label("End")).to_have_value("2026-12-22T21:00")
    expect(page.get_by_role("heading", name=tax_tables.title)).to_be_visible()
    assert Ticket.objects.get(pk=tax_tables.pk).window_start is None
    shot(page, "schedule-refused")

    schedule(page, "2027-01-05T19:00", "2027-01-05T21:00")
    expect(page.locator("#schedule-panel .window")).to_contain_text("Tue 5 Jan 2027 19:00–21:00 UTC")
    expect(page.locator(".timeline")).to_contain_text("5 Jan 2027 19:00 UTC")
    assert Ticket.objects.get(pk=tax_tables.pk).window_start == at(2027, 1, 5, 19)


def test_carl_overrides_a_blackout_with_a_reason_that_goes_on_the_timeline(cast, freeze, tax_tables, signed_in,
                                                                           shot):
    page = signed_in(cast.change_manager)
    page.goto(f"/tickets/{tax_tables.key}/")
    panel = page.locator("#schedule-panel")
    panel.get_by_label("Override a blackout (change manager)").check()
    schedule(page, "2026-12-22T19:00", "2026-12-22T21:00")  # ticked, but no reason yet
    form = page.locator("#schedule-form")
    expect(form).to_contain_text("Say why this change may run in the blackout")
    expect(form.get_by_label("Start")).to_have_value("2026-12-22T19:00")
    form.get_by_label("Reason for the override").fill("Statutory tax tables must be live on 1 January.")
    form.get_by_role("button", name="Schedule").click()
    expect(page.locator(".timeline")).to_contain_text("Blackout overridden")
    expect(page.locator(".timeline")).to_contain_text("Statutory tax tables must be live on 1 January.")
    expect(page.locator("#schedule-panel")).to_contain_text("Overridden")
    override = BlackoutOverride.objects.get()
    assert (override.actor, override.blackout) == (cast.change_manager, freeze)
    shot(page, "schedule-overridden")


def test_the_change_manager_adds_edits_and_removes_a_blackout(cast, signed_in, shot):
    page = signed_in(cast.change_manager)
    page.goto("/changes/calendar/")
    page.get_by_role("link", name="Blackouts").click()
    expect(page.get_by_role("heading", name="Blackout windows")).to_be_visible()
    page.get_by_text("Add a blackout").click()
    form = page.locator("#blackout-form")
    form.get_by_label("Name").fill("Quarter-end close")
    form.get_by_label("Starts").fill("2027-03-31T18:00")
    form.get_by_label("Ends").fill("2027-03-30T06:00")  # before it starts
    form.get_by_label("Reason").fill("Finance closes the books.")
    form.get_by_role("button", name="Add the blackout").click()
    form = page.locator("#blackout-form")
    expect(form.get_by_role("alert")).to_contain_text("must end after it starts")
    expect(form.get_by_label("Name")).to_have_value("Quarter-end close")
    expect(form.get_by_label("Reason")).to_have_value("Finance closes the books.")
    shot(page, "blackout-refused")
    form.get_by_label("Ends").fill("2027-04-02T06:00")
    form.get_by_label(re.compile(r"^Repeat:?$")).select_option(label="Every year")
    form.get_by_role("button", name="Add the blackout").click()
    expect(page.locator("#toasts")).to_contain_text("Added the blackout “Quarter-end close”")
    row = page.get_by_role("row", name=re.compile("Quarter-end close"))
    expect(row).to_contain_text("Every year")
    expect(row).to_contain_text("All services")
    shot(page, "blackouts")

    row.get_by_role("link", name="Edit Quarter-end close").click()
    page.locator("#blackout-form").get_by_label(re.compile(r"^Service:?$")).select_option(label="Payroll")
    page.get_by_role("button", name="Save the blackout").click()
    expect(page.get_by_role("row", name=re.compile("Quarter-end close"))).to_contain_text("Payroll")

    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Remove Quarter-end close").click()
    expect(page.locator("#toasts")).to_contain_text("Removed the blackout")
    assert not Blackout.objects.exists()


def test_a_personal_feed_address_opens_in_a_calendar_app_without_signing_in(cast, february, signed_in, browser,
                                                                            live_server):
    page = signed_in(cast.agent1)
    page.goto("/changes/calendar/")
    page.get_by_role("link", name="Subscribe").click()
    page.get_by_role("button", name="Create my feed address").click()
    address = page.get_by_label("Your feed address (shown once: copy it now)")
    expect(address).to_have_value(re.compile(r"/changes/calendar/feed/.+\.ics$"))
    url = address.input_value()
    app = browser.new_context()  # a calendar app: no session
    try:
        response = app.request.get(url)
        assert response.status == 200
        uids = {str(e["UID"]) for e in Calendar.from_ical(response.body()).walk("VEVENT")}
    finally:
        app.close()
    assert any(uid.startswith("blackout-") for uid in uids)  # the payroll run
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Turn it off").click()
    expect(page.locator("#subscription")).to_contain_text("turned off")


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_the_calendar_pages_are_accessible_and_run_under_the_policy(cast, february, freeze, tax_tables, signed_in,
                                                                   scheme):
    from tests.e2e.test_accessibility import audit
    from tests.e2e.test_content_security_policy import _watch

    services.change_schedule(ticket=tax_tables, actor=cast.change_manager, start=at(2026, 12, 22, 19),
                             end=at(2026, 12, 22, 21), override_reason="Statutory.")
    page = signed_in(cast.change_manager, scheme=scheme)
    blocked = _watch(page)
    problems = []
    for url in ("/changes/calendar/?view=month&date=2027-02-01", "/changes/calendar/?view=week&date=2027-02-01",
                "/changes/blackouts/", f"/changes/blackouts/{freeze.pk}/", f"/tickets/{february['release'].key}/",
                f"/tickets/{tax_tables.key}/"):
        problems += audit(page, url)
        page.wait_for_load_state("networkidle")
    assert problems == [], "\n".join(problems)
    assert blocked == []
