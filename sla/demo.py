"""Demo SLA set-up: a London business calendar with UK holidays, a 24x7 calendar, policies P1..P5, and
what the SLA worker would have done over the demo's 30 days.

`seed` is the app's demo step (`SlaConfig.demo_seed`): it creates the calendars and policies before
the history plays (so every clock starts when its ticket was raised), sweeps the clocks at the time
each warning or breach fell due as the history advances, and adds a few tickets raised minutes before
the present whose targets run out in the first minutes after start, so the worker is seen acting.
At the end the past is made quiet (notifications read up to a handful per user, e-mails sent) and the
dashboard's daily roll-up is filled for the 30 days.

`seed_sla_demo()` (idempotent, get-or-create by name) attaches clocks to open tickets that have none.
"""

from collections import defaultdict
from datetime import datetime, time, timedelta

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from tracker import services as tracker_services
from tracker.choices import OPEN_STATUSES, Kind, Role, Status, Tier
from tracker.demo import HISTORY_DAYS, DemoContext
from tracker.models import Ticket

from . import services as sla_services
from .dashboard import local_date
from .models import Calendar, Clock, Holiday, Notification, OutboxMessage, Policy, TierTarget, WorkingHours

MIN = 60
HOUR = 3600
DAY = 8.5 * HOUR  # a London business day, 09:00-17:30

# (priority, response, resolution, L3 pick, calendar)
DEMO_TARGETS = [
    (1, 15 * MIN, 4 * HOUR, 30 * MIN, "24x7"),
    (2, 30 * MIN, 8 * HOUR, 2 * HOUR, "24x7"),
    (3, 4 * HOUR, int(3 * DAY), None, "London business hours"),
    (4, 8 * HOUR, int(5 * DAY), None, "London business hours"),
    (5, int(2 * DAY), int(20 * DAY), None, "London business hours"),
]


def demo_calendars(now: datetime) -> dict[str, Calendar]:
    import holidays

    london, created = Calendar.objects.get_or_create(
        name="London business hours",
        defaults={"time_zone": "Europe/London", "holiday_country": "GB", "holiday_subdivision": "ENG"},
    )
    if created:
        WorkingHours.objects.bulk_create(
            [WorkingHours(calendar=london, weekday=d, start=time(9), end=time(17, 30)) for d in range(5)]
        )
        table = holidays.country_holidays("GB", subdiv="ENG", years=[now.year - 1, now.year, now.year + 1])
        Holiday.objects.bulk_create([Holiday(calendar=london, date=d, name=str(n)[:120]) for d, n in table.items()])
    always, _ = Calendar.objects.get_or_create(name="24x7", defaults={"time_zone": "UTC", "always_open": True})
    return {"London business hours": london, "24x7": always}


def demo_policies(now: datetime) -> list[Policy]:
    calendars = demo_calendars(now)
    policies = []
    for priority, response, resolution, pick, cal in DEMO_TARGETS:
        policy, created = Policy.objects.get_or_create(
            name=f"P{priority} standard",
            defaults={
                "order": priority * 10,
                "calendar": calendars[cal],
                "priorities": [priority],
                "kinds": ["incident", "request", "defect"],
                "response_s": response,
                "resolution_s": resolution,
                # urgent tickets: the requester hears when the fix is late, and what happens next
                "tell_requester": priority <= 2,
            },
        )
        if created and pick:
            TierTarget.objects.create(policy=policy, tier=Tier.L3, goal_s=pick)
        policies.append(policy)
    return policies


def seed_sla_demo(now: datetime | None = None, *, bulk_over: int = 500) -> dict:
    """Calendars, policies and clocks for every open ticket without clocks (counting from `now`). Returns counts.

    Up to `bulk_over` tickets go through `clocks_sync` (timeline rows and all); more use the bulk path.
    """
    now = now or timezone.now()
    with transaction.atomic():
        policies = demo_policies(now)
        pending = (
            Ticket.objects.filter(status__in=OPEN_STATUSES)
            .exclude(sla_clocks__isnull=False)
            .select_related("group", "requester")
            .order_by("id")
        )
        count = pending.count()
        if count <= bulk_over:
            for ticket in pending:
                sla_services.clocks_sync(ticket=ticket, now=now)
        else:
            by_priority = {p.priorities[0]: p for p in policies}
            for priority, policy in by_priority.items():
                sla_services.clocks_start_bulk(tickets=list(pending.filter(priority=priority)), policy=policy, now=now)
    return {"policies": len(policies), "tickets": count, "clocks": Clock.objects.count()}


