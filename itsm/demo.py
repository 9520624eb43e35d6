"""Demo data of service management (the app's demo step, `ItsmConfig.demo_seed`): knowledge-base articles and
FAQ entries; the CABs and standard-change templates of change enablement, and the changes of the history
decided by their CAB's votes, with a handful of recent ones left in every approval state."""

import random
from datetime import datetime, time, timedelta

from tracker import services as core
from tracker.choices import ChangeType, ImplementationResult, Kind, LinkType, Risk, Status
from tracker.demo import LONDON, TITLES, DemoContext, Life, _values, desk_life, office_after
from tracker.models import Service, Ticket, User

from . import services
from .choices import CabRule, RoundStatus, Vote
from .models import ApprovalRound, Cab, ChangeTemplate, KnowledgeArticle

ARTICLES = [
    (
        "How do I reset my password?",
        None,
        "1. Open the sign-in page and choose **Forgot password**.\n2. Enter your work email.\n"
        "3. Follow the link in the mail within 30 minutes.\n\nStill locked out? Raise an incident: the desk "
        "unlocks accounts within the hour.",
    ),
    (
        "Payslip shows zero or is blank",
        "Payroll",
        "Payslips are published on the 25th at 06:00. Before then the page shows an empty slip.\n\n"
        "If it is still blank after the 25th, **raise an incident** with the month in the title.",
    ),
    (
        "VPN disconnects every few minutes",
        "VPN",
        "Update the VPN client to the latest version (Software Centre → *VPN*), then restart.\n\n"
        "On hotel or train Wi-Fi, switch the client to *TCP mode* in Settings.",
    ),
    (
        "Set up work email on a phone",
        "Email",
        "Install the mail app from the company portal, sign in with your work address and approve the "
        "prompt on your registered device.",
    ),
    (
        "Order a laptop, monitor or headset",
        None,
        "Use **Request something** in the portal and pick *Hardware*. Standard items ship in 3 working days.",
    ),
    (
        "The web shop checkout shows the wrong currency",
        "Web shop",
        "Clear the site's cookies and choose the country again at the top; prices switch with it.",
    ),
]


def seed(ctx: DemoContext) -> None:
    """The published articles the portal's search and FAQ show (idempotent, by title); the CABs, templates and
    change stories of change enablement."""
    by_name = {s.name: s for s in Service.objects.all()}
    for title, service, body in ARTICLES:
        KnowledgeArticle.objects.update_or_create(
            title=title,
            defaults={"body": body, "service": by_name.get(service), "faq": True, "published": True},
        )
    seed_change_setup(ctx)
    ctx.lives[Kind.CHANGE] = change_life
    for at, life in recent_changes(ctx):
        ctx.story(at, life)


# --- change enablement --------------------------------------------------------------------------------------

TEMPLATES = [
    # title, service, risk, plan, backout, description, later versions (changes, note)
    ("Rotate VPN certificates", "VPN", Risk.LOW,
     "1. Issue the new pair from the internal CA\n2. Load it on the standby gateway, fail over\n3. Load it on the "
     "primary, fail back\n4. Check a client connects from outside", "Fail back to the gateway with the old pair "
     "(kept for 30 days)", "Quarterly rotation of the VPN gateway certificates.",
     [({"implementation_plan": "1. Issue the new pair from the internal CA\n2. Load it on the standby gateway, fail "
        "over\n3. Load it on the primary, fail back\n4. Check a client connects from outside and from a hotel "
        "Wi-Fi (TCP mode)"}, "Also check TCP mode after the hotel Wi-Fi incidents.")]),
    ("Add a mailbox quota tier", "Email", Risk.LOW,
     "1. Create the quota policy\n2. Assign it to the requested mailboxes\n3. Confirm the new limit in the "
     "admin centre", "Assign the previous policy again", "For teams that keep large attachments.", []),
    ("Restart web shop cache nodes", "Web shop", Risk.MEDIUM,
     "1. Drain one node from the load balancer\n2. Restart it, wait for warm-up\n3. Put it back; repeat per "
     "node", "None needed: a node rejoins on restart; stop after the first node if errors rise",
     "Outside 11:00-14:00 and 18:00-21:00 (peak hours).", []),
    ("Renew payroll TLS certificate by hand", "Payroll", Risk.MEDIUM, "Replace the certificate file on both nodes",
     "Put the old file back", "Replaced by the automatic renewal in May.", []),
]
RETIRED = {"Renew payroll TLS certificate by hand"}


