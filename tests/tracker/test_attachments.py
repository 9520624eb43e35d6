"""Files on a ticket: a comment's files (all or nothing), removing one, the Attachments panel and the timeline,
serving a file (who may, how it is sent), the page's queries, and where files are stored."""
import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile

from tests.test_deployment import _settings_process
from tracker import services
from tracker.choices import EventKind, Status
from tracker.errors import AccessDenied, NotFound, TooLarge, ValidationFailed
from tracker.models import Attachment, Comment, TicketEvent

HTMX = {"HTTP_HX_REQUEST": "true"}
PNG = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
       b"\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82")


def upload(name="screen.png", data=PNG, content_type="image/png"):
    return SimpleUploadedFile(name, data, content_type=content_type)


@pytest.fixture
def ticket(cast):
    return services.ticket_create(actor=cast.agent1, kind="incident", title="Payslip PDF is blank",
                                  requester=cast.requester, service=cast.services["payroll"], group=cast.l1)


def stored_names() -> set[str]:
    """Every stored file (the run's media folder is shared by the tests: compare before and after)."""
    names = []

    def walk(path):
        dirs, files = default_storage.listdir(path)
        names.extend(f"{path}/{f}" for f in files)
        for d in dirs:
            walk(f"{path}/{d}")

    if default_storage.exists("attachments"):
        walk("attachments")
    return set(names)


# --- the domain ---------------------------------------------------------------------------------------------

def test_a_comment_carries_its_files_under_its_own_timeline_row(cast, ticket):
    comment = services.ticket_comment(ticket=ticket, actor=cast.requester, body="Here is what I see",
                                      files=[upload(), upload("log.txt", b"line 1\n", "text/plain")])
    files = list(Attachment.objects.filter(comment=comment).order_by("name"))
    assert [f.name for f in files] == ["log.txt", "screen.png"]
    assert all(f.ticket == ticket and f.uploaded_by == cast.requester and not f.internal for f in files)
    assert not TicketEvent.objects.filter(ticket=ticket, kind=EventKind.ATTACHMENT).exists()


def test_a_refused_file_refuses_the_comment_and_nothing_is_written_or_stored(cast, ticket, settings):
    settings.CROSSLINE_ATTACHMENT_MAX_BYTES = 100
    before = stored_names()
    with pytest.raises(TooLarge, match="big.log is .* at most"):
        services.ticket_comment(ticket=ticket, actor=cast.agent1, body="two files",
                                files=[upload(), upload("big.log", b"x" * 101, "text/plain")])
    assert not Comment.objects.exists() and not Attachment.objects.exists()
    assert stored_names() == before


def test_a_file_that_fails_after_another_was_stored_leaves_no_file_behind(cast, ticket, monkeypatch):
    real = services.attachment_add
    calls = []

    def second_fails(**kwargs):
        calls.append(kwargs["name"])
        if len(calls) == 2:
            raise ValidationFailed("storage said no")
        return real(**kwargs)

    monkeypatch.setattr(services, "attachment_add", second_fails)
    before = stored_names()
    with pytest.raises(ValidationFailed):
        services.ticket_comment(ticket=ticket, actor=cast.agent1, body="x", files=[upload(), upload("b.png")])
    assert not Comment.objects.exists() and not Attachment.objects.exists() and stored_names() == before


def test_a_file_on_an_internal_note_is_internal_and_a_requester_may_not_mark_one_internal(cast, ticket):
    note = services.ticket_comment(ticket=ticket, actor=cast.agent1, body="the raw log", internal=True,
                                   files=[upload("raw.log", b"secret", "text/plain")])
    assert Attachment.objects.get(comment=note).internal
    with pytest.raises(AccessDenied):
        services.attachments_add(ticket=ticket, actor=cast.requester, files=[upload()], internal=True)
    assert Attachment.objects.count() == 1


