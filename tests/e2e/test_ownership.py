"""Touch and hold on the ticket page: the owner and the responsible side by side, the owner named inline,
and a refused owner change said in place, with the next choice saved."""

from playwright.sync_api import expect

from tracker import services
from tracker.choices import Kind
from tracker.models import Ticket


def test_the_owner_stays_beside_the_responsible_and_is_named_inline(cast, signed_in, shot):
    ticket = services.ticket_create(actor=cast.requester, kind=Kind.INCIDENT, title="Payslips are blank",
                                    service=cast.services["payroll"])
    services.ticket_assign(ticket=ticket, actor=cast.agent1, assignee=cast.agent1)
    services.ticket_escalate(ticket=ticket, actor=cast.agent1, note="Needs application support.")
    services.ticket_assign(ticket=ticket, actor=cast.agent2, assignee=cast.agent2)

    page = signed_in(cast.agent2)
    page.goto(f"/tickets/{ticket.key}/")
    details = page.locator("dl.props")
    expect(details.locator("#f-owner")).to_contain_text("lena")
    expect(details.locator("#f-assignee")).to_contain_text("liam")
    expect(page.get_by_text("Responsible", exact=True)).to_be_visible()
    shot(page, "ticket-owner-and-responsible")

    # no owner at all is refused, in place
    page.locator("#f-owner .editable").click()
    select = page.get_by_label("Owner")
    expect(select).to_be_focused()
    select.select_option(label="Nobody")
    expect(page.locator("#f-owner [role=alert]")).to_contain_text("keeps an owner once it has one")
    assert Ticket.objects.get(pk=ticket.pk).owner == cast.agent1

    # the next choice is saved
    page.get_by_label("Owner").select_option(value=str(cast.agent2.pk))
    expect(page.locator("#f-owner [role=alert]")).to_have_count(0)
    expect(page.locator("#f-owner")).to_contain_text("liam")
    assert Ticket.objects.get(pk=ticket.pk).owner == cast.agent2
    expect(page.locator(".timeline")).to_contain_text("Owner now liam")
