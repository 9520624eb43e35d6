"""A queue an agent works from, in the browser: columns they choose (and a saved view that keeps its own for
a teammate), 30+ rows on a 900 px screen in compact density, the split view walked by keyboard, and the
pinned views' counts in the top bar."""

import re

import pytest
from django.http import QueryDict
from playwright.sync_api import expect

from tests.e2e.conftest import ARTIFACTS
from tests.factories import TicketFactory
from tracker import services
from tracker.choices import Kind
from tracker.models import QueueView, User

SCREEN_900 = {"width": 1366, "height": 900}
HEADINGS = """() => [...document.querySelectorAll('table.queue-table thead th')].slice(1, -1)
    .map(th => th.innerText.replace(/[↑↓]/g, '').trim())"""


def headings(page) -> list[str]:
    return page.evaluate(HEADINGS)


def open_picker(page):
    page.get_by_text("Columns", exact=True).first.click()
    picker = page.locator("#column-picker")
    expect(picker.get_by_role("button", name="Apply")).to_be_visible()
    return picker


def test_columns_are_chosen_ordered_kept_and_travel_with_a_team_view(cast, signed_in, shot):
    cast.l1.members.add(cast.agent2)
    TicketFactory(requester=cast.requester, group=cast.l1, priority=1, service=cast.services["payroll"],
                  title="Till down")
    lena = signed_in(cast.agent1)
    lena.goto("/queue/?view=open")
    assert headings(lena) == ["Key", "Title", "Status", "Priority", "SLA", "Group", "Responsible", "Created", "Updated"]

    picker = open_picker(lena)
    picker.get_by_role("checkbox", name="Responsible", exact=True).uncheck()
    picker.get_by_role("checkbox", name="Service", exact=True).check()
    picker.get_by_role("button", name="Move Service up").click()  # a button, focus stays on it
    expect(picker.get_by_role("button", name="Move Service up")).to_be_focused()
    picker.get_by_role("checkbox", name="Service", exact=True).focus()
    for _ in range(10):
        lena.keyboard.press("Alt+ArrowUp")  # the keyboard, from the item
    expect(picker.get_by_role("status")).to_have_text("Service: position 3 of 15")
    picker.locator("li[data-column=kind] .grip").drag_to(picker.locator("li[data-column=title]"),
                                                          target_position={"x": 5, "y": 2})  # and a drag
    picker.get_by_role("checkbox", name="Kind", exact=True).check()
    shot(lena, "queue-column-picker")
    picker.get_by_role("button", name="Apply").click()
    expect(lena.locator("#toasts")).to_contain_text("Your columns are saved.")
    expect(lena.locator("table.queue-table thead")).to_contain_text("Service")
    assert headings(lena) == ["Key", "Kind", "Title", "Status", "Service", "Priority", "SLA", "Group", "Created",
                              "Updated"]
    lena.reload()  # kept for her
    assert headings(lena)[:5] == ["Key", "Kind", "Title", "Status", "Service"]
    assert User.objects.get(pk=cast.agent1.pk).queue_columns[:4] == ["kind", "title", "status", "service"]

    # a refused choice says what to fix in place, keeps the ticks, and the next Apply works
    picker = open_picker(lena)
    ticked = picker.locator("input[name=columns]:checked")
    while ticked.count():
        ticked.first.uncheck()
    picker.get_by_role("button", name="Apply").click()
    refusal = lena.locator("#column-picker").get_by_role("alert")
    expect(refusal).to_have_text("Show at least one column besides the key.")
    lena.locator("#column-picker").get_by_role("checkbox", name="Title", exact=True).check()
    lena.locator("#column-picker").get_by_role("checkbox", name="Priority", exact=True).check()
    lena.locator("#column-picker").get_by_role("button", name="Apply").click()
    expect(lena.locator("table.queue-table thead")).not_to_contain_text("Service")
    assert headings(lena) == ["Key", "Title", "Priority"]

    # the view, saved for the team with these columns, shows them to a teammate
    lena.goto("/queue/?view=open&priority=1")
    lena.get_by_text("Save view…").click()
    lena.get_by_label("Name").fill("Desk P1")
    lena.get_by_label("Who sees it").select_option(label=f"{cast.l1.name} (my team)")
    expect(lena.get_by_label("With the columns shown now")).to_be_checked()
    lena.get_by_role("button", name="Save the current filters and sort").click()
    saved_link = lena.get_by_role("navigation", name="Saved views").get_by_role("link", name=re.compile("Desk P1"))
    expect(saved_link).to_be_visible()
    assert QueueView.objects.get(name="Desk P1").columns == ["title", "priority"]

    liam = signed_in(cast.agent2)
    liam.goto("/queue/?view=open")
    assert "Responsible" in headings(liam)  # his own columns: the defaults
    liam.get_by_role("navigation", name="Saved views").get_by_role("link", name=re.compile("Desk P1")).click()
    expect(liam.locator("table.queue-table thead")).not_to_contain_text("Responsible")  # the view has loaded
    expect(liam.locator("#results")).to_contain_text("Till down")
    assert headings(liam) == ["Key", "Title", "Priority"]
    shot(liam, "queue-team-view-columns")

    # reset to the defaults (for himself: the view keeps its columns)
    liam.goto("/queue/?view=open")
    picker = open_picker(liam)
    picker.get_by_role("button", name="Reset to defaults").click()
    expect(liam.locator("#toasts")).to_contain_text("Your columns are back to the defaults.")