# --- the demo step ------------------------------------------------------------------------------------


def seed(ctx: DemoContext) -> None:
    """Policies before the history; the worker's sweeps during it; a quiet, rolled-up present after it."""
    demo_policies(ctx.now)
    targets = {priority: (response, pick) for priority, response, _, pick, _ in DEMO_TARGETS}
    for at, life in _due_soon(ctx, targets):
        ctx.story(at, life)
    ctx.every(sweep_until)
    ctx.at_end(lambda: demo_mail(ctx))
    ctx.at_end(lambda: quiet_past(ctx))
    ctx.at_end(lambda: roll_up(ctx))
    ctx.at_end(lambda: demo_webhooks(ctx))


def sweep_until(at: datetime) -> None:
    """Apply every warning and breach due by `at` at the time it fell due, as the worker would have."""
    for _ in range(10_000):
        due = Clock.objects.due(at).order_by("next_check_at").values_list("next_check_at", flat=True).first()
        if due is None:
            return
        sla_services.clocks_sweep(now=due)


def _due_soon(ctx: DemoContext, targets: dict) -> list:
    """Tickets raised just before the present whose targets run out 3-6 minutes after it, and one breached."""
    u, now = ctx.users, ctx.now
    response_p1, pick_p1 = targets[1]
    response_p2, _ = targets[2]

    def unanswered(at, requester, title, service, impact, urgency):
        ticket = tracker_services.ticket_create(
            actor=requester, kind=Kind.INCIDENT, title=title, requester=requester, now=at, impact=impact,
            urgency=urgency, service=ctx.services[service], category=ctx.categories[0],
            description="Nothing works since a few minutes ago.")
        ctx.tickets[Kind.INCIDENT].append(ticket)
        yield at + timedelta(minutes=2), ticket
        tracker_services.ticket_comment(ticket=ticket, actor=requester, now=at + timedelta(minutes=2),
                                        body="Our whole team is affected, please hurry.")

    def waiting_for_l3(at):
        ticket = tracker_services.ticket_create(
            actor=u["alice"], kind=Kind.INCIDENT, title="Checkout rejects every discount code", requester=u["alice"],
            now=at, impact=1, urgency=1, service=ctx.services["Web shop"], category=ctx.categories[0],
            description="Customers cannot use any voucher since the morning deploy.")
        ctx.tickets[Kind.INCIDENT].append(ticket)
        t = at + timedelta(minutes=5)
        yield t, ticket
        tracker_services.ticket_assign(ticket=ticket, actor=u["lena"], assignee=u["lena"], now=t)
        tracker_services.ticket_transition(ticket=ticket, to=Status.IN_PROGRESS, actor=u["lena"], now=t)
        tracker_services.ticket_comment(ticket=ticket, actor=u["lena"], body="On it; checking the shop now.", now=t)
        t += timedelta(minutes=6)
        yield t, ticket
        tracker_services.ticket_escalate(ticket=ticket, actor=u["lena"], note="Shop back end, not the browser.", now=t)
        t += timedelta(minutes=4)
        yield t, ticket
        tracker_services.ticket_assign(ticket=ticket, actor=u["liam"], assignee=u["liam"], now=t)
        t += timedelta(minutes=5)
        yield t, ticket
        tracker_services.ticket_escalate(ticket=ticket, actor=u["liam"], to_group=ctx.dev_group(ticket.service),
                                         note="Voucher service returns 500 since the deploy.", now=t)

    def breached_at_l2(at):
        ticket = tracker_services.ticket_create(
            actor=u["bob"], kind=Kind.INCIDENT, title="Shared mailbox missing for the Sales team", requester=u["bob"],
            now=at, impact=2, urgency=1, service=ctx.services["Email"], category=ctx.categories[0],
            description="The *Sales* shared mailbox disappeared from Outlook for everyone in Berlin.")
        ctx.tickets[Kind.INCIDENT].append(ticket)
        t = at + timedelta(minutes=12)
        yield t, ticket
        tracker_services.ticket_assign(ticket=ticket, actor=u["lena"], assignee=u["lena"], now=t)
        tracker_services.ticket_transition(ticket=ticket, to=Status.IN_PROGRESS, actor=u["lena"], now=t)
        tracker_services.ticket_comment(ticket=ticket, actor=u["lena"], body="Checking the mailbox permissions.", now=t)
        t += timedelta(minutes=50)
        yield t, ticket
        tracker_services.ticket_escalate(ticket=ticket, actor=u["lena"], note="Permissions look fine; needs L2.", now=t)
        t += timedelta(minutes=25)
        yield t, ticket
        tracker_services.ticket_assign(ticket=ticket, actor=u["liam"], assignee=u["liam"], now=t)
        tracker_services.ticket_comment(ticket=ticket, actor=u["liam"], internal=True, now=t,
                                        body="Mailbox migration job stuck at 80 %; opened a case with the vendor.")

    resolution_p2 = next(resolution for p, _, resolution, _, _ in DEMO_TARGETS if p == 2)
    soon = [
        # resolution breached 90 minutes ago (the worker escalated it to L3); its L3 pick is due in 30 minutes
        (now - timedelta(seconds=resolution_p2, minutes=90), breached_at_l2),
        (now - timedelta(seconds=response_p1) + timedelta(minutes=3),
         lambda at: unanswered(at, u["bob"], "Card payments fail at every till", "Web shop", 1, 1)),
        (now - timedelta(seconds=response_p2) + timedelta(minutes=6),
         lambda at: unanswered(at, u["alice"], "Payroll export file is empty", "Payroll", 1, 2)),
    ]
    if pick_p1:  # escalated to L3 20 minutes after it was raised; the pick target runs out 5 minutes from now
        soon.append((now - timedelta(seconds=pick_p1, minutes=20) + timedelta(minutes=5), waiting_for_l3))
    return [(at, make(at)) for at, make in soon]


