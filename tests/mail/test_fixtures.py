"""Mail as real clients send it: each fixture's outcome, and what must and must not be in the ticket or comment."""
from pathlib import Path

import pytest
from django.utils import timezone

from sla.choices import InboundOutcome, NotificationKind
from sla.models import Mailbox, OutboxMessage
from sla.services.mail_intake import mail_receive
from tests.factories import UserFactory
from tracker.choices import Kind
from tracker.models import Attachment, Comment, Ticket
from tracker.services import ticket_create

pytestmark = pytest.mark.django_db

FIXTURES = Path(__file__).parent / "fixtures"
OUR_MESSAGE = "<crossline.t1.c1@crossline.example>"  # what the replies (and the loop) name

# name, outcome, in the text, not in the text, files stored, in the reason
CASES = [
    ("multipart_alternative.eml", InboundOutcome.CREATED,
     ["Drucker im 2. Stock druckt nur leere Seiten – bitte dringend", "nur leere Seiten", "Jürgen Weiß",
      "nichts geändert"], ["<b>", "Buchhaltung", "Tel. +49"], [], ""),
    ("html_only.eml", InboundOutcome.CREATED,
     ["**VPN** drops every ten minutes", "GlobalProtect 6.1", "[VPN status](https://status.northwind.example/vpn)"],
     ["alert(", "<script", "MsoNormal", "steal()", "<p"], [], ""),
    ("iso_8859_1.eml", InboundOutcome.CREATED, ["Export für März ist leer", "Grüßen aus Köln", "Renée Müller"],
     ["=FC", "\ufffd"], [], ""),
    ("iso_2022_jp.eml", InboundOutcome.CREATED, ["ログインできません", "経費精算システム"], ["\x1b", "\ufffd"], [], ""),
    ("inline_image.eml", InboundOutcome.CREATED, ["shows this error", "[image: error.png]"], ["cid:", "<img"],
     ["error.png"], ""),
    ("forwarded.eml", InboundOutcome.CREATED,
     ["Could you look at this?", "Forwarded message", "invoice 4471 (EUR 12,480.00)", "Acme Supplies Billing"],
     ["Accounts Payable, Northwind"], [], ""),
    ("outlook_reply.eml", InboundOutcome.REPLIED, ["it works again since the restart"],
     ["OLD-HISTORY-MARKER", "From: Crossline", "Sent: Monday", "____"], [], ""),
    ("gmail_reply.eml", InboundOutcome.REPLIED, ["Still the same after the update", "freeze after about 5 minutes"],
     ["OLD-HISTORY-MARKER", "wrote:", "> ", "+44 113", "-- "], [], ""),
    ("out_of_office.eml", InboundOutcome.IGNORED, [], [], [], "Auto-Submitted"),
    ("bounce.eml", InboundOutcome.IGNORED, [], [], [], "bounce"),
    ("loop.eml", InboundOutcome.IGNORED, [], [], [], "Message-ID is one we sent"),
    ("attachment_over_limit.eml", InboundOutcome.CREATED,
     ["Please put the attached image", "big.iso was not attached: big.iso is", "files may be at most"],
     [], ["install.log"], ""),
    ("exe_attachment.eml", InboundOutcome.CREATED,
     ["install the attached tool", "setup.exe was not attached", "not accepted"], [], [], ""),
    ("no_from.eml", InboundOutcome.QUARANTINED, [], [], [], "no sender address"),
]


@pytest.fixture
def desk(cast):
    return Mailbox.objects.create(name="Service desk", address="servicedesk@crossline.example", kind=Kind.INCIDENT,
                                  group=cast.l1)


@pytest.fixture
def noras_ticket(cast):
    """Nora's ticket, and the mail we sent her about it (the one her replies answer)."""
    nora = UserFactory(username="nora", email="nora.field@northwind.example", first_name="Nora")
    ticket = ticket_create(actor=nora, kind=Kind.INCIDENT, title="Outlook keeps asking for password")
    now = timezone.now()
    OutboxMessage.objects.create(key="t1-c1", kind=NotificationKind.UPDATE, recipient=nora, ticket=ticket,
                                 to_address=nora.email, subject=f"[{ticket.key}] {ticket.title}", body="Hello Nora",
                                 message_id=OUR_MESSAGE, created_at=now, available_at=now, sent_at=now)
    return ticket


def test_every_fixture_is_stated():
    assert sorted(p.name for p in FIXTURES.glob("*.eml")) == sorted(case[0] for case in CASES)


@pytest.mark.parametrize("name, outcome, present, absent, files, reason", CASES, ids=[c[0] for c in CASES])
def test_a_real_clients_mail_is_filed_as_it_should(desk, noras_ticket, settings, name, outcome, present, absent,
                                                   files, reason):
    settings.CROSSLINE_ATTACHMENT_MAX_BYTES = 4000  # big.iso is 4 kB
    tickets_before = Ticket.objects.count()
    row = mail_receive((FIXTURES / name).read_bytes(), mailbox=desk)
    assert row.outcome == outcome, row.reason
    assert reason in row.reason
    if outcome == InboundOutcome.CREATED:
        text = f"{row.ticket.title}\n{row.ticket.description}"
        assert row.ticket.group == desk.group and not Comment.objects.filter(ticket=row.ticket).exists()
        stored = Attachment.objects.filter(ticket=row.ticket, comment=None)
    elif outcome == InboundOutcome.REPLIED:
        assert row.ticket == noras_ticket
        text = row.comment.body
        stored = Attachment.objects.filter(comment=row.comment)
    else:
        assert Ticket.objects.count() == tickets_before and not Comment.objects.exists()
        assert bytes(row.raw) == ((FIXTURES / name).read_bytes() if outcome == InboundOutcome.QUARANTINED else b"")
        return
    for words in present:
        assert words in text
    for words in absent:
        assert words not in text
    assert sorted(stored.values_list("name", flat=True)) == sorted(files)
    assert bytes(row.raw) == b""


def test_an_inline_image_keeps_its_content_id_and_its_bytes(desk):
    row = mail_receive((FIXTURES / "inline_image.eml").read_bytes(), mailbox=desk)
    image = Attachment.objects.get(ticket=row.ticket)
    assert (image.content_id, image.content_type, image.file.read()[:4]) == (
        "E4A1B7C2-93D0-4F57-8C6B-1D2E3F405162", "image/png", b"\x89PNG")
    assert image.uploaded_by == row.ticket.requester


def test_a_first_mail_raises_its_sender_as_requester_with_the_decoded_name(desk):
    row = mail_receive((FIXTURES / "iso_8859_1.eml").read_bytes(), mailbox=desk)
    requester = row.ticket.requester
    assert (requester.email, requester.first_name, requester.last_name) == (
        "renee.mueller@rheinland-gmbh.example", "Renée", "Müller")
    assert (row.subject, row.from_address) == ("Export für März ist leer", "renee.mueller@rheinland-gmbh.example")
