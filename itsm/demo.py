"""Demo data of service management (the app's demo step, `ItsmConfig.demo_seed`): knowledge-base articles and
FAQ entries; the CABs and standard-change templates of change enablement, and the changes of the history
decided by their CAB's votes, with a handful of recent ones left in every approval state; and changes rolled
out site by site across Berlin, Singapore, New York and London: go-lives that went well, one in progress now,
one planned for the coming days, and the change from hell (a task handed off, a failed go-live in Singapore,
the rollback, incidents raised by users and linked as caused by it, and the change manager's review).
After the history: the change calendar's month ahead, planned around a year-end freeze, a data-centre power
test, the monthly payroll run and the web shop's trading weekends. Problem management after the history: known
errors with workarounds on services with open incidents, a problem raised from several incidents, one resolved
with its incidents. Two major incidents: Berlin's email outage of the past, resolved with its children in one
note, and a VPN outage open now with a few children."""

import random
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from tracker import services as core
from tracker.choices import ChangeType, ImplementationResult, Kind, LinkType, Risk, Status
from tracker.demo import LONDON, TITLES, DemoContext, Life, _values, desk_life, office_after
from tracker.errors import DomainError
from tracker.models import Service, Ticket, User

from . import services as itsm
from .choices import ArticleState, CabRule, Repeat, RollbackOutcome, RoundStatus, TaskState, Vote
from .models import ApprovalRound, Blackout, Cab, ChangeTask, ChangeTemplate, KnowledgeArticle
from .selectors import blackouts_hit, calendar, change_collisions
from .services import blackout_create, change_schedule

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
    change stories of change enablement, and the changes rolled out site by site; after the history, the change
    calendar's month ahead."""
    ctx.at_end(lambda: seed_change_calendar(ctx))
    ctx.at_end(lambda: seed_problems(ctx))
    ctx.at_end(lambda: seed_catalogue(ctx))
    ctx.at_end(lambda: seed_fulfilment(ctx))  # after the history: the catalogue's items exist by then
    by_name = {s.name: s for s in Service.objects.all()}
    for title, service, body in ARTICLES:
        article, _ = KnowledgeArticle.objects.update_or_create(
            title=title,
            defaults={"body": body, "faq": True, "state": ArticleState.PUBLISHED, "published_at": ctx.now},
        )
        article.services.set([by_name[service]] if service in by_name else [])
    seed_change_setup(ctx)
    ctx.lives[Kind.CHANGE] = change_life
    for at, life in recent_changes(ctx):
        ctx.story(at, life)
    for rollout in ROLLOUTS:
        raised = ctx.now - timedelta(days=rollout.days_ago, hours=3)
        ctx.story(raised, rollout_life(ctx, raised, rollout))
    seed_major_incidents(ctx)
    ctx.at_end(lambda: seed_services(ctx))
    ctx.at_end(lambda: seed_knowledge(ctx))


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
        itsm.cab_save(actor=u["carl"], cab=existing, name=name, service=service, emergency=emergency, rule=rule,
                      quorum=quorum, members=[u[m] for m in members], now=at)
    for title, service, risk, plan, backout, description, later in TEMPLATES:
        if ChangeTemplate.objects.filter(title=title).exists():
            continue
        template = itsm.template_create(actor=u["carl"], title=title, service=ctx.services[service], risk=risk,
                                        implementation_plan=plan, backout_plan=backout, description=description,
                                        now=at)
        for i, (changes, note) in enumerate(later, start=1):
            itsm.template_update(actor=u["carl"], template=template, changes=changes, note=note,
                                 now=at + timedelta(days=10 * i))
        if title in RETIRED:
            itsm.template_retire(actor=u["carl"], template=template, now=ctx.now - timedelta(days=20))


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
    itsm.approval_vote(ticket=ticket, actor=user, decision=decision, comment=comment, now=at)
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
        ticket = itsm.standard_change_create(template=template, actor=requester, now=at, window_start=start,
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
    if result == ImplementationResult.ROLLED_BACK:  # the backout plan ran: its rollback sets the result
        itsm.rollback_record(change=ticket, actor=requester, run_by=requester, ran_at=t - timedelta(minutes=10),
                             outcome=RollbackOutcome.RESTORED, now=t,
                             note="Smoke tests failed after the deploy; the previous build is back.")
        ticket.refresh_from_db()
        core.ticket_transition(ticket=ticket, to=Status.RESOLVED, actor=requester, now=t)
    else:
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
    review = {"review_notes": "Went as planned."}
    if result != ImplementationResult.SUCCESSFUL:  # a failed go-live closes only after its full review
        review = {"review_notes": "Rolled back after the smoke tests failed; users saw errors until the backout.",
                  "review_cause": "A configuration difference between staging and production.",
                  "review_actions": "Retry after the vendor patch; compare staging and production configuration "
                                    "before every deploy (liam). Users were told through the desk."}
    elif emergency:  # so does an emergency change
        review.update(review_cause="None: the emergency fix did what it should.",
                      review_actions="Plan the permanent fix as a normal change (liam).")
    core.ticket_transition(ticket=ticket, to=Status.CLOSED, actor=u["carl"], now=t, values=review)


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
        ticket = itsm.standard_change_create(template=template, actor=u["liam"], now=at, window_start=start,
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
    for rollout in ROLLOUTS:
        raised = ctx.now - timedelta(days=rollout.days_ago, hours=3)
        ctx.story(raised, rollout_life(ctx, raised, rollout))


# --- changes rolled out site by site -------------------------------------------------------------------

# site: (business unit, country, IANA zone)
SITES = {
    "London": ("UK Head Office", "GB", "Europe/London"),
    "Berlin": ("Retail DACH", "DE", "Europe/Berlin"),
    "Singapore": ("APAC Finance", "SG", "Asia/Singapore"),
    "New York": ("Americas Finance", "US", "America/New_York"),
}


@dataclass(frozen=True)
class Rollout:
    days_ago: float  # when the change was raised; it goes live two days later, at 20:00 on each site's clock
    service: str
    title: str
    sites: tuple[tuple[str, str], ...]  # (site, owner: a username, or "team" for Application Support)
    fate: str = "ok"  # ok | hell | live (the go-live is under way now) | planned (the go-live is still ahead)


ROLLOUTS = (
    Rollout(25, "Email", "Mail gateway 11.2 in every region",
            (("London", "liam"), ("Berlin", "devon"), ("Singapore", "dana"))),
    Rollout(18, "VPN", "VPN client 5.0 per office", (("Berlin", "devon"), ("New York", "team"), ("London", "liam"))),
    Rollout(12, "Payroll", "Payroll 4.8 go-live in Berlin, Singapore and New York",
            (("Berlin", "devon"), ("Singapore", "devon"), ("New York", "team")), fate="hell"),
    Rollout(7, "HR portal", "HR portal single sign-on cut-over", (("London", "liam"), ("Berlin", "dana"))),
    Rollout(2.1, "Web shop", "Web shop EU VAT rates per storefront",
            (("London", "liam"), ("Berlin", "devon"), ("New York", "team")), fate="live"),
    Rollout(1, "Payroll", "Payroll 4.8.1 go-live (retry with the SG tax tables)",
            (("Singapore", "dana"), ("Berlin", "devon"), ("New York", "team")), fate="planned"),
)


def _go_live(day, site: str) -> tuple[datetime, datetime]:
    zone = ZoneInfo(SITES[site][2])
    start = datetime.combine(day, time(20), zone)
    return start, start + timedelta(hours=2)


def rollout_life(ctx: DemoContext, at: datetime, plan: Rollout) -> Life:
    """A normal change rolled out site by site: planned with a task per site, through today's CAB, started at
    the first site's window, each task reported by its owner; "hell" fails in Singapore and is rolled back."""
    u = ctx.users
    service = ctx.services[plan.service]
    day = (at + timedelta(days=2)).date()
    if plan.fate == "live":  # under way now: the first sites' windows have just passed
        day = (ctx.now - timedelta(hours=5)).astimezone(ZoneInfo("Europe/London")).date()
    windows = {site: _go_live(day, site) for site, _ in plan.sites}
    change = core.ticket_create(
        actor=u["liam"], kind=Kind.CHANGE, title=plan.title, now=at, service=service, group=ctx.l2,
        change_type=ChangeType.NORMAL, risk=Risk.HIGH, impact=2, urgency=2,
        description=f"Roll-out of {plan.service} site by site: " + ", ".join(s for s, _ in plan.sites) + ".",
        implementation_plan="One task per site at 20:00 site time; each site signs off before the next starts.",
        backout_plan="Redeploy the previous version from the release share; restore the database snapshot.",
        window_start=min(w[0] for w in windows.values()), window_end=max(w[1] for w in windows.values()))
    for site, owner in plan.sites:
        unit, country, zone = SITES[site]
        start, end = windows[site]
        itsm.task_add(change=change, actor=u["liam"], title=f"Cut over {site}", business_unit=unit, site=site,
                      country=country, time_zone=zone, planned_start=start, planned_end=end, now=at,
                      assignee=None if owner == "team" else u[owner], group=ctx.l2 if owner == "team" else None)
    t = at + timedelta(hours=2)
    yield t, change
    core.ticket_transition(ticket=change, to=Status.REVIEW, actor=u["liam"], now=t)
    t += timedelta(hours=20)
    yield t, change
    # The service's CAB votes; every approver is for it (each site signs off before the next starts).
    yield from _round_votes(change, random.Random(plan.title), t)
    order = sorted(plan.sites, key=lambda s: windows[s[0]][0])
    t = windows[order[0][0]][0] - timedelta(minutes=15)
    yield t, change
    core.ticket_transition(ticket=change, to=Status.IN_PROGRESS, actor=u["liam"], now=t)

    def task(site: str) -> ChangeTask:
        return ChangeTask.objects.select_related("change", "assignee", "group").get(change=change, site=site)

    def owner(site: str):
        held = task(site)
        return held.assignee or u["liam"]

    if plan.fate == "hell":  # devon hands Singapore to dana, who is on site that week
        itsm.task_handoff(task=task("Singapore"), actor=u["devon"], assignee=u["dana"], now=t,
                          note="Dana is in the Singapore office this week.")
    for site, _ in order:
        start, end = windows[site]
        yield start, change
        itsm.task_report(task=task(site), actor=owner(site), state=TaskState.IN_PROGRESS, now=start)
        finish = end - timedelta(minutes=25)
        yield finish, change
        if plan.fate == "hell" and site == "Singapore":
            yield from _hell(ctx, change, finish, task, service)
            return
        itsm.task_report(task=task(site), actor=owner(site), state=TaskState.DONE, now=finish,
                         note=f"{site} signed off: smoke tests green.")
    t = max(w[1] for w in windows.values()) + timedelta(minutes=30)
    yield t, change
    core.ticket_transition(ticket=change, to=Status.RESOLVED, actor=u["liam"], now=t,
                           values={"implementation_result": ImplementationResult.SUCCESSFUL})
    t += timedelta(days=1)
    yield t, change
    core.ticket_transition(ticket=change, to=Status.CLOSED, actor=u["carl"], now=t)


def _hell(ctx: DemoContext, change: Ticket, at: datetime, task: Callable[[str], ChangeTask], service) -> Life:
    """Singapore (first: east of the others) fails, Berlin and New York are called off, devon runs the backout
    plan, users raise incidents the next morning that the desk links as caused by the change, and carl writes
    the review before closing it."""
    u = ctx.users
    itsm.task_report(task=task("Singapore"), actor=u["dana"], state=TaskState.FAILED, now=at,
                     note="Payroll runs failed: the SG tax tables were not in the 4.8 package.")
    t = at + timedelta(minutes=10)
    yield t, change
    for site in ("Berlin", "New York"):
        itsm.task_report(task=task(site), actor=u["carl"], state=TaskState.CANCELLED, now=t,
                         note="Called off after the Singapore failure.")
    t += timedelta(minutes=50)
    yield t, change
    itsm.rollback_record(change=change, actor=u["devon"], run_by=u["devon"], ran_at=t, now=t,
                         outcome=RollbackOutcome.RESTORED, note="4.7 redeployed in Singapore; the "
                         "database snapshot taken before the window restored.")
    core.ticket_transition(ticket=change, to=Status.RESOLVED, actor=u["liam"], now=t,
                           values={"implementation_result": ImplementationResult.ROLLED_BACK})
    for requester, minutes in ((u["alice"], 9 * 60), (u["bob"], 9 * 60 + 25)):
        morning = t + timedelta(minutes=minutes)
        ctx.story(morning, desk_life(ctx, ctx.fork(), morning, kind=Kind.INCIDENT, requester=requester,
                                     service=service, caused_by=change,
                                     title="Payslip preview shows last month's figures"))
    t += timedelta(days=2)
    yield t, change
    core.ticket_transition(ticket=change, to=Status.CLOSED, actor=u["carl"], now=t, values={
        "review_notes": "Singapore went first; its payroll runs failed at 21:35 SGT, Berlin and New York were called "
                        "off, and the backout plan restored 4.7 within the hour. Two users saw stale payslip "
                        "previews the next morning.",
        "review_cause": "The 4.8 package was built without the SG tax tables; the pre-checks did not look for them.",
        "review_actions": "Add a tax-table check to the package pipeline (devon); Singapore pre-checks run the day "
                          "before (dana); retry as 4.8.1 with the tables."})


# --- the change calendar ------------------------------------------------------------------------------------

# The month ahead as the change manager plans it: (days from today, service, title, risk, start hour, hours,
# submitted to the CAB). Two pairs overlap on purpose (Email, HR portal): the calendar flags them.
PLANNED = [
    (1, "VPN", "Renew the VPN gateway licence", Risk.MEDIUM, 19, 2, True),
    (2, "Email", "Upgrade mail gateway to 11.4", Risk.HIGH, 19, 3, True),
    (2, "Email", "Rotate mail TLS certificates", Risk.LOW, 21, 2, False),
    (3, "HR portal", "Apply the HR portal database security patch", Risk.MEDIUM, 20, 2, True),
    (5, "Web shop", "Add Swiss VAT rates to the web shop", Risk.MEDIUM, 19, 2, True),
    (6, "Payroll", "Deploy payroll release 26.12", Risk.HIGH, 19, 3, True),
    (8, "HR portal", "Deploy HR portal release", Risk.MEDIUM, 19, 3, True),
    (8, "HR portal", "Move HR portal search index", Risk.LOW, 21, 1, False),
    (9, "VPN", "Upgrade VPN concentrator firmware", Risk.HIGH, 20, 3, False),
    (10, "Email", "Enable DMARC reject policy", Risk.MEDIUM, 19, 1, True),
    (12, "Payroll", "Split the payroll batch by country", Risk.LOW, 19, 2, False),
    (13, "Web shop", "Switch web shop CDN provider", Risk.HIGH, 20, 3, True),
    (15, "HR portal", "Rotate HR portal signing keys", Risk.LOW, 19, 1, False),
    (16, "Email", "Retire the old SMTP relay", Risk.MEDIUM, 20, 2, False),
    (19, "VPN", "Add split tunnelling for Teams", Risk.MEDIUM, 19, 2, False),
    (20, "Web shop", "Upgrade payment library", Risk.HIGH, 19, 2, False),
    (22, "Payroll", "Archive 2025 payslips", Risk.LOW, 19, 2, False),
    (23, "Email", "Raise mailbox quota to 50 GB", Risk.LOW, 19, 1, False),
    (26, "HR portal", "Upgrade HR portal framework", Risk.HIGH, 19, 4, False),
    (27, "VPN", "Patch VPN client for macOS 16", Risk.LOW, 19, 1, False),
    (29, "Web shop", "Tune checkout database indexes", Risk.MEDIUM, 20, 2, False),
    (30, "Payroll", "Load 2027 pension rates", Risk.MEDIUM, 19, 2, False),
]
OVERLAPPING = {2, 7}  # "Rotate mail TLS certificates", "Move HR portal search index": the collisions
PLAN = {"implementation_plan": "1. Announce in #changes\n2. Deploy\n3. Verify with the smoke tests",
        "backout_plan": "Redeploy the previous build (rehearsed on staging)"}


def seed_change_calendar(ctx: DemoContext) -> None:
    """After the history: the change manager's blackouts (a global freeze, the monthly payroll run, the web shop's
    trading weekends), a month of changes planned around them, two collisions, and one blackout overridden."""
    now, carl, liam = ctx.now, ctx.users["carl"], ctx.users["liam"]
    if Blackout.objects.exists():
        return
    today = now.astimezone(LONDON).date()
    set_up = now - timedelta(days=40)

    def local(day, hour, minute=0):
        return datetime.combine(day, time(hour, minute), LONDON)

    year_end = date(today.year if today < date(today.year, 12, 18) else today.year + 1, 12, 18)
    blackout_create(actor=carl, now=set_up, name="Year-end change freeze", reason=(
        "Peak trading and the year-end close: only emergency changes, each with the change manager's override."),
                    starts_at=local(year_end, 18), ends_at=local(year_end + timedelta(days=17), 6),
                    time_zone="Europe/London")
    power = today + timedelta(days=(5 - today.weekday()) % 7 + 14)  # the Saturday after next
    blackout_create(actor=carl, now=set_up, name="Data-centre power test", reason=(
        "Facilities switch the London data centre to generators; no change may run while it is on one feed."),
                    starts_at=local(power, 7), ends_at=local(power, 15), time_zone="Europe/London")
    first_run = (today.replace(day=1) - timedelta(days=40)).replace(day=24)
    blackout_create(actor=carl, now=set_up, name="Payroll run", service=ctx.services["Payroll"], reason=(
        "Payslips are calculated overnight and published on the 25th at 06:00; a change now can stop pay."),
                    starts_at=local(first_run, 18), ends_at=local(first_run + timedelta(days=1), 8),
                    repeat=Repeat.MONTHLY, time_zone="Europe/London")
    friday = today - timedelta(days=(today.weekday() - 4) % 7 + 35)
    weekend = blackout_create(actor=carl, now=set_up, name="Weekend trading", service=ctx.services["Web shop"],
                              reason="Half the week's orders come in at the weekend: no web shop change from Friday "
                                     "evening to Monday morning.",
                              starts_at=local(friday, 18), ends_at=local(friday + timedelta(days=3), 6),
                              repeat=Repeat.WEEKLY, time_zone="Europe/London")

    def free(service, day, hour, hours):
        """The planned day, or the nearest one before it (a rush before a freeze), else after it, that is in no
        blackout and collides with nothing planned."""
        days = [day - timedelta(days=n) for n in range(8)] + [day + timedelta(days=n) for n in range(1, 40)]
        for d in days:
            start = local(d, hour)
            end = start + timedelta(hours=hours)
            service_id = service.pk if service else None
            if d > today and not blackouts_hit(service_id=service_id, start=start, end=end) and (
                    not change_collisions(ticket=None, start=start, end=end, service_id=service_id)):
                return start, end
        raise AssertionError(f"No free window for {service} near {day}")

    # The blackouts came after some changes were planned: carl moves each open change that now falls into one
    # to the next free evening (an approved change whose window moves goes back to its CAB).
    for entry in calendar(user=carl, start=now, end=now + timedelta(days=62)).entries:
        if entry.blocked:
            hours = max(1, round((entry.end - entry.start).total_seconds() / 3600))
            start, end = free(entry.ticket.service, entry.start.astimezone(LONDON).date(), 19, hours)
            with suppress(DomainError):
                change_schedule(ticket=entry.ticket, actor=carl, start=start, end=end, now=now - timedelta(hours=6))

    previous = None
    for n, (days, service_name, title, risk, hour, hours, submit) in enumerate(PLANNED):
        service = ctx.services[service_name]
        if n in OVERLAPPING:  # meant to overlap the change planned just before it, on the same service
            start = previous.window_start + timedelta(hours=hour - previous.window_start.astimezone(LONDON).hour)
            end = start + timedelta(hours=hours)
        else:
            start, end = free(service, today + timedelta(days=days), hour, hours)
        created = now - timedelta(days=ctx.rng.uniform(1, 12), hours=ctx.rng.uniform(0, 6))
        change = core.ticket_create(actor=liam, kind=Kind.CHANGE, title=title, now=created, service=service,
                                    change_type=ChangeType.NORMAL, risk=risk, window_start=start, window_end=end,
                                    description="Planned in the weekly change meeting.", **PLAN)
        previous = change
        if submit:
            with suppress(DomainError):  # a CAB that refuses the submission leaves it planned
                core.ticket_transition(ticket=change, to=Status.REVIEW, actor=liam, now=created + timedelta(hours=1),
                                       values={**PLAN, "risk": risk})

    # A checkout fault that cannot wait for Monday: the change manager lets the fix run in the trading weekend.
    saturday = today + timedelta(days=(5 - today.weekday()) % 7 or 7)
    while not blackouts_hit(service_id=ctx.services["Web shop"].pk, start=local(saturday, 10),
                            end=local(saturday, 11)) or blackouts_hit(service_id=None, start=local(saturday, 10),
                                                                       end=local(saturday, 11)):
        saturday += timedelta(days=7)
    fix = core.ticket_create(actor=liam, kind=Kind.CHANGE, title="Fix the price cache on currency switch",
                             now=now - timedelta(hours=5), service=ctx.services["Web shop"],
                             change_type=ChangeType.NORMAL, risk=Risk.MEDIUM, **PLAN,
                             description="Customers switching to EUR see GBP prices at checkout and abandon it.")
    change_schedule(ticket=fix, actor=carl, start=local(saturday, 10), end=local(saturday, 11),
                    now=now - timedelta(hours=4), override_reason=(
                        f"Checkout errors cost more than the “{weekend.name}” risk: a one-line cache fix, "
                        "rehearsed on staging, with the on-call developer watching."))


# --- problem management ---------------------------------------------------------------------------------------

# (service, category, [(requester, title, hours ago)], problem title, cause category, root cause, workaround,
#  what becomes of it: "known" (a known error, with fresh incidents of its service not yet linked: the desk sees
#  the banner), "investigating" (raised from several incidents, cause not found yet), "resolved" (resolved with
#  the incidents chosen; one stays open))
PROBLEMS = [
    ("VPN", "Network", [("alice", "VPN drops every 10 minutes on hotel Wi-Fi", 30),
                        ("bob", "VPN disconnects on the train", 26)],
     "VPN tunnel drops behind captive portals", "configuration",
     "The gateway's UDP keep-alive is longer than the idle timeout of most hotel and train captive portals, so the "
     "portal closes the tunnel's port.",
     "In the VPN client, open **Settings → Protocol** and switch to **TCP mode**, then reconnect. Switch back to "
     "automatic once home.", "known"),
    ("Email", "Software", [("bob", "Email attachments over 5 MB bounce", 20)],
     "Mail relay rejects attachments over 5 MB", "capacity",
     "The new relay kept its default 5 MB message size limit; the old relay allowed 25 MB.",
     "Share the file from OneDrive (**Share → Copy link**) and paste the link in the mail instead of attaching it.",
     "known"),
    ("Web shop", "Software", [("alice", "Checkout page times out", 9), ("bob", "Cannot pay: the checkout spins", 7),
                              ("alice", "Web shop checkout error 504", 5)],
     "Checkout times out at peak hours", "", "", "", "investigating"),
    ("HR portal", "Access", [("alice", "HR portal slow since this morning", 50),
                             ("bob", "Leave request page does not load", 49),
                             ("alice", "HR portal shows an old leave balance", 47)],
     "HR portal slow every morning at nine", "software",
     "The nightly report job was moved to 09:00 by mistake and locks the leave table while it runs.",
     "Book leave after 09:30, when the job has finished.", "resolved"),
]
# Fresh incidents on the known errors' services, raised since and not linked yet: the banner's demo.
FRESH = [("bob", "VPN", "Network", "VPN keeps reconnecting in the hotel", 3),
         ("alice", "VPN", "Network", "Cannot reach the intranet over VPN from the airport", 1),
         ("alice", "Email", "Software", "My presentation bounced: message too large", 2)]


def seed_problems(ctx: DemoContext) -> None:
    """Problem management after the history: known errors with their workarounds on services with open incidents
    (one applied to an incident, others waiting under the banner), a problem raised from several incidents and
    still investigated, and one resolved together with the incidents chosen for it. Pia (problem manager) runs
    them; the desk (Lena) applies a known error."""
    u = ctx.users
    pia, lena = u["pia"], u["lena"]
    services = {s.name: s for s in Service.objects.all()}
    categories = {c.name: c for c in ctx.categories}

    def raise_incident(who, service, category, title, hours_ago):
        return core.ticket_create(actor=u[who], kind=Kind.INCIDENT, title=title,
                                  now=ctx.now - timedelta(hours=hours_ago), service=services[service],
                                  category=categories.get(category), impact=2, urgency=2,
                                  description="Reported through the portal.")

    known = []
    for service, category, raised, title, cause, root, workaround, end in PROBLEMS:
        incidents = [raise_incident(who, service, category, text, hours) for who, text, hours in raised]
        at = ctx.now - timedelta(hours=raised[-1][2] - 1)
        problem = itsm.problem_from_incidents(incidents=incidents, actor=pia, title=title, now=at)
        core.ticket_transition(ticket=problem, to=Status.IN_PROGRESS, actor=pia, now=at + timedelta(minutes=20))
        if cause:
            core.ticket_update(ticket=problem, actor=pia, version=problem.version, now=at + timedelta(hours=1),
                               changes={"cause_category": cause, "root_cause": root})
        if end == "known":
            core.ticket_transition(ticket=problem, to=Status.KNOWN_ERROR, actor=pia, now=at + timedelta(hours=2),
                                   values={"workaround": workaround})
            known.append(problem)
        elif end == "resolved":
            core.ticket_update(ticket=problem, actor=pia, version=problem.version, now=at + timedelta(hours=2),
                               changes={"workaround": workaround})
            itsm.problem_resolve(problem=problem, actor=pia, incidents=incidents[:2], now=at + timedelta(hours=20),
                                 note="The report job runs at 02:00 again; the portal is fast from nine on. If it is "
                                      "still slow for you, reply here and we reopen your ticket.")
        else:
            core.ticket_comment(ticket=problem, actor=pia, internal=True, now=at + timedelta(hours=1),
                                body="Three checkouts timed out between 12:00 and 13:00; collecting the payment "
                                     "provider's latency for the same hour.")
    fresh = [raise_incident(who, service, category, title, hours) for who, service, category, title, hours in FRESH]
    # the desk recognises the VPN known error on the first fresh incident; the others still show the banner
    itsm.known_error_apply(incident=fresh[0], problem=known[0], actor=lena, now=ctx.now - timedelta(hours=2))
# --- major incidents --------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Major:
    days_ago: float  # when the first call came in
    service: str
    title: str
    reason: str
    children: tuple  # (requester, title, minutes after the first call)
    note: str = ""  # the one note it was resolved with (empty: still open)
    hours_to_fix: float = 0


MAJORS = [
    Major(12, "Email", "Email down for all of Berlin",
          "Nobody in the Berlin office can send or receive mail since 08:10 CET; London and Paris still work.",
          (("bob", "No new mail since 8 am", 6), ("alice", "Mail to the Berlin office bounces", 14),
           ("bob", "Outlook says 'Disconnected' in Berlin", 22), ("alice", "Berlin colleagues do not answer mail", 35)),
          note="The Berlin mail relay ran out of disk after its log rotation failed. Space was freed and the queue "
               "drained by 10:05 CET; mail sent in the meantime has been delivered, nothing was lost.",
          hours_to_fix=2),
    Major(2 / 24, "VPN", "VPN gateway refuses every connection from home",
          "Every home worker is cut off: the VPN gateway rejects all logins since this morning's certificate "
          "rotation.",
          (("alice", "Cannot connect to VPN from home", 5), ("bob", "VPN says certificate not trusted", 9),
           ("alice", "VPN login fails with error 809", 20))),
]


def seed_major_incidents(ctx: DemoContext) -> None:
    """A major incident of the past (resolved with its children, one note to all their callers) and one open
    now with a few children; the services' owners are told with the incident manager."""
    for plan in MAJORS:
        service = Service.objects.get(name=plan.service)
        service.owners.add(ctx.users["maria"])
        at = ctx.now - timedelta(days=plan.days_ago)
        ctx.story(at, major_life(ctx, at, plan, service))


def major_life(ctx: DemoContext, at: datetime, plan: Major, service: Service) -> Life:
    """Bob's call is raised as a P1, lena declares it major, the calls that follow are linked as its children,
    liam works it at L2 and (when the story is over) resolves it with every open child in one note."""
    u = ctx.users
    major = core.ticket_create(actor=u["lena"], kind=Kind.INCIDENT, title=plan.title, requester=u["bob"],
                               service=service, impact=1, urgency=1, now=at)
    t = at + timedelta(minutes=3)
    yield t, major
    core.ticket_transition(ticket=major, to=Status.IN_PROGRESS, actor=u["lena"], now=t)
    itsm.major_declare(ticket=major, actor=u["lena"], reason=plan.reason, now=t)
    for username, title, minutes in plan.children:
        t = at + timedelta(minutes=minutes)
        yield t, major
        child = core.ticket_create(actor=u[username], kind=Kind.INCIDENT, title=title, requester=u[username],
                                   service=service, now=t)
        t += timedelta(minutes=2)
        yield t, major
        itsm.major_link_children(major_ticket=major, children=[child], actor=u["lena"], now=t)
        if minutes < 10:  # the desk escalates the major incident to application support once it is clear
            with suppress(DomainError):  # the SLA worker may have escalated it first
                core.ticket_escalate(ticket=major, actor=u["lena"], to_group=ctx.l2, now=t,
                                     note="major incident: application support takes it")
    if not plan.note:
        return
    t = at + timedelta(hours=plan.hours_to_fix)
    yield t, major
    itsm.major_resolve(major_ticket=major, actor=u["liam"], note=plan.note,
                       children=[c for c in itsm.major_children(major) if c.is_open], now=t)


# --- the request catalogue ------------------------------------------------------------------------------------

# name, service, icon, summary, audience, approval, named approver, fulfilment group, handler, config, fields,
# task templates. Fields: (name, label, type, extra).
CATALOGUE = [
    ("New laptop", "Workplace IT", "monitor", "A standard laptop, imaged and set up for you", "everyone", "manager",
     None, "Hardware", "", {},
     [("model", "Model", "choice", {"required": True, "choices": ["ThinkPad T14 (standard)", "MacBook Air 13",
                                                                  "Dell Latitude 7440 (field staff)"]}),
      ("needed_by", "Needed by", "date", {"required": True, "help_text": "Allow 3 working days."}),
      ("justification", "Business justification", "long_text",
       {"required": True, "max_length": 1000, "help_text": "New starter, broken device, role change…"}),
      ("docking", "Docking station as well", "yes_no", {})],
     ["Procure the laptop", "Image and set up the laptop"]),
    ("Access to a shared mailbox", "Email", "inbox", "Read and send from a team mailbox", "everyone", "named",
     "maria", "Application Support", "", {},
     [("mailbox", "Mailbox address", "text", {"required": True, "pattern": r"[\w.+-]+@crossline\.example",
                                              "pattern_message": "Give the mailbox's address, e.g. "
                                                                 "payroll-team@crossline.example."}),
      ("send_as", "Also send as the mailbox", "yes_no", {})],
     ["Grant mailbox permissions"]),
    ("VPN access", "VPN", "shield-check", "Work from outside the office; ready in minutes", "everyone", "none", None,
     None, "group_access", {"group": "VPN users"},
     [("reason", "Why you need it", "text", {"required": True, "max_length": 200})], []),
    ("Software licence", "Workplace IT", "package", "Visio, Project, Adobe Acrobat and more", "everyone", "manager",
     None, "Hardware", "", {},
     [("product", "Product", "choice", {"required": True, "choices": ["Microsoft Visio", "Microsoft Project",
                                                                      "Adobe Acrobat Pro"]}),
      ("seats", "Number of seats", "number", {"required": True, "min_value": 1, "max_value": 50,
                                              "help_text": "One per person who will use it."}),
      ("for_whom", "For whom (if not you)", "user", {})],
     ["Assign the licences"]),
    ("Mailbox quota increase", "Email", "inbox", "More room for a mailbox that keeps large attachments", "everyone",
     "none", None, "Application Support", "", {},
     [("size", "New size", "choice", {"required": True, "choices": ["50 GB", "100 GB"]})], []),
    ("Admin rights on a build server", "Web shop", "lock", "Temporary administrator access for a deployment",
     "staff", "named", "carl", "Web Dev", "", {},
     [("server", "Server", "text", {"required": True, "pattern": r"build-\d{2}",
                                    "pattern_message": "Name the server as build-01 to build-99."}),
      ("until", "Until", "date", {"required": True})],
     ["Grant admin rights", "Remove admin rights at the end date"]),
]


def seed_catalogue(ctx: DemoContext) -> None:
    """The request catalogue: six items on the demo services (a Workplace IT service and a Hardware team for the
    devices), alice's and bob's line manager (maria), and requests ordered through the catalogue: alice's laptop
    waiting for maria's approval, bob's VPN access queued for its handler, bob's quota increase with the desk,
    and alice's quota increase of last week, fulfilled (idempotent, by name)."""
    from django.contrib.auth.models import Group as DjangoGroup

    from tracker.choices import Tier
    from tracker.models import AssignmentGroup

    from .models import CatalogField, CatalogItem, CatalogRequest, CatalogTaskTemplate
    from .services import catalogue

    u = ctx.users
    for name in ("alice", "bob"):
        User.objects.filter(pk=u[name].pk).update(manager=u["maria"])
        u[name].manager = u["maria"]
    workplace, _ = Service.objects.get_or_create(name="Workplace IT", defaults={
        "description": "Laptops, phones, software licences and the office's devices."})
    hardware, _ = AssignmentGroup.objects.update_or_create(name="Hardware", defaults={"tier": Tier.L2,
                                                                                      "manager": u["maria"]})
    hardware.services.add(workplace)
    hardware.members.add(u["liam"])
    ctx.l1.services.add(workplace)
    DjangoGroup.objects.get_or_create(name="VPN users")
    services = {s.name: s for s in Service.objects.all()}
    at = ctx.now - timedelta(days=60)
    items = {}
    for order, (name, service, icon, summary, audience, approval, approver, group, handler, config, fields,
                tasks) in enumerate(CATALOGUE, start=1):
        item, created = CatalogItem.objects.update_or_create(service=services[service], name=name, defaults={
            "icon": icon, "summary": summary, "audience": audience, "approval": approval,
            "approver": u.get(approver), "handler": handler, "handler_config": config, "order": order * 10,
            "fulfilment_group": AssignmentGroup.objects.filter(name=group).first() if group else None,
            "description": f"{summary}.", "created_by": u["admin"], "created_at": at, "updated_at": at})
        items[name] = item
        if not created:
            continue
        CatalogField.objects.bulk_create([CatalogField(item=item, name=f, label=label, type=kind, order=n, **extra)
                                          for n, (f, label, kind, extra) in enumerate(fields)])
        CatalogTaskTemplate.objects.bulk_create([CatalogTaskTemplate(item=item, title=title, order=n,
                                                                     group=item.fulfilment_group)
                                                 for n, title in enumerate(tasks)])
    if CatalogRequest.objects.exists():
        return
    day = timedelta(days=1)
    orders = [
        ("alice", "Mailbox quota increase", {"size": "50 GB"}, ctx.now - 6 * day),
        ("alice", "New laptop", {"model": "MacBook Air 13", "needed_by": (ctx.now + 7 * day).date().isoformat(),
                                 "justification": "My ThinkPad's hinge broke; IT confirmed it is beyond repair.",
                                 "docking": True}, ctx.now - timedelta(hours=20)),
        ("bob", "VPN access", {"reason": "Working from the Lisbon office next month"}, ctx.now - timedelta(hours=3)),
        ("bob", "Mailbox quota increase", {"size": "100 GB"}, ctx.now - timedelta(hours=5)),
    ]
    tickets = [catalogue.request_order(actor=u[who], item=items[name], answers=answers, now=when)
               for who, name, answers, when in orders]
    # Last week's quota increase, done by hand by application support.
    done = tickets[0]
    core.ticket_transition(ticket=done, to=Status.IN_PROGRESS, actor=u["liam"], now=done.created_at + timedelta(
        hours=2))
    core.ticket_transition(ticket=done, to=Status.RESOLVED, actor=u["liam"], now=done.created_at + day,
                           values={"resolution_note": "The mailbox now holds 50 GB; Outlook shows it after a "
                                                      "restart."})


# --- services and their operations gate ---------------------------------------------------------------------

SERVICE_PEOPLE = {  # service: (service manager, owners)
    "Payroll": ("maria", ["maria"]), "HR portal": ("maria", ["maria"]), "Email": ("carl", ["iris"]),
    "Web shop": ("maria", ["maria"]), "VPN": ("carl", ["carl"]), "Workplace IT": ("liam", ["maria"]),
}


def seed_services(ctx: DemoContext) -> None:
    """After the history: who manages and owns each service; "Expense claims" in transition through its gate (UAT
    signed by liam, the desk's knowledge by lena, the rest open) with a ticket already raised on it; "Travel
    booking" planned; the "Fax gateway" retired (idempotent, by name)."""
    from tracker.choices import ServiceLifecycle

    from .choices import ArticleAudience, GateItemCode
    from .services import gate as gates
    from .services import knowledge as kb

    u, now = ctx.users, ctx.now
    if Service.objects.filter(name="Expense claims").exists():
        return
    for service in Service.objects.filter(name__in=SERVICE_PEOPLE):
        manager, owners = SERVICE_PEOPLE[service.name]
        Service.objects.filter(pk=service.pk).update(service_manager=u[manager])
        service.owners.add(*[u[o] for o in owners])
    payroll_dev, web_dev = ctx.l3[0], ctx.l3[1]

    expenses = Service.objects.create(
        name="Expense claims", lifecycle=ServiceLifecycle.PLANNED, service_manager=u["maria"],
        project_group=payroll_dev, description="Claims for travel and expenses, approved by the line manager and "
        "paid with the next payroll run. Replaces the spreadsheet sent to Finance.")
    expenses.owners.set([u["maria"]])
    for group in (ctx.l1, ctx.l2, payroll_dev):
        group.services.add(expenses)
    opened = now - timedelta(days=12)
    gate = gates.gate_open(service=expenses, actor=u["maria"], now=opened, approvers={
        GateItemCode.UAT: u["liam"], GateItemCode.KNOWLEDGE: u["lena"], GateItemCode.MONITORING: u["devon"],
        GateItemCode.RELEASE_NOTES: u["dana"]}, extras=[("Data protection review of receipts", u["maria"])])
    desk_title = "Expense claims: what the desk checks first"
    if not KnowledgeArticle.objects.filter(title=desk_title).exists():
        article = kb.article_create(
            actor=u["lena"], title=desk_title, audience=ArticleAudience.INTERNAL, services=[expenses],
            body="1. Is the claim *submitted* or still a *draft*?\n2. Has the line manager approved it?\n"
                 "3. Receipts over 5 MB are refused: ask for a smaller scan.\n\nAnything else: escalate to "
                 "Payroll Dev until the service is operational.", now=now - timedelta(days=4))
        kb.article_submit(article=article, actor=u["lena"], now=now - timedelta(days=4))
        kb.article_publish(article=article, actor=u["liam"], now=now - timedelta(days=3))
    items = {i.code: i for i in gate.items.all()}
    gates.gate_item_sign(item=items[GateItemCode.UAT], actor=u["liam"], now=now - timedelta(days=3),
                         evidence="UAT with 12 claimants from Finance and Sales: 41 cases, 2 minor findings fixed "
                                  "in build 1.4 and retested.")
    gates.gate_item_sign(item=items[GateItemCode.KNOWLEDGE], actor=u["lena"], now=now - timedelta(days=2),
                         evidence="Desk article “Expense claims: what the desk checks first” published; the desk "
                                  "walked through it in Tuesday's huddle.")
    core.ticket_create(actor=u["lena"], kind=Kind.INCIDENT, title="Expense claim stuck in 'submitted' for a week",
                       requester=u["alice"], service=expenses, impact=3, urgency=2, now=now - timedelta(hours=20),
                       description="My claim from the Lyon trip still says submitted; my manager says she "
                                   "approved it.")

    Service.objects.create(
        name="Travel booking", lifecycle=ServiceLifecycle.PLANNED, service_manager=u["carl"], project_group=web_dev,
        description="Booking flights and hotels inside the company's travel policy; the project starts in spring.")
    fax = Service.objects.create(name="Fax gateway", service_manager=u["carl"],
                                 description="Incoming faxes delivered as email.")
    gates.service_retire(service=fax, actor=u["carl"], now=now - timedelta(days=60),
                         reason="Replaced by e-signatures; the last fax line was cancelled in March.")
# --- knowledge management -----------------------------------------------------------------------------------

# (title, service, audience, state, author, reviewer, body, later edits [(body, note, editor)]); the state is where
# the story ends: draft, review (sent by the author), published (by the reviewer), retired, or "pending" (published,
# then edited: the edit waits in review while the published text stays live).
KNOWLEDGE = [
    ("Outlook asks for the password again and again", "Email", "public", "published", "lena", "liam",
     "Outlook keeps prompting when the saved sign-in is stale.\n\n1. Close Outlook.\n2. Open *Credential "
     "Manager* and remove the entries starting with `MicrosoftOffice`.\n3. Start Outlook and sign in once.",
     [("Outlook keeps prompting when the saved sign-in is stale, often after a password change.\n\n1. Close "
       "Outlook.\n2. Open *Credential Manager* and remove the entries starting with `MicrosoftOffice`.\n3. Start "
       "Outlook and sign in once.", "Mention the password change", "liam")]),
    ("Mailbox full: archive old mail", "Email", "public", "published", "lena", "dana",
     "When the mailbox is over quota, Outlook stops sending.\n\n- Empty *Deleted Items*.\n- Turn on the online "
     "archive: File → Tools → Mailbox clean-up → Archive.\n- Ask for a bigger quota in the catalogue.", []),
    ("Web shop orders stuck in 'payment pending'", "Web shop", "internal", "published", "liam", "devon",
     "Payment callbacks from the provider are retried for 2 hours.\n\n**Desk:** check the order in the back "
     "office; if the provider shows it paid, press *Re-sync payment*. Do not refund before the re-sync.",
     [("Payment callbacks from the provider are retried for 2 hours.\n\n**Desk:** check the order in the back "
       "office; if the provider shows it paid, press *Re-sync payment*. Do not refund before the re-sync.\n\n"
       "If the re-sync fails twice, escalate to Web shop development with the order number.",
       "Escalation path", "devon")]),
    ("Reset the web shop cache after a price import", "Web shop", "internal", "review", "devon", None,
     "After the nightly price import, prices may show the old value for up to an hour.\n\n`shopctl cache "
     "flush --prices` on either node fixes it at once.", []),
    ("VPN: connect with TCP mode on hotel Wi-Fi", "VPN", "public", "published", "liam", "lena",
     "Hotel and train networks often block the VPN's UDP port.\n\nOpen the client → Settings → Protocol and "
     "choose **TCP**. Connect again.", []),
    ("VPN gateway failover runbook", "VPN", "internal", "published", "dana", "devon",
     "1. Check both gateways in monitoring.\n2. Drain the primary: `vpnctl drain gw1`.\n3. Confirm sessions on "
     "gw2.\n4. Tell the desk: users reconnect once.", []),
    ("Payroll: correct a wrong bank account", "Payroll", "public", "published", "lena", "liam",
     "Change the account in the HR portal under *My data → Payment*. Changes before the 15th apply to this "
     "month's salary.", []),
    ("Payroll run: what the desk tells callers on the 25th", "Payroll", "internal", "pending", "liam", "devon",
     "Payslips publish at 06:00 on the 25th. Before then the slip is blank: that is expected.",
     [("Payslips publish at 06:00 on the 25th (or the working day before). Before then the slip is blank: that "
       "is expected. After 09:00, raise an incident for Payroll.", "Working day rule and when to raise", "lena")]),
    ("HR portal: upload a sick note", "HR portal", "public", "published", "lena", "liam",
     "Open *Absences → New*, choose *Sick leave* and attach the photo or PDF. Your manager is told.", []),
    ("HR portal shows another person's team", "HR portal", "public", "draft", "lena", None,
     "Draft: the team view follows the org chart of the previous day. Waiting for confirmation from HR IT.", []),
    ("Printing payslips from the HR portal", "HR portal", "public", "retired", "liam", "lena",
     "Use the print button on the payslip page. (Replaced: payslips are now PDF downloads.)", []),
    ("Set up two-step sign-in (MFA)", None, "public", "published", "lena", "liam",
     "Install the authenticator app, open the security info page and add the app. Keep the old phone until "
     "you moved every account.", []),
    ("Request a new laptop", None, "public", "published", "liam", "lena",
     "Order it in the catalogue under *Hardware*. Standard models ship in three working days; your old laptop "
     "is collected when the new one arrives.", []),
    ("Free up disk space on your laptop", None, "public", "published", "lena", "dana",
     "Empty the recycle bin, run *Disk Clean-up* and move large files to OneDrive. The *Downloads* folder often "
     "holds gigabytes.", []),
]


def seed_knowledge(ctx: DemoContext) -> None:
    """Knowledge articles in every state and both audiences, written, edited, reviewed and published through the
    domain functions over the last weeks (idempotent, by title); the older portal articles with their review;
    one drafted from a resolved incident; articles linked and sent as replies on tickets; deflections over the
    last four weeks, so the dashboard shows rates per service and per article."""
    from .models import ArticleUse, ArticleVersion, Deflection
    from .search import vector_update
    from .services import knowledge as kb

    u, now, rng = ctx.users, ctx.now, random.Random(10)
    # the portal's first articles: written by lena and reviewed by liam, one version each
    for i, (title, _service, body) in enumerate(ARTICLES):
        article = KnowledgeArticle.objects.get(title=title)
        if not article.versions.exists():
            at = now - timedelta(days=60 - i)
            ArticleVersion.objects.create(article=article, number=1, title=title, body=body,
                                          audience=article.audience, note="First version", created_by=u["lena"],
                                          created_at=at)
            KnowledgeArticle.objects.filter(pk=article.pk).update(
                author=u["lena"], updated_by=u["lena"], submitted_by=u["lena"], submitted_at=at,
                reviewed_by=u["liam"], published_at=at + timedelta(hours=3), views=rng.randint(40, 160))
    for n, (title, service, audience, state, author, reviewer, body, edits) in enumerate(KNOWLEDGE):
        if KnowledgeArticle.objects.filter(title=title).exists():
            continue
        at = now - timedelta(days=40 - n * 2, hours=rng.randint(0, 6))
        article = kb.article_create(actor=u[author], title=title, body=body, audience=audience,
                                    services=[ctx.services[service]] if service else [], now=at)
        for new_body, note, editor in edits if state != "pending" else []:
            at += timedelta(days=1)
            kb.article_update(article=article, actor=u[editor], version=kb.latest_version(article).number,
                              title=title, body=new_body, audience=audience, note=note, now=at)
        if state == "draft":
            continue
        kb.article_submit(article=article, actor=u[author], now=at + timedelta(hours=1))
        if state == "review":
            continue
        reviewer = u[reviewer] if u[reviewer].pk not in kb.text_authors(article) else u["dana"]
        kb.article_publish(article=article, actor=reviewer, now=at + timedelta(hours=5))
        if state == "retired":
            kb.article_retire(article=article, actor=u["lena"], now=at + timedelta(days=10))
        elif state == "pending":  # published, then edited: the edit waits for review, the text stays live
            for new_body, note, editor in edits:
                kb.article_update(article=article, actor=u[editor], version=kb.latest_version(article).number,
                                  title=title, body=new_body, audience=audience, note=note,
                                  now=now - timedelta(days=2))
            kb.article_submit(article=article, actor=u[edits[-1][2]], now=now - timedelta(days=1))
        KnowledgeArticle.objects.filter(pk=article.pk).update(views=rng.randint(15, 120))
    vector_update(KnowledgeArticle.objects.values_list("pk", flat=True))
    if Deflection.objects.exists():
        return
    # one article drafted from a resolved incident, waiting for its author's edit
    resolved = [t for t in ctx.tickets[Kind.INCIDENT] if t.status in (Status.RESOLVED, Status.CLOSED)
                and t.resolution_note]
    if resolved:
        kb.article_from_ticket(ticket=resolved[0], actor=u["liam"], now=now - timedelta(days=3))
    # articles that answered tickets: linked as the answer, or sent to the requester as a reply
    live = list(KnowledgeArticle.objects.filter(state=ArticleState.PUBLISHED).prefetch_related("services"))
    for ticket in resolved[1:13]:
        article = next((a for a in live if ticket.service_id in {s.pk for s in a.services.all()}), live[0])
        how = "linked" if ticket.pk % 2 else "replied"
        ArticleUse.objects.get_or_create(article=article, ticket=ticket, how=how,
                                         defaults={"actor": u["lena"], "created_at": ticket.updated_at})
    # "This solved it" over the last four weeks: public articles, requesters and anonymous readers
    public = [a for a in live if a.audience == "public"]
    queries = {"VPN": "vpn keeps dropping", "Email": "outlook keeps asking for password", "Payroll": "payslip blank",
               "HR portal": "upload sick note", "Web shop": "checkout currency wrong"}
    rows = []
    for day in range(28):
        for _ in range(rng.randint(0, 3)):
            article = rng.choice(public)
            service = next(iter(article.services.all()), None)
            rows.append(Deflection(article=article, service=service, user=rng.choice([u["alice"], u["bob"], None]),
                                   query=queries.get(service.name, article.title.lower()) if service else "",
                                   created_at=now - timedelta(days=day, hours=rng.randint(1, 9))))
    Deflection.objects.bulk_create(rows)
# --- catalogue requests after the order: approval and fulfilment -------------------------------------------


def seed_fulfilment(ctx: DemoContext) -> None:
    """Catalogue requests after the order, through the domain functions: bob's VPN access, queued by the
    catalogue's seed, fulfilled by the group-access handler; an earlier laptop of alice's not approved (with
    maria's reason); bob's laptop approved with its procurement done and the set-up open. (alice's laptop of
    yesterday still waits for maria.)"""
    from .choices import AutomationState, TaskState
    from .models import CatalogItem, CatalogRequest, FulfilmentTask
    from .services import catalogue, fulfilment

    u, now, day = ctx.users, ctx.now, timedelta(days=1)
    for queued in CatalogRequest.objects.filter(automation=AutomationState.QUEUED).order_by("pk"):
        fulfilment.automation_run(request_pk=queued.pk, now=queued.created_at + timedelta(seconds=40))
    laptop = CatalogItem.objects.filter(name="New laptop").first()
    if laptop is None or CatalogRequest.objects.filter(item=laptop).count() > 1:
        return
    rejected = catalogue.request_order(actor=u["alice"], item=laptop, now=now - 20 * day, answers={
        "model": "MacBook Air 13", "needed_by": (now - 10 * day).date().isoformat(),
        "justification": "A bigger screen for the payroll spreadsheets."})
    fulfilment.request_decide(request=rejected.catalog_request, actor=u["maria"], decision="reject",
                              now=now - 19 * day, note="Your laptop was replaced in March; a second monitor is "
                                                       "on its way instead.")
    approved = catalogue.request_order(actor=u["bob"], item=laptop, now=now - 3 * day, answers={
        "model": "Dell Latitude 7440 (field staff)", "needed_by": (now + 2 * day).date().isoformat(),
        "justification": "Starting in the Berlin office; I visit customers most days.", "docking": True})
    fulfilment.request_decide(request=approved.catalog_request, actor=u["maria"], decision="approve",
                              now=now - 3 * day + timedelta(hours=2), note="Welcome aboard, Bob.")
    procure = FulfilmentTask.objects.get(request=approved, number=1)
    fulfilment.task_assign(task=procure, actor=u["liam"], assignee=u["liam"], now=now - 2 * day)
    procure.refresh_from_db()
    fulfilment.task_finish(task=procure, actor=u["liam"], state=TaskState.DONE, now=now - day,
                           note="Ordered from the framework supplier, PO-4411; arrives Thursday.")

