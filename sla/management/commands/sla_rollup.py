"""Backfill the SLA dashboard's daily roll-up for a range of days, then take the backlog snapshot."""

from datetime import date, timedelta

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from sla.dashboard import local_date
from sla.services import backlog_snapshot, rollup_refresh


class Command(BaseCommand):
    help = "Recompute the SLA dashboard roll-up of past days (idempotent); default: the last 400 days."

    def add_arguments(self, parser):
        parser.add_argument("--days", type=int, default=400, help="How many days back from yesterday.")
        parser.add_argument("--start", type=date.fromisoformat, help="First day (YYYY-MM-DD).")
        parser.add_argument("--end", type=date.fromisoformat, help="Last day (inclusive; default yesterday).")

    def handle(self, *args, days, start, end, **options):
        now = timezone.now()
        yesterday = local_date(now) - timedelta(days=1)
        end = min(end or yesterday, yesterday)  # today is read live, and is not complete
        start = start or end - timedelta(days=days - 1)
        if start > end:
            raise CommandError(f"Nothing to do: {start} is after {end}.")
        cells = 0
        for i in range((end - start).days + 1):
            cells += rollup_refresh(day=start + timedelta(days=i), now=now)
        open_old = backlog_snapshot(now=now)
        self.stdout.write(
            f"Rolled up {start} to {end}: {cells:,} cells; {open_old:,} open tickets older than 30 days."
        )