def test_the_uploader_removes_their_file_while_the_ticket_is_open_and_the_stored_file_goes_after_commit(
        cast, ticket, django_capture_on_commit_callbacks):
    [mine] = services.attachments_add(ticket=ticket, actor=cast.requester, files=[upload()])
    stored = mine.file.name
    with django_capture_on_commit_callbacks(execute=True):
        services.attachment_remove(attachment=mine, actor=cast.requester)
    assert not Attachment.objects.exists() and not default_storage.exists(stored)
    row = TicketEvent.objects.filter(kind=EventKind.ATTACHMENT).last()
    assert row.old == "screen.png" and row.new == "" and row.actor == cast.requester


def test_only_the_uploader_during_the_tickets_life_or_staff_may_remove(cast, ticket):
    [agents] = services.attachments_add(ticket=ticket, actor=cast.agent1, files=[upload("agent.png")])
    [theirs] = services.attachments_add(ticket=ticket, actor=cast.requester, files=[upload("mine.png")])
    with pytest.raises(AccessDenied):
        services.attachment_remove(attachment=agents, actor=cast.requester)
    with pytest.raises(NotFound):
        services.attachment_remove(attachment=theirs, actor=cast.other_requester)
    services.ticket_transition(ticket=ticket, to=Status.IN_PROGRESS, actor=cast.agent1)
    services.ticket_transition(ticket=ticket, to=Status.RESOLVED, actor=cast.agent1,
                               values={"resolution_note": "Fixed"})
    services.ticket_transition(ticket=ticket, to=Status.CLOSED, actor=cast.agent1)
    theirs.ticket.refresh_from_db()
    assert not services.may_remove_attachment(cast.requester, theirs)
    services.attachment_remove(attachment=theirs, actor=cast.agent2)  # staff may, whoever added it
    assert list(Attachment.objects.values_list("name", flat=True)) == ["agent.png"]


def test_several_files_are_added_all_or_nothing_with_a_row_each(cast, ticket, settings):
    settings.CROSSLINE_ATTACHMENT_MAX_BYTES = 1000
    with pytest.raises(ValidationFailed, match="not accepted"):
        services.attachments_add(ticket=ticket, actor=cast.agent1, files=[upload(), upload("run.exe", b"MZ")])
    with pytest.raises(ValidationFailed, match="Choose a file"):
        services.attachments_add(ticket=ticket, actor=cast.agent1, files=[])
    assert not Attachment.objects.exists()
    services.attachments_add(ticket=ticket, actor=cast.agent1, files=[upload(), upload("b.png")])
    assert TicketEvent.objects.filter(kind=EventKind.ATTACHMENT).count() == 2


# --- serving ------------------------------------------------------------------------------------------------

def test_an_image_is_shown_inline_under_a_strict_policy(cast, ticket, client_for):
    [a] = services.attachments_add(ticket=ticket, actor=cast.agent1, files=[upload()])
    response = client_for(cast.requester).get(f"/attachments/{a.pk}/screen.png")
    assert response.status_code == 200 and b"".join(response.streaming_content) == PNG
    assert response["Content-Type"] == "image/png"
    assert response["Content-Disposition"].startswith("inline")
    assert response["X-Content-Type-Options"] == "nosniff" and response["Cache-Control"] == "private"
    policy = response["Content-Security-Policy"]
    assert "sandbox" in policy and "default-src 'none'" in policy and "script-src" not in policy


@pytest.mark.parametrize(("name", "kind"), [("page.html", "text/html"), ("logo.svg", "image/svg+xml"),
                                            ("feed.xml", "application/xml"), ("app.mjs", "text/javascript"),
                                            ("notes.txt", "text/plain")])
def test_anything_but_images_and_pdf_is_a_download(cast, ticket, client_for, name, kind):
    [a] = services.attachments_add(ticket=ticket, actor=cast.agent1, files=[upload(name, b"<x>", kind)])
    response = client_for(cast.agent1).get(f"/attachments/{a.pk}/{name}")
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment") and name in response["Content-Disposition"]
    assert "html" not in response["Content-Type"] and "svg" not in response["Content-Type"]


def test_a_file_name_outside_ascii_is_encoded_in_the_download(cast, ticket, client_for):
    [a] = services.attachments_add(ticket=ticket, actor=cast.agent1,
                                   files=[upload("Gehaltsabrechnung März.txt", b"x", "text/plain")])
    response = client_for(cast.agent1).get(a and f"/attachments/{a.pk}/Gehaltsabrechnung März.txt")
    assert response.status_code == 200
    assert "filename*=utf-8''Gehaltsabrechnung%20M%C3%A4rz.txt" in response["Content-Disposition"]


