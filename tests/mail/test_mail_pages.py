"""The mailboxes page (administrators) and the held & quarantined mail page (administrators and managers)."""
import pytest
from django.utils import timezone

from sla.choices import InboundOutcome
from sla.models import InboundMail, Mailbox
from sla.services import mail_intake
from sla.services.mail_intake import mail_receive
from tests.mail.test_poll import raw_mail
from tracker.choices import Kind
from tracker.errors import Conflict
from tracker.models import Comment, Ticket

pytestmark = pytest.mark.django_db

FORM = {"name": "Service desk", "address": "desk@crossline.test", "kind": Kind.INCIDENT, "active": "on",
        "imap_host": "imap.crossline.test", "imap_port": "993", "imap_ssl": "on", "imap_user": "desk",
        "imap_password": "s3cret", "imap_folder": ""}


@pytest.fixture
def held(cast):
    """A reply to Alice's ticket from Bob, who is not on it."""
    ticket = mail_receive(raw_mail(1, sender=cast.requester.email)).ticket
    row = mail_receive(raw_mail(2, sender=cast.other_requester.email, subject=f"Re: [{ticket.key}] <b>me</b> too"))
    assert row.outcome == InboundOutcome.HELD
    return row


def test_only_administrators_see_the_mailboxes_and_managers_the_held_mail(client, cast):
    client.force_login(cast.manager)
    queue = client.get("/queue/").content.decode()
    assert 'href="/settings/mail/"' in queue and 'href="/settings/mailboxes/"' not in queue
    assert client.get("/settings/mailboxes/").status_code == 403
    assert client.get("/settings/mail/").status_code == 200
    client.force_login(cast.agent1)
    assert client.get("/settings/mail/").status_code == 403
    assert 'href="/settings/mail/"' not in client.get("/queue/").content.decode()
    client.force_login(cast.admin)
    assert 'href="/settings/mailboxes/"' in client.get("/queue/").content.decode()
    assert client.get("/settings/mailboxes/").status_code == 200


def test_a_duplicate_address_is_refused_in_place_keeping_what_was_typed(client, cast):
    Mailbox.objects.create(name="Changes", address="desk@crossline.test")
    client.force_login(cast.admin)
    refused = client.post("/settings/mailboxes/new/", FORM)
    page = refused.content.decode()
    assert refused.status_code == 400
    assert "Another mailbox already reads desk@crossline.test." in page
    assert 'value="Service desk"' in page and 'value="imap.crossline.test"' in page
    ok = client.post("/settings/mailboxes/new/", {**FORM, "address": "help@crossline.test"})
    assert ok.status_code == 302
    box = Mailbox.objects.get(address="help@crossline.test")
    assert (box.name, box.imap_port, box.imap_ssl, box.imap_password, box.imap_folder) == (
        "Service desk", 993, True, "s3cret", "INBOX")


def test_the_password_is_write_only_and_blank_keeps_the_stored_one(client, cast):
    client.force_login(cast.admin)
    client.post("/settings/mailboxes/new/", FORM)
    box = Mailbox.objects.get()
    edit = client.get(f"/settings/mailboxes/{box.pk}/edit/").content.decode()
    assert "s3cret" not in edit and "A password is stored" in edit
    client.post(f"/settings/mailboxes/{box.pk}/edit/", {**FORM, "imap_password": "", "name": "Desk"})
    box.refresh_from_db()
    assert (box.name, box.imap_password) == ("Desk", "s3cret")


def test_a_bad_port_and_a_missing_password_are_named_next_to_their_fields(client, cast):
    client.force_login(cast.admin)
    page = client.post("/settings/mailboxes/new/", {**FORM, "imap_port": "99999", "imap_password": ""})
    assert page.status_code == 400 and not Mailbox.objects.exists()
    page = client.post("/settings/mailboxes/new/", {**FORM, "imap_password": ""}).content.decode()
    assert "Enter the password to log in with." in page


def test_a_mailbox_from_the_environment_is_read_only(client, cast):
    box = Mailbox.objects.create(name="Env desk", address="env@crossline.test", from_environment=True)
    client.force_login(cast.admin)
    assert f"/settings/mailboxes/{box.pk}/edit/" not in client.get("/settings/mailboxes/").content.decode()
    refused = client.post(f"/settings/mailboxes/{box.pk}/edit/", {**FORM, "address": "env@crossline.test"})
    assert refused.status_code == 409 and "change it there" in refused.content.decode()


def test_a_bad_environment_entry_shows_on_the_page_without_its_password(client, cast, settings):
    settings.CROSSLINE_MAILBOXES = "incident=imaps://u:hunter2@h"
    client.force_login(cast.admin)
    page = client.get("/settings/mailboxes/").content.decode()
    assert "add ?address=" in page and "hunter2" not in page


