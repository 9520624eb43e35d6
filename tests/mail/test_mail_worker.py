"""The email loop on a real Celery worker and beat, over a real IMAP server and a real SMTP server on 127.0.0.1.

A requester mails the desk: the worker's poll raises INC-n and the relay sends her the acknowledgement; an agent
answers publicly and she gets it by mail; her mail reply to it lands on INC-n as her public comment; the SLA
first-response clock stopped at the agent's comment; and the same first mail delivered again raises nothing.
"""

import email
import email.policy
import threading

import pytest

from sla.choices import InboundOutcome, Metric
from sla.models import Calendar, Clock, InboundMail, Mailbox, Policy
from tests.workers import wait_for
from tracker import services
from tracker.celery import app, beat_schedule
from tracker.choices import Kind
from tracker.models import Comment, Ticket

FIRST = (b"From: Nora Field <nora@example.org>\r\nTo: Service desk <desk@crossline.test>\r\n"
         b"Subject: Scanner on floor 3 sends blank pages\r\nMessage-ID: <CAF3-first@mail.example.org>\r\n"
         b"Date: Sun, 06 Dec 2026 09:58:00 +0100\r\nMIME-Version: 1.0\r\n"
         b"Content-Type: text/plain; charset=utf-8\r\n\r\nEvery scan to my mailbox arrives as a blank page.\r\n\r\n"
         b"-- \r\nNora Field | Finance\r\n")


def _reply(to_message_id: str, subject: str) -> bytes:
    return (f"From: Nora Field <nora@example.org>\r\nTo: Service desk <desk@crossline.test>\r\n"
            f"Subject: Re: {subject}\r\nMessage-ID: <CAF3-reply@mail.example.org>\r\n"
            f"In-Reply-To: {to_message_id}\r\nReferences: <CAF3-first@mail.example.org> {to_message_id}\r\n"
            f"Date: Sun, 06 Dec 2026 10:20:00 +0100\r\nMIME-Version: 1.0\r\n"
            f"Content-Type: text/plain; charset=utf-8\r\n\r\nThat fixed it, scans arrive with the pages now.\r\n\r\n"
            f"On Sun, 6 Dec 2026 at 10:10, Crossline <crossline@crossline.test> wrote:\r\n"
            f"> Please choose PDF instead of TIFF on the scanner's panel.\r\n").encode()


def _received(smtp, to: str) -> list[email.message.EmailMessage]:
    return [m for m in (email.message_from_bytes(raw, policy=email.policy.default) for raw in list(smtp.raw))
            if to in str(m["To"])]


@pytest.mark.celery_worker
@pytest.mark.django_db(transaction=True)
def test_mail_in_acknowledgement_out_agent_answer_and_mail_reply_back_on_a_real_worker(
    cast, imap, smtp, private_broker, settings, tmp_path
):
    from celery.beat import Service
    from celery.contrib.testing import tasks  # noqa: F401 - registers celery.ping for the test worker
    from celery.contrib.testing.worker import start_worker

    settings.CROSSLINE_MAIL_POLL_SECONDS = 1.0
    app.conf.beat_schedule = beat_schedule(1.0)  # the sweep, the relay and the poll every second
    always = Calendar.objects.create(name="24x7", time_zone="UTC", always_open=True)
    Policy.objects.create(name="Incidents", order=1, calendar=always, kinds=[Kind.INCIDENT], response_s=3600,
                          resolution_s=8 * 3600, functional_escalation=False, hierarchical_escalation=False)
    Mailbox.objects.create(name="Service desk", address="desk@crossline.test", kind=Kind.INCIDENT, group=cast.l1,
                           imap_host=imap.host, imap_port=imap.port, imap_ssl=False, imap_user="desk",
                           imap_password="secret")
    imap.deliver(FIRST)

    beat_service = Service(app, max_interval=0.5, schedule_filename=str(tmp_path / "beat-schedule"))
    beat_thread = threading.Thread(target=beat_service.start, daemon=True)
    with start_worker(app, pool="solo", concurrency=1, perform_ping_check=False, shutdown_timeout=10):
        beat_thread.start()
        try:
            assert wait_for(lambda: _received(smtp, "nora@example.org"), timeout=30), "no acknowledgement was sent"
            ticket = Ticket.objects.get(inbound_mails__message_key="caf3-first@mail.example.org")
            ack = _received(smtp, "nora@example.org")[0]

            answer = services.ticket_comment(ticket=ticket, actor=cast.agent1,
                                             body="Please choose PDF instead of TIFF on the scanner's panel.")
            assert wait_for(lambda: len(_received(smtp, "nora@example.org")) >= 2, timeout=30), (
                "the agent's answer was not mailed")
            mailed = _received(smtp, "nora@example.org")[1]
            imap.deliver(_reply(str(mailed["Message-ID"]), ticket.title))
            assert wait_for(lambda: Comment.objects.filter(ticket=ticket, author__email="nora@example.org").exists(),
                            timeout=30), "the mail reply did not land on the ticket"

            imap.deliver(FIRST)  # the same message delivered twice (a resend, a second copy in the box)
            assert wait_for(lambda: not imap.unseen(), timeout=30), "the second copy was not read"
        finally:
            beat_service.stop()
            beat_thread.join(timeout=5)

    assert ticket.key.startswith("INC-") and ticket.requester.email == "nora@example.org"
    assert ticket.group == cast.l1 and "arrives as a blank page" in ticket.description
    assert f"[{ticket.key}]" in str(ack["Subject"]) and ack["Reply-To"] == "desk@crossline.test"
    assert str(ack["In-Reply-To"]) == "<CAF3-first@mail.example.org>"  # it threads under her own mail
    assert "Please choose PDF" in mailed.get_body(preferencelist=("plain",)).get_content()

    reply = Comment.objects.get(ticket=ticket, author__email="nora@example.org")
    assert not reply.internal and reply.body == "That fixed it, scans arrive with the pages now."
    clock = Clock.objects.get(ticket=ticket, metric=Metric.RESPONSE)
    ticket.refresh_from_db()
    assert clock.stopped_at == answer.created_at == ticket.first_response_at  # stopped by the agent, not by her

    assert Ticket.objects.filter(title="Scanner on floor 3 sends blank pages").count() == 1
    assert list(InboundMail.objects.order_by("pk").values_list("outcome", flat=True)) == [
        InboundOutcome.CREATED, InboundOutcome.REPLIED]
