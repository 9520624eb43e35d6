"""A macro fills the reply, may be edited, and sending it also moves the ticket; its use is on the timeline."""

from playwright.sync_api import expect

from tracker import services
from tracker.choices import Kind, Status
from tracker.models import Macro, Ticket


def test_a_macro_fills_a_reply_and_moves_the_status(cast, signed_in, shot):
    ticket = services.ticket_create(actor=cast.agent1, kind=Kind.INCIDENT, title="VPN drops",
                                    requester=cast.requester, group=cast.l1)
    services.ticket_transition(ticket=ticket, to=Status.IN_PROGRESS, actor=cast.agent1)
    Macro.objects.create(name="Ask for the site", body="Hi {requester_first_name}, which office are you in?",
                         to_status=Status.PENDING, group=cast.l1)
    page = signed_in(cast.agent1)
    page.goto(f"/tickets/{ticket.key}/")
    page.get_by_label("Reply with").select_option(label="Ask for the site (Service Desk)")
    box = page.get_by_role("textbox", name="Comment")
    expect(box).to_have_value("Hi Alice, which office are you in?")
    expect(page.locator("#comment-form")).to_contain_text("moves it to Waiting on requester")
    box.fill("Hi Alice, which office are you in? Leeds or York?")
    shot(page, "macro-filled")
    page.get_by_role("button", name="Add comment").click()
    expect(page.locator(".badge.status").first).to_have_text("Waiting on requester")
    expect(page.locator(".timeline")).to_contain_text("Leeds or York?")
    expect(page.locator(".timeline")).to_contain_text("Used the macro “Ask for the site”")
    assert Ticket.objects.get(pk=ticket.pk).status == Status.PENDING
