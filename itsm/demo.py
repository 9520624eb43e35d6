"""Demo data of service management (the app's demo step, `ItsmConfig.demo_seed`): knowledge-base articles and FAQ
entries, and the change calendar's month ahead."""

from contextlib import suppress
from datetime import date, datetime, time, timedelta

from tracker import services as core
from tracker.choices import ChangeType, Kind, Risk, Status
from tracker.demo import LONDON, DemoContext
from tracker.errors import DomainError
from tracker.models import Service

from .choices import Repeat
from .models import Blackout, KnowledgeArticle
from .selectors import blackouts_hit, change_collisions
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
    """The published articles the portal's search and FAQ show (idempotent, by title); after the history, the
    change calendar's month ahead."""
    ctx.at_end(lambda: seed_change_calendar(ctx))
    services = {s.name: s for s in Service.objects.all()}
    for title, service, body in ARTICLES:
        KnowledgeArticle.objects.update_or_create(
            title=title,
            defaults={"body": body, "service": services.get(service), "faq": True, "published": True},
        )


# --- the change calendar ------------------------------------------------------------------------------------

# The month ahead as the change manager plans it: (days from today, service, title, risk, start hour, hours,
# submitted to the CAB). Two pairs overlap on purpose (Email, HR portal): the calendar flags them.
PLANNED = [
    (1, "VPN", "Rotate VPN certificates", Risk.MEDIUM, 19, 2, True),
    (2, "Email", "Upgrade mail gateway to 11.2", Risk.HIGH, 19, 3, True),
    (2, "Email", "Rotate mail TLS certificates", Risk.LOW, 21, 2, False),
    (3, "HR portal", "Patch HR portal database", Risk.MEDIUM, 20, 2, True),
    (5, "Web shop", "Add EU VAT rates to web shop", Risk.MEDIUM, 19, 2, True),
    (6, "Payroll", "Deploy payroll release 26.12", Risk.HIGH, 19, 3, True),
    (8, "HR portal", "Deploy HR portal release", Risk.MEDIUM, 19, 3, True),
    (8, "HR portal", "Move HR portal search index", Risk.LOW, 21, 1, False),
    (9, "VPN", "Upgrade VPN concentrator firmware", Risk.HIGH, 20, 3, False),
    (10, "Email", "Enable DMARC reject policy", Risk.MEDIUM, 19, 1, True),
    (12, "Payroll", "Move payroll batch to 02:00", Risk.LOW, 19, 2, False),
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

    def free(service, day, hour, hours, overlap):
        """The planned day, or the nearest one before it (a rush before a freeze), else after it, that is in no
        blackout and, unless the overlap is meant, collides with nothing planned."""
        days = [day - timedelta(days=n) for n in range(8)] + [day + timedelta(days=n) for n in range(1, 40)]
        for d in days:
            start = local(d, hour)
            end = start + timedelta(hours=hours)
            if d > today and not blackouts_hit(service_id=service.pk, start=start, end=end) and (
                    overlap or not change_collisions(ticket=None, start=start, end=end, service_id=service.pk)):
                return start, end
        raise AssertionError(f"No free window for {service} near {day}")

    for n, (days, service_name, title, risk, hour, hours, submit) in enumerate(PLANNED):
        service = ctx.services[service_name]
        overlap = n in OVERLAPPING
        start, end = free(service, today + timedelta(days=days), hour, hours, overlap)
        created = now - timedelta(days=ctx.rng.uniform(1, 12), hours=ctx.rng.uniform(0, 6))
        change = core.ticket_create(actor=liam, kind=Kind.CHANGE, title=title, now=created, service=service,
                                    change_type=ChangeType.NORMAL, risk=risk, window_start=start, window_end=end,
                                    description="Planned in the weekly change meeting.", **PLAN)
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