def seed_change_setup(ctx: DemoContext) -> None:
    """The CABs carl chairs and the standard-change templates he wrote (idempotent, by name)."""
    u, at = ctx.users, ctx.now - timedelta(days=45)
    boards = [
        ("Change Advisory Board", None, False, CabRule.MAJORITY, 1, ["carl", "maria", "dana", "liam"]),
        ("Payroll CAB", ctx.services["Payroll"], False, CabRule.ALL, 1, ["carl", "devon", "maria"]),
        ("Emergency CAB", None, True, CabRule.ANY, 1, ["carl", "maria"]),
    ]
    for name, service, emergency, rule, quorum, members in boards:
        existing = Cab.objects.filter(name=name).first()
        services.cab_save(actor=u["carl"], cab=existing, name=name, service=service, emergency=emergency, rule=rule,
                          quorum=quorum, members=[u[m] for m in members], now=at)
    for title, service, risk, plan, backout, description, later in TEMPLATES:
        if ChangeTemplate.objects.filter(title=title).exists():
            continue
        template = services.template_create(actor=u["carl"], title=title, service=ctx.services[service], risk=risk,
                                            implementation_plan=plan, backout_plan=backout, description=description,
                                            now=at)
        for i, (changes, note) in enumerate(later, start=1):
            services.template_update(actor=u["carl"], template=template, changes=changes, note=note,
                                     now=at + timedelta(days=10 * i))
        if title in RETIRED:
            services.template_retire(actor=u["carl"], template=template, now=ctx.now - timedelta(days=20))


PLAN = {"implementation_plan": "1. Announce in the service channel\n2. Deploy\n3. Verify with the smoke tests",
        "backout_plan": "Redeploy the previous build (about 10 minutes)"}
APPROVALS = ["Fine for the planned window.", "OK; the desk knows.", "", "Go.", "Low risk, approved."]
REJECTIONS = ["The backout plan is not tested.", "Clashes with the month-end payroll run.",
              "No rollback owner named for the night."]
CHANGE_REQUESTS = ["Name who runs the backout, and how long it takes.", "Add the smoke tests you will run.",
                   "Move the window out of the bank upload (02:00-03:00)."]


def _members(ticket: Ticket) -> list[User]:
    """Who the open round still waits on, in the order of the board's list."""
    approval_round = ApprovalRound.objects.filter(ticket=ticket, status=RoundStatus.OPEN).first()
    if approval_round is None:
        return []
    return [a.approver for a in approval_round.approvals.select_related("approver").order_by("approver__username")
            if a.decision == Vote.PENDING]


def _vote(ticket: Ticket, user: User, decision: str, comment: str, at: datetime) -> bool:
    """Vote when the round still waits on this person (a story never votes twice or after the decision)."""
    if user not in _members(ticket):
        return False
    services.approval_vote(ticket=ticket, actor=user, decision=decision, comment=comment, now=at)
    ticket.refresh_from_db()
    return True


def _round_votes(ticket: Ticket, rng: random.Random, at: datetime, *, against: str = "", emergency: bool = False):
    """Each approver votes after a while, until the round is decided; one of them against, if `against`."""
    voted_against = False
    for user in list(_members(ticket)):
        at = office_after(at, rng.uniform(20, 300), emergency)
        yield at, ticket
        if not voted_against and against:
            voted_against = _vote(ticket, user, against, rng.choice(
                REJECTIONS if against == Vote.REJECTED else CHANGE_REQUESTS), at)
        else:
            _vote(ticket, user, Vote.APPROVED, rng.choice(APPROVALS), at)
        if not ApprovalRound.objects.filter(ticket=ticket, status=RoundStatus.OPEN).exists():
            return


