"""Polling intake mailboxes over a real IMAP conversation (pymap on 127.0.0.1): filed once, flagged after."""
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone
from imap_tools import MailBoxUnencrypted

from sla.choices import InboundOutcome
from sla.models import InboundMail, Mailbox, SweepHeartbeat
from sla.services import mail_poll
from sla.services.mail_poll import mailbox_poll, mailboxes_poll
from sla.tasks import poll_mailboxes_task
from tracker.celery import beat_schedule
from tracker.choices import Kind
from tracker.models import Ticket

pytestmark = pytest.mark.django_db


def raw_mail(n: int, *, sender="nora@example.org", subject=None) -> bytes:
    return (f"From: Nora Field <{sender}>\r\nTo: desk@crossline.test\r\nSubject: {subject or f'Printer {n} jammed'}"
            f"\r\nMessage-ID: <poll-{n}@mail.example.org>\r\nDate: Sun, 06 Dec 2026 10:00:00 +0100\r\n"
            f"MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nIt jams on page {n}.\r\n").encode()


@pytest.fixture
def desk(cast, imap):
    return Mailbox.objects.create(name="Service desk", address="desk@crossline.test", kind=Kind.INCIDENT,
                                  group=cast.l1, imap_host=imap.host, imap_port=imap.port, imap_ssl=False,
                                  imap_user="desk", imap_password="secret")


def test_a_poll_files_new_messages_and_flags_them_seen(desk, imap, cast):
    imap.deliver(raw_mail(1), raw_mail(2))
    assert mailbox_poll(mailbox=desk) == 2
    assert sorted(Ticket.objects.values_list("title", flat=True)) == ["Printer 1 jammed", "Printer 2 jammed"]
    assert set(Ticket.objects.values_list("group", flat=True)) == {cast.l1.pk}
    assert set(InboundMail.objects.values_list("mailbox", "outcome")) == {(desk.pk, InboundOutcome.CREATED)}
    assert imap.unseen() == [] and imap.count() == 2  # flagged, never deleted
    assert desk.last_polled_at is not None and desk.last_error == "" and desk.poll_lease_until is None


def test_a_second_poll_files_nothing_new_and_a_later_message_alone(desk, imap):
    imap.deliver(raw_mail(1))
    mailbox_poll(mailbox=desk)
    assert mailbox_poll(mailbox=desk) == 0
    imap.deliver(raw_mail(2))
    assert mailbox_poll(mailbox=desk) == 1
    assert Ticket.objects.count() == 2 and InboundMail.objects.count() == 2


def test_a_poll_reads_at_most_its_batch_and_the_rest_next_time(desk, imap):
    imap.deliver(raw_mail(1), raw_mail(2), raw_mail(3))
    assert mailbox_poll(mailbox=desk, batch=2) == 2
    assert len(imap.unseen()) == 1
    assert mailbox_poll(mailbox=desk, batch=2) == 1
    assert Ticket.objects.count() == 3


def test_a_crash_between_filing_and_flagging_does_not_file_twice(desk, imap, monkeypatch):
    imap.deliver(raw_mail(1))
    real_flag = MailBoxUnencrypted.flag

    def lost_connection(self, *args, **kwargs):
        raise ConnectionResetError("connection lost before the flag")

    monkeypatch.setattr(MailBoxUnencrypted, "flag", lost_connection)
    assert mailbox_poll(mailbox=desk) == 0
    assert "connection lost before the flag" in desk.last_error
    assert Ticket.objects.count() == 1 and len(imap.unseen()) == 1  # filed, but still unseen on the server

    monkeypatch.setattr(MailBoxUnencrypted, "flag", real_flag)
    assert mailbox_poll(mailbox=desk) == 1  # read again, handed over again, filed once
    assert Ticket.objects.count() == 1 and InboundMail.objects.count() == 1
    assert imap.unseen() == [] and desk.last_error == ""


def test_a_message_that_cannot_be_filed_stays_unseen_and_the_others_go_on(desk, imap, monkeypatch):
    imap.deliver(raw_mail(1), raw_mail(2))
    real_receive = mail_poll.mail_receive

    def receive(raw, **kwargs):
        if b"poll-1@" in raw:
            raise RuntimeError("database went away")
        return real_receive(raw, **kwargs)

    monkeypatch.setattr(mail_poll, "mail_receive", receive)
    assert mailbox_poll(mailbox=desk) == 1
    assert "database went away" in desk.last_error
    assert list(Ticket.objects.values_list("title", flat=True)) == ["Printer 2 jammed"]
    assert len(imap.unseen()) == 1


