"""Demo data: one login per role, the L1 -> L2 -> L3 groups, services, and realistic tickets with history.

`seed_demo` is idempotent (it does nothing when the demo users exist, unless --force). `--tickets N`
adds N tickets in bulk (PostgreSQL COPY, else bulk_create) for benchmarks, without history rows.
"""
import random
from datetime import timedelta

from django.core.management.base import BaseCommand
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from devflow.demo import seed_devflow_demo
from itsm.demo import seed_itsm_demo
from sla.demo import seed_sla_demo
from tracker import services
from tracker.choices import (
    DEFAULT_PRIORITY_MATRIX,
    KEY_PREFIX,
    ChangeType,
    ImplementationResult,
    Kind,
    LinkType,
    Risk,
    Role,
    Severity,
    Status,
    Tier,
)
from tracker.errors import DomainError
from tracker.models import AssignmentGroup, Category, KeyCounter, Organisation, Service, Ticket, User

# Demo-only password for every demo login (named as such in README.md). Never used outside the demo seed.
DEMO_PASSWORD = "demo"

PEOPLE = [
    ("alice", "Alice", "Archer", Role.REQUESTER, "London"),
    ("bob", "Bob", "Becker", Role.REQUESTER, "Berlin"),
    ("lena", "Lena", "Lindqvist", Role.AGENT_L1, "London"),
    ("liam", "Liam", "Lucas", Role.AGENT_L2, "London"),
    ("devon", "Devon", "Diaz", Role.ENGINEER_L3, "Lisbon"),
    ("dana", "Dana", "Dorsey", Role.ENGINEER_L3, "Lisbon"),
    ("carl", "Carl", "Conti", Role.CHANGE_MANAGER, "London"),
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
        "Web shop session loss after deploy",
    ],
    Kind.CHANGE: [
        "Upgrade mail gateway to 11.2", "Rotate VPN certificates", "Deploy payroll release 4.8",
        "Add EU VAT rates to web shop", "Patch HR portal database", "Move payroll batch to 02:00",
    ],
    Kind.DEFECT: [
        "Net pay rounding off by one cent", "Session cookie not renewed on refresh", "Tax code import ignores Z codes",
        "Price cache not invalidated on currency switch", "Reset mail template has broken link",
    ],
}
KIND_WEIGHTS = [(Kind.INCIDENT, 50), (Kind.REQUEST, 25), (Kind.PROBLEM, 5), (Kind.CHANGE, 10), (Kind.DEFECT, 10)]