def _window(at: datetime, lead: timedelta) -> tuple[datetime, datetime]:
    start = datetime.combine((at + lead).astimezone(LONDON).date(), time(19), LONDON)
    return start, start + timedelta(hours=2)


def change_life(ctx: DemoContext, rng: random.Random, at: datetime, *, kind: str = Kind.CHANGE) -> Life:
    """A change of the history: a standard one from a template, or a normal or emergency one decided by its CAB's
    votes (sometimes rejected or sent back for changes, then revised and approved); then implemented and
    reviewed."""
    u = ctx.users
    change_type = rng.choice([ChangeType.STANDARD, ChangeType.NORMAL, ChangeType.NORMAL, ChangeType.EMERGENCY])
    emergency = change_type == ChangeType.EMERGENCY
    start, end = _window(at, timedelta(hours=rng.uniform(4, 12)) if emergency else timedelta(days=rng.randint(2, 6)))
    requester = rng.choice([u["liam"], u["liam"], u["devon"]])
    if change_type == ChangeType.STANDARD:
        template = rng.choice(list(ChangeTemplate.objects.filter(retired_at__isnull=True).order_by("title")))
        ticket = services.standard_change_create(template=template, actor=requester, now=at, window_start=start,
                                                 window_end=end)
    else:
        service = rng.choice(list(ctx.services.values()))
        ticket = core.ticket_create(actor=requester, kind=Kind.CHANGE, title=rng.choice(TITLES[Kind.CHANGE]), now=at,
                                    **_values(ctx, rng, service, change_type=change_type, risk=rng.choice(Risk.values),
                                              window_start=start, window_end=end))
    ctx.tickets[Kind.CHANGE].append(ticket)
    t = office_after(at, rng.uniform(30, 240), emergency)
    yield t, ticket
    if change_type == ChangeType.STANDARD:
        core.ticket_transition(ticket=ticket, to=Status.APPROVED, actor=requester, now=t)
    else:
        core.ticket_transition(ticket=ticket, to=Status.REVIEW, actor=requester, now=t,
                               values={**PLAN, "risk": ticket.risk or Risk.LOW})
        route = rng.random()
        if emergency and route < 0.3:  # the outage cannot wait for the ECAB
            t = office_after(t, rng.uniform(5, 30), True)
            yield t, ticket
            core.ticket_transition(ticket=ticket, to=Status.IN_PROGRESS, actor=requester, now=t, values={
                "emergency_justification": "Users cannot work until it is fixed; the ECAB is asked in parallel."})
        against = "" if emergency or route >= 0.3 else Vote.REJECTED if route < 0.18 else Vote.CHANGES_REQUESTED
        for step in _round_votes(ticket, rng, t, against=against, emergency=emergency):
            t = step[0]
            yield step
        if ticket.status in (Status.REJECTED, Status.NEW):  # revisit, revise, resubmit: round 2 approves
            t = office_after(t, rng.uniform(60, 300))
            yield t, ticket
            if ticket.status == Status.REJECTED:
                core.ticket_transition(ticket=ticket, to=Status.NEW, actor=requester, now=t)
            core.ticket_update(ticket=ticket, actor=requester, version=ticket.version, now=t, changes={
                "backout_plan": "Redeploy the previous build; rehearsed on staging (12 minutes), run by the on-call "
                                "engineer"})
            core.ticket_comment(ticket=ticket, actor=requester, now=t, body="Backout rehearsed on staging: 12 minutes "
                                "end to end; the on-call engineer runs it.")
            core.ticket_transition(ticket=ticket, to=Status.REVIEW, actor=requester, now=t)
            for step in _round_votes(ticket, rng, t):
                t = step[0]
                yield step
    if ticket.status == Status.APPROVED:
        t = max(t, ticket.window_start or t)
        yield t, ticket
        core.ticket_transition(ticket=ticket, to=Status.IN_PROGRESS, actor=requester, now=t)
    if ticket.status != Status.IN_PROGRESS:
        return
    t += timedelta(minutes=rng.uniform(40, 110))
    yield t, ticket
    roll = rng.random()
    result = (ImplementationResult.SUCCESSFUL if roll < 0.8 else ImplementationResult.FAILED if roll < 0.9
              else ImplementationResult.ROLLED_BACK)
    core.ticket_transition(ticket=ticket, to=Status.RESOLVED, actor=requester, now=t,
                           values={"implementation_result": result})
    if result != ImplementationResult.SUCCESSFUL:  # users notice the next morning
        morning = office_after(t, rng.uniform(5, 40))
        own = random.Random(rng.getrandbits(64))
        ctx.story(morning, desk_life(ctx, own, morning, kind=Kind.INCIDENT, service=ticket.service, caused_by=ticket,
                                     title=f"{ticket.service.name if ticket.service else 'Service'} not working "
                                           "since last night"))
    t = office_after(t, rng.uniform(1, 2) * 8.5 * 60)
    yield t, ticket
    core.ticket_transition(ticket=ticket, to=Status.CLOSED, actor=u["carl"], now=t, values={
        "review_notes": "Went as planned." if result == ImplementationResult.SUCCESSFUL
        else "Rolled back; retry after the vendor patch. Users were told through the desk."})