def quiet_past(ctx: DemoContext) -> None:
    """The demo's past happened while people worked: e-mails went out, notifications were read.

    Each user keeps a plausible handful unread (requesters 2-4, staff 5-12, the newest); the rest were
    read at the end of the day they arrived. Clocks due after the present notify when the worker runs.
    """
    # The outbox relay would have sent these when they were written; nobody should get them again now.
    OutboxMessage.objects.filter(sent_at__isnull=True, created_at__lte=ctx.now).update(
        sent_at=F("created_at"), attempts=1)
    for user in sorted(ctx.users.values(), key=lambda user: user.username):
        unread = list(Notification.objects.filter(recipient=user, read_at__isnull=True, created_at__lte=ctx.now)
                      .order_by("-created_at", "-id").values_list("pk", "created_at"))
        keep = ctx.rng.randint(2, 4) if user.role == Role.REQUESTER else ctx.rng.randint(5, 12)
        by_day: dict = defaultdict(list)
        for pk, created in unread[keep:]:
            by_day[local_date(created)].append((pk, created))
        for rows in by_day.values():
            read_at = min(max(c for _, c in rows) + timedelta(minutes=ctx.rng.uniform(5, 90)), ctx.now)
            sla_services.notification_mark_read(user=user, ids=[pk for pk, _ in rows], now=read_at)


def roll_up(ctx: DemoContext) -> None:
    """Fill the dashboard's daily roll-up for the history's days (what beat keeps current), and the backlog."""
    today = local_date(ctx.now)
    for days_ago in range(HISTORY_DAYS + 1, 0, -1):
        sla_services.rollup_refresh(day=today - timedelta(days=days_ago), now=ctx.now)
    sla_services.backlog_snapshot(now=ctx.now)


# --- defects run on their own targets -------------------------------------------------------------------------
# A defect is the development team's work, planned in its backlog: it never runs on an outage's P1/P2 targets.
# (name, order, priorities, response, resolution) in London business hours; the first that matches wins.
DEFECT_TARGETS = [
    ("Defects, urgent (S1/S2)", 1, [1, 2], 2 * HOUR, int(3 * DAY)),
    ("Defects", 2, [], int(1 * DAY), int(15 * DAY)),
]


def demo_defect_policies(now: datetime) -> list[Policy]:
    """The defects' own policies (kind "defect" only), ahead of the P1-P5 standard ones; kept when they exist."""
    london = demo_calendars(now)["London business hours"]
    policies = []
    for name, order, priorities, response, resolution in DEFECT_TARGETS:
        policy, _ = Policy.objects.get_or_create(name=name, defaults={
            "order": order, "calendar": london, "kinds": ["defect"], "priorities": priorities,
            "response_s": response, "resolution_s": resolution, "functional_escalation": False})
        policies.append(policy)
    return policies