def test_who_may_not_see_a_file_gets_a_404(cast, ticket, client_for):
    [internal] = services.attachments_add(ticket=ticket, actor=cast.agent1, files=[upload("raw.png")], internal=True)
    [public] = services.attachments_add(ticket=ticket, actor=cast.agent1, files=[upload("pub.png")])
    assert client_for(cast.requester).get(f"/attachments/{internal.pk}/raw.png").status_code == 404
    assert client_for(cast.other_requester).get(f"/attachments/{public.pk}/pub.png").status_code == 404
    assert client_for(cast.agent1).get(f"/attachments/{public.pk}/other-name.png").status_code == 404
    assert client_for(cast.agent2).get(f"/attachments/{internal.pk}/raw.png").status_code == 200


def test_media_is_never_served_publicly(cast, ticket, client_for):
    [a] = services.attachments_add(ticket=ticket, actor=cast.agent1, files=[upload()])
    for url in (f"/media/{a.file.name}", f"/{a.file.name}", f"/static/{a.file.name}"):
        assert client_for(cast.agent1).get(url).status_code == 404, url


# --- the ticket page ----------------------------------------------------------------------------------------

def test_the_panel_lists_the_files_and_an_agent_uploads_several_at_once(cast, ticket, client_for):
    client = client_for(cast.agent1)
    response = client.post(f"/tickets/{ticket.key}/attachments/",
                           {"files": [upload(), upload("trace.log", b"at line 3", "text/plain")],
                            "internal": "on"}, **HTMX)
    assert response.status_code == 200
    page = response.content.decode()
    assert "Attached screen.png, trace.log." in page and 'id="attachments-panel"' in page
    assert page.count('class="badge internal"') == 2 and "added <strong>trace.log</strong>" in page
    image = Attachment.objects.get(name="screen.png")
    assert f'<img src="/attachments/{image.pk}/screen.png"' in page
    assert "Remove screen.png" in page


def test_a_refused_upload_shows_in_place_and_the_next_one_works(cast, ticket, client_for, settings):
    settings.CROSSLINE_ATTACHMENT_MAX_BYTES = 50
    client = client_for(cast.agent1)
    response = client.post(f"/tickets/{ticket.key}/attachments/", {"files": [upload()]}, **HTMX)
    assert response.status_code == 413
    body = response.content.decode()
    assert 'id="attach-form"' in body and "screen.png is" in body and "Share a link" in body
    response = client.post(f"/tickets/{ticket.key}/attachments/",
                           {"files": [upload("small.txt", b"ok", "text/plain")]}, **HTMX)
    assert response.status_code == 200 and Attachment.objects.get().name == "small.txt"


def test_a_reply_with_a_too_big_file_is_refused_with_the_typed_text_kept(cast, ticket, client_for, settings):
    settings.CROSSLINE_ATTACHMENT_MAX_BYTES = 50
    client = client_for(cast.agent1)
    response = client.post(f"/tickets/{ticket.key}/comment/", {"body": "See the screenshot", "files": [upload()]},
                           **HTMX)
    assert response.status_code == 413
    body = response.content.decode()
    assert 'id="comment-form"' in body and "See the screenshot" in body and "at most" in body
    assert not Comment.objects.exists()
    response = client.post(f"/tickets/{ticket.key}/comment/",
                           {"body": "See the log", "files": [upload("a.log", b"ok", "text/plain")]}, **HTMX)
    assert response.status_code == 200
    page = response.content.decode()
    a = Attachment.objects.get()
    assert a.comment.body == "See the log" and f'href="/attachments/{a.pk}/a.log"' in page