def recent_changes(ctx: DemoContext) -> list:
    """Changes of the last days left in every approval state at the present, for people to open: one waiting on
    carl's vote, one rejected, one back with its requester for changes, one in its second round, an emergency
    change started before its approval, a plan changed after approval, a draft and a standard change."""
    u, now = ctx.users, ctx.now
    svc = ctx.services

    def raise_change(at, title, service, *, requester="liam", change_type=ChangeType.NORMAL, days=3):
        start, end = _window(at, timedelta(days=days))
        return core.ticket_create(actor=u[requester], kind=Kind.CHANGE, title=title, now=at, service=svc[service],
                                  change_type=change_type, risk=Risk.MEDIUM, window_start=start, window_end=end,
                                  description=f"Planned change on {service}.")

    def submit(ticket, at, requester="liam"):
        core.ticket_transition(ticket=ticket, to=Status.REVIEW, actor=u[requester], now=at,
                               values={**PLAN, "risk": Risk.MEDIUM})

    def waiting_for_carl(at):  # round 1: maria approved, dana asked for nothing yet, carl still to vote
        ticket = raise_change(at, "Upgrade mail gateway to 11.2", "Email")
        yield at + timedelta(minutes=20), ticket
        submit(ticket, at + timedelta(minutes=20))
        yield at + timedelta(hours=2), ticket
        _vote(ticket, u["maria"], Vote.APPROVED, "Fine for Thursday night.", at + timedelta(hours=2))

    def rejected(at):  # the requester has not revisited it yet
        ticket = raise_change(at, "Patch HR portal database", "HR portal")
        yield at + timedelta(minutes=30), ticket
        submit(ticket, at + timedelta(minutes=30))
        yield at + timedelta(hours=1), ticket
        _vote(ticket, u["carl"], Vote.REJECTED, "The backout plan is not tested.", at + timedelta(hours=1))
        yield at + timedelta(hours=3), ticket
        _vote(ticket, u["maria"], Vote.REJECTED, "No rollback owner named for the night.", at + timedelta(hours=3))

    def changes_requested(at):  # Payroll CAB: devon asks for changes; with liam to revise
        ticket = raise_change(at, "Move payroll batch to 02:00", "Payroll")
        yield at + timedelta(minutes=15), ticket
        submit(ticket, at + timedelta(minutes=15))
        yield at + timedelta(hours=1), ticket
        _vote(ticket, u["devon"], Vote.CHANGES_REQUESTED, "Move the window out of the bank upload (02:00-03:00).",
              at + timedelta(hours=1))

    def second_round(at):  # scenario 2: rejected, revisited, resubmitted; round 2 waits on carl
        ticket = raise_change(at, "Add EU VAT rates to web shop", "Web shop")
        yield at + timedelta(minutes=10), ticket
        submit(ticket, at + timedelta(minutes=10))
        yield at + timedelta(hours=1), ticket
        _vote(ticket, u["maria"], Vote.REJECTED, "Clashes with the price import at 20:00.", at + timedelta(hours=1))
        _vote(ticket, u["dana"], Vote.REJECTED, "Agree with Maria: move it.", at + timedelta(hours=1, minutes=30))
        t = at + timedelta(hours=3)
        yield t, ticket
        core.ticket_transition(ticket=ticket, to=Status.NEW, actor=u["liam"], now=t)
        start, end = _window(t, timedelta(days=4))
        core.ticket_update(ticket=ticket, actor=u["liam"], version=ticket.version, now=t,
                           changes={"window_start": start + timedelta(hours=2), "window_end": end + timedelta(hours=2)})
        core.ticket_comment(ticket=ticket, actor=u["liam"], now=t, body="Moved to 21:00, after the price import.")
        core.ticket_transition(ticket=ticket, to=Status.REVIEW, actor=u["liam"], now=t)
        yield t + timedelta(hours=1), ticket
        _vote(ticket, u["maria"], Vote.APPROVED, "Thanks, fine now.", t + timedelta(hours=1))

    def emergency_started(at):  # the ECAB has not voted yet; implementation runs on a recorded justification
        ticket = raise_change(at, "Hotfix payroll tax table import", "Payroll", change_type=ChangeType.EMERGENCY,
                              days=0)
        yield at + timedelta(minutes=5), ticket
        submit(ticket, at + timedelta(minutes=5))
        yield at + timedelta(minutes=20), ticket
        core.ticket_transition(ticket=ticket, to=Status.IN_PROGRESS, actor=u["liam"], now=at + timedelta(minutes=20),
                               values={"emergency_justification": "Tonight's payroll run fails on the Z tax codes "
                                                                  "without the fixed import; the run starts at 22:00."})

    def replanned(at):  # approved, then the plan changed: back to the CAB, round 2 open
        ticket = raise_change(at, "Rotate database credentials for the web shop", "Web shop", days=5)
        yield at + timedelta(minutes=10), ticket
        submit(ticket, at + timedelta(minutes=10))
        for i, user in enumerate(("carl", "maria")):
            _vote(ticket, u[user], Vote.APPROVED, "Fine.", at + timedelta(hours=1 + i))
        yield at + timedelta(hours=6), ticket
        core.ticket_update(ticket=ticket, actor=u["liam"], version=ticket.version, now=at + timedelta(hours=6),
                           changes={"implementation_plan": PLAN["implementation_plan"] + "\n4. Rotate the read "
                                                                                          "replica's user too"})

    def draft(at):
        ticket = raise_change(at, "Deploy payroll release 4.9", "Payroll", requester="devon", days=9)
        yield at, ticket

    def standard(at):
        template = ChangeTemplate.objects.get(title="Rotate VPN certificates")
        start, end = _window(at, timedelta(days=1))
        ticket = services.standard_change_create(template=template, actor=u["liam"], now=at, window_start=start,
                                                 window_end=end)
        yield at + timedelta(minutes=5), ticket
        core.ticket_transition(ticket=ticket, to=Status.APPROVED, actor=u["liam"], now=at + timedelta(minutes=5))
        incidents = [i for i in ctx.tickets[Kind.INCIDENT] if i.service_id == svc["VPN"].pk][-1:]
        for incident in incidents:
            core.ticket_link(source=ticket, target=incident, type=LinkType.RELATES_TO, actor=u["liam"],
                             now=at + timedelta(minutes=5))

    stories = [(26, waiting_for_carl), (30, rejected), (20, changes_requested), (50, second_round),
               (3, emergency_started), (28, replanned), (6, draft), (8, standard)]
    return [(now - timedelta(hours=hours), make(now - timedelta(hours=hours))) for hours, make in stories]