# --- outbound webhooks --------------------------------------------------------------------------------


def demo_webhooks(ctx: DemoContext) -> None:
    """Two integrations set up a week ago and what they were sent since: the status page is told of new incidents
    (all delivered, one after a retry); the chat bridge got status changes until its endpoint started refusing
    (the last two failed after every retry; it is paused, and a manager may redeliver them)."""
    from .choices import DeliveryState, WebhookEvent
    from .models import WebhookAttempt, WebhookDelivery, WebhookSubscription
    from .services.webhooks import ticket_data

    admin = ctx.users.get("admin")
    if WebhookSubscription.objects.exists() or admin is None:
        return
    since = ctx.now - timedelta(days=7)
    status = WebhookSubscription.objects.create(
        name="Status page", url="https://status.crossline.example/hooks/crossline", secret="whsec_demo_status_page",
        events=[WebhookEvent.TICKET_CREATED, WebhookEvent.SLA_BREACH], created_by=admin, created_at=since)
    chat = WebhookSubscription.objects.create(
        name="Ops chat bridge", url="https://chat.crossline.example/bridge/incoming", secret="whsec_demo_chat",
        events=[WebhookEvent.TICKET_TRANSITIONED, WebhookEvent.TICKET_COMMENTED], created_by=admin,
        created_at=since, active=False)
    incidents = sorted((t for t in ctx.tickets.get(Kind.INCIDENT, []) if t.created_at >= since),
                       key=lambda t: t.created_at)[-12:]
    rows, tries = [], []
    for n, ticket in enumerate(incidents):
        ticket.refresh_from_db()
        for sub, event in ((status, WebhookEvent.TICKET_CREATED), (chat, WebhookEvent.TICKET_TRANSITIONED)):
            at = ticket.created_at if event == WebhookEvent.TICKET_CREATED else ticket.updated_at
            if at > ctx.now:
                continue
            failed = sub is chat and n >= len(incidents) - 2
            retried = sub is status and n == 3
            event_id = f"demo-{sub.pk}-{ticket.pk}"
            body = {"id": event_id, "event": event, "created_at": at.isoformat(),
                    "data": {"ticket": ticket_data(ticket), "actor": None, "reason": "created", "changes": {}}}
            attempts = 8 if failed else (2 if retried else 1)
            rows.append(WebhookDelivery(
                subscription=sub, event=event, event_id=event_id, key=f"{sub.pk}:{event_id}", payload=body,
                created_at=at, available_at=at, attempts=attempts,
                state=DeliveryState.FAILED if failed else DeliveryState.DELIVERED,
                delivered_at=None if failed else at + timedelta(seconds=30 * (attempts - 1) + 1),
                last_status_code=503 if failed else 200, last_duration_ms=ctx.rng.randint(60, 320),
                last_error="HTTP 503" if failed else ""))
            for i in range(attempts):
                ok = not failed and i == attempts - 1
                tries.append((event_id, sub, WebhookAttempt(
                    attempted_at=at + timedelta(seconds=1 + 30 * (2 ** i - 1)), status_code=200 if ok else 503,
                    duration_ms=ctx.rng.randint(60, 320), error="" if ok else "HTTP 503", ok=ok)))
    WebhookDelivery.objects.bulk_create(rows)
    saved = {(d.subscription_id, d.event_id): d for d in WebhookDelivery.objects.all()}
    for event_id, sub, attempt in tries:
        attempt.delivery = saved[(sub.pk, event_id)]
    WebhookAttempt.objects.bulk_create([a for _, _, a in tries])


# --- inbound mail ---------------------------------------------------------------------------------------------

def _demo_raw(*, sender: str, subject: str, body: str, message_id: str, at: datetime, extra: str = "") -> bytes:
    from email.utils import format_datetime

    return (f"Return-Path: <{sender.rpartition('<')[2].rstrip('>')}>\r\n"
            f"Received: from mail.northwind.example (mail.northwind.example [192.0.2.25]) by mx1.crossline.example "
            f"(Postfix) with ESMTPS; {format_datetime(at)}\r\n"
            f"From: {sender}\r\nTo: Crossline Service Desk <servicedesk@crossline.example>\r\nSubject: {subject}\r\n"
            f"Date: {format_datetime(at)}\r\nMessage-ID: {message_id}\r\n{extra}MIME-Version: 1.0\r\n"
            f"Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n{body}\r\n").encode()


