"""An administrator sets up an intake mailbox against a real IMAP server (a duplicate address refused in place, what
was typed kept), checks its connection, polls it and finds the new ticket; a manager reviews a held reply."""

import re

from playwright.sync_api import expect

from sla.choices import InboundOutcome
from sla.models import InboundMail, Mailbox
from sla.services.mail_intake import mail_receive
from tests.mail.imap_server import ImapServer
from tests.mail.test_poll import raw_mail
from tracker.models import Ticket


def test_an_admin_sets_up_a_mailbox_checks_it_polls_it_and_sees_the_ticket(signed_in, cast, shot):
    Mailbox.objects.create(name="Changes", address="desk@crossline.test")
    with ImapServer(user="desk", password="secret") as imap:
        imap.deliver(raw_mail(1, subject="Scanner offline"))
        page = signed_in(cast.admin)
        page.get_by_role("navigation", name="Main").get_by_role("link", name="Mailboxes").click()
        page.get_by_role("link", name="New mailbox").first.click()
        page.get_by_label("Name").fill("Service desk")
        page.get_by_label("Address").fill("desk@crossline.test")
        page.get_by_label("IMAP host").fill(imap.host)
        page.get_by_label("IMAP port").fill(str(imap.port))
        page.get_by_label("Use TLS (IMAPS)").uncheck()
        page.get_by_label("IMAP user").fill("desk")
        page.get_by_label("IMAP password").fill("secret")
        page.get_by_role("button", name="Save mailbox").click()
        expect(page.get_by_role("alert")).to_contain_text("The mailbox was not saved")
        expect(page.get_by_text("Another mailbox already reads desk@crossline.test.")).to_be_visible()
        expect(page.get_by_label("Name")).to_have_value("Service desk")
        expect(page.get_by_label("IMAP port")).to_have_value(str(imap.port))
        expect(page.get_by_label("Use TLS (IMAPS)")).not_to_be_checked()
        shot(page, "mailbox-refused")

        page.get_by_label("Address").fill("help@crossline.test")
        page.get_by_role("button", name="Save mailbox").click()
        expect(page.get_by_text("Saved the mailbox “Service desk”.")).to_be_visible()
        box = Mailbox.objects.get(address="help@crossline.test")
        row = page.locator(f"#mailbox-{box.pk}")
        row.get_by_role("button", name="Check connection of Service desk").click()
        expect(page.locator(f"#mailbox-{box.pk}-result")).to_have_text("Connected: 1 message in INBOX.")
        page.locator(f"#mailbox-{box.pk}").get_by_role("button", name="Poll Service desk now").click()
        expect(page.locator(f"#mailbox-{box.pk}-result")).to_have_text("Polled: filed 1 new message.")
        expect(page.locator(f"#mailbox-{box.pk}")).to_contain_text("1 created")
        shot(page, "mailbox-polled")
        assert imap.unseen() == []

    ticket = Ticket.objects.get(title="Scanner offline")
    page.goto(page.url.split("/settings/")[0] + f"/tickets/{ticket.key}/")
    expect(page.get_by_role("heading", name=re.compile("Scanner offline"))).to_be_visible()
    expect(page.get_by_text("It jams on page 1.")).to_be_visible()
    assert ticket.requester.email == "nora@example.org"


def test_a_manager_reviews_a_held_reply_and_drops_it_or_files_it_as_new(signed_in, cast, shot):
    ticket = mail_receive(raw_mail(1, sender=cast.requester.email)).ticket
    first = mail_receive(raw_mail(2, sender=cast.other_requester.email, subject=f"Re: [{ticket.key}] me too"))
    second = mail_receive(raw_mail(3, sender=cast.other_requester.email, subject=f"Re: [{ticket.key}] also me"))
    assert first.outcome == second.outcome == InboundOutcome.HELD
    page = signed_in(cast.manager)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Held mail").click()
    expect(page.locator(f"#mail-{first.pk}")).to_contain_text(ticket.key)
    page.get_by_role("link", name=f"Re: [{ticket.key}] me too").click()
    expect(page.get_by_text("is not on")).to_be_visible()
    expect(page.get_by_text("It jams on page 2.")).to_be_visible()
    shot(page, "held-mail")
    page.get_by_role("button", name="Drop").click()
    expect(page.get_by_text(re.compile("Dropped the mail"))).to_be_visible()
    expect(page.locator(f"#mail-{first.pk}")).to_have_count(0)

    page.get_by_role("link", name=f"Re: [{ticket.key}] also me").click()
    page.get_by_role("button", name="File as new ticket").click()
    expect(page.get_by_text(re.compile("Filed as a new ticket"))).to_be_visible()
    second = InboundMail.objects.get(pk=second.pk)
    assert second.outcome == InboundOutcome.CREATED and second.ticket_id != ticket.pk
    assert (InboundMail.objects.get(pk=first.pk).outcome, first.ticket_id) == (InboundOutcome.DROPPED, ticket.pk)
