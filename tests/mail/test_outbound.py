"""Mail people can answer: what a requester receives and when, as an SMTP server receives it.

A real SMTP server (aiosmtpd) listens on 127.0.0.1 on a free port; the outbox relay delivers to it and the tests
read the raw messages: headers, both parts, wording, language and time zone, and a reply that finds its ticket.
"""

from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from sla.choices import InboundOutcome, NotificationKind
from sla.models import Calendar, InboundMail, Mailbox, OutboxMessage, Policy
from sla.services import clocks_sweep
from sla.services.mail_intake import mail_receive
from sla.services.notifications import thread_headers
from tests.factories import UserFactory
from tracker import services
from tracker.choices import Kind, Role, Status
from tracker.models import Comment, Ticket

pytestmark = pytest.mark.django_db

MONDAY = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)  # 10:00 in Berlin (CET)


@pytest.fixture
def desk(cast):
    return Mailbox.objects.create(name="Service desk", address="desk@crossline.test", kind=Kind.INCIDENT,
                                  group=cast.l1)


@pytest.fixture
def breach_only(db):
    """A 24x7 policy whose response target breaches after 100 s, with no warning and no escalation."""
    always = Calendar.objects.create(name="24x7", time_zone="UTC", always_open=True)
    return Policy.objects.create(name="Any", order=1, calendar=always, response_s=100, resolution_s=100000,
                                 warn_percents=[], functional_escalation=False, hierarchical_escalation=False)


def parts(msg) -> tuple[str, str]:
    return (msg.get_body(preferencelist=("plain",)).get_content(),
            msg.get_body(preferencelist=("html",)).get_content())


def to(messages, address):
    return [m for m in messages if m["To"] == address]


def incident(cast, **values):
    return services.ticket_create(actor=cast.requester, kind=Kind.INCIDENT, title=values.pop("title", "VPN drops"),
                                  service=cast.services["payroll"], now=values.pop("now", MONDAY), **values)


def test_a_request_raised_in_the_portal_is_acknowledged_with_a_mail_the_requester_can_answer(
        smtp, desk, cast, client_for):
    response = client_for(cast.requester).post("/portal/new/", {
        "kind": Kind.INCIDENT, "title": "Payslip <b>blank</b>", "description": "Since Friday.",
        "service": cast.services["payroll"].pk, "impact": 3, "urgency": 2})
    assert response.status_code == 302
    ticket = Ticket.objects.get()

    [ack] = smtp()

    stored = OutboxMessage.objects.get(ticket=ticket, kind=NotificationKind.RECEIVED)
    assert ack["Message-ID"] == stored.message_id == f"<received.{ticket.pk}@crossline.test>"
    assert ack["To"] == cast.requester.email
    assert ack["Subject"] == f"[{ticket.key}] We have your request: Payslip <b>blank</b>"
    assert ack["Subject"].count(ticket.key) == 1
    assert ack["Reply-To"] == "desk@crossline.test"  # the active mailbox for incidents
    assert ack["Auto-Submitted"] == "auto-generated"
    assert ack["X-Crossline-Ticket"] == ticket.key
    assert ack["In-Reply-To"] is None and ack["References"] is None  # the root of the ticket's thread
    text, html = parts(ack)
    assert f"We have your request {ticket.key}" in text and "Reply to this mail to add to it" in text
    assert f"https://desk.crossline.test/tickets/{ticket.key}/" in text
    assert "Payslip &lt;b&gt;blank&lt;/b&gt;" in html and "<b>blank</b>" not in html  # text escaped
    assert f'href="https://desk.crossline.test/tickets/{ticket.key}/"' in html and f"Open {ticket.key}" in html
    assert (stored.reply_to, stored.in_reply_to, stored.references) == ("desk@crossline.test", "", "")


