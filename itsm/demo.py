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


# --- catalogue requests after the order: approval and fulfilment -------------------------------------------


def _catalogue_item(name: str, service: Service, **defaults):
    """The catalogue's item of that name (the catalogue's own seed makes it), or one made here with what the
    fulfilment's demo needs."""
    from django.utils import timezone

    from .models import CatalogItem

    item = CatalogItem.objects.filter(name=name).first()
    if item is None:
        now = timezone.now()
        item, _ = CatalogItem.objects.get_or_create(service=service, name=name, defaults={
            "created_at": now, "updated_at": now, **defaults})
    return item


def _order(ctx: DemoContext, item, requester: User, answers: dict, at: datetime):
    """A request of `item` as the catalogue's order makes it: the ticket and its catalogue row, waiting for its
    approver; without an approval, its tasks made, and its handler marked queued for the caller to run here
    (the demo queues nothing for the workers)."""
    from .choices import ApprovalMode, ApprovalState, AutomationState
    from .models import CatalogRequest
    from .services import fulfilment

    ticket = core.ticket_create(actor=requester, kind=Kind.REQUEST, title=item.name, requester=requester,
                                service=item.service, now=at)
    needs = item.approval != ApprovalMode.NONE
    request = CatalogRequest.objects.create(
        ticket=ticket, item=item, answers=answers, created_at=at,
        approver=fulfilment.approver_for(item, requester) if needs else None,
        approval=ApprovalState.PENDING if needs else ApprovalState.NOT_NEEDED,
        automation=AutomationState.WAITING if item.handler and needs else AutomationState.NONE)
    if not needs and item.handler:
        CatalogRequest.objects.filter(pk=request.pk).update(automation=AutomationState.QUEUED)
    elif not needs:
        fulfilment.fulfilment_begin(request=request, actor=requester, now=at)
    return request


def seed_fulfilment(ctx: DemoContext) -> None:
    """Catalogue requests in every state after the order: Alice's new laptop waiting for Maria (her manager),
    Bob's approved with the procurement done and the hand-over open, an earlier one of Alice's not approved
    (with Maria's reason), and Bob's VPN access fulfilled by the group-access handler."""
    from django.db import transaction

    from .choices import TaskState
    from .models import CatalogTaskTemplate, FulfilmentTask
    from .services import fulfilment

    users = ctx.users
    alice, bob, maria = users["alice"], users["bob"], users["maria"]
    User.objects.filter(pk__in=[alice.pk, bob.pk]).update(manager=maria)
    alice.manager = bob.manager = maria
    workplace = Service.objects.filter(name="Workplace").first() or Service.objects.get_or_create(
        name="Workplace", defaults={"description": "Laptops, phones and desks of everyone at Acme."})[0]
    laptop = _catalogue_item("New laptop", workplace, approval="manager", icon="monitor", fulfilment_group=ctx.l2,
                             summary="A standard 14-inch laptop, set up with your account.")
    if not laptop.task_templates.exists():
        CatalogTaskTemplate.objects.create(item=laptop, title="Procure the laptop", group=ctx.l2, order=1)
        CatalogTaskTemplate.objects.create(item=laptop, title="Set up and hand over", group=ctx.l1, order=2)
    vpn = _catalogue_item("VPN access", ctx.services["VPN"], handler="group_access",
                          handler_config={"group": "VPN users"}, icon="shield-check",
                          summary="Work from home or on the road: you are added to the VPN users.")
    now = ctx.now
    with transaction.atomic():
        _order(ctx, laptop, alice, {"model": "14-inch", "keyboard": "UK", "reason": "My laptop's battery lasts "
                                    "40 minutes"}, now - timedelta(hours=5))

        rejected = _order(ctx, laptop, alice, {"model": "16-inch", "keyboard": "UK", "reason": "Bigger screen"},
                          now - timedelta(days=20))
        fulfilment.request_decide(request=rejected, actor=maria, decision="reject", now=now - timedelta(days=19),
                                  note="Your laptop was replaced in March; a second monitor is on its way "
                                       "instead.")

        approved = _order(ctx, laptop, bob, {"model": "14-inch", "keyboard": "German", "reason": "Starting in "
                                             "the Berlin office"}, now - timedelta(days=3))
        fulfilment.request_decide(request=approved, actor=maria, decision="approve", now=now - timedelta(days=3),
                                  note="Welcome aboard, Bob.")
        procure = FulfilmentTask.objects.get(request=approved.ticket, number=1)
        fulfilment.task_assign(task=procure, actor=users["liam"], assignee=users["liam"],
                               now=now - timedelta(days=2))
        fulfilment.task_finish(task=procure, actor=users["liam"], state=TaskState.DONE,
                               note="Ordered from the framework supplier, PO-4411; arrives Thursday",
                               now=now - timedelta(days=1))

        automated = _order(ctx, vpn, bob, {}, now - timedelta(hours=2))
        fulfilment.automation_run(request_pk=automated.pk, now=now - timedelta(hours=2) + timedelta(seconds=40))
