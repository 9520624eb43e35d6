"""The core of inbound mail: a new mail raises a ticket, a reply threads onto it, a message is filed once."""
import pytest

from sla.choices import InboundOutcome
from sla.models import InboundMail, Mailbox
from sla.services.mail_intake import mail_receive
from tracker.choices import Kind, Role
from tracker.errors import ValidationFailed
from tracker.models import Attachment, Comment, Ticket, User
from tracker.services import attachment_add, may_see_attachment, ticket_comment

pytestmark = pytest.mark.django_db


def raw_mail(*, sender="Nora Field <nora@example.org>", subject="Printer jammed", body="It jams on page 2.",
             message_id="<m1@mail.example.org>", headers="") -> bytes:
    return (f"From: {sender}\r\nTo: desk@crossline.test\r\nSubject: {subject}\r\nMessage-ID: {message_id}\r\n"
            f"Date: Sun, 06 Dec 2026 10:00:00 +0100\r\n{headers}MIME-Version: 1.0\r\n"
            f"Content-Type: text/plain; charset=utf-8\r\n\r\n{body}\r\n").encode()


@pytest.fixture
def desk(cast):
    return Mailbox.objects.create(name="Service desk", address="desk@crossline.test", kind=Kind.INCIDENT,
                                  group=cast.l1)


def test_a_new_mail_raises_a_ticket_for_a_new_requester(desk, cast):
    row = mail_receive(raw_mail(), mailbox=desk)
    assert row.outcome == InboundOutcome.CREATED
    ticket = row.ticket
    assert (ticket.kind, ticket.title, ticket.group) == (Kind.INCIDENT, "Printer jammed", cast.l1)
    assert "It jams on page 2." in ticket.description
    nora = User.objects.get(email="nora@example.org")
    assert (ticket.requester, nora.role, nora.has_usable_password(), nora.first_name) == (
        nora, Role.REQUESTER, False, "Nora")


def test_the_same_message_twice_is_filed_once(desk):
    first = mail_receive(raw_mail(), mailbox=desk)
    again = mail_receive(raw_mail(), mailbox=desk)
    assert again.pk == first.pk
    assert Ticket.objects.count() == 1 and InboundMail.objects.count() == 1


def test_a_reply_threads_by_in_reply_to_and_by_the_key_in_the_subject(desk, cast):
    ticket = mail_receive(raw_mail(), mailbox=desk).ticket
    reply = mail_receive(raw_mail(subject="Re: Printer jammed", body="Still jams.", message_id="<m2@x>",
                                  headers="In-Reply-To: <M1@mail.example.org>\r\n"), mailbox=desk)
    assert (reply.outcome, reply.ticket, reply.comment.body) == (InboundOutcome.REPLIED, ticket, "Still jams.")
    by_key = mail_receive(raw_mail(subject=f"Re: [{ticket.key}] anything", body="And again.",
                                   message_id="<m3@x>"), mailbox=desk)
    assert (by_key.outcome, by_key.ticket) == (InboundOutcome.REPLIED, ticket)
    assert Ticket.objects.count() == 1
    assert list(Comment.objects.filter(ticket=ticket).values_list("body", flat=True)) == ["Still jams.", "And again."]


def test_a_reply_from_someone_not_on_the_ticket_is_held_with_its_raw_message(desk, cast):
    ticket = mail_receive(raw_mail(), mailbox=desk).ticket
    raw = raw_mail(sender=cast.other_requester.email, subject=f"[{ticket.key}] me too", message_id="<m9@x>")
    row = mail_receive(raw, mailbox=desk)
    assert (row.outcome, row.ticket, bytes(row.raw)) == (InboundOutcome.HELD, ticket, raw)
    assert not Comment.objects.filter(ticket=ticket).exists()


def test_attachments_keep_their_limits_and_their_audience(cast, settings):
    settings.CROSSLINE_ATTACHMENT_MAX_BYTES = 100
    ticket = mail_receive(raw_mail(sender=cast.requester.email), mailbox=None).ticket
    file = attachment_add(ticket=ticket, actor=cast.requester, name="../../etc/screen shot.png", data=b"x" * 100)
    assert (file.name, file.content_type, file.size, file.file.read()) == ("screen shot.png", "image/png", 100,
                                                                          b"x" * 100)
    with pytest.raises(ValidationFailed, match="at most 0.0001 MB|files may be at most"):
        attachment_add(ticket=ticket, actor=cast.requester, name="big.log", data=b"x" * 101)
    with pytest.raises(ValidationFailed, match="not accepted"):
        attachment_add(ticket=ticket, actor=cast.requester, name="setup.exe", data=b"MZ")
    note = ticket_comment(ticket=ticket, actor=cast.agent1, body="Log from the server", internal=True)
    log = attachment_add(ticket=ticket, actor=cast.agent1, name="server.log", data=b"trace", comment=note)
    assert log.internal and Attachment.objects.filter(ticket=ticket).count() == 2
    assert may_see_attachment(cast.agent2, log) and not may_see_attachment(cast.requester, log)
    assert may_see_attachment(cast.requester, file) and not may_see_attachment(cast.other_requester, file)


def test_filing_a_mail_costs_a_bounded_number_of_queries(desk, cast, django_assert_max_num_queries):
    """A new mail from a known requester and a reply onto its ticket: the statements of the ticket or comment
    themselves, the checks (duplicate, loop, rate, sender), the clocks and the acknowledgement, counted with the
    savepoints of their nested transactions; no more than today's."""
    mail_receive(raw_mail(sender=cast.requester.email, message_id="<warm@x>"), mailbox=desk)  # first-use caches
    with django_assert_max_num_queries(26) as created:
        ticket = mail_receive(raw_mail(sender=cast.requester.email), mailbox=desk).ticket
    with django_assert_max_num_queries(25) as replied:
        mail_receive(raw_mail(sender=cast.requester.email, subject=f"Re: [{ticket.key}]", message_id="<r@x>"),
                     mailbox=desk)
    assert len(created) > 15 and len(replied) > 15  # (a refusal would cost far less: both were filed)