def test_a_request_raised_through_the_api_or_by_an_agent_is_acknowledged_too(smtp, desk, cast, api):
    mine = api(cast.requester).post("/api/v1/tickets/", {"kind": "incident", "title": "Laptop slow",
                                                         "service": cast.services["payroll"].pk}, format="json")
    for_her = api(cast.agent1).post("/api/v1/tickets/", {"kind": "incident", "title": "Phone lost",
                                                         "requester": cast.other_requester.pk}, format="json")
    by_staff = api(cast.agent1).post("/api/v1/tickets/", {"kind": "incident", "title": "Agent's own"},
                                     format="json")
    assert (mine.status_code, for_her.status_code, by_staff.status_code) == (201, 201, 201)

    acks = [m for m in smtp() if "We have your request" in m["Subject"]]

    assert sorted(m["To"] for m in acks) == sorted([cast.requester.email, cast.other_requester.email])
    [raised_for] = to(acks, cast.other_requester.email)
    assert f"by {cast.agent1} for you" in parts(raised_for)[0]


def test_every_mail_about_a_ticket_threads_under_its_acknowledgement_and_speaks_to_the_requester(smtp, desk, cast):
    ticket = incident(cast)
    services.ticket_assign(ticket=ticket, actor=cast.agent1, assignee=cast.agent1)
    root = f"<received.{ticket.pk}@crossline.test>"
    [ack] = to(smtp(), cast.requester.email)
    assert ack["Message-ID"] == root

    services.ticket_comment(ticket=ticket, actor=cast.agent1, body="Try the new VPN profile, please.")
    services.ticket_comment(ticket=ticket, actor=cast.agent1, body="Account locked by audit", internal=True)
    services.ticket_transition(ticket=ticket, to=Status.IN_PROGRESS, actor=cast.agent1)
    services.ticket_transition(ticket=ticket, to=Status.PENDING, actor=cast.agent1)
    ticket.refresh_from_db()
    services.ticket_transition(ticket=ticket, to=Status.IN_PROGRESS, actor=cast.agent1)
    services.ticket_transition(ticket=ticket, to=Status.RESOLVED, actor=cast.agent1,
                               values={"resolution_note": "Profile renewed."})
    mails = to(smtp(), cast.requester.email)

    subjects = [m["Subject"] for m in mails]
    assert subjects == [
        f"[{ticket.key}] New reply from {cast.agent1}: VPN drops",
        f"[{ticket.key}] Now in progress: VPN drops",
        f"[{ticket.key}] Waiting on you: VPN drops",
        f"[{ticket.key}] Now in progress: VPN drops",
        f"[{ticket.key}] Resolved: VPN drops",
    ]
    for mail in mails:
        assert (mail["In-Reply-To"], mail["References"]) == (root, root)
        assert mail["Reply-To"] == "desk@crossline.test"
        assert mail["Auto-Submitted"] == "auto-generated" and mail["X-Crossline-Ticket"] == ticket.key
        assert mail["Message-ID"] in set(OutboxMessage.objects.values_list("message_id", flat=True))
    reply, pending, resolved = parts(mails[0])[0], parts(mails[2])[0], parts(mails[4])[0]
    assert "Try the new VPN profile, please." in reply  # the comment itself, not a pointer to it
    assert "waits for your answer" in pending and "Reply to this mail with what is asked" in pending
    assert "Profile renewed." in resolved and "If it is not fixed, reply to this mail" in resolved
    assert not any(b"Account locked by audit" in raw for raw in smtp.raw if cast.requester.email.encode() in raw)


def test_an_internal_note_sends_the_requester_nothing(smtp, cast):
    ticket = incident(cast)
    services.ticket_assign(ticket=ticket, actor=cast.agent1, assignee=cast.agent1)
    services.ticket_watch(ticket=ticket, actor=cast.agent1, user=cast.agent2)
    smtp()
    services.ticket_comment(ticket=ticket, actor=cast.agent1, body="Account locked by audit", internal=True)

    mails = smtp()

    assert [m["To"] for m in mails] == [cast.agent2.email]
    assert "Account locked by audit" in parts(mails[0])[0]