def test_a_refused_login_is_kept_on_the_mailbox_and_the_task_goes_on(desk, imap, cast):
    wrong = Mailbox.objects.create(name="Changes", address="changes@crossline.test", kind=Kind.CHANGE,
                                   imap_host=imap.host, imap_port=imap.port, imap_ssl=False, imap_user="desk",
                                   imap_password="wrong")
    imap.deliver(raw_mail(1))
    assert poll_mailboxes_task() == 1  # the good mailbox is read although the other one fails
    wrong.refresh_from_db()
    desk.refresh_from_db()
    assert "AUTHENTICATIONFAILED" in wrong.last_error or "Invalid authentication" in wrong.last_error
    assert wrong.last_polled_at is not None and wrong.poll_lease_until is None
    assert desk.last_error == "" and Ticket.objects.get().kind == Kind.INCIDENT
    beat = SweepHeartbeat.objects.get(pk="mail")
    assert (beat.last_processed, beat.runs) == (1, 1)


def test_a_host_that_is_down_is_an_error_on_the_mailbox_not_a_crash(desk, imap):
    port = imap.port
    imap.stop()
    Mailbox.objects.filter(pk=desk.pk).update(imap_port=port)
    desk.refresh_from_db()
    assert mailbox_poll(mailbox=desk) == 0
    assert "ConnectionRefusedError" in desk.last_error


def test_the_lease_stops_a_second_poll_of_the_same_mailbox(desk, imap, monkeypatch):
    imap.deliver(raw_mail(1))
    real_receive = mail_poll.mail_receive
    inner = []

    def receive(raw, **kwargs):  # a second worker starts polling while the first is half-way
        inner.append(mailbox_poll(mailbox=Mailbox.objects.get(pk=desk.pk)))
        return real_receive(raw, **kwargs)

    monkeypatch.setattr(mail_poll, "mail_receive", receive)
    assert mailbox_poll(mailbox=desk) == 1
    assert inner == [0] and Ticket.objects.count() == 1
    assert desk.poll_lease_until is None  # released by the poll that held it


def test_a_lease_left_by_a_dead_worker_expires(desk, imap):
    now = timezone.now()
    imap.deliver(raw_mail(1))
    Mailbox.objects.filter(pk=desk.pk).update(poll_lease_until=now + timedelta(minutes=3))
    assert mailbox_poll(mailbox=desk, now=now) == 0 and len(imap.unseen()) == 1
    assert mailbox_poll(mailbox=desk, now=now + mail_poll.POLL_LEASE) == 1


def test_inactive_mailboxes_and_those_without_a_host_are_not_polled(desk, imap):
    imap.deliver(raw_mail(1))
    Mailbox.objects.filter(pk=desk.pk).update(active=False)
    Mailbox.objects.create(name="Imported", address="import@crossline.test")
    assert mailboxes_poll() == 0
    assert len(imap.unseen()) == 1


def test_the_poll_runs_on_beat_every_configured_interval(settings):
    settings.CROSSLINE_MAIL_POLL_SECONDS = 45
    assert beat_schedule(10.0)["poll-mailboxes"] == {"task": "sla.tasks.poll_mailboxes_task", "schedule": 45.0}


def test_the_command_polls_one_mailbox_and_says_what_it_filed(desk, imap):
    imap.deliver(raw_mail(1))
    out = StringIO()
    call_command("mail_poll", "--mailbox", "DESK@crossline.test", stdout=out)
    assert "Filed 1 message(s) from 1 mailbox(es)." in out.getvalue()
    assert Ticket.objects.count() == 1


def test_the_command_names_an_unknown_mailbox_and_a_failing_one(desk, imap):
    with pytest.raises(CommandError, match="No mailbox reads nobody@crossline.test"):
        call_command("mail_poll", "--mailbox", "nobody@crossline.test")
    Mailbox.objects.filter(pk=desk.pk).update(imap_password="wrong")
    err = StringIO()
    with pytest.raises(CommandError, match="1 mailbox"):
        call_command("mail_poll", stdout=StringIO(), stderr=err)
    assert "desk@crossline.test" in err.getvalue()
