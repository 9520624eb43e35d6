"""A requester chooses the language of their mail where they set their notifications; the next mail is in it."""

from playwright.sync_api import expect

from sla.models import OutboxMessage
from tests.factories import UserFactory
from tracker import services
from tracker.choices import Kind, Role
from tracker.models import Ticket


def test_a_requester_chooses_deutsch_and_the_next_mail_is_german(signed_in, shot, cast):
    nora = UserFactory(username="nora", role=Role.REQUESTER, first_name="Nora", time_zone="Europe/Berlin")
    ticket = services.ticket_create(actor=nora, kind=Kind.INCIDENT, title="Drucker streikt",
                                    service=cast.services["payroll"])
    services.ticket_assign(ticket=ticket, actor=cast.agent1, assignee=cast.agent1)
    page = signed_in(nora)

    page.goto("/notifications/")
    language = page.get_by_label("Mail language")
    expect(language).to_have_value("")
    expect(page.get_by_text("Times in your mail and here: Europe/Berlin.")).to_be_visible()
    language.select_option(label="Deutsch")
    shot(page, "mail-language")
    page.get_by_role("button", name="Save settings").click()

    expect(page.get_by_text("Notification settings saved.")).to_be_visible()
    expect(page.get_by_label("Mail language")).to_have_value("de")  # what was chosen is what the page shows
    ticket = Ticket.objects.get(pk=ticket.pk)  # as the agent's next request reads it
    services.ticket_comment(ticket=ticket, actor=cast.agent1, body="Welches Fach?")
    mail = OutboxMessage.objects.filter(recipient=nora).latest("id")
    assert mail.subject == f"[{ticket.key}] Neue Antwort von {cast.agent1}: Drucker streikt"
    assert "schrieb zu" in mail.body and "Welches Fach?" in mail.body
    assert 'lang="de"' in mail.html_body