def test_a_ticket_raised_by_mail_threads_under_the_requesters_own_mail_and_a_reply_lands_on_it(smtp, desk, cast):
    raw = (b"From: Nora Field <nora@example.org>\r\nTo: desk@crossline.test\r\nSubject: Printer jammed\r\n"
           b"Message-ID: <First@mail.example.org>\r\nDate: Mon, 07 Dec 2026 10:00:00 +0100\r\n"
           b"Content-Type: text/plain; charset=utf-8\r\n\r\nIt jams on page 2.\r\n")
    ticket = mail_receive(raw, mailbox=desk, now=MONDAY).ticket

    [ack] = smtp()

    assert ack["To"] == "nora@example.org"
    assert (ack["In-Reply-To"], ack["References"]) == ("<First@mail.example.org>", "<First@mail.example.org>")
    assert ack["Reply-To"] == "desk@crossline.test"
    stored = OutboxMessage.objects.get(kind=NotificationKind.RECEIVED)
    assert (stored.in_reply_to, stored.message_id) == ("<First@mail.example.org>", ack["Message-ID"])

    # The requester answers the acknowledgement from their mail client: the reply names what the server received.
    reply = (f"From: nora@example.org\r\nTo: desk@crossline.test\r\nSubject: Re: {ack['Subject']}\r\n"
             f"Message-ID: <second@mail.example.org>\r\nIn-Reply-To: {ack['Message-ID']}\r\n"
             f"References: {ack['References']} {ack['Message-ID']}\r\n"
             "Content-Type: text/plain; charset=utf-8\r\n\r\nIt still jams, on page 3 now.\r\n").encode()
    row = mail_receive(reply, mailbox=desk, now=MONDAY + timedelta(hours=1))
    assert (row.outcome, row.ticket) == (InboundOutcome.REPLIED, ticket)
    assert Comment.objects.get(ticket=ticket).body == "It still jams, on page 3 now."

    services.ticket_assign(ticket=ticket, actor=cast.agent1, assignee=cast.agent1)
    services.ticket_comment(ticket=ticket, actor=cast.agent1, body="Which tray?")
    [answer] = to(smtp(), "nora@example.org")
    # The root is her first mail; the mail answered is her last one.
    assert answer["References"] == "<First@mail.example.org> <second@mail.example.org>"
    assert answer["In-Reply-To"] == "<second@mail.example.org>"
    assert answer["Reply-To"] == "desk@crossline.test"


def test_a_german_requester_reads_german_with_times_in_their_zone(smtp, desk, cast):
    cast.requester.language, cast.requester.time_zone = "de", "Europe/Berlin"
    cast.requester.save()
    ticket = incident(cast, title="Drucker streikt")
    services.ticket_assign(ticket=ticket, actor=cast.agent1, assignee=cast.agent1)
    services.ticket_transition(ticket=ticket, to=Status.IN_PROGRESS, actor=cast.agent1, now=MONDAY)
    services.ticket_transition(ticket=ticket, to=Status.PENDING, actor=cast.agent1,
                               now=MONDAY + timedelta(hours=2))

    ack, moved, pending = to(smtp(), cast.requester.email)

    assert ack["Subject"] == f"[{ticket.key}] Ihre Anfrage ist bei uns: Drucker streikt"
    text, html = parts(ack)
    assert "am 7. Dezember 2026, 10:00 CET" in text  # 09:00 UTC, in Berlin, month named in German
    assert "Antworten Sie auf diese Mail" in text and f"{ticket.key} öffnen" in html and 'lang="de"' in html
    assert moved["Subject"] == f"[{ticket.key}] Jetzt in Bearbeitung: Drucker streikt"
    assert pending["Subject"] == f"[{ticket.key}] Wir warten auf Sie: Drucker streikt"
    assert "seit 7. Dezember 2026, 12:00 CET" in parts(pending)[0]
    # Staff on the same ticket keep their English.
    assert cast.agent1.language == ""


def test_sla_mail_goes_to_staff_and_never_to_the_requester(smtp, desk, cast, breach_only):
    ticket = incident(cast)
    smtp()
    clocks_sweep(now=MONDAY + timedelta(seconds=2000))

    mails = smtp()

    assert mails and cast.requester.email not in {m["To"] for m in mails}
    assert {m["X-Crossline-Ticket"] for m in mails} == {ticket.key}
    assert all(m["References"] == f"<received.{ticket.pk}@crossline.test>" for m in mails)