def demo_mail(ctx: DemoContext) -> None:
    """Two intake mailboxes and what reached them this morning, each filed by `mail_receive` from its raw message:
    new tickets by mail (one from a requester nobody knew), a threaded reply, a colleague's reply held for review,
    an unreadable mail quarantined and an auto-reply ignored. Filing is once per Message-ID, so a second run adds
    nothing."""
    from .models import Mailbox
    from .services.mail_intake import mail_receive

    desk, _ = Mailbox.objects.get_or_create(address="servicedesk@crossline.example", defaults={
        "name": "Service desk", "kind": Kind.INCIDENT, "group": ctx.l1})
    requests, _ = Mailbox.objects.get_or_create(address="requests@crossline.example", defaults={
        "name": "Requests", "kind": Kind.REQUEST, "group": ctx.l1})
    u = ctx.users
    at = ctx.now - timedelta(hours=3)
    alice = f"Alice Archer <{u['alice'].email}>"
    first = "<CAF7dK2m9Qe1x.demo-1@mail.crossline.example>"
    mails = [
        (desk, dict(sender=alice, subject="Projector in meeting room 3 shows no picture", message_id=first, body=(
            "Hi,\n\nthe projector in meeting room 3 stays blue whatever laptop we plug in. We have the board "
            "meeting there at 2 pm.\n\nThanks,\nAlice\n-- \nAlice Archer | Finance | London"))),
        (desk, dict(sender="Nora Field <nora.field@northwind-logistics.example>",
                    subject="Cannot reach the supplier portal",
                    message_id="<20261207.demo-2@northwind-logistics.example>",
                    body=("Good morning,\n\nsince yesterday evening the supplier portal answers \"403 Forbidden\" "
                          "for all of us at Northwind Logistics. Our account number is NW-2231.\n\nKind regards\n"
                          "Nora Field"))),
        (requests, dict(sender=f"Bob Becker <{u['bob'].email}>", subject="Second monitor for my desk",
                        message_id="<demo-3.bob@mail.crossline.example>",
                        body="Hello,\n\ncould I get a second 27\" monitor for desk B-114?\n\nBob")),
        (desk, dict(sender=alice, subject="Re: Projector in meeting room 3 shows no picture",
                    message_id="<CAF7dK2m9Qe1x.demo-4@mail.crossline.example>", extra=f"In-Reply-To: {first}\r\n",
                    body=("Update: it works with the HDMI cable from room 2, so it may just be the cable.\n\n"
                          f"On {ctx.now:%a, %d %b %Y} Alice Archer wrote:\n> the projector in meeting room 3 "
                          "stays blue"))),
        (desk, dict(sender=f"Bob Becker <{u['bob'].email}>", subject="Re: Projector in meeting room 3 shows no picture",
                    message_id="<demo-5.bob@mail.crossline.example>", extra=f"In-Reply-To: {first}\r\n",
                    body="Same in room 4 by the way, and there the cable is new.\n\nBob")),
        (desk, dict(sender="Alice Archer <alice@crossline.example>",
                    subject="Automatic reply: Projector in meeting room 3 shows no picture",
                    message_id="<demo-6.ooo@mail.crossline.example>",
                    extra="Auto-Submitted: auto-replied\r\nX-Auto-Response-Suppress: All\r\n",
                    body="I am out of the office this afternoon and back tomorrow morning.")),
    ]
    for n, (box, mail) in enumerate(mails):
        when = at + timedelta(minutes=20 * n)
        mail_receive(_demo_raw(at=when, **mail), mailbox=box, now=when)
    # a scanner's mail with no sender at all: quarantined for an administrator to look at
    mail_receive(b"To: servicedesk@crossline.example\r\nSubject: Scan from MFP-2F\r\n"
                 b"Message-ID: <demo-7.scan@mfp-2f.crossline.example>\r\nContent-Type: text/plain\r\n\r\n"
                 b"\x00\x01 scanned document attached \x00\r\n", mailbox=desk, now=at + timedelta(minutes=150))
