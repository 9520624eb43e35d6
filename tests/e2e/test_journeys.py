"""One journey per role, as a person would do it in the browser; assertions on what the page says."""

import csv
import re

from playwright.sync_api import expect

from tests.factories import TicketFactory
from tracker import services
from tracker.choices import Kind, Status
from tracker.models import Ticket

from .conftest import PHONE


def _incident(cast, title="Payslips are blank for March", requester=None):
    return services.ticket_create(
        actor=requester or cast.requester,
        kind=Kind.INCIDENT,
        title=title,
        description="All of **finance** sees an empty slip.",
        service=cast.services["payroll"],
        impact=1,
        urgency=2,
    )


def test_l1_agent_filters_opens_comments_and_escalates(cast, signed_in, shot):
    ticket = _incident(cast)
    TicketFactory.create_batch(5, requester=cast.other_requester, group=cast.l1, title="Printer jammed")
    page = signed_in(cast.agent1)
    expect(page).to_have_url(re.compile(r"/queue/\?view=my-group"))
    expect(page.get_by_role("table", name="Tickets")).to_contain_text("Printer jammed")

    page.keyboard.press("/")
    page.keyboard.type("payslips")
    rows = page.get_by_role("table", name="Tickets").locator("tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text(ticket.key)
    shot(page, "01-queue-filtered")

    page.keyboard.press("Escape")
    page.keyboard.press("j")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name=ticket.title)).to_be_visible()

    page.get_by_label("Comment", exact=True).fill("Looking into it — can you send a **screenshot**?")
    page.get_by_role("tab", name="Preview").click()
    expect(page.locator("#preview-pane strong")).to_have_text("screenshot")
    page.get_by_role("button", name="Add comment").click()
    expect(page.get_by_role("status")).to_contain_text("Comment added")
    expect(page.locator(".timeline")).to_contain_text("can you send a screenshot?")

    page.get_by_role("button", name="Start work").click()
    expect(page.get_by_role("status")).to_contain_text("is now “In progress”")

    page.get_by_text("Escalate…").click()
    page.get_by_label("Why").fill("Needs application support")
    page.get_by_role("button", name="Escalate", exact=True).click()
    expect(page.locator(".timeline")).to_contain_text("Escalated from Service Desk to App Support")
    shot(page, "02-ticket-workspace")
    ticket.refresh_from_db()
    assert ticket.group == cast.l2 and ticket.status == Status.IN_PROGRESS


def test_l3_pick_one_engineer_wins_the_other_is_told(cast, signed_in, shot):
    ticket = _incident(cast, "Net pay rounding off by one cent")
    services.ticket_escalate(ticket=ticket, actor=cast.agent1)
    services.ticket_escalate(ticket=ticket, actor=cast.agent2)
    assert ticket.group == cast.l3

    devon, dana = signed_in(cast.engineer), signed_in(cast.engineer2)
    for page in (devon, dana):
        page.goto("/dev/")
        expect(page.get_by_role("table")).to_contain_text(ticket.key)

    devon.get_by_role("button", name=f"Pick {ticket.key}").click()
    expect(devon.get_by_role("status")).to_contain_text(f"You picked {ticket.key}")
    shot(devon, "03-dev-queue")

    dana.get_by_role("button", name=f"Pick {ticket.key}").click()  # her page still offers it
    expect(dana.get_by_role("alert")).to_contain_text(f"{ticket.key} was already picked by devon")
    shot(dana, "04-dev-queue-pick-refused")
    assert Ticket.objects.get(pk=ticket.pk).assignee == cast.engineer

    devon.goto(f"/tickets/{ticket.key}/")
    devon.get_by_text("Create defect…").click()  # the form: title, severity, component, affected version
    devon.locator("#defect-form").get_by_role("button", name="Create defect").click()
    expect(devon.get_by_role("status")).to_contain_text(f"raised from {ticket.key} and linked")
    expect(devon.get_by_role("complementary")).to_contain_text(ticket.key)


def test_requester_raises_an_incident_and_cannot_open_anothers_ticket(cast, signed_in, shot):
    others = _incident(cast, "Bob's secret laptop request", requester=cast.other_requester)
    page = signed_in(cast.requester)
    expect(page).to_have_url(re.compile(r"/portal/$"))
    shot(page, "05-portal")
    page.get_by_role("link", name="Report a problem").first.click()
    page.get_by_label("Summary").fill("Cannot print payslip")
    page.get_by_label("Details").fill("The print button does nothing since this morning.")
    page.get_by_label("Which service?").select_option(label="Payroll")
    page.get_by_role("button", name="Submit").click()
    expect(page.get_by_role("status")).to_contain_text("is raised")
    expect(page.get_by_role("heading", name="Cannot print payslip")).to_be_visible()
    page.get_by_label("Add a reply").fill("It also fails on my phone.")
    page.get_by_role("button", name="Send").click()
    expect(page.locator(".timeline")).to_contain_text("It also fails on my phone.")
    shot(page, "06-portal-ticket")
    mine = Ticket.objects.get(title="Cannot print payslip")
    assert mine.requester == cast.requester and mine.group == cast.l1

    response = page.goto(f"/portal/tickets/{others.key}/")
    assert response.status == 404
    expect(page.get_by_text("Bob's secret laptop request")).to_have_count(0)

    phone = signed_in(cast.requester, viewport=PHONE)
    expect(phone.get_by_text("Cannot print payslip")).to_be_visible()
    shot(phone, "07-portal-phone")


def test_manager_opens_the_dashboard_and_downloads_a_csv(cast, signed_in, shot, tmp_path):
    ticket = _incident(cast)
    services.ticket_escalate(ticket=ticket, actor=cast.agent1)
    page = signed_in(cast.manager)
    expect(page).to_have_url(re.compile(r"/dashboard/$"))
    expect(page.get_by_role("heading", name="SLA dashboard")).to_be_visible()
    expect(page.get_by_role("heading", name="Escalations per tier")).to_be_visible()
    shot(page, "08-dashboard")
    with page.expect_download() as info:
        page.get_by_role("link", name="Download CSV of Escalations per tier").click()
    path = tmp_path / "escalations.csv"
    info.value.save_as(path)
    rows = list(csv.reader(path.open()))
    assert rows[0] == ["To tier", "Escalations", "Automatic (SLA)"]
    assert rows[1][:2] == ["L2 - Application support", "1"]
