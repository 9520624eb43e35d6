"""Demo data of the development side (the app's demo step, `DevflowConfig.demo_seed`).

Every service ships a release every one or two weeks: as the demo's history passes a ship date, the
defects fixed since the last release go into it, it ships, and the desk closes them. Defects fixed
now wait in the planned next release. One story plays scenario 4 end to end: a P1 payroll incident
escalated L1 -> L2 -> L3, turned into a defect, worked around, fixed and shipped, and the user told.
"""

from dataclasses import dataclass
from datetime import datetime, time, timedelta

from tracker import services
from tracker.choices import Kind, Status
from tracker.demo import HISTORY_DAYS, LONDON, DemoContext, Life
from tracker.models import Service, Ticket

from .models import Release
from .services import defect_from_incident
from .services import releases as rel

# service: (major version, first minor in the demo, days between releases, days since the latest one)
RELEASE_TRAINS = {
    "Payroll": (2, 3, 14, 3),
    "Web shop": (5, 1, 7, 2),
    "HR portal": (1, 7, 14, 8),
    "Email": (11, 1, 14, 5),
    "VPN": (3, 4, 14, 10),
}


@dataclass
class _Planned:
    service: Service
    version: str
    ship_at: datetime | None  # None: planned, not shipped within the demo


def _plan(ctx: DemoContext) -> list[_Planned]:
    plan = []
    for name, (major, minor, every, latest) in RELEASE_TRAINS.items():
        service = ctx.services[name]
        last = datetime.combine((ctx.now - timedelta(days=latest)).astimezone(LONDON).date(), time(17), LONDON)
        dates = [last - timedelta(days=every * i) for i in range(HISTORY_DAYS // every, -1, -1)
                 if last - timedelta(days=every * i) > ctx.now - timedelta(days=HISTORY_DAYS)]
        for i, ship_at in enumerate(dates):
            plan.append(_Planned(service, f"{major}.{minor + i}.0", ship_at))
        plan.append(_Planned(service, f"{major}.{minor + len(dates)}.0", None))
    return plan


def _seed_releases(ctx: DemoContext) -> None:
    """Plan the release trains, ship them as the history passes, and add the P1-to-release story."""
    plan = _plan(ctx)
    pending = sorted((p for p in plan if p.ship_at is not None), key=lambda p: p.ship_at)

    def fix_version(service: Service | None, at: datetime) -> str:
        for p in plan:
            if service is not None and p.service.pk == service.pk and (p.ship_at is None or p.ship_at > at):
                return p.version
        return "next"

    def ship_due(at: datetime) -> None:
        while pending and pending[0].ship_at <= at:
            _ship(ctx, pending.pop(0))

    def plan_next() -> None:
        for p in plan:
            if p.ship_at is None:
                _plan_next(ctx, p)

    ctx.fix_version = fix_version
    ctx.every(ship_due)
    ctx.at_end(plan_next)
    payroll = max((p for p in pending if p.service.name == "Payroll" and p.ship_at < ctx.now - timedelta(days=2)),
                  key=lambda p: p.ship_at)
    raised = payroll.ship_at - timedelta(days=4, hours=8, minutes=20)
    ctx.story(raised, p1_to_release(ctx, raised, payroll))


def _unshipped_fixes(service: Service) -> list[Ticket]:
    return list(Ticket.objects.filter(service=service, kind=Kind.DEFECT, status=Status.FIXED,
                                      releases__isnull=True).order_by("id"))


def _prepare(ctx: DemoContext, planned: _Planned, at: datetime) -> Release | None:
    """The release planned by devon with the service's fixed defects and its notes assembled from them (None when
    it exists already: seeded again with --force)."""
    if Release.objects.filter(service=planned.service, version=planned.version).exists():
        return None
    u = ctx.users
    release = rel.release_create(actor=u["devon"], service=planned.service, version=planned.version,
                                 name=f"{planned.service.name} {planned.version}",
                                 planned_for=(planned.ship_at or ctx.now + timedelta(days=5)).date(), now=at)
    for defect in _unshipped_fixes(planned.service):
        rel.release_add_ticket(release=release, actor=u["devon"], ticket=defect, now=at)
    if release.tickets.exists():
        rel.release_notes_assemble(release=release, actor=u["devon"], revision=release.revision, now=at)
    else:
        rel.release_update(release=release, actor=u["devon"], revision=release.revision, now=at,
                           notes="Maintenance release: library updates and monitoring; nothing callers will notice.")
    return release


def _ship(ctx: DemoContext, planned: _Planned) -> None:
    """Ship through the real path: assembled by devon, reviewed by maria, UAT signed by liam (its fixed defects
    verified), published to the desk, shipped by devon (defects closed, waiting requesters told)."""
    u, at = ctx.users, planned.ship_at
    release = _prepare(ctx, planned, at - timedelta(minutes=4))
    if release is None:
        return
    rel.release_notes_review(release=release, actor=u["maria"], revision=release.revision,
                             now=at - timedelta(minutes=3))
    rel.release_uat_sign(release=release, actor=u["liam"], now=at - timedelta(minutes=2),
                         note="Tested in UAT by Application Support with the business's test cases.")
    rel.release_publish(release=release, actor=u["devon"], now=at - timedelta(minutes=1))
    rel.release_ship(release=release, actor=u["devon"], now=at)


def _plan_next(ctx: DemoContext, planned: _Planned) -> None:
    """The next release of each service is planned with what is fixed now; Payroll's is in UAT (its notes
    reviewed, liam's sign-off pending), the step before it reaches the desk."""
    release = _prepare(ctx, planned, ctx.now - timedelta(hours=2))
    if release is not None and planned.service.name == "Payroll":
        rel.release_notes_review(release=release, actor=ctx.users["maria"], revision=release.revision,
                                 now=ctx.now - timedelta(hours=1))


def p1_to_release(ctx: DemoContext, at: datetime, release: _Planned) -> Life:
    """Scenario 4: a P1 that L1 cannot solve goes to L2, then L3 (picked in time), becomes a defect, ships."""
    u = ctx.users
    payroll = ctx.services["Payroll"]
    incident = services.ticket_create(
        actor=u["alice"], kind=Kind.INCIDENT, title="Payslips show zero net pay for the Finance team",
        requester=u["alice"], now=at, impact=1, urgency=1, service=payroll, category=ctx.categories[0],
        description="Everyone in Finance sees **0.00** net pay on this month's payslip.")
    ctx.tickets[Kind.INCIDENT].append(incident)
    t = at + timedelta(minutes=6)
    yield t, incident
    services.ticket_assign(ticket=incident, actor=u["lena"], assignee=u["lena"], now=t)
    services.ticket_transition(ticket=incident, to=Status.IN_PROGRESS, actor=u["lena"], now=t)
    services.ticket_comment(ticket=incident, actor=u["lena"], now=t,
                            body="Thanks Alice, looking now. Is it everyone in Finance or only some people?")
    t += timedelta(minutes=8)
    yield t, incident
    services.ticket_comment(ticket=incident, actor=u["alice"], body="Only people with a Z tax code, it seems.", now=t)
    t += timedelta(minutes=6)
    yield t, incident
    services.ticket_escalate(ticket=incident, actor=u["lena"], now=t,
                             note="Payroll calculation issue, not an access problem.")
    t += timedelta(minutes=9)
    yield t, incident
    services.ticket_assign(ticket=incident, actor=u["liam"], assignee=u["liam"], now=t)
    services.ticket_comment(ticket=incident, actor=u["liam"], internal=True, now=t,
                            body="Net pay is zero only for employees with a Z tax code; calculation log shows it.")
    t += timedelta(minutes=16)
    yield t, incident
    services.ticket_escalate(ticket=incident, actor=u["liam"], to_group=ctx.dev_group(payroll), now=t,
                             note="Tax code handling: needs the payroll developers.")
    t += timedelta(minutes=12)  # the L3 pick target is 30 minutes
    yield t, incident
    services.ticket_claim(ticket=incident, actor=u["devon"], now=t)
    t += timedelta(minutes=25)
    yield t, incident
    major, minor, _ = release.version.split(".")
    defect = defect_from_incident(incident=incident, actor=u["devon"], title="Tax code import ignores Z codes",
                                  affected_version=f"{major}.{int(minor) - 1}.0", now=t)
    ctx.tickets[Kind.DEFECT].append(defect)
    # the defect starts with devon, who raised it; he hands it to dana in the same team
    services.ticket_assign(ticket=defect, actor=u["devon"], assignee=u["dana"], now=t)
    services.ticket_transition(ticket=defect, to=Status.TRIAGED, actor=u["dana"], now=t)
    services.ticket_transition(ticket=defect, to=Status.IN_PROGRESS, actor=u["dana"], now=t)
    services.ticket_comment(ticket=incident, actor=u["devon"], now=t,
                            body=f"Found it: a defect in the tax code import ({defect.key}). Workaround below.")
    t += timedelta(minutes=35)
    yield t, incident
    services.ticket_transition(ticket=incident, to=Status.RESOLVED, actor=u["devon"], now=t, values={
        "resolution_note": f"Workaround: payroll re-ran the net pay step by hand. The fix is {defect.key}."})
    t += timedelta(hours=2, minutes=10)
    yield t, defect
    services.ticket_transition(ticket=defect, to=Status.FIXED, actor=u["dana"], now=t, values={
        "fix_version": release.version, "resolution_note": "Z codes are imported; regression test added."})
    t += timedelta(hours=20)
    yield t, incident
    services.ticket_transition(ticket=incident, to=Status.CLOSED, actor=u["alice"], now=t)
    t = release.ship_at + timedelta(minutes=40)
    yield t, incident
    services.ticket_comment(ticket=incident, actor=u["lena"], now=t,
                            body=f"The fix ({defect.key}) shipped today in Payroll {release.version}; "
                                 "next month's payslips are calculated correctly.")


# --- defects' own SLA, time logged, support capacity and backlog order ----------------------------------------
# Engineers log their time on their team's tickets as they go, agents a few minutes on what they triage; one
# week a P1 takes Payroll Dev over its 20 % support share, as the change manager and the team's manager agreed;
# each team lead has put one defect or change at the top of the backlog.
_SUPPORT = (Kind.INCIDENT, Kind.PROBLEM, Kind.REQUEST)
_SUPPORT_NOTES = ["Reproduced it on the test system.", "Read the logs around the failure.",
                  "Call with application support to go through the case.", "Checked the data fix with the user.",
                  "Traced the failing job.", "Root-cause analysis.", "Answered the desk's question."]
_PROJECT_NOTES = ["Fix and unit tests.", "Code review.", "Regression test added.", "Change prepared and tested.",
                  "Pairing on the fix."]


def seed(ctx: DemoContext) -> None:
    """The app's demo step: the release trains, the defects' own SLA policies; once the history has played, the
    time logged, support capacity and backlog order, then the code that names the defects."""
    from sla.demo import demo_defect_policies

    _seed_releases(ctx)
    demo_defect_policies(ctx.now)  # before the history, so its defects start their clocks on them
    # forked once the history has played, so the stories' random streams stay what they were
    ctx.at_end(lambda: _capacity(ctx, ctx.fork()))
    ctx.at_end(lambda: seed_vcs(ctx))


def _capacity(ctx: DemoContext, rng) -> None:
    _log_time(ctx, rng)
    _over_share(ctx, rng)
    _rank_backlogs(ctx)


def _clamp(ctx: DemoContext, at: datetime) -> datetime:
    return min(at, ctx.now - timedelta(minutes=5))


def _log_time(ctx: DemoContext, rng) -> None:
    from tracker.models import AssignmentGroup

    since = ctx.now - timedelta(days=HISTORY_DAYS)
    for team in ctx.l3:
        members = list(team.members.order_by("username"))
        if not members:
            continue
        for ticket in (Ticket.objects.filter(group=team, created_at__gte=since, kind__in=[*_SUPPORT, Kind.DEFECT,
                                                                                            Kind.CHANGE])
                       .select_related("assignee").order_by("id")):
            support = ticket.kind in _SUPPORT
            for _ in range(rng.choice([1, 1, 2, 2, 3] if support else [1, 2, 3])):
                who = ticket.assignee if ticket.assignee in members else rng.choice(members)
                at = _clamp(ctx, ticket.created_at + timedelta(hours=rng.uniform(1, 60)))
                if at <= ticket.created_at:
                    continue
                minutes = rng.choice([30, 45, 60, 90, 120] if support else [60, 90, 120, 180, 240])
                services.worklog_add(ticket=ticket, actor=who, minutes=minutes, worked_at=at, now=at,
                                     note=rng.choice(_SUPPORT_NOTES if support else _PROJECT_NOTES))
    desk = {g.pk: g for g in AssignmentGroup.objects.filter(tier__in=[1, 2])}
    agents = {1: ctx.users["lena"], 2: ctx.users["liam"]}
    for ticket in Ticket.objects.filter(group_id__in=desk, created_at__gte=since, kind=Kind.INCIDENT).order_by("id"):
        if rng.random() < 0.35:
            at = _clamp(ctx, ticket.created_at + timedelta(minutes=rng.uniform(10, 240)))
            services.worklog_add(ticket=ticket, actor=agents[desk[ticket.group_id].tier], minutes=rng.choice(
                [5, 10, 15, 20, 30]), worked_at=at, now=at, note="Triage and first call with the user.")


def _over_share(ctx: DemoContext, rng) -> None:
    """The P1 of scenario 4 kept Payroll Dev on support well past its share that week: carl (change manager)
    and maria (the team's manager, who plans its project work) agreed that the sprint waits."""
    from tracker.models import WorkLog

    from .selectors import SUPPORT_KINDS, week_start
    from .services import capacity_decision_record

    team = next((g for g in ctx.l3 if g.name == "Payroll Dev"), None)
    p1 = Ticket.objects.filter(group=team, kind=Kind.INCIDENT, priority=1).order_by("created_at").first()
    if team is None or p1 is None:
        return
    monday = week_start(p1.created_at.date())
    start = datetime.combine(monday, time(0), p1.created_at.tzinfo)
    reserved = team.members.count() * team.member_hours * team.support_share * 60 // 100
    logged = sum(WorkLog.objects.filter(group=team, ticket__kind__in=SUPPORT_KINDS, worked_at__gte=start,
                                        worked_at__lt=start + timedelta(days=7)).values_list("minutes", flat=True))
    members = list(team.members.order_by("username"))
    at = p1.created_at + timedelta(hours=1)
    while logged <= reserved + 240:
        minutes = rng.choice([150, 180, 210, 240])
        at = _clamp(ctx, min(at + timedelta(hours=rng.uniform(1, 5)), start + timedelta(days=6, hours=20)))
        services.worklog_add(ticket=p1, actor=rng.choice(members), minutes=minutes,
                             worked_at=at, now=at, note="P1: tracing the tax-code calculation with payroll.")
        logged += minutes
    if team.manager is not None and not team.capacity_decisions.filter(ticket=p1).exists():
        capacity_decision_record(
            group=team, ticket=p1, actor=ctx.users["carl"], agreed_with=team.manager, week=monday,
            now=_clamp(ctx, p1.created_at + timedelta(hours=2)),
            note="Agreed between the change manager (carl) and the project manager (maria): Payroll Dev works the "
                 "zero-net-pay P1 first; the sprint's project work waits until the fix has shipped.")


def _rank_backlogs(ctx: DemoContext) -> None:
    from .selectors import team_backlog
    from .services import backlog_move

    for team in ctx.l3:
        rows = team_backlog(team=team)
        if len(rows) >= 2 and team.manager is not None:
            backlog_move(group=team, ticket=rows[-1], actor=team.manager, to=1)
# --- VCS: two repositories whose commits and pull requests name the demo's defects ------------------------------
# Payroll's code is on GitHub, the web shop's on GitLab. Deliveries go through the same domain function as the
# webhook, at the times the work happened: fixed defects have their commits and merged pull request (merged
# when the defect was fixed), open ones their commits and an open pull request waiting for review.

_VCS_REPOSITORIES = [
    # name, provider, service, team
    ("acme/payroll", "github", "Payroll", "Payroll Dev"),
    ("acme/web-shop", "gitlab", "Web shop", "Web Dev"),
]
_COMMIT_STEPS = ["Reproduce {key} in a failing test", "{title} ({key})", "Tidy up after review ({key})"]


def _vcs_payload(provider: str, repo_name: str, event: str, *, commits=(), pr=None) -> tuple[str, dict]:
    if event == "push":
        rows = [{"id": sha, "message": message, "url": f"https://example.com/{repo_name}/commit/{sha}",
                 "author": {"name": author.title(), "email": f"{author}@example.com", "username": author}}
                for sha, message, author in commits]
        return ("push" if provider == "github" else "Push Hook"), {"ref": "refs/heads/main", "commits": rows}
    number, title, body, state, author = pr
    if provider == "github":
        return "pull_request", {"action": "closed" if state == "merged" else "opened", "number": number,
                                "pull_request": {"number": number, "title": title, "body": body,
                                                 "state": "closed" if state == "merged" else "open",
                                                 "merged": state == "merged",
                                                 "html_url": f"https://github.com/{repo_name}/pull/{number}",
                                                 "user": {"login": author}}}
    return "Merge Request Hook", {"object_kind": "merge_request", "user": {"username": author},
                                  "object_attributes": {"iid": number, "title": title, "description": body,
                                                        "state": state if state == "merged" else "opened",
                                                        "url": f"https://gitlab.example.com/{repo_name}/-/"
                                                               f"merge_requests/{number}"}}


# repository: (title, severity, the state it is in now, its engineer, hours ago it was raised)
_OPEN_FIXES = {
    "acme/payroll": ("Overtime over midnight is paid at the day rate", "s2", Status.IN_REVIEW, "devon", 26),
    "acme/web-shop": ("Basket total ignores a voucher removed at checkout", "s3", Status.IN_PROGRESS, "dana", 7),
}


def _open_defect(ctx: DemoContext, team, service: Service, repo_name: str) -> Ticket:
    """A defect being fixed now (raised hours ago, triaged and worked by its engineer), whose code is coming."""
    title, severity, state, who, hours = _OPEN_FIXES[repo_name]
    engineer = ctx.users[who]
    at = ctx.now - timedelta(hours=hours)
    defect = services.ticket_create(actor=engineer, kind=Kind.DEFECT, title=title, requester=engineer, now=at,
                                    group=team, service=service, assignee=engineer, severity=severity,
                                    description="Found while checking a customer's report; steps in the test.")
    ctx.tickets[Kind.DEFECT].append(defect)
    path = [Status.TRIAGED, Status.IN_PROGRESS] + ([Status.IN_REVIEW] if state == Status.IN_REVIEW else [])
    for i, to in enumerate(path):
        step = timedelta(hours=5) if to == Status.IN_REVIEW else timedelta(minutes=20 * (i + 1))
        services.ticket_transition(ticket=defect, to=to, actor=engineer, now=at + step,
                                   values={"severity": severity} if to == Status.TRIAGED else None)
    return defect


def seed_vcs(ctx: DemoContext) -> None:
    """Register the repositories and replay their deliveries for the demo's defects (called at the end)."""
    from django.db.models import Q

    from tracker.models import AssignmentGroup

    from .models import Repository
    from .services.vcs import new_secret, vcs_delivery_receive

    def hexid(bits: int) -> str:
        return f"{ctx.rng.getrandbits(bits):0{bits // 4}x}"

    for name, provider, service_name, team_name in _VCS_REPOSITORIES:
        service = ctx.services[service_name]
        team = AssignmentGroup.objects.filter(name=team_name).first()
        repo, _ = Repository.objects.get_or_create(name=name, defaults={
            "provider": provider, "url": f"https://{'github.com' if provider == 'github' else 'gitlab.example.com'}"
                                         f"/{name}", "secret": new_secret(), "service": service, "team": team})
        # the team's defects on this service (a defect without a service: the team's own code base)
        defects = list(Ticket.objects.filter(kind=Kind.DEFECT, group=team)
                       .filter(Q(service=service) | Q(service__isnull=True)).order_by("created_at"))
        done = [d for d in defects if d.resolved_at is not None][-4:]
        working = [_open_defect(ctx, team, service, name)]
        number = 100 + ctx.rng.randint(0, 50)
        for defect in done + working:
            author = defect.assignee.username if defect.assignee else "dana"
            start = defect.created_at + timedelta(hours=2)
            # fixed: the work ends as it is fixed; in review: as it went to review; in progress: half an hour ago
            end = defect.resolved_at or (defect.updated_at if defect.status == Status.IN_REVIEW
                                         else ctx.now - timedelta(minutes=30))
            if end <= start:
                start = end - timedelta(minutes=30)
            steps = _COMMIT_STEPS if defect.resolved_at else _COMMIT_STEPS[:2]
            for i, step in enumerate(steps):
                at = start + (end - start) * (i + 1) / (len(steps) + 1)
                message = step.format(key=defect.key, title=defect.title)
                event, payload = _vcs_payload(provider, name, "push", commits=[(hexid(160), message, author)])
                vcs_delivery_receive(repository=repo, delivery_id=hexid(128), event=event, payload=payload, now=at)
            if defect.status == Status.IN_PROGRESS:
                continue  # still being written: commits, no pull request yet
            number += 1
            state = "merged" if defect.resolved_at else "open"
            body = f"Fixes {defect.key}.\n\nAdds a regression test for the case reported."
            event, payload = _vcs_payload(provider, name, "pull_request",
                                          pr=(number, defect.title, body, state, author))
            vcs_delivery_receive(repository=repo, delivery_id=hexid(128), event=event, payload=payload, now=end)
