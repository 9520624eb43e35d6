"""What inbound mail never files, what it holds, how it reads any charset, and that it never runs commands."""
from datetime import timedelta

import pytest
from django.utils import timezone

from sla.choices import InboundOutcome
from sla.models import InboundMail, Mailbox
from sla.services import mail_intake
from sla.services.mail_intake import mail_receive
from sla.services.mail_parse import decode_text, html_to_text, strip_signature, trim_reply
from tracker.choices import EventKind, Kind, Status
from tracker.models import Comment, Ticket, TicketEvent
from tracker.services import ticket_create

pytestmark = pytest.mark.django_db

VERIFIED = ("Authentication-Results: mx1.crossline.test; dkim=pass header.d=crossline.test; "
            "spf=pass smtp.mailfrom=crossline.test; dmarc=pass header.from=crossline.test\r\n")


def raw_mail(*, sender="Nora Field <nora@example.org>", subject="Printer jammed", body="It jams on page 2.",
             message_id="<m1@mail.example.org>", headers="", charset="utf-8", encoding=None) -> bytes:
    head = (f"{headers}From: {sender}\r\nTo: desk@crossline.test\r\nSubject: {subject}\r\nMessage-ID: {message_id}\r\n"
            f"Date: Sun, 06 Dec 2026 10:00:00 +0100\r\nMIME-Version: 1.0\r\n"
            f"Content-Type: text/plain; charset={charset}\r\nContent-Transfer-Encoding: 8bit\r\n\r\n")
    return head.encode() + (body.encode(encoding or charset) if isinstance(body, str) else body) + b"\r\n"


@pytest.fixture
def desk(cast):
    return Mailbox.objects.create(name="Service desk", address="desk@crossline.test", kind=Kind.INCIDENT,
                                  group=cast.l1)


# --- never a ticket ---------------------------------------------------------------------------------

@pytest.mark.parametrize("headers, reason", [
    ("Auto-Submitted: auto-replied\r\n", "Auto-Submitted"),
    ("Auto-Submitted: auto-generated\r\n", "Auto-Submitted"),
    ("X-Autoreply: yes\r\n", "X-Autoreply"),
    ("X-Autorespond: Out of office\r\n", "X-Autorespond"),
    ("Precedence: bulk\r\n", "Precedence: bulk"),
    ("Precedence: junk\r\n", "Precedence: junk"),
    ("Precedence: list\r\n", "Precedence: list"),
    ("List-Id: <it-all.lists.example.org>\r\nPrecedence: first-class\r\n", "List-Id"),
    ("Return-Path: <>\r\n", "empty Return-Path"),
])
def test_automatic_mail_and_bounces_are_ignored_and_answered_by_nobody(desk, headers, reason):
    row = mail_receive(raw_mail(headers=headers), mailbox=desk)
    assert (row.outcome, row.ticket, bytes(row.raw)) == (InboundOutcome.IGNORED, None, b"")
    assert reason in row.reason
    assert not Ticket.objects.exists()


def test_auto_submitted_no_is_a_person_writing(desk):
    assert mail_receive(raw_mail(headers="Auto-Submitted: no\r\n"), mailbox=desk).outcome == InboundOutcome.CREATED


@pytest.mark.parametrize("sender", ["MAILER-DAEMON@mx.example.org", "postmaster@example.org"])
def test_mail_from_a_mail_system_is_a_bounce(desk, sender):
    row = mail_receive(raw_mail(sender=sender), mailbox=desk)
    assert row.outcome == InboundOutcome.IGNORED and "bounce" in row.reason


def test_mail_from_our_own_addresses_is_a_loop(desk, settings):
    settings.DEFAULT_FROM_EMAIL = "Crossline <noreply@crossline.test>"
    own = mail_receive(raw_mail(sender="Desk <DESK@crossline.test>"), mailbox=desk)
    noreply = mail_receive(raw_mail(sender="noreply@crossline.test", message_id="<m2@x>"), mailbox=desk)
    about_ours = mail_receive(raw_mail(sender="someone@crossline.test", message_id="<m3@x>",
                                       headers="X-Crossline-Ticket: INC-1\r\n"), mailbox=desk)
    elsewhere = mail_receive(raw_mail(message_id="<m4@x>", headers="X-Crossline-Ticket: INC-1\r\n"), mailbox=desk)
    assert [r.outcome for r in (own, noreply, about_ours)] == [InboundOutcome.IGNORED] * 3
    assert all("loop" in r.reason for r in (own, noreply, about_ours))
    assert elsewhere.outcome == InboundOutcome.CREATED  # the header alone, from outside, is no loop