class Command(BaseCommand):
    help = "Create demo logins (password 'demo'), groups, services and tickets; --tickets N adds N in bulk."

    def add_arguments(self, parser):
        parser.add_argument("--tickets", type=int, default=0, help="Add N tickets in bulk (benchmarks).")
        parser.add_argument("--history", type=int, default=240, help="Tickets created with full history.")
        parser.add_argument("--force", action="store_true", help="Seed the demo again even if it exists.")
        parser.add_argument("--seed", type=int, default=42, help="Random seed (the demo is reproducible).")

    def handle(self, *args, tickets, history, force, seed, **options):
        rng = random.Random(seed)
        if force or not User.objects.filter(username="lena").exists():
            cast = self._people_and_groups()
            self._tickets_with_history(cast, history, rng)
            # SLA clocks start now for the open demo tickets (a P1 shows its first breach within minutes),
            # then the knowledge base, the FAQ and the releases that the portal and the side panel show.
            seed_sla_demo()
            seed_itsm_demo()
            seed_devflow_demo()
            self.stdout.write(self.style.SUCCESS(f"Demo seeded: {Ticket.objects.count()} tickets; logins "
                                                 + ", ".join(p[0] for p in PEOPLE) + " (demo password 'demo')."))
        else:
            self.stdout.write("Demo already seeded (use --force to seed again).")
        if tickets:
            started = timezone.now()
            self.bulk_tickets(tickets, rng)
            seconds = (timezone.now() - started).total_seconds()
            self.stdout.write(self.style.SUCCESS(f"Added {tickets} tickets in bulk in {seconds:.1f}s."))

    # --- people, groups, services ---------------------------------------------------------------

    @transaction.atomic
    def _people_and_groups(self):
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
        web_dev = group("Web Dev", Tier.L3, ["Web shop", "Email", "VPN"], ["dana"], support_share=20)
        l2 = group("Application Support", Tier.L2, SERVICES, ["liam"], escalates_to=None)
        l1 = group("Service Desk", Tier.L1, SERVICES, ["lena"], escalates_to=l2)
        return {"users": users, "services": svc, "l1": l1, "l2": l2, "l3": [payroll_dev, web_dev],
                "categories": list(Category.objects.all())}

    # --- tickets with history -------------------------------------------------------------------

    def _tickets_with_history(self, cast, count, rng):
        """Tickets raised and worked through the domain functions, so history and clocks are real."""
        u = cast["users"]
        now = timezone.now()
        agents = [u["lena"], u["liam"], u["devon"], u["dana"]]
        created: dict[str, list[Ticket]] = {k: [] for k in Kind.values}
        kinds = [k for k, w in KIND_WEIGHTS for _ in range(w)]
        for i in range(count):
            kind = rng.choice(kinds)
            at = now - timedelta(days=rng.uniform(0, 30) if i < count - 30 else rng.uniform(0, 0.2))
            service = rng.choice(list(cast["services"].values()))
            requester = rng.choice([u["alice"], u["bob"]])
            actor = requester if kind in (Kind.INCIDENT, Kind.REQUEST) else rng.choice([u["lena"], u["liam"]])
            values = {"impact": rng.choice([1, 2, 2, 3]), "urgency": rng.choice([1, 2, 2, 3]), "service": service,
                      "category": rng.choice(cast["categories"]),
                      "description": "Reported at the desk.\n\n- since this morning\n- affects the whole team"}
            if kind == Kind.CHANGE:
                values.update(change_type=rng.choice(ChangeType.values), risk=rng.choice(Risk.values),
                              window_start=at + timedelta(days=2), window_end=at + timedelta(days=2, hours=2))
            if kind == Kind.DEFECT:
                values.update(severity=rng.choice(Severity.values), affected_version="4.7",
                              group=rng.choice(cast["l3"]))
            if kind == Kind.PROBLEM:
                values["group"] = cast["l2"]
            try:
                with transaction.atomic():
                    ticket = services.ticket_create(actor=actor, kind=kind, title=rng.choice(TITLES[kind]),
                                                    requester=requester, now=at, **values)
                    self._work(ticket, cast, rng, at, agents)
            except DomainError as exc:  # a demo path the workflow refuses is simply skipped
                self.stderr.write(f"skipped a demo ticket: {exc.message}")
                continue
            created[kind].append(ticket)
        self._links(created, cast, rng)

    def _work(self, ticket, cast, rng, at, agents):
        u = cast["users"]
        step = timedelta(minutes=rng.randint(3, 90))
        t = at + step
        if t > timezone.now():
            return
        stage = rng.random()
        if ticket.kind in (Kind.INCIDENT, Kind.REQUEST):
            services.ticket_comment(ticket=ticket, actor=u["lena"], body="Thanks, looking into it now.", now=t)
            if stage < 0.15:
                return
            services.ticket_transition(ticket=ticket, to=Status.IN_PROGRESS, actor=u["lena"], now=t + step)
            services.ticket_assign(ticket=ticket, actor=u["lena"], assignee=u["lena"], now=t + step)
            if stage < 0.35:
                services.ticket_escalate(ticket=ticket, actor=u["lena"], note="Needs application support.",
                                         now=t + 2 * step)
                if stage < 0.2:
                    services.ticket_escalate(ticket=ticket, actor=u["liam"], to_group=rng.choice(cast["l3"]),
                                             note="Looks like a defect in the last release.", now=t + 3 * step)
                return
            if stage < 0.45:
                services.ticket_transition(ticket=ticket, to=Status.PENDING, actor=u["lena"], now=t + 2 * step)
                services.ticket_comment(ticket=ticket, actor=u["lena"], body="Which browser do you use?",
                                        now=t + 2 * step)
                return
            services.ticket_comment(ticket=ticket, actor=u["lena"], body="Checked the logs; account was locked.",
                                    internal=True, now=t + 2 * step)
            services.ticket_transition(ticket=ticket, to=Status.RESOLVED, actor=u["lena"], now=t + 3 * step,
                                       values={"resolution_note": "Unlocked the account and reset the token."})
            if stage > 0.7:
                services.ticket_transition(ticket=ticket, to=Status.CLOSED, actor=u["lena"], now=t + 4 * step)
        elif ticket.kind == Kind.CHANGE:
            plan = {"implementation_plan": "1. Announce\n2. Deploy\n3. Verify", "backout_plan": "Redeploy 4.7",
                    "risk": ticket.risk or Risk.LOW}
            if stage < 0.2:
                return
            if ticket.change_type == ChangeType.STANDARD:
                services.ticket_transition(ticket=ticket, to=Status.APPROVED, actor=u["liam"], values=plan, now=t)
            else:
                services.ticket_transition(ticket=ticket, to=Status.REVIEW, actor=u["liam"], values=plan, now=t)
                if stage < 0.35:
                    return
                if stage < 0.45:
                    services.ticket_transition(ticket=ticket, to=Status.REJECTED, actor=u["carl"], now=t + step,
                                               values={"decision_note": "Backout plan is not tested."})
                    return
                services.ticket_transition(ticket=ticket, to=Status.APPROVED, actor=u["carl"], now=t + step,
                                           values={"decision_note": "Approved for the Tuesday window."})
            if stage < 0.6:
                return
            services.ticket_transition(ticket=ticket, to=Status.IN_PROGRESS, actor=u["liam"], now=t + 2 * step)
            result = ImplementationResult.SUCCESSFUL if stage < 0.9 else ImplementationResult.ROLLED_BACK
            services.ticket_transition(ticket=ticket, to=Status.RESOLVED, actor=u["liam"], now=t + 3 * step,
                                       values={"implementation_result": result})
        elif ticket.kind == Kind.DEFECT:
            if stage < 0.3:
                return
            services.ticket_transition(ticket=ticket, to=Status.IN_PROGRESS, actor=u["devon"], now=t)
            if stage > 0.6:
                services.ticket_transition(ticket=ticket, to=Status.RESOLVED, actor=u["devon"], now=t + step,
                                           values={"fix_version": "4.8", "resolution_note": "Fixed rounding."})
        elif ticket.kind == Kind.PROBLEM and stage > 0.3:
            services.ticket_transition(ticket=ticket, to=Status.IN_PROGRESS, actor=u["liam"], now=t)
            if stage > 0.6:
                services.ticket_transition(ticket=ticket, to=Status.KNOWN_ERROR, actor=u["liam"], now=t + step,
                                           values={"root_cause": "Token cache expires early.",
                                                   "workaround": "Reconnect after clearing the cache."})

    def _links(self, created, cast, rng):
        actor = cast["users"]["liam"]
        pairs = [(Kind.INCIDENT, Kind.PROBLEM, LinkType.INSTANCE_OF), (Kind.PROBLEM, Kind.DEFECT, LinkType.FIXED_BY),
                 (Kind.INCIDENT, Kind.CHANGE, LinkType.CAUSED_BY), (Kind.DEFECT, Kind.CHANGE, LinkType.SHIPPED_IN),
                 (Kind.INCIDENT, Kind.INCIDENT, LinkType.DUPLICATE_OF)]
        for source_kind, target_kind, link_type in pairs:
            sources, targets = created[source_kind], created[target_kind]
            for source in sources[: max(1, len(sources) // 6)]:
                if not targets:
                    break
                target = rng.choice(targets)
                if target.pk != source.pk:
                    try:
                        services.ticket_link(source=source, target=target, type=link_type, actor=actor)
                    except DomainError:
                        pass

    # --- bulk -------------------------------------------------------------------------------------

    def bulk_tickets(self, n: int, rng: random.Random, batch: int = 50_000) -> None:
        """N tickets with realistic spread (kinds, states, priorities, groups, ages), no history rows."""
        users = list(User.objects.exclude(role=Role.REQUESTER).values_list("pk", flat=True))
        requesters = list(User.objects.filter(role=Role.REQUESTER).values_list("pk", flat=True)) or users
        groups = list(AssignmentGroup.objects.values_list("pk", flat=True))
        service_ids = list(Service.objects.values_list("pk", flat=True))
        kinds = [k for k, w in KIND_WEIGHTS for _ in range(w)]
        open_states = {Kind.INCIDENT: [Status.NEW, Status.IN_PROGRESS, Status.PENDING],
                       Kind.REQUEST: [Status.NEW, Status.IN_PROGRESS], Kind.PROBLEM: [Status.IN_PROGRESS],
                       Kind.CHANGE: [Status.NEW, Status.REVIEW, Status.APPROVED], Kind.DEFECT: [Status.NEW,
                                                                                            Status.IN_PROGRESS]}
        now = timezone.now()
        done = 0
        while done < n:
            size = min(batch, n - done)
            by_kind: dict[str, int] = {}
            picks = [rng.choice(kinds) for _ in range(size)]
            for k in picks:
                by_kind[k] = by_kind.get(k, 0) + 1
            with transaction.atomic():
                firsts = {}
                for kind, count in by_kind.items():
                    KeyCounter.objects.get_or_create(kind=kind)
                    KeyCounter.objects.filter(kind=kind).update(next_number=F("next_number") + count)
                    firsts[kind] = KeyCounter.objects.get(kind=kind).next_number - count
                rows = []
                for kind in picks:
                    number = firsts[kind]
                    firsts[kind] += 1
                    impact, urgency = rng.randint(1, 3), rng.randint(1, 3)
                    created = now - timedelta(seconds=rng.randint(60, 365 * 86400))
                    is_open = rng.random() < 0.3
                    status = rng.choice(open_states[kind]) if is_open else rng.choice([Status.RESOLVED, Status.CLOSED])
                    updated = created + timedelta(seconds=rng.randint(0, 5 * 86400))
                    resolved = None if is_open else updated
                    rows.append((kind, number, f"{KEY_PREFIX[kind]}-{number}", rng.choice(TITLES[kind]), "", status,
                                 impact, urgency, DEFAULT_PRIORITY_MATRIX[(impact, urgency)], rng.choice(requesters),
                                 rng.choice(groups) if groups else None,
                                 rng.choice(users) if rng.random() < 0.7 else None,
                                 rng.choice(service_ids) if service_ids else None, created, min(updated, now),
                                 created + timedelta(minutes=rng.randint(1, 240)), resolved, resolved))
                self._insert(rows)
            done += size
            self.stdout.write(f"  {done}/{n}")

    COLUMNS = ("kind", "number", "key", "title", "description", "status", "impact", "urgency", "priority",
               "requester_id", "group_id", "assignee_id", "service_id", "created_at", "updated_at",
               "first_response_at", "resolved_at", "closed_at")

    def _insert(self, rows):
        defaults = {"resolution_note": "", "version": 1, "change_type": "", "risk": "", "implementation_plan": "",
                    "backout_plan": "", "decision_note": "", "implementation_result": "", "review_notes": "",
                    "root_cause": "", "workaround": "", "known_error": False, "severity": "", "affected_version": "",
                    "fix_version": ""}
        if connection.vendor == "postgresql":
            cols = self.COLUMNS + tuple(defaults)
            sql = f"COPY tracker_ticket ({', '.join(cols)}) FROM STDIN"
            extra = tuple(defaults.values())
            with connection.cursor() as cursor, cursor.copy(sql) as copy:
                for row in rows:
                    copy.write_row(row + extra)
            return
        Ticket.objects.bulk_create([
            Ticket(**dict(zip(self.COLUMNS, row, strict=True)), **defaults) for row in rows
        ], batch_size=2000)