def test_a_policy_that_tells_the_requester_sends_her_an_apology_when_resolution_is_late(smtp, desk, cast,
                                                                                       breach_only):
    breach_only.tell_requester, breach_only.resolution_s = True, 1000
    breach_only.save()
    cast.requester.language, cast.requester.time_zone = "de", "Europe/Berlin"
    cast.requester.save()
    ticket = incident(cast, title="Drucker streikt")
    own = services.ticket_create(actor=cast.agent1, kind=Kind.INCIDENT, title="My own printer", now=MONDAY)
    smtp()  # the acknowledgement

    clocks_sweep(now=MONDAY + timedelta(seconds=500))  # the response target: staff business only
    assert not to(smtp(), cast.requester.email)
    clocks_sweep(now=MONDAY + timedelta(seconds=2000))  # the resolution target
    mails = smtp()

    (late,) = to(mails, cast.requester.email)
    # (a subject with non-ASCII is folded onto its own line by the sender: clients drop the fold's space)
    assert late["Subject"].strip() == f"[{ticket.key}] Es dauert länger als zugesagt: Drucker streikt"
    text = parts(late)[0]
    assert "bis 7. Dezember 2026, 10:16 CET zu lösen" in text and "Das tut uns leid" in text
    assert late["In-Reply-To"] == f"<received.{ticket.pk}@crossline.test>"  # in her thread, answerable
    staff = [m for m in mails if m["To"] != cast.requester.email and m["X-Crossline-Ticket"] == ticket.key]
    assert staff and all("SLA breached" in m["Subject"] for m in staff)
    # A colleague who raised a ticket for herself reads the staff notice, not the apology.
    assert all("SLA breached" in m["Subject"] for m in mails if m["X-Crossline-Ticket"] == own.key)


@pytest.mark.parametrize("tickets", [1, 30])
def test_thread_headers_cost_two_queries_for_a_batch_of_any_size(cast, desk, tickets, django_assert_max_num_queries):
    staff = UserFactory(role=Role.AGENT_L1, email="agent@example.test")
    rows = []
    for n in range(tickets):
        ticket = incident(cast, title=f"Ticket {n}")
        InboundMail.objects.create(message_key=f"m{n}@x", message_id=f"<m{n}@x>", mailbox=desk, ticket=ticket,
                                   outcome=InboundOutcome.CREATED, received_at=MONDAY)
        rows.append(OutboxMessage(key=f"k{n}", kind=NotificationKind.BREACH, ticket=ticket, recipient=staff,
                                  message_id=f"<k{n}@crossline.test>"))

    with django_assert_max_num_queries(2):  # the tickets' received mails; the active mailboxes
        thread_headers(rows)

    assert {(r.in_reply_to, r.reply_to) for r in rows[:1]} == {("<m0@x>", "desk@crossline.test")}


def test_a_sweep_batch_queues_its_mail_with_headers_at_a_constant_query_count(
        cast, desk, breach_only, django_assert_max_num_queries, settings):
    settings.CROSSLINE_MAIL_DOMAIN = "crossline.test"
    for n in range(2):
        incident(cast, title=f"Early {n}")
    with CaptureQueriesContext(connection) as few:
        assert clocks_sweep(now=MONDAY + timedelta(seconds=200)) == 2
    later = MONDAY + timedelta(seconds=1000)
    for n in range(40):
        incident(cast, title=f"Later {n}", now=later)

    with django_assert_max_num_queries(len(few)):  # what 2 breaches cost, 40 cost too: no query per mail
        assert clocks_sweep(now=later + timedelta(seconds=200)) == 40

    queued = OutboxMessage.objects.filter(kind=NotificationKind.BREACH)
    assert queued.count() == 42 and not queued.filter(reply_to="").exists()
    assert all(m.references == f"<received.{m.ticket_id}@crossline.test>" for m in queued)
