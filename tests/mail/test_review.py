"""Reviewing held and quarantined mail: retry, file as new, drop; and a message filed once under four readers."""

import pytest

from sla.choices import InboundOutcome
from sla.models import InboundMail, Mailbox
from sla.services.mail_intake import mail_drop, mail_file_as_new, mail_receive, mail_retry, may_review_mail
from tests.workers import at_once
from tracker.choices import Kind, LinkType
from tracker.errors import AccessDenied, Conflict
from tracker.models import Attachment, Comment, Link, Ticket
from tracker.services import ticket_watch

from .test_intake_rules import raw_mail

pytestmark = pytest.mark.django_db


@pytest.fixture
def desk(cast):
    return Mailbox.objects.create(name="Service desk", address="desk@crossline.test", kind=Kind.INCIDENT,
                                  group=cast.l1)


@pytest.fixture
def held(desk, cast):
    """Bob's reply on Alice's ticket, with a file: held, as Bob is not on it."""
    ticket = mail_receive(raw_mail(sender=cast.requester.email), mailbox=desk).ticket
    raw = raw_mail(sender=f"Bob <{cast.other_requester.email}>", subject=f"Re: [{ticket.key}] Printer jammed",
                   body="Mine jams too, same floor.\n\nOn Sun, Alice wrote:\n> It jams on page 2.",
                   message_id="<bob1@x>")
    return mail_receive(raw, mailbox=desk)


def test_managers_and_administrators_review_mail(cast):
    assert may_review_mail(cast.manager) and may_review_mail(cast.admin)
    assert not any(may_review_mail(u) for u in (cast.agent1, cast.agent2, cast.requester, None))


@pytest.mark.parametrize("action", [mail_retry, mail_file_as_new, mail_drop])
def test_only_reviewers_may_act_on_held_mail(held, cast, action):
    with pytest.raises(AccessDenied, match="Only administrators and managers"):
        action(mail=held, actor=cast.agent2)
    held.refresh_from_db()
    assert held.outcome == InboundOutcome.HELD and bytes(held.raw)


def test_a_held_reply_lands_once_its_sender_is_on_the_ticket(held, cast):
    again = mail_retry(mail=held, actor=cast.manager)
    assert again.outcome == InboundOutcome.HELD and again.resolved_at is None  # still not on the ticket
    cast.other_requester.role = "agent_l2"
    cast.other_requester.save()
    ticket_watch(ticket=held.ticket, actor=cast.agent1, user=cast.other_requester)
    row = mail_retry(mail=held, actor=cast.manager)
    assert (row.pk, row.outcome, row.resolved_by, bytes(row.raw)) == (
        held.pk, InboundOutcome.REPLIED, cast.manager, b"")
    assert row.resolved_at is not None and row.comment.body == "Mine jams too, same floor."
    assert row.comment.author == cast.other_requester
    with pytest.raises(Conflict, match="no longer held or quarantined"):
        mail_retry(mail=held, actor=cast.manager)
    assert Comment.objects.filter(ticket=held.ticket).count() == 1


def test_a_quarantined_mail_is_filed_once_the_limit_allows_it(desk, cast, settings):
    settings.CROSSLINE_MAIL_MAX_BYTES = 100
    row = mail_receive(raw_mail(), mailbox=desk)
    assert row.outcome == InboundOutcome.QUARANTINED
    settings.CROSSLINE_MAIL_MAX_BYTES = 10_000
    row = mail_retry(mail=row, actor=cast.admin)
    assert row.outcome == InboundOutcome.CREATED and row.ticket.title == "Printer jammed"


def test_a_reviewer_vouches_for_an_unverified_colleague(desk, cast):
    row = mail_receive(raw_mail(sender=cast.agent1.email), mailbox=desk)
    assert row.outcome == InboundOutcome.HELD
    row = mail_retry(mail=row, actor=cast.manager)
    assert row.outcome == InboundOutcome.CREATED and row.ticket.requester == cast.agent1


def test_a_held_reply_becomes_a_new_ticket_related_to_the_one_it_tried(held, cast):
    target = held.ticket
    row = mail_file_as_new(mail=held, actor=cast.manager)
    new = row.ticket
    assert (row.outcome, row.resolved_by, bytes(row.raw)) == (InboundOutcome.CREATED, cast.manager, b"")
    assert new != target and new.requester == cast.other_requester and new.title == f"Re: [{target.key}] Printer jammed"
    assert "Mine jams too" in new.description
    assert Link.objects.filter(source=new, target=target, type=LinkType.RELATES_TO).exists()
    assert not Comment.objects.filter(ticket=target).exists()


def test_a_quarantined_mail_cannot_be_filed_as_new(desk, cast):
    row = mail_receive(raw_mail(sender="nobody"), mailbox=desk)
    assert row.outcome == InboundOutcome.QUARANTINED
    with pytest.raises(Conflict, match="Only a held reply"):
        mail_file_as_new(mail=row, actor=cast.manager)


def test_a_dropped_mail_loses_its_raw_bytes_and_cannot_be_dropped_twice(held, cast):
    row = mail_drop(mail=held, actor=cast.admin)
    assert (row.outcome, bytes(row.raw), row.resolved_by) == (InboundOutcome.DROPPED, b"", cast.admin)
    assert InboundMail.objects.get(pk=held.pk).outcome == InboundOutcome.DROPPED
    with pytest.raises(Conflict, match="cannot be dropped"):
        mail_drop(mail=held, actor=cast.admin)
    with pytest.raises(Conflict):
        mail_retry(mail=held, actor=cast.admin)


def test_a_reply_with_a_file_stores_it_on_the_comment(desk, cast):
    ticket = mail_receive(raw_mail(sender=cast.requester.email), mailbox=desk).ticket
    raw = (f"From: {cast.requester.email}\r\nTo: desk@crossline.test\r\nSubject: Re: [{ticket.key}] x\r\n"
           "Message-ID: <att@x>\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=BB\r\n\r\n"
           "--BB\r\nContent-Type: text/plain\r\n\r\nThe log.\r\n--BB\r\nContent-Type: text/plain; name=a.log\r\n"
           "Content-Disposition: attachment; filename=a.log\r\n\r\nline 1\r\n--BB--\r\n").encode()
    row = mail_receive(raw, mailbox=desk)
    file = Attachment.objects.get(comment=row.comment)
    assert (row.comment.body, file.name, file.ticket, file.internal) == ("The log.", "a.log", ticket, False)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_four_readers_of_the_same_message_file_it_once(desk):
    raw = raw_mail(message_id="<race@x>")
    rows = at_once(lambda: mail_receive(raw, mailbox=desk).pk)
    assert len(set(rows)) == 1 and len(rows) == 4
    assert InboundMail.objects.count() == 1 and Ticket.objects.count() == 1
