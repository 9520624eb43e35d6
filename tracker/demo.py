"""The demo: one login per role, the L1 -> L2 -> L3 groups, services, and 30 days of work lived through.

`seed_demo()` seeds the core (people, groups, services, categories), then calls every installed app's
demo step: an AppConfig with `demo_seed` (dotted path of a function taking the `DemoContext`) and
`demo_order` (steps run by it, lowest first). The core never names those apps. A step adds its own
configuration (calendars and policies, the knowledge base, releases), may add stories of its own
(`ctx.story`), and may follow the history: `ctx.every(fn)` is called each time the simulated time
advances, `ctx.at_end(fn)` once the history has reached the present.

Then the history plays: tickets raised over the last 30 days, each one a *story* (a generator that
yields the time of its next step) worked through the domain functions with `now=` at that time, all
stories interleaved in time order. So every clock starts at its ticket's creation, every response,
escalation and comment carries the time it happened, and what the SLA worker would have done between
two steps (warnings, breaches, automatic escalations) is done by its own sweep at the time it was due.
Steps that would happen after the present simply do not happen yet: recent tickets are still open.
"""
import heapq
import random
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.apps import apps
from django.db import transaction
from django.db.models import F
from django.utils.module_loading import import_string

from . import services
from .choices import ChangeType, ImplementationResult, Kind, LinkType, Ownership, Risk, Role, Severity, Status, Tier
from .errors import DomainError
from .models import AssignmentGroup, Category, Macro, Organisation, QueueView, Service, Ticket, User

# Demo-only password for every demo login (named as such in README.md). Never used outside the demo seed.
DEMO_PASSWORD = "demo"
HISTORY_DAYS = 30

PEOPLE = [
    ("alice", "Alice", "Archer", Role.REQUESTER, "London"),
    ("bob", "Bob", "Becker", Role.REQUESTER, "Berlin"),
    ("lena", "Lena", "Lindqvist", Role.AGENT_L1, "London"),
    ("liam", "Liam", "Lucas", Role.AGENT_L2, "London"),
    ("devon", "Devon", "Diaz", Role.ENGINEER_L3, "Lisbon"),
    ("dana", "Dana", "Dorsey", Role.ENGINEER_L3, "Lisbon"),
    ("carl", "Carl", "Conti", Role.CHANGE_MANAGER, "London"),
    ("iris", "Iris", "Ibsen", Role.INCIDENT_MANAGER, "London"),
    ("pia", "Pia", "Petrov", Role.PROBLEM_MANAGER, "Paris"),
    ("maria", "Maria", "Moreau", Role.MANAGER, "Paris"),
    ("admin", "Ada", "Admin", Role.ADMIN, "London"),
]
SERVICES = ["Payroll", "Email", "Web shop", "VPN", "HR portal"]
CATEGORIES = ["Access", "Hardware", "Software", "Network", "Data"]
TITLES = {
    Kind.INCIDENT: [
        "Payslips show zero net pay", "Cannot log in to the HR portal", "Outlook keeps asking for password",
        "VPN drops every 10 minutes", "Checkout page times out", "Email attachments over 5 MB bounce",
        "Payroll export file is empty", "Web shop shows wrong prices in EUR", "Password reset mail never arrives",
        "HR portal slow since this morning", "Cannot connect to VPN from hotel", "Shared mailbox missing",
    ],
    Kind.REQUEST: [
        "New laptop for starter in Finance", "Access to the payroll reports", "Add me to the sales mailing list",
        "VPN token for contractor", "Increase mailbox quota", "Install Visio", "Admin rights on build server",
    ],
    Kind.PROBLEM: [
        "Recurring VPN disconnects", "Payroll batch fails on month end", "Mail delivery delays at peak hours",
        "Web shop session loss after deploy", "HR portal pages time out under load",
    ],
    Kind.CHANGE: [
        "Upgrade mail gateway to 11.2", "Rotate VPN certificates", "Deploy payroll release",
        "Add EU VAT rates to web shop", "Patch HR portal database", "Move payroll batch to 02:00",
    ],
    Kind.DEFECT: [
        "Net pay rounding off by one cent", "Session cookie not renewed on refresh", "Tax code import ignores Z codes",
        "Price cache not invalidated on currency switch", "Reset mail template has broken link",
        "Leave balance shows yesterday's value",
    ],
}
KIND_WEIGHTS = [(Kind.INCIDENT, 50), (Kind.REQUEST, 25), (Kind.PROBLEM, 5), (Kind.CHANGE, 10), (Kind.DEFECT, 10)]

ACKS = ["Thanks, looking into it now.", "Thanks for reporting this; I'm on it.", "Picked up, I'll keep you posted.",
        "Got it. Checking the logs now."]
QUESTIONS = ["Which browser do you use, and since when does it happen?", "Could you send a screenshot of the error?",
             "Does it happen from the office too, or only from home?", "Which cost centre should we charge?"]
REPLIES = ["Chrome, since Monday. Screenshot attached.", "Only from home, the office is fine.",
           "Cost centre 4410, thanks.", "Here is the screenshot; it happens every time."]
NOTES = ["Checked the logs; the account was locked after five failed sign-ins.",
         "Reproduced on a test account; looks like the cache is stale.",
         "Same error in the application log since the last deploy.", "Vendor KB article matches the symptoms."]
FIXES = ["Unlocked the account and reset the token.", "Cleared the cache and restarted the service.",
         "Re-ran the failed job; output checked with the requester.", "Applied the documented workaround.",
         "Delivered and set up; confirmed working with the requester."]
