"""Demo data of service management (the app's demo step, `ItsmConfig.demo_seed`): the portal's knowledge-base
articles and FAQ entries, and changes rolled out site by site across Berlin, Singapore, New York and London:
go-lives that went well, one in progress now, one planned for the coming days, and the change from hell (a
task handed off, a failed go-live in Singapore, the rollback, incidents raised by users and linked as caused
by it, and the change manager's post-implementation review). The core's change stories add the rest of the
30 days' change success and failure figures."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from tracker import services
from tracker.choices import ChangeType, ImplementationResult, Kind, Risk, Status
from tracker.demo import DemoContext, Life, desk_life
from tracker.models import Service, Ticket

from . import services as itsm
from .choices import RollbackOutcome, TaskState
from .models import ChangeTask, KnowledgeArticle

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
    """The published articles the portal's search and FAQ show (idempotent, by title), and the multi-site
    change stories."""
    by_name = {s.name: s for s in Service.objects.all()}
    for title, service, body in ARTICLES:
        KnowledgeArticle.objects.update_or_create(
            title=title,
            defaults={"body": body, "service": by_name.get(service), "faq": True, "published": True},
        )
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
    change = services.ticket_create(
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
    services.ticket_transition(ticket=change, to=Status.REVIEW, actor=u["liam"], now=t)
    t += timedelta(hours=20)
    yield t, change
    # Today's CAB: the change manager approves (the CAB's votes will take this step's place).
    services.ticket_transition(ticket=change, to=Status.APPROVED, actor=u["carl"], now=t,
                               values={"decision_note": "Approved: site by site, each site signs off."})
    order = sorted(plan.sites, key=lambda s: windows[s[0]][0])
    t = windows[order[0][0]][0] - timedelta(minutes=15)
    yield t, change
    services.ticket_transition(ticket=change, to=Status.IN_PROGRESS, actor=u["liam"], now=t)

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
    services.ticket_transition(ticket=change, to=Status.RESOLVED, actor=u["liam"], now=t,
                               values={"implementation_result": ImplementationResult.SUCCESSFUL})
    t += timedelta(days=1)
    yield t, change
    services.ticket_transition(ticket=change, to=Status.CLOSED, actor=u["carl"], now=t)


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
    services.ticket_transition(ticket=change, to=Status.RESOLVED, actor=u["liam"], now=t,
                               values={"implementation_result": ImplementationResult.ROLLED_BACK})
    for requester, minutes in ((u["alice"], 9 * 60), (u["bob"], 9 * 60 + 25)):
        morning = t + timedelta(minutes=minutes)
        ctx.story(morning, desk_life(ctx, ctx.fork(), morning, kind=Kind.INCIDENT, requester=requester,
                                     service=service, caused_by=change,
                                     title="Payslip preview shows last month's figures"))
    t += timedelta(days=2)
    yield t, change
    services.ticket_transition(ticket=change, to=Status.CLOSED, actor=u["carl"], now=t, values={
        "review_notes": "Singapore went first; its payroll runs failed at 21:35 SGT, Berlin and New York were called "
                        "off, and the backout plan restored 4.7 within the hour. Two users saw stale payslip "
                        "previews the next morning.",
        "review_cause": "The 4.8 package was built without the SG tax tables; the pre-checks did not look for them.",
        "review_actions": "Add a tax-table check to the package pipeline (devon); Singapore pre-checks run the day "
                          "before (dana); retry as 4.8.1 with the tables."})