def test_a_new_ticket_comes_with_its_files_or_not_at_all_and_the_form_keeps_what_was_typed(cast, client_for,
                                                                                           settings):
    settings.CROSSLINE_ATTACHMENT_MAX_BYTES = 50
    client = client_for(cast.agent1)
    form = {"kind": "incident", "title": "Scanner sends blank pages", "description": "Since the update.",
            "impact": 2, "urgency": 2}
    response = client.post("/tickets/new/", {**form, "files": [upload()]})
    body = response.content.decode()
    assert response.status_code == 400 and "screen.png is" in body and "Scanner sends blank pages" in body
    assert not Attachment.objects.exists() and not cast.agent1.requested.exists()
    response = client.post("/tickets/new/", {**form, "files": [upload("note.txt", b"ok", "text/plain")]})
    ticket = cast.agent1.requested.get()
    assert response.status_code == 302 and [a.name for a in ticket.attachments.all()] == ["note.txt"]
    assert TicketEvent.objects.filter(ticket=ticket, kind=EventKind.ATTACHMENT, new="note.txt").exists()


def test_the_staff_remove_a_file_from_the_panel(cast, ticket, client_for):
    [a] = services.attachments_add(ticket=ticket, actor=cast.requester, files=[upload()])
    response = client_for(cast.agent1).post(f"/attachments/{a.pk}/remove/", **HTMX)
    assert response.status_code == 200 and "Removed screen.png." in response.content.decode()
    assert "removed <strong>screen.png</strong>" in response.content.decode()
    assert client_for(cast.other_requester).post(f"/attachments/{a.pk}/remove/").status_code == 404


@pytest.mark.parametrize("files", [1, 12])
def test_the_ticket_page_reads_its_files_in_one_query_however_many(cast, ticket, client_for, files,
                                                                     django_assert_max_num_queries):
    for n in range(files):
        services.ticket_comment(ticket=ticket, actor=cast.agent1 if n % 2 else cast.requester, body=f"reply {n}",
                                files=[upload(f"shot{n}.png")])
        services.attachments_add(ticket=ticket, actor=cast.agent2, files=[upload(f"log{n}.txt", b"x", "text/plain")],
                                 internal=bool(n % 2))
    client = client_for(cast.agent1)
    client.get(f"/tickets/{ticket.key}/")
    with django_assert_max_num_queries(14):  # README: workspace 14 (13, and the ticket's files)
        response = client.get(f"/tickets/{ticket.key}/")
    page = response.content.decode()
    assert page.count('<li id="attachment-') == 2 * files and f"shot{files - 1}.png" in page


# --- storage ------------------------------------------------------------------------------------------------

def test_files_go_to_a_private_s3_bucket_when_one_is_set():
    result = _settings_process(
        "-c", "import os, django; os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'tracker.settings'); django.setup();"
              "from django.conf import settings; from django.core.files.storage import storages;"
              "s = storages['default'];"
              "o = settings.STORAGES['default']['OPTIONS'];"
              "print(type(s).__module__ + '.' + type(s).__name__, s.bucket_name, repr(s.default_acl),"
              " s.querystring_auth, o.get('default_acl'), settings.MEDIA_URL or '-')",
        CROSSLINE_LOCAL="true", CROSSLINE_S3_BUCKET="crossline-files", CROSSLINE_S3_ENDPOINT_URL="http://127.0.0.1:9",
    )
    assert result.returncode == 0, result.stderr
    backend, bucket, acl, signed, configured, media_url = result.stdout.split()
    assert backend == "storages.backends.s3.S3Storage" and bucket == "crossline-files"
    # no canned ACL: each object stays as private as the bucket (never public-read); reads are signed
    assert acl == "None" and configured == "None" and signed == "True"
    assert media_url == "-" or media_url == "/"


def test_files_go_to_the_filesystem_by_default():
    result = _settings_process(
        "-c", "import os, django; os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'tracker.settings'); django.setup();"
              "from django.core.files.storage import storages; s = storages['default'];"
              "print(type(s).__name__, s.location)",
        CROSSLINE_LOCAL="true")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("FileSystemStorage ") and result.stdout.strip().endswith("media")


def test_the_demo_seeds_a_screenshot_a_log_and_a_pdf(db):
    from tracker.demo import _screenshot_png, seed_attachments  # noqa: F401 (the seed's own files)

    png = _screenshot_png()
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and b"IEND" in png[-12:]
