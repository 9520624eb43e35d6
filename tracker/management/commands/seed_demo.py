"""`seed_demo`: the demo (see `tracker.demo`): one login per role, groups, services, 30 days of history.

Idempotent: it does nothing when the demo users exist, unless --force (which plays another 30 days of
tickets on top). `--tickets N` adds N tickets in bulk (PostgreSQL COPY, else bulk_create) for
benchmarks, without history rows or clocks.
"""
import random
import time
from datetime import timedelta

from django.core.management.base import BaseCommand
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from tracker.choices import DEFAULT_PRIORITY_MATRIX, KEY_PREFIX, Kind, Role, Status
from tracker.demo import KIND_WEIGHTS, PEOPLE, TITLES, seed_demo
from tracker.models import AssignmentGroup, KeyCounter, Service, Ticket, User


class Command(BaseCommand):
    help = ("Create demo logins (password 'demo'), groups, services and 30 days of tickets lived through; "
            "--tickets N adds N in bulk.")

    def add_arguments(self, parser):
        parser.add_argument("--tickets", type=int, default=0, help="Add N tickets in bulk (benchmarks).")
        parser.add_argument("--history", type=int, default=240, help="Tickets raised over the last 30 days.")
        parser.add_argument("--force", action="store_true", help="Seed the demo again even if it exists.")
        parser.add_argument("--seed", type=int, default=42, help="Random seed (the demo is reproducible).")

    def handle(self, *args, tickets, history, force, seed, **options):
        rng = random.Random(seed)
        if force or not User.objects.filter(username="lena").exists():
            started = time.monotonic()
            ctx = seed_demo(seed=seed, now=timezone.now(), history=history)
            for message in ctx.skipped:
                self.stderr.write(f"skipped the rest of a demo ticket: {message}")
            self.stdout.write(self.style.SUCCESS(
                f"Demo seeded in {time.monotonic() - started:.1f}s: {Ticket.objects.count()} tickets; logins "
                + ", ".join(p[0] for p in PEOPLE) + " (demo password 'demo')."))
        else:
            self.stdout.write("Demo already seeded (use --force to seed again).")
        if tickets:
            started = timezone.now()
            self.bulk_tickets(tickets, rng)
            seconds = (timezone.now() - started).total_seconds()
            self.stdout.write(self.style.SUCCESS(f"Added {tickets} tickets in bulk in {seconds:.1f}s."))

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
                    "backout_plan": "", "decision_note": "", "emergency_justification": "", "implementation_result": "",
                    "review_notes": "", "review_cause": "", "review_actions": "", "cause_category": "",
                    "root_cause": "", "workaround": "", "known_error": False, "severity": "", "component": "",
                    "affected_version": "", "fix_version": ""}
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