@pytest.mark.parametrize("density", ["compact", "comfortable"])
def test_compact_density_fits_30_rows_on_a_900px_screen(cast, signed_in, density):
    for n in range(60):
        TicketFactory(requester=cast.requester, group=cast.l1, assignee=cast.agent1,
                      title=f"Printer {n} on the third floor jams on every duplex job since the driver update")
    page = signed_in(cast.agent1, viewport=SCREEN_900, density=density)
    page.goto("/queue/?view=open")
    page.wait_for_load_state("networkidle")
    visible = page.evaluate("""() => [...document.querySelectorAll('table.queue-table tbody tr')]
        .filter(tr => { const r = tr.getBoundingClientRect(); return r.top >= 0 && r.bottom <= window.innerHeight; })
        .length""")
    height = page.locator("table.queue-table tbody tr").first.bounding_box()["height"]
    page.screenshot(path=str(ARTIFACTS / f"queue-900px-{density}.png"))
    if density == "compact":
        assert visible >= 30, (visible, height)
    else:  # comfortable stays comfortable: room around each row
        assert height >= 30 and visible < 30, (visible, height)


def test_split_view_walked_by_keyboard(cast, signed_in, shot):
    first = services.ticket_create(actor=cast.requester, kind=Kind.INCIDENT, title="Payslips are blank",
                                   service=cast.services["payroll"], description="All of **finance**.")
    services.ticket_comment(ticket=first, actor=cast.agent1, body="Looking at the export now.")
    second = services.ticket_create(actor=cast.requester, kind=Kind.INCIDENT, title="VPN drops every hour")
    page = signed_in(cast.agent1)
    page.goto("/queue/?view=open&sort=created")  # oldest first: the payslips, then the VPN
    preview = page.get_by_role("complementary", name="Ticket preview")
    expect(preview).to_be_hidden()
    page.get_by_role("button", name="Split view").click()
    expect(preview).to_be_visible()
    expect(preview).to_contain_text("Choose a ticket to preview")
    expect(page.get_by_role("button", name="Split view")).to_have_attribute("aria-pressed", "true")

    page.keyboard.press("j")
    expect(preview.get_by_role("heading", name="Payslips are blank")).to_be_visible()
    expect(preview).to_contain_text("Looking at the export now.")
    expect(page.locator(f"#row-{first.key}")).to_have_class(re.compile("cursor"))
    page.keyboard.press("j")
    expect(preview.get_by_role("heading", name="VPN drops every hour")).to_be_visible()
    expect(page.locator(f"#row-{second.key}")).to_have_class(re.compile("cursor"))
    page.keyboard.press("k")
    expect(preview.get_by_role("heading", name="Payslips are blank")).to_be_visible()
    page.keyboard.press("ArrowDown")  # arrows too, while the list has focus
    expect(preview.get_by_role("heading", name="VPN drops every hour")).to_be_visible()
    page.keyboard.press("ArrowUp")
    expect(preview.get_by_role("heading", name="Payslips are blank")).to_be_visible()
    shot(page, "queue-split-view")

    # the next step from the preview, by keyboard: the preview and the list follow
    page.keyboard.press("ArrowRight")  # into the preview
    page.keyboard.press("Tab")
    expect(preview.get_by_role("button", name="Start work")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator("#toasts")).to_contain_text(f"{first.key} is now “In progress”")
    expect(preview.locator(".badge.status")).to_have_text("In progress")
    expect(page.locator(f"#row-{first.key}")).to_contain_text("In progress")

    # Enter opens the chosen ticket
    page.keyboard.press("ArrowLeft")  # back to the list
    expect(page.locator(f"#row-{first.key} a[data-open]")).to_be_focused()
    page.keyboard.press("j")
    expect(preview.get_by_role("heading", name="VPN drops every hour")).to_be_visible()
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(f"/tickets/{second.key}/"))
    page.goto("/queue/?view=open")
    expect(page.get_by_role("button", name="Split view")).to_have_attribute("aria-pressed", "true")  # kept
    expect(preview).to_be_visible()
    assert User.objects.get(pk=cast.agent1.pk).queue_split is True

    # a narrow screen: the plain list, no preview to load
    narrow = signed_in(cast.agent1, viewport={"width": 900, "height": 800})
    narrow.goto("/queue/?view=open")
    requests = []
    narrow.on("request", lambda r: requests.append(r.url) if "/preview/" in r.url else None)
    narrow.keyboard.press("j")
    expect(narrow.locator("tr.cursor")).to_have_count(1)
    expect(narrow.get_by_role("complementary", name="Ticket preview")).to_be_hidden()
    narrow.wait_for_timeout(300)
    assert requests == []


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("density", ["comfortable", "compact"])
def test_split_view_screenshots(cast, signed_in, scheme, density):
    ticket = services.ticket_create(actor=cast.requester, kind=Kind.INCIDENT, title="Payslips are blank",
                                    service=cast.services["payroll"], description="All of **finance** sees it.")
    services.ticket_comment(ticket=ticket, actor=cast.agent1, body="Looking at the export now.")
    for n in range(15):
        services.ticket_create(actor=cast.requester, kind=Kind.INCIDENT, title=f"Printer {n} jams")
    User.objects.filter(pk=cast.agent1.pk).update(queue_split=True)
    page = signed_in(cast.agent1, viewport={"width": 1440, "height": 900}, scheme=scheme, density=density)
    page.goto("/queue/?view=open&sort=created")
    page.keyboard.press("j")
    expect(page.get_by_role("complementary", name="Ticket preview")).to_contain_text("Looking at the export now.")
    page.wait_for_load_state("networkidle")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"look-queue-split-{scheme}-{density}.png"))