CHASERS = ["Any news on this? The team is blocked.", "It happened again this morning.",
           "Is there a workaround in the meantime?"]
REOPENS = ["Still happening after the fix, sorry.", "It came back this morning."]

# How fast the demo desk works per priority: first touch (minutes) and resolution (hours) ranges, and
# whether the work happens around the clock (P1/P2 on call) or in London office hours. The SLA demo
# sets its targets next to these numbers, so most tickets meet them and some are late.
PACE = {
    1: ((2, 12), (0.5, 3.2), True),
    2: ((5, 25), (1.0, 6.5), True),
    3: ((10, 200), (2.0, 20.0), False),
    4: ((30, 380), (4.0, 34.0), False),
    5: ((60, 700), (8.0, 100.0), False),
}
LATE_RESPONSE = 0.07  # share of tickets touched after their response target
LATE_RESOLUTION = 0.09  # share resolved after their resolution target
STUCK = 0.04  # share left waiting far beyond their target (a vendor, a lost hand-off): the open breaches

LONDON = ZoneInfo("Europe/London")
OFFICE = (time(9), time(17, 30))


def office_after(at: datetime, minutes: float, on_call: bool = False) -> datetime:
    """`minutes` of London office time (Mon-Fri 09:00-17:30) after `at`; plain time when on call."""
    if on_call:
        return at + timedelta(minutes=minutes)
    left = timedelta(minutes=minutes)
    local = at.astimezone(LONDON)
    while True:
        opens = datetime.combine(local.date(), OFFICE[0], LONDON)
        closes = datetime.combine(local.date(), OFFICE[1], LONDON)
        if local.weekday() >= 5 or local >= closes:
            local = datetime.combine(local.date() + timedelta(days=1), OFFICE[0], LONDON)
            continue
        local = max(local, opens)
        if left <= closes - local:
            return (local + left).astimezone(at.tzinfo)
        left -= closes - local
        local = datetime.combine(local.date() + timedelta(days=1), OFFICE[0], LONDON)


Life = Generator[tuple[datetime, Ticket | None], None, None]


@dataclass
class DemoContext:
    """What the demo steps share: the randomness, the present, the cast, the tickets, and the history."""

    rng: random.Random
    now: datetime
    users: dict[str, User]
    services: dict[str, Service]
    l1: AssignmentGroup
    l2: AssignmentGroup
    l3: list[AssignmentGroup]
    categories: list[Category]
    tickets: dict[str, list[Ticket]] = field(default_factory=lambda: {k: [] for k in Kind.values})
    skipped: list[str] = field(default_factory=list)
    # The version a defect's fix goes into; a release plan (devflow's demo) replaces this.
    fix_version: Callable[[Service | None, datetime], str] = lambda service, at: "next"
    # How tickets of a kind live, where an app's rules change the story (the CAB's votes: itsm's demo);
    # kinds not named here live the core's way (`plan_history`).
    lives: dict[str, Callable[..., Life]] = field(default_factory=dict)
    _queue: list = field(default_factory=list)
    _seq: int = 0
    _tickers: list[Callable[[datetime], None]] = field(default_factory=list)
    _finishers: list[Callable[[], None]] = field(default_factory=list)

    def every(self, fn: Callable[[datetime], None]) -> None:
        """Call `fn(at)` whenever the history advances to `at` (before the steps due at `at`)."""
        self._tickers.append(fn)

    def at_end(self, fn: Callable[[], None]) -> None:
        """Call `fn()` once the history has reached the present (in the order the steps registered)."""
        self._finishers.append(fn)

    def story(self, at: datetime, life: Iterator, ticket: Ticket | None = None) -> None:
        """Play `life` from `at`: a generator that works a ticket and yields (next time, ticket to re-read)."""
        self._seq += 1
        heapq.heappush(self._queue, (at, self._seq, life, ticket))

    def fork(self) -> random.Random:
        """A private random stream for one story, so its plan does not depend on how stories interleave.

        Fork while planning, before the history plays; a story forks its own stream for stories it adds."""
        return random.Random(self.rng.getrandbits(64))

    def handler(self, ticket: Ticket, rng: random.Random) -> User:
        """Who works the ticket at its current tier: the desk, application support, or the dev team."""
        tier = ticket.group.tier if ticket.group_id else Tier.L1
        if tier == Tier.L3:
            if ticket.assignee_id:
                return ticket.assignee
            return rng.choice(list(ticket.group.members.order_by("username")))
        return self.users["liam"] if tier == Tier.L2 else self.users["lena"]

    def dev_group(self, service: Service | None) -> AssignmentGroup:
        for group in self.l3:
            if service is not None and group.services.filter(pk=service.pk).exists():
                return group
        return self.l3[0]

    def play(self) -> None:
        """Run the stories in time order up to the present; what lies in the future does not happen."""
        while self._queue:
            at, _, life, ticket = heapq.heappop(self._queue)
            if at > self.now:
                life.close()
                continue
            for tick in self._tickers:
                tick(at)
            try:
                with transaction.atomic():
                    if ticket is not None:  # the SLA sweep or another story may have changed it meanwhile
                        ticket.refresh_from_db()
                    step = next(life, None)  # None: the story's last step is done
            except DomainError as exc:  # a move the workflow refuses ends that story; the rest plays on
                self.skipped.append(exc.message)
                life.close()
                continue
            if step is not None:
                self.story(max(step[0], at), life, step[1])
        for tick in self._tickers:
            tick(self.now)


# --- the core: people, groups, services ------------------------------------------------------------------