def test_a_sender_past_the_hourly_rate_is_ignored(desk, settings):
    settings.CROSSLINE_MAIL_RATE_PER_HOUR = 3
    now = timezone.now()
    InboundMail.objects.create(message_key="old", from_address="nora@example.org", outcome=InboundOutcome.CREATED,
                               received_at=now - timedelta(minutes=61))
    rows = [mail_receive(raw_mail(message_id=f"<r{n}@x>", subject=f"Mail {n}"), mailbox=desk, now=now)
            for n in range(5)]
    assert [r.outcome for r in rows] == [InboundOutcome.CREATED] * 3 + [InboundOutcome.IGNORED] * 2
    assert "more than 3 mails in an hour" in rows[3].reason
    assert mail_receive(raw_mail(sender="other@example.org", message_id="<o@x>"), mailbox=desk,
                        now=now).outcome == InboundOutcome.CREATED


def test_a_mail_over_the_size_limit_is_quarantined_with_its_size(desk, settings):
    settings.CROSSLINE_MAIL_MAX_BYTES = 1024 * 1024
    raw = raw_mail(body="x" * (1024 * 1024 * 5 // 2))
    row = mail_receive(raw, mailbox=desk)
    assert row.outcome == InboundOutcome.QUARANTINED and not Ticket.objects.exists()
    assert row.reason == "The message is 2.5 MB; mails may be at most 1 MB."
    assert bytes(row.raw) == raw


def test_a_message_the_parser_chokes_on_is_quarantined_not_raised(desk, monkeypatch):
    def broken(raw):
        raise ValueError("bad MIME")

    monkeypatch.setattr(mail_intake.mail_parse, "parse", broken)
    row = mail_receive(raw_mail(), mailbox=desk)
    assert row.outcome == InboundOutcome.QUARANTINED and "could not be read (ValueError: bad MIME)" in row.reason
    assert not Ticket.objects.exists()


def test_garbage_bytes_are_quarantined(desk):
    row = mail_receive(b"\xff\xfe\x00\x01 not a mail at all \x00", mailbox=desk)
    assert row.outcome == InboundOutcome.QUARANTINED and row.message_key.startswith("sha256:")


# --- held for review --------------------------------------------------------------------------------

def test_a_strangers_reply_is_held_with_an_internal_timeline_row(desk, cast):
    ticket = mail_receive(raw_mail(), mailbox=desk).ticket
    row = mail_receive(raw_mail(sender="eve@elsewhere.example", subject=f"Re: [{ticket.key}] x", message_id="<e@x>"),
                       mailbox=desk)
    assert (row.outcome, row.ticket) == (InboundOutcome.HELD, ticket)
    event = TicketEvent.objects.get(ticket=ticket, kind=EventKind.MAIL)
    assert event.internal and event.note.startswith("A reply from eve@elsewhere.example was held for review")


def test_staff_mail_needs_the_receiving_servers_verification(desk, cast):
    cast.agent1.email = "lena@crossline.test"
    cast.agent1.save()
    forged = mail_receive(raw_mail(sender=cast.agent1.email, subject="Please reset", message_id="<s1@x>"), mailbox=desk)
    assert (forged.outcome, forged.reason) == (InboundOutcome.HELD,
                                               "sender not verified (no passing DMARC, DKIM or SPF result).")
    # a verification the sender wrote under ours counts for nothing: only the topmost is the server's
    spoof = mail_receive(raw_mail(sender=cast.agent1.email, message_id="<s2@x>", headers=(
        "Authentication-Results: mx1.crossline.test; dmarc=fail header.from=crossline.test\r\n" + VERIFIED)),
        mailbox=desk)
    assert spoof.outcome == InboundOutcome.HELD
    other_domain = mail_receive(raw_mail(sender=cast.agent1.email, message_id="<s3@x>", headers=(
        "Authentication-Results: mx1.crossline.test; dkim=pass header.d=evil.example\r\n")), mailbox=desk)
    assert other_domain.outcome == InboundOutcome.HELD
    verified = mail_receive(raw_mail(sender=cast.agent1.email, message_id="<s4@x>", headers=VERIFIED), mailbox=desk)
    dkim = mail_receive(raw_mail(sender=cast.agent1.email, message_id="<s5@x>", headers=(
        "Authentication-Results: mx1.crossline.test; dkim=pass header.i=@crossline.test\r\n")), mailbox=desk)
    assert [verified.outcome, dkim.outcome] == [InboundOutcome.CREATED] * 2
    assert verified.ticket.requester == cast.agent1


def test_a_new_mail_from_a_deactivated_account_is_held(desk, cast):
    cast.requester.is_active = False
    cast.requester.save()
    row = mail_receive(raw_mail(sender=cast.requester.email), mailbox=desk)
    assert row.outcome == InboundOutcome.HELD and "deactivated" in row.reason and bytes(row.raw)


def test_mail_never_runs_commands(desk, cast):
    ticket = ticket_create(actor=cast.requester, kind=Kind.INCIDENT, title="VPN down")
    before = Ticket.objects.values().get(pk=ticket.pk)
    row = mail_receive(raw_mail(sender=cast.requester.email, subject=f"Re: [{ticket.key}] #close #assign me",
                                body="/status resolved\n/assign lena\n#priority 1\nclose this please"), mailbox=desk)
    assert row.outcome == InboundOutcome.REPLIED
    after = Ticket.objects.values().get(pk=ticket.pk)
    changed = {k for k in before if before[k] != after[k]}
    assert changed == {"updated_at"}
    assert after["status"] == Status.NEW and after["assignee_id"] is None and after["priority"] == before["priority"]
    assert Comment.objects.get(ticket=ticket).body.startswith("/status resolved")


# --- reading ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("charset, text, encoding", [
    ("iso-8859-1", "Grüße, “quoted” – 5 €", "windows-1252"),  # windows-1252 labelled latin-1
    ("windows-1252", "Prix: 5 € – déjà", None),
    ("koi8-r", "Не работает принтер", None),
    ("x-unknown-charset", "Grüße aus Köln", "utf-8"),
    ("us-ascii", "naïve café", "utf-8"),  # UTF-8 labelled ASCII
])
def test_any_charset_reads_without_loss(desk, charset, text, encoding):
    row = mail_receive(raw_mail(body=text, charset=charset, encoding=encoding), mailbox=desk)
    assert row.outcome == InboundOutcome.CREATED
    assert text in row.ticket.description