def test_pinned_views_show_live_counts_in_the_top_bar(cast, signed_in):
    for n in range(2):
        TicketFactory(requester=cast.requester, group=cast.l1, assignee=cast.agent1, title=f"Mine {n}")
    TicketFactory(requester=cast.requester, group=cast.l1, priority=1, title="Till down")
    services.queue_view_save(actor=cast.agent1, name="Desk P1", query=QueryDict("view=open&priority=1"),
                             group=cast.l1)
    page = signed_in(cast.agent1)
    ticket = TicketFactory(requester=cast.requester, title="Mouse squeaks")
    page.goto(f"/tickets/{ticket.key}/")  # any page: the counts come after it
    pins = page.get_by_role("navigation", name="Pinned views")
    expect(pins.get_by_role("link", name="My open 2")).to_be_visible()
    expect(pins.get_by_role("link", name="Desk P1 1")).to_be_visible()
    pins.get_by_role("link", name="Desk P1 1").click()
    expect(page.locator("#results")).to_contain_text("Till down")

    # pin another view from the queue
    views = page.get_by_role("navigation", name="Saved views")
    views.get_by_role("link", name=re.compile("Everything")).click()
    expect(views.get_by_role("link", name=re.compile("Everything")).locator(".count")).to_be_visible()
    page.get_by_role("button", name="Pin “Everything” to the top bar").click()
    expect(page.locator("#toasts")).to_contain_text("Pinned to the top bar.")
    expect(pins.get_by_role("link", name=re.compile(r"^Everything \d"))).to_be_visible()
    expect(page.get_by_role("button", name="Pin “Everything” to the top bar")).to_have_attribute("aria-pressed", "true")

    # the counts follow the queue's refresh
    TicketFactory(requester=cast.requester, group=cast.l1, assignee=cast.agent1, title="Mine 3")
    page.get_by_role("button", name="Refresh").click()
    expect(pins.get_by_role("link", name="My open 3")).to_be_visible()

    page.get_by_role("button", name="Pin “Everything” to the top bar").click()  # and unpin
    expect(pins.get_by_role("link", name=re.compile("Everything"))).to_have_count(0)