@transaction.atomic
def seed_people_and_groups(*, rng: random.Random, now: datetime) -> DemoContext:
    org, _ = Organisation.objects.get_or_create(name="Acme Retail")
    users = {}
    for username, first, last, role, site in PEOPLE:
        user, _ = User.objects.get_or_create(username=username, defaults={
            "first_name": first, "last_name": last, "role": role, "site": site, "organisation": org,
            "email": f"{username}@crossline.example", "is_staff": role == Role.ADMIN,
            "is_superuser": role == Role.ADMIN})
        user.set_password(DEMO_PASSWORD)
        user.save()
        users[username] = user
    svc = {name: Service.objects.get_or_create(name=name, defaults={
        "description": f"The {name.lower()} service."})[0] for name in SERVICES}
    for name in CATEGORIES:
        Category.objects.get_or_create(name=name)

    def group(name, tier, services, members, **extra):
        g, _ = AssignmentGroup.objects.update_or_create(name=name, defaults={
            "tier": tier, "manager": users["maria"], **extra})
        g.services.set([svc[s] for s in services])
        g.members.set([users[m] for m in members])
        return g

    payroll_dev = group("Payroll Dev", Tier.L3, ["Payroll", "HR portal"], ["devon", "dana"], support_share=20)
    web_dev = group("Web Dev", Tier.L3, ["Web shop", "Email", "VPN"], ["dana"], support_share=20, swarming=True)
    # Touch and hold at the desk: the L1 agent who took a ticket stays its owner while L2 works it; application
    # support hands ownership over to the development team it escalates to.
    l2 = group("Application Support", Tier.L2, SERVICES, ["liam"], escalates_to=None, ownership=Ownership.HAND_OVER)
    l1 = group("Service Desk", Tier.L1, SERVICES, ["lena"], escalates_to=l2, ownership=Ownership.HOLD)
    # Direct support: the HR portal's product team takes its users' incidents and requests itself.
    Service.objects.filter(pk=svc["HR portal"].pk).update(intake_group=payroll_dev)
    svc["HR portal"].intake_group = payroll_dev
    svc["HR portal"].owners.set([users["maria"]])
    seed_macros(l1=l1, l2=l2, users=users)
    seed_queue_views(l1=l1, l2=l2, users=users, services=svc)
    return DemoContext(rng=rng, now=now, users=users, services=svc, l1=l1, l2=l2, l3=[payroll_dev, web_dev],
                       categories=list(Category.objects.order_by("name")))


def seed_macros(*, l1: AssignmentGroup, l2: AssignmentGroup, users: dict) -> None:
    """The desk's canned replies (team macros) and one personal macro of lena's."""
    team = [
        ("Ask which office", l1, "Hi {requester_first_name}, thanks for reporting {key}. Which office are you in, "
         "and does it happen to colleagues next to you too?", Status.PENDING, None, False),
        ("Password reset done", l1, "Hi {requester_first_name}, your password is reset; you will be asked to "
         "choose a new one at the next sign-in. — {agent}, Service Desk", Status.RESOLVED, None, False),
        ("Hand to application support", l1, "Checked the basics (sign-in, network, cache). Handing {key} to "
         "application support with the logs attached.", "", l2, True),
        ("Fix shipped, please check", l2, "Hi {requester_first_name}, the fix for {key} is live. Could you try "
         "again and tell us if it works?", Status.PENDING, None, False),
    ]
    for name, group, body, status, to_group, internal in team:
        Macro.objects.get_or_create(name=name, group=group, defaults={
            "body": body, "to_status": status, "to_group": to_group, "internal": internal})
    Macro.objects.get_or_create(name="Still on it", owner=users["lena"], defaults={
        "body": "Hi {requester_first_name}, still working on {key}; next update within the hour. — {agent}"})


def seed_queue_views(*, l1: AssignmentGroup, l2: AssignmentGroup, users: dict, services: dict) -> None:
    """Saved queue views as a desk would keep them: the desk's and application support's shared views with
    their own columns, a personal one of lena's, her pins in the top bar; liam works in the split view."""
    payroll = services["Payroll"].pk
    views = [
        ("Unassigned incidents, oldest first", {"group": l1}, "view=unassigned-l1&kind=incident&sort=created",
         ["title", "requester", "service", "priority", "sla", "created"]),
        ("Payroll at L2", {"group": l2}, f"view=my-group&service={payroll}&sort=-priority",
         ["title", "status", "priority", "sla", "assignee", "updated"]),
        ("My P1 and P2", {"owner": users["lena"]}, "view=mine&priority=1&priority=2", []),
    ]
    saved = {}
    for name, scope, query, columns in views:
        saved[name], _ = QueueView.objects.get_or_create(name=name, **scope, defaults={
            "query": query, "columns": columns, "created_by": users["lena"] if "owner" in scope else None})
    lena, liam = users["lena"], users["liam"]
    lena.queue_pins = ["mine", "breaching", f"saved-{saved['Unassigned incidents, oldest first'].pk}"]
    lena.queue_columns = ["title", "status", "priority", "sla", "requester", "assignee", "updated"]
    lena.save(update_fields=["queue_pins", "queue_columns"])
    liam.queue_split = True
    liam.save(update_fields=["queue_split"])


def demo_steps() -> list[Callable[[DemoContext], None]]:
    """The installed apps' demo steps, by `demo_order` (then app label)."""
    found = []
    for config in apps.get_app_configs():
        path = getattr(config, "demo_seed", None)
        if path:
            found.append((getattr(config, "demo_order", 100), config.label, import_string(path)))
    return [step for _, _, step in sorted(found, key=lambda s: (s[0], s[1]))]