def test_an_undecodable_body_falls_back_without_failing():
    assert decode_text(b"caf\xe9 \x81", "utf-8") == "café \x81"


def test_html_is_sanitised_to_markdown_and_cid_images_are_named():
    text = html_to_text('<p>See <img src="cid:img1@x"> and <b>bold</b></p><script>evil()</script>'
                        '<iframe src="https://x"></iframe><img src="https://tracker.example/p.gif">',
                        {"img1@x": "shot.png"})
    assert "[image: shot.png]" in text and "**bold**" in text
    assert "evil" not in text and "tracker.example" not in text and "iframe" not in text


@pytest.mark.parametrize("text, kept, cut", [
    ("Fine now.\n\n-----Original Message-----\nFrom: Desk\nSent: Monday\nold", "Fine now.", "old"),
    ("Fine now.\n\nFrom: Desk <d@x>\nSent: Monday, 7 December 2026 09:00\nTo: me\nold", "Fine now.", "old"),
    ("Fine now.\n\nOn Mon, 7 Dec 2026, Desk wrote:\n> old", "Fine now.", "old"),
    ("Fine now.\n\nAm 07.12.2026 um 09:00 schrieb Desk:\n> old", "Fine now.", "old"),
    ("Fine now.\n\n> old\n> older", "Fine now.", "old"),
    ("Fine now.\n\nSent from my iPhone", "Fine now.", "iPhone"),
    ("Fine now.\n-- \nNora, Northwind", "Fine now.", "Northwind"),
    ("> you asked x?\nyes, x.\n> and y?\nno.", "no.", "NOTHING-CUT"),  # an inline answer keeps its quotes
])
def test_a_reply_is_cut_to_what_its_sender_wrote(text, kept, cut):
    trimmed = trim_reply(text)
    assert kept in trimmed and cut not in trimmed


def test_a_first_mail_loses_only_its_senders_signature():
    text = "Look below.\n-- \nMark\n\n---------- Forwarded message ---------\nFrom: a@b\n\nThe original.\n-- \nA"
    assert strip_signature(text) == ("Look below.\n\n---------- Forwarded message ---------\nFrom: a@b\n\n"
                                     "The original.\n-- \nA")
