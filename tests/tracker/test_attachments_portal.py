"""The portal: a requester attaches files when raising a request and with a reply, sees their ticket's
non-internal files, and never an internal one (not even by its address)."""
import pytest

from tests.tracker.test_attachments import upload
from tracker import services
from tracker.models import Attachment, Comment, Ticket


@pytest.fixture
def ticket(cast):
    return services.ticket_create(actor=cast.requester, kind="incident", title="VPN drops every hour")


def test_a_requester_raises_a_request_with_a_screenshot(cast, client_for):
    response = client_for(cast.requester).post("/portal/new/", {
        "kind": "incident", "title": "Payslip is blank", "impact": 3, "urgency": 2, "files": [upload()]})
    ticket = Ticket.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/portal/tickets/{ticket.key}/"
    assert Attachment.objects.get().ticket == ticket
    page = client_for(cast.requester).get(response["Location"]).content.decode()
    assert "screen.png" in page and "Files" in page


def test_a_refused_file_raises_nothing_and_the_form_keeps_what_was_typed(cast, client_for, settings):
    settings.CROSSLINE_ATTACHMENT_MAX_BYTES = 10
    response = client_for(cast.requester).post("/portal/new/", {
        "kind": "incident", "title": "Payslip is blank", "impact": 3, "urgency": 2, "files": [upload()]})
    assert response.status_code == 400
    page = response.content.decode()
    assert "at most" in page and 'value="Payslip is blank"' in page
    assert not Ticket.objects.exists() and not Attachment.objects.exists()


def test_a_reply_carries_files_and_a_refused_one_keeps_the_typed_reply(cast, client_for, ticket, settings):
    client = client_for(cast.requester)
    settings.CROSSLINE_ATTACHMENT_MAX_BYTES = 10
    response = client.post(f"/portal/tickets/{ticket.key}/reply/", {"body": "It happened again", "files": [upload()]})
    assert response.status_code == 413
    page = response.content.decode()
    assert "It happened again</textarea>" in page and "at most" in page and not Comment.objects.exists()
    settings.CROSSLINE_ATTACHMENT_MAX_BYTES = 10 * 1024
    response = client.post(f"/portal/tickets/{ticket.key}/reply/", {"body": "It happened again", "files": [upload()]})
    assert response.status_code == 302
    page = client.get(f"/portal/tickets/{ticket.key}/").content.decode()
    a = Attachment.objects.get()
    assert a.comment.body == "It happened again" and f'href="/attachments/{a.pk}/screen.png"' in page


def test_the_requester_sees_the_public_files_and_never_an_internal_one(cast, client_for, ticket):
    services.ticket_comment(ticket=ticket, actor=cast.agent1, body="Router log", internal=True,
                            files=[upload("router.log", b"secret", "text/plain")])
    services.attachments_add(ticket=ticket, actor=cast.agent1, files=[upload("hidden.png")], internal=True)
    services.attachments_add(ticket=ticket, actor=cast.agent1, files=[upload("steps.png")])
    client = client_for(cast.requester)
    page = client.get(f"/portal/tickets/{ticket.key}/").content.decode()
    assert "steps.png" in page and "router.log" not in page and "hidden.png" not in page
    for a in Attachment.objects.filter(internal=True):
        assert client.get(f"/attachments/{a.pk}/{a.name}").status_code == 404
    assert client_for(cast.other_requester).get(f"/portal/tickets/{ticket.key}/").status_code == 404