def seed_demo(*, seed: int, now: datetime, history: int) -> DemoContext:
    """Seed the whole demo in one transaction: the core, every app's step, then `history` tickets lived."""
    rng = random.Random(seed)
    with transaction.atomic():
        ctx = seed_people_and_groups(rng=rng, now=now)
        for step in demo_steps():
            step(ctx)
        plan_history(ctx, history)
        plan_swarms(ctx, max(4, history // 25))
        ctx.play()
        for finish in ctx._finishers:
            finish()
        seed_attachments(ctx)
    return ctx


# --- the history ----------------------------------------------------------------------------------------

def _raised_at(ctx: DemoContext, rng: random.Random) -> datetime:
    """A time in the last 30 days, mostly on weekdays in office hours, like real tickets."""
    while True:
        at = ctx.now - timedelta(days=rng.uniform(0, HISTORY_DAYS))
        local = at.astimezone(LONDON)
        if local.weekday() >= 5 and rng.random() < 0.75:
            continue
        if not 7 <= local.hour < 19 and rng.random() < 0.8:
            continue
        return at


def plan_history(ctx: DemoContext, count: int) -> None:
    """Put `count` tickets of every kind on the history, raised over the last 30 days."""
    kinds = [k for k, w in KIND_WEIGHTS for _ in range(w)]
    lives = {Kind.INCIDENT: desk_life, Kind.REQUEST: desk_life, Kind.PROBLEM: problem_life,
             Kind.CHANGE: change_life, Kind.DEFECT: defect_life, **ctx.lives}
    for i in range(count):
        rng = ctx.fork()
        # Make sure a small demo still shows every kind.
        kind = Kind.values[i] if i < len(Kind.values) else rng.choice(kinds)
        at = _raised_at(ctx, rng)
        ctx.story(at, lives[kind](ctx, rng, at, kind=kind))


def _values(ctx: DemoContext, rng: random.Random, service: Service, **extra) -> dict:
    return {"impact": rng.choice([1, 2, 2, 3, 3]), "urgency": rng.choice([1, 2, 2, 3]), "service": service,
            "category": rng.choice(ctx.categories),
            "description": rng.choice(["Reported at the desk.\n\n- since this morning\n- affects the whole team",
                                       "Happens every time I try.", "Started after the weekend."]), **extra}


def _take(ctx: DemoContext, ticket: Ticket, rng: random.Random, at: datetime) -> User:
    """The current tier's person takes the ticket if nobody holds it; returns who works it."""
    who = ctx.handler(ticket, rng)
    if ticket.assignee_id is None:
        if ticket.group_id and ticket.group.tier == Tier.L3:
            services.ticket_claim(ticket=ticket, actor=who, now=at)
        else:
            services.ticket_assign(ticket=ticket, actor=who, assignee=who, now=at)
    return ticket.assignee or who


def desk_life(ctx: DemoContext, rng: random.Random, at: datetime, *, kind: str, requester: User | None = None,
              title: str = "", service: Service | None = None, values: dict | None = None,
              caused_by: Ticket | None = None) -> Life:
    """An incident or a request: raised, touched, maybe waited on, escalated, resolved, reopened, closed."""
    u = ctx.users
    requester = requester or rng.choice([u["alice"], u["bob"]])
    service = service or rng.choice(list(ctx.services.values()))
    ticket = services.ticket_create(actor=requester, kind=kind, title=title or rng.choice(TITLES[kind]),
                                    requester=requester, now=at, **(values or _values(ctx, rng, service)))
    ctx.tickets[kind].append(ticket)
    (touch_lo, touch_hi), (fix_lo, fix_hi), on_call = PACE[ticket.priority]
    touch = rng.uniform(touch_lo, touch_hi) * (rng.uniform(2.5, 5) if rng.random() < LATE_RESPONSE else 1)
    late = rng.random()
    fix_hours = rng.uniform(fix_lo, fix_hi) * (rng.uniform(4, 8) if late < STUCK else rng.uniform(1.6, 2.5)
                                               if late < STUCK + LATE_RESOLUTION else 1)
    resolve_at = office_after(at, fix_hours * 60, on_call)

    def step(t: datetime, minutes: float) -> datetime:
        return office_after(t, minutes, on_call)

    t = step(at, touch)
    yield t, ticket
    if ticket.status != Status.NEW:
        return
    duplicate = next((o for o in reversed(ctx.tickets[kind][-8:]) if o.service_id == ticket.service_id
                      and o.pk != ticket.pk and at - timedelta(days=1) < o.created_at < at), None)
    if kind == Kind.INCIDENT and duplicate is not None and rng.random() < 0.1:
        services.ticket_link(source=ticket, target=duplicate, type=LinkType.DUPLICATE_OF, actor=u["lena"], now=t)
        services.ticket_transition(ticket=ticket, to=Status.CANCELLED, actor=u["lena"], now=t,
                                   values={"resolution_note": f"Duplicate of {duplicate.key}; follow it there."})
        return
    if rng.random() < 0.04:
        services.ticket_transition(ticket=ticket, to=Status.CANCELLED, actor=requester, now=t, values={
            "resolution_note": "Found the answer in the knowledge base, thanks."})
        return
    agent = _take(ctx, ticket, rng, t)
    services.ticket_transition(ticket=ticket, to=Status.IN_PROGRESS, actor=agent, now=t)
    services.ticket_comment(ticket=ticket, actor=agent, body=rng.choice(ACKS), now=t)
    if caused_by is not None:
        services.ticket_link(source=ticket, target=caused_by, type=LinkType.CAUSED_BY, actor=agent, now=t)

    route = rng.random()
    if route < 0.25 and ticket.status == Status.IN_PROGRESS:  # wait on the requester
        t = step(t, rng.uniform(5, 60))
        yield t, ticket
        agent = _take(ctx, ticket, rng, t)
        services.ticket_transition(ticket=ticket, to=Status.PENDING, actor=agent, now=t)
        services.ticket_comment(ticket=ticket, actor=agent, body=rng.choice(QUESTIONS), now=t)
        waited = timedelta(hours=rng.uniform(1, 30))
        t += waited
        resolve_at += waited  # the clock is paused meanwhile
        yield t, ticket
        if ticket.status != Status.PENDING:
            return
        if rng.random() < 0.1:  # never answered: closed after a few days
            t += timedelta(days=rng.uniform(3, 6))
            yield t, ticket
            if ticket.status == Status.PENDING:
                services.ticket_transition(ticket=ticket, to=Status.IN_PROGRESS, actor=u["lena"], now=t)
                services.ticket_transition(ticket=ticket, to=Status.RESOLVED, actor=u["lena"], now=t, values={
                    "resolution_note": "No reply for three working days; resolving. Reopen if still needed."})
            return
        services.ticket_comment(ticket=ticket, actor=requester, body=rng.choice(REPLIES), now=t)
    elif route < 0.55:  # application support
        t = step(t, rng.uniform(10, 90))
        yield t, ticket
        if ticket.group_id and ticket.group.tier < Tier.L2 and ticket.is_open:
            services.ticket_escalate(ticket=ticket, actor=u["lena"], note="Needs application support.", now=t)
        t = step(t, rng.uniform(5, 60))
        yield t, ticket
        agent = _take(ctx, ticket, rng, t)
        services.ticket_comment(ticket=ticket, actor=agent, body=rng.choice(NOTES), internal=True, now=t)
        if kind == Kind.INCIDENT and route < 0.38:  # the development team
            t = step(t, rng.uniform(20, 120))
            yield t, ticket
            if ticket.group_id and ticket.group.tier < Tier.L3 and ticket.is_open:
                services.ticket_escalate(ticket=ticket, actor=u["liam"], to_group=ctx.dev_group(ticket.service),
                                         note="Looks like a defect in the last release.", now=t)
            t = step(t, rng.uniform(5, 25) if ticket.priority <= 2 else rng.uniform(30, 240))
            yield t, ticket
            agent = _take(ctx, ticket, rng, t)
            services.ticket_comment(ticket=ticket, actor=agent, body="Reproduced; working on a fix.",
                                    internal=True, now=t)
            defects = [d for d in ctx.tickets[Kind.DEFECT] if d.service_id == ticket.service_id]
            if defects and rng.random() < 0.5:
                services.ticket_link(source=ticket, target=rng.choice(defects), type=LinkType.FIXED_BY, actor=agent,
                                     now=t)
    elif rng.random() < 0.4:  # a chaser from the requester
        t = step(t, rng.uniform(30, 240))
        yield t, ticket
        services.ticket_comment(ticket=ticket, actor=requester, body=rng.choice(CHASERS), now=t)

    t = max(resolve_at, step(t, 10))
    yield t, ticket
    if not ticket.is_open:
        return
    agent = _take(ctx, ticket, rng, t)
    if ticket.status == Status.PENDING:
        services.ticket_transition(ticket=ticket, to=Status.IN_PROGRESS, actor=agent, now=t)
    if rng.random() < 0.5:
        services.ticket_comment(ticket=ticket, actor=agent, body=rng.choice(NOTES), internal=True, now=t)
    services.ticket_transition(ticket=ticket, to=Status.RESOLVED, actor=agent, now=t,
                               values={"resolution_note": rng.choice(FIXES)})

    if rng.random() < 0.1:  # reopened by the requester: a new resolution cycle
        t += timedelta(hours=rng.uniform(2, 30))
        yield t, ticket
        if ticket.status != Status.RESOLVED:
            return
        services.ticket_comment(ticket=ticket, actor=requester, body=rng.choice(REOPENS), now=t)
        services.ticket_transition(ticket=ticket, to=Status.IN_PROGRESS, actor=requester, now=t)
        t = step(t, rng.uniform(30, 300))
        yield t, ticket
        if ticket.status != Status.IN_PROGRESS:
            return
        agent = _take(ctx, ticket, rng, t)
        services.ticket_transition(ticket=ticket, to=Status.RESOLVED, actor=agent, now=t, values={
            "resolution_note": "Found a second cause and fixed it too."})

    if rng.random() < 0.4:  # the requester confirms and closes
        t += timedelta(hours=rng.uniform(1, 40))
        yield t, ticket
        if ticket.status == Status.RESOLVED:
            services.ticket_transition(ticket=ticket, to=Status.CLOSED, actor=requester, now=t)
    else:  # the desk closes resolved tickets after three days
        t += timedelta(days=3, minutes=rng.uniform(0, 600))
        yield t, ticket
        if ticket.status == Status.RESOLVED:
            services.ticket_transition(ticket=ticket, to=Status.CLOSED, actor=u["lena"], now=t)


def problem_life(ctx: DemoContext, rng: random.Random, at: datetime, *, kind: str = Kind.PROBLEM) -> Life:
    """A problem: raised behind recent incidents, investigated, a known error, fixed by a defect, closed."""
    u = ctx.users
    service = rng.choice(list(ctx.services.values()))
    ticket = services.ticket_create(actor=u["liam"], kind=Kind.PROBLEM, title=rng.choice(TITLES[Kind.PROBLEM]),
                                    now=at, group=ctx.l2, **_values(ctx, rng, service))
    ctx.tickets[Kind.PROBLEM].append(ticket)
    recent = [i for i in ctx.tickets[Kind.INCIDENT] if i.service_id == service.pk][-3:]
    for incident in recent:
        services.ticket_link(source=incident, target=ticket, type=LinkType.INSTANCE_OF, actor=u["liam"], now=at)
    t = office_after(at, rng.uniform(60, 600))
    yield t, ticket
    services.ticket_transition(ticket=ticket, to=Status.IN_PROGRESS, actor=u["liam"], now=t)
    services.ticket_comment(ticket=ticket, actor=u["liam"], body=rng.choice(NOTES), internal=True, now=t)
    t = office_after(t, rng.uniform(1, 4) * 8.5 * 60)
    yield t, ticket
    services.ticket_transition(ticket=ticket, to=Status.KNOWN_ERROR, actor=u["liam"], now=t, values={
        "root_cause": "Token cache expires before the session does.",
        "workaround": "Sign out, clear the cache, sign in again."})
    if rng.random() < 0.4:
        return  # stays a known error until the fix ships
    t = office_after(t, rng.uniform(2, 8) * 8.5 * 60)
    yield t, ticket
    defects = [d for d in ctx.tickets[Kind.DEFECT] if d.service_id == service.pk]
    if defects:
        services.ticket_link(source=ticket, target=rng.choice(defects), type=LinkType.FIXED_BY, actor=u["liam"],
                             now=t)
    services.ticket_transition(ticket=ticket, to=Status.RESOLVED, actor=u["liam"], now=t, values={
        "resolution_note": "Fix shipped; no new instances for a week."})
    t = office_after(t, rng.uniform(4, 16) * 60)
    yield t, ticket
    services.ticket_transition(ticket=ticket, to=Status.CLOSED, actor=u["liam"], now=t)


def change_life(ctx: DemoContext, rng: random.Random, at: datetime, *, kind: str = Kind.CHANGE) -> Life:
    """A change: planned, through the CAB (sometimes rejected and revisited), implemented, reviewed."""
    u = ctx.users
    service = rng.choice(list(ctx.services.values()))
    change_type = rng.choice([ChangeType.STANDARD, ChangeType.NORMAL, ChangeType.NORMAL, ChangeType.EMERGENCY])
    lead = timedelta(hours=rng.uniform(4, 12)) if change_type == ChangeType.EMERGENCY else timedelta(
        days=rng.randint(2, 6))
    window = datetime.combine((at + lead).astimezone(LONDON).date(), time(19), LONDON)
    ticket = services.ticket_create(actor=u["liam"], kind=Kind.CHANGE, title=rng.choice(TITLES[Kind.CHANGE]), now=at,
                                    **_values(ctx, rng, service, change_type=change_type,
                                              risk=rng.choice(Risk.values), window_start=window,
                                              window_end=window + timedelta(hours=2)))
    ctx.tickets[Kind.CHANGE].append(ticket)
    plan = {"implementation_plan": "1. Announce\n2. Deploy\n3. Verify", "backout_plan": "Redeploy the previous build",
            "risk": ticket.risk or Risk.LOW}
    t = office_after(at, rng.uniform(30, 240), change_type == ChangeType.EMERGENCY)
    yield t, ticket
    if change_type == ChangeType.STANDARD:
        services.ticket_transition(ticket=ticket, to=Status.APPROVED, actor=u["liam"], values=plan, now=t)
    else:
        services.ticket_transition(ticket=ticket, to=Status.REVIEW, actor=u["liam"], values=plan, now=t)
        t = office_after(t, rng.uniform(60, 480), change_type == ChangeType.EMERGENCY)
        yield t, ticket
        if rng.random() < 0.2:  # rejected, revisited, approved (scenario 2)
            services.ticket_transition(ticket=ticket, to=Status.REJECTED, actor=u["carl"], now=t,
                                       values={"decision_note": "Backout plan is not tested."})
            t = office_after(t, rng.uniform(60, 300))
            yield t, ticket
            services.ticket_transition(ticket=ticket, to=Status.NEW, actor=u["liam"], now=t)
            services.ticket_comment(ticket=ticket, actor=u["liam"], now=t,
                                    body="Backout rehearsed on staging: 12 minutes end to end.")
            services.ticket_transition(ticket=ticket, to=Status.REVIEW, actor=u["liam"], now=t, values={
                **plan, "backout_plan": "Redeploy the previous build (rehearsed on staging, 12 min)"})
            t = office_after(t, rng.uniform(60, 300))
            yield t, ticket
        services.ticket_transition(ticket=ticket, to=Status.APPROVED, actor=u["carl"], now=t,
                                   values={"decision_note": "Approved for the planned window."})
    t = max(t, window)
    yield t, ticket
    services.ticket_transition(ticket=ticket, to=Status.IN_PROGRESS, actor=u["liam"], now=t)
    t += timedelta(minutes=rng.uniform(40, 110))
    yield t, ticket
    # A rolled-back go-live is told with its rollback by the change process's own demo (itsm's).
    result = ImplementationResult.SUCCESSFUL if rng.random() < 0.8 else ImplementationResult.FAILED
    services.ticket_transition(ticket=ticket, to=Status.RESOLVED, actor=u["liam"], now=t,
                               values={"implementation_result": result})
    if result != ImplementationResult.SUCCESSFUL:  # users notice the next morning
        morning = office_after(t, rng.uniform(5, 40))
        own = random.Random(rng.getrandbits(64))
        ctx.story(morning, desk_life(ctx, own, morning, kind=Kind.INCIDENT, service=service, caused_by=ticket,
                                     title=f"{service.name} not working since last night"))
    t = office_after(t, rng.uniform(1, 2) * 8.5 * 60)
    yield t, ticket
    review = {"review_notes": "Went as planned."}
    if result != ImplementationResult.SUCCESSFUL:  # a failed go-live closes only after its full review
        review = {"review_notes": "The deployment failed its smoke test; users saw errors until the fix-forward.",
                  "review_cause": "A configuration difference between staging and production.",
                  "review_actions": "Compare staging and production configuration before every deploy (liam)."}
    elif change_type == ChangeType.EMERGENCY:  # so does an emergency change
        review.update(review_cause="None: the emergency fix did what it should.",
                      review_actions="Plan the permanent fix as a normal change (liam).")
    services.ticket_transition(ticket=ticket, to=Status.CLOSED, actor=u["carl"], now=t, values=review)


def defect_life(ctx: DemoContext, rng: random.Random, at: datetime, *, kind: str = Kind.DEFECT) -> Life:
    """A defect: raised by application support for a dev team, accepted, fixed for the next release."""
    u = ctx.users
    service = rng.choice(list(ctx.services.values()))
    group = ctx.dev_group(service)
    values = _values(ctx, rng, service, severity=rng.choice(Severity.values), affected_version="current",
                     group=group)
    values["impact"] = rng.choice([2, 3, 3])
    ticket = services.ticket_create(actor=u["liam"], kind=Kind.DEFECT, title=rng.choice(TITLES[Kind.DEFECT]),
                                    requester=u["liam"], now=at, **values)
    ctx.tickets[Kind.DEFECT].append(ticket)
    (touch_lo, touch_hi), (fix_lo, fix_hi), on_call = PACE[ticket.priority]
    t = office_after(at, rng.uniform(touch_lo, touch_hi), on_call)
    yield t, ticket
    engineer = _take(ctx, ticket, rng, t)
    services.ticket_transition(ticket=ticket, to=Status.TRIAGED, actor=engineer, now=t)
    services.ticket_transition(ticket=ticket, to=Status.IN_PROGRESS, actor=engineer, now=t)
    fix = rng.uniform(fix_lo, fix_hi) * (rng.uniform(1.6, 2.5) if rng.random() < LATE_RESOLUTION else 1)
    t = max(office_after(at, fix * 60, on_call), t + timedelta(minutes=30))
    yield t, ticket
    services.ticket_transition(ticket=ticket, to=Status.FIXED, actor=ticket.assignee or engineer, now=t, values={
        "fix_version": ctx.fix_version(ticket.service, t), "resolution_note": "Fixed, with a regression test."})


# --- swarming: Web Dev works its own alerts as a swarm ----------------------------------------------------
# Web Dev swarms (`AssignmentGroup.swarming`): an alert its monitoring raises stays with the team, and dana
# brings in application support (liam, or the whole group) and, for mail, devon, instead of handing it off.
# Each expert says what they did, logs their time and leaves; the recent ones are still on their tickets.

SWARM_ALERTS = [
    ("Checkout error rate above 2 % since the last deploy", "Web shop",
     "liam", "Customers are calling the desk about failed payments; need the support view of the orders."),
    ("Order confirmation emails queue for hours", "Email",
     "devon", "The payroll mailer shares the relay; devon tuned it last quarter."),
    ("VPN logins fail for the Berlin office after the certificate renewal", "VPN",
     "liam", "The desk has the list of affected users and the error they see."),
    ("Basket totals round EUR prices wrongly", "Web shop",
     "Application Support", "Application support knows which price lists the shops use."),
]
SWARM_HELP = [
    ("Matched the failing orders to one payment provider; the desk now tells callers to retry by card.", 40),
    ("Found the relay's rate limit set to the payroll run's value; lowered it back.", 55),
    ("Collected the failing users and their client versions; all on the old client.", 30),
    ("Checked the price lists: only the Austrian shop uses the rounding rule.", 25),
]


def plan_swarms(ctx: DemoContext, count: int) -> None:
    """`count` alerts raised at Web Dev over the last 30 days, each worked as a swarm. Each story has its own
    random stream (not forked from the history's), so the rest of the history plays as it would without it."""
    web_dev = next(g for g in ctx.l3 if g.swarming)
    for i in range(count):
        rng = random.Random(f"swarm-{i}")
        # the newest alert came in two hours ago: its expert is still on it (in their Swarming view)
        at = ctx.now - (timedelta(hours=2) if i == 0 else timedelta(days=HISTORY_DAYS * i / count,
                                                                    hours=rng.uniform(0, 6)))
        ctx.story(at, swarm_life(ctx, rng, at, group=web_dev, alert=SWARM_ALERTS[i % len(SWARM_ALERTS)],
                                 helped=SWARM_HELP[i % len(SWARM_HELP)]))


def swarm_life(ctx: DemoContext, rng: random.Random, at: datetime, *, group: AssignmentGroup, alert: tuple,
               helped: tuple) -> Life:
    """An alert worked by the team that raised it: dana takes it, invites an expert (or a group), they help,
    log their time and leave; dana logs hers and resolves. No hand-off."""
    u = ctx.users
    title, service, expert, why = alert
    dana = u["dana"]
    ticket = services.ticket_create(actor=dana, kind=Kind.INCIDENT, title=title, requester=dana, now=at,
                                    group=group, service=ctx.services[service], impact=2, urgency=1,
                                    description="Raised from the team's monitoring alert.")
    ctx.tickets[Kind.INCIDENT].append(ticket)
    t = office_after(at, rng.uniform(5, 20), True)
    yield t, ticket
    services.ticket_claim(ticket=ticket, actor=dana, now=t)
    services.ticket_transition(ticket=ticket, to=Status.IN_PROGRESS, actor=dana, now=t)
    helper = AssignmentGroup.objects.get(name=expert) if expert not in u else None
    contributor = services.contributor_invite(ticket=ticket, actor=dana, user=u.get(expert), group=helper,
                                              note=why, now=t)
    worker = u["liam"] if helper is not None else u[expert]
    t = office_after(t, rng.uniform(20, 90), True)
    yield t, ticket
    services.ticket_comment(ticket=ticket, actor=worker, internal=True, now=t,
                            body="Looking at it from our side now.")
    note, minutes = helped
    t = office_after(t, minutes + rng.uniform(0, 30), True)
    yield t, ticket
    services.contribution_record(ticket=ticket, actor=worker, note=note, minutes=minutes, now=t,
                                 worked_at=t - timedelta(minutes=minutes))
    t = office_after(t, rng.uniform(30, 120), True)
    yield t, ticket
    services.worklog_add(ticket=ticket, actor=dana, minutes=rng.choice([45, 60, 90, 120]), now=t, worked_at=t,
                         note="Fix deployed and verified on production.")
    services.contributor_leave(contributor=contributor, actor=worker, now=t, note="Done on our side.")
    services.ticket_transition(ticket=ticket, to=Status.RESOLVED, actor=dana, now=t,
                               values={"resolution_note": f"Fixed by Web Dev with {contributor.user or helper.name}."})


# --- files on tickets ------------------------------------------------------------------------------------------

def _screenshot_png(width: int = 160, height: int = 100) -> bytes:
    """A small screenshot-like PNG drawn here: a title bar, a grey page and a red error banner."""
    import struct
    import zlib

    def pixel(x: int, y: int) -> bytes:
        if y < 12:
            return b"\x14\x24\x3d"  # the title bar
        if 40 <= y < 56 and 10 <= x < width - 10:
            return b"\xb3\x26\x1e"  # the error banner
        return b"\xf4\xf5\xf7" if (y // 8) % 2 else b"\xff\xff\xff"

    raw = b"".join(b"\x00" + b"".join(pixel(x, y) for x in range(width)) for y in range(height))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")


def _vpn_log(at: datetime) -> bytes:
    lines = [f"{(at - timedelta(minutes=9 - i)).strftime('%Y-%m-%d %H:%M:%S')} {text}" for i, text in enumerate([
        "INFO  tunnel up, gateway vpn-fra-2", "INFO  keepalive ok", "WARN  keepalive missed (1/3)",
        "WARN  keepalive missed (2/3)", "WARN  keepalive missed (3/3)", "ERROR tunnel down: peer not responding",
        "INFO  reconnecting to vpn-fra-2", "INFO  tunnel up, gateway vpn-fra-2"])]
    return ("\n".join(lines) + "\n").encode()


def _payslip_pdf(name: str) -> bytes:
    text = f"Payslip {name} - the net pay line is blank"
    body = f"BT /F1 12 Tf 40 760 Td ({text}) Tj ET"
    return ("%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
            "3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 612 792]/Contents 4 0 R"
            "/Resources<</Font<</F1 5 0 R>>>>>>endobj\n"
            f"4 0 obj<</Length {len(body)}>>stream\n{body}\nendstream endobj\n"
            "5 0 obj<</Type/Font/Subtype/Type1/BaseFont/Helvetica>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n").encode()


def seed_attachments(ctx: DemoContext) -> None:
    """A few believable files on the demo's incidents, each at the time it was added: a requester's screenshot
    with their reply, the desk's internal VPN log, a payslip PDF (`attachment_add`, no one is told again)."""
    from .models import Comment

    incidents = [t for t in ctx.tickets[Kind.INCIDENT] if t.requester_id and t.requester.role == Role.REQUESTER]
    agent = ctx.users.get("lena") or next(iter(ctx.users.values()))
    replied = Comment.objects.filter(ticket__in=incidents, internal=False, author_id=F("ticket__requester_id"))
    reply = replied.select_related("ticket").order_by("-created_at").first()
    if reply is not None:
        services.attachment_add(ticket=reply.ticket, actor=reply.author, name="screenshot.png",
                                data=_screenshot_png(), content_type="image/png", comment=reply,
                                now=reply.created_at, quiet=True)
    others = [t for t in incidents if reply is None or t.pk != reply.ticket_id][:2]
    for n, ticket in enumerate(others):
        at = min(ticket.created_at + timedelta(minutes=20), ctx.now)
        if n == 0:
            services.attachment_add(ticket=ticket, actor=agent, name="vpn-client.log", data=_vpn_log(at),
                                    content_type="text/plain", internal=True, now=at, quiet=True)
        else:
            services.attachment_add(ticket=ticket, actor=ticket.requester, name="payslip-march.pdf",
                                    data=_payslip_pdf(ticket.requester.username), content_type="application/pdf",
                                    now=at, quiet=True)