def test_check_connection_and_poll_now_answer_in_the_mailbox_row(client, cast, imap):
    box = Mailbox.objects.create(name="Desk", address="desk@crossline.test", imap_host=imap.host,
                                 imap_port=imap.port, imap_ssl=False, imap_user="desk", imap_password="secret")
    imap.deliver(raw_mail(1), raw_mail(2))
    client.force_login(cast.admin)
    page = client.post(f"/settings/mailboxes/{box.pk}/check/").content.decode()
    assert "Connected: 2 messages in INBOX." in page and f'id="mailbox-{box.pk}-result"' in page
    page = client.post(f"/settings/mailboxes/{box.pk}/poll/").content.decode()
    assert "Polled: filed 2 new messages." in page and "2 created" in page
    Mailbox.objects.filter(pk=box.pk).update(imap_password="wrong")
    refused = client.post(f"/settings/mailboxes/{box.pk}/check/")
    assert refused.status_code == 400 and "Could not read 127.0.0.1" in refused.content.decode()


def test_poll_now_while_a_worker_polls_says_so(client, cast):
    box = Mailbox.objects.create(name="Desk", address="desk@crossline.test", imap_host="imap.crossline.test",
                                 poll_lease_until=timezone.now() + timezone.timedelta(minutes=5))
    client.force_login(cast.admin)
    busy = client.post(f"/settings/mailboxes/{box.pk}/poll/")
    assert busy.status_code == 409 and "is being polled right now" in busy.content.decode()


@pytest.mark.parametrize("rows", [1, 20])
def test_the_mailboxes_page_reads_a_constant_number_of_queries(client, cast, rows, django_assert_num_queries):
    for n in range(rows):
        Mailbox.objects.create(name=f"Box {n}", address=f"box{n}@crossline.test", service=cast.services["payroll"],
                               group=cast.l1)
    client.force_login(cast.admin)
    client.get("/settings/mailboxes/")  # warm the session
    with django_assert_num_queries(4):  # session, user, the bell's unread count, the mailboxes with their counts
        client.get("/settings/mailboxes/")


def test_the_held_list_and_a_mail_with_its_headers_and_escaped_text(client, cast, held):
    client.force_login(cast.manager)
    listing = client.get("/settings/mail/").content.decode()
    assert held.ticket.key in listing and "bob@" in listing and "held" in listing
    page = client.get(f"/settings/mail/{held.pk}/").content.decode()
    assert "Message-ID" in page and "&lt;b&gt;me&lt;/b&gt;" in page and "<b>me</b>" not in page
    assert "File as new ticket" in page and "Retry" in page and "Drop" in page
    raw = client.get(f"/settings/mail/{held.pk}/raw/")
    assert raw["Content-Type"] == "message/rfc822" and raw["Content-Disposition"].startswith("attachment;")
    assert raw.content == bytes(held.raw)


def test_a_refused_action_shows_its_message_on_the_mail_page(client, cast, held, monkeypatch):
    def refuse(**kwargs):
        raise Conflict("Bob is still not on the ticket: file it as a new ticket or drop it.")

    monkeypatch.setattr(mail_intake, "mail_retry", refuse, raising=False)
    client.force_login(cast.manager)
    page = client.post(f"/settings/mail/{held.pk}/retry/")
    assert page.status_code == 409 and "Bob is still not on the ticket" in page.content.decode()
    assert client.post(f"/settings/mail/{held.pk}/forward/").status_code == 400


def test_an_agent_cannot_act_on_held_mail(client, cast, held):
    client.force_login(cast.agent1)
    assert client.post(f"/settings/mail/{held.pk}/drop/").status_code == 403
    assert client.get(f"/settings/mail/{held.pk}/raw/").status_code == 403


# The review's actions themselves (mail_intake.mail_retry / mail_file_as_new / mail_drop).


def test_a_held_reply_dropped_leaves_the_list(client, cast, held):
    client.force_login(cast.manager)
    done = client.post(f"/settings/mail/{held.pk}/drop/")
    assert done.status_code == 302
    held.refresh_from_db()
    assert (held.outcome, held.resolved_by) == (InboundOutcome.DROPPED, cast.manager)
    assert held.subject not in client.get("/settings/mail/").content.decode()


def test_a_held_reply_filed_as_new_raises_its_own_ticket(client, cast, held):
    client.force_login(cast.manager)
    client.post(f"/settings/mail/{held.pk}/file-as-new/")
    held.refresh_from_db()
    assert held.outcome == InboundOutcome.CREATED and Ticket.objects.count() == 2
    assert held.ticket.requester == cast.other_requester


def test_a_held_reply_retried_once_its_sender_is_on_the_ticket_lands_as_a_comment(client, cast, held):
    held.ticket.watchers.add(cast.agent2)
    Ticket.objects.filter(pk=held.ticket_id).update(requester=cast.other_requester)
    client.force_login(cast.manager)
    client.post(f"/settings/mail/{held.pk}/retry/")
    held = InboundMail.objects.get(message_key=held.message_key)  # the same message, however it is kept
    assert held.outcome == InboundOutcome.REPLIED
    assert Comment.objects.filter(ticket=held.ticket, author=cast.other_requester).exists()
