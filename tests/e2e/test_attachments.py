"""Files in the browser: an agent attaches two files on the ticket page and sees them; a reply with a file over
the limit is refused in place with the typed reply kept, and the next submit works; the requester attaches a
file to a reply in the portal and sees it, and never sees the desk's internal file."""

import pytest
from playwright.sync_api import expect

from tracker import services
from tracker.choices import Kind
from tracker.models import Attachment, Comment

PNG = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
       b"\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82")


def file(name, data, mime):
    return {"name": name, "mimeType": mime, "buffer": data}


@pytest.fixture
def ticket(cast):
    return services.ticket_create(actor=cast.agent1, kind=Kind.INCIDENT, title="Payslip PDF is blank",
                                  requester=cast.requester, service=cast.services["payroll"], group=cast.l1)


def test_an_agent_attaches_two_files_and_sees_them(cast, ticket, signed_in, shot):
    lena = signed_in(cast.agent1)
    lena.goto(f"/tickets/{ticket.key}/")
    panel = lena.locator("#attachments-panel")
    panel.get_by_label("Files to attach").set_input_files([
        file("screen.png", PNG, "image/png"), file("trace.log", b"at line 3\n", "text/plain")])
    panel.get_by_role("button", name="Attach", exact=True).click()
    expect(lena.get_by_role("status")).to_contain_text("Attached screen.png, trace.log.")
    files = lena.locator("#attachments-panel").get_by_role("list", name="Files")
    expect(files.get_by_role("link", name="trace.log")).to_be_visible()
    expect(files.get_by_role("img", name="screen.png")).to_be_visible()
    expect(lena.locator(".timeline")).to_contain_text("added trace.log")
    shot(lena, "attachments-panel")
    assert Attachment.objects.count() == 2


def test_a_reply_with_a_too_big_file_is_refused_in_place_and_the_next_one_works(cast, ticket, signed_in, settings):
    settings.CROSSLINE_ATTACHMENT_MAX_BYTES = 1024
    lena = signed_in(cast.agent1)
    lena.goto(f"/tickets/{ticket.key}/")
    form = lena.locator("#comment-form")
    form.locator("#id_body").fill("The payroll run log is attached")
    form.locator("#id_comment_files").set_input_files([file("run.log", b"x" * 4096, "text/plain")])
    form.get_by_role("button", name="Add comment").click()
    form = lena.locator("#comment-form")
    expect(form.get_by_role("alert")).to_contain_text("run.log is")
    expect(form.locator("#id_body")).to_have_value("The payroll run log is attached")
    assert not Comment.objects.exists()
    form.get_by_role("button", name="Add comment").click()
    expect(lena.get_by_role("status")).to_contain_text("Comment added.")
    expect(lena.locator(".timeline")).to_contain_text("The payroll run log is attached")
    assert Comment.objects.count() == 1 and not Attachment.objects.exists()


def test_the_requester_attaches_a_file_to_a_reply_and_never_sees_the_internal_one(cast, ticket, signed_in, shot):
    services.attachments_add(ticket=ticket, actor=cast.agent1, internal=True,
                             files=[_upload("router-internal.log", b"secret", "text/plain")])
    alice = signed_in(cast.requester)
    alice.goto(f"/portal/tickets/{ticket.key}/")
    reply = alice.locator("#reply-form")
    reply.get_by_label("Add a reply").fill("Here is my screen")
    reply.get_by_label("Attach files").set_input_files([file("my-screen.png", PNG, "image/png")])
    reply.get_by_role("button", name="Send").click()
    expect(alice.get_by_text("Your reply was added.")).to_be_visible()
    expect(alice.get_by_role("link", name="my-screen.png").first).to_be_visible()
    expect(alice.get_by_text("router-internal.log")).to_have_count(0)
    shot(alice, "attachments-portal")
    internal = Attachment.objects.get(internal=True)
    response = alice.goto(f"/attachments/{internal.pk}/{internal.name}")
    assert response.status == 404


def _upload(name, data, mime):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, data, content_type=mime)
