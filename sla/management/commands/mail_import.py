"""File mail from `.eml` files, folders of them, Maildir folders and mbox files as if it reached an intake mailbox."""

from django.core.management.base import BaseCommand, CommandError

from sla.choices import InboundOutcome
from sla.services.mail_import import mail_import, mailbox_for
from tracker.errors import DomainError


class Command(BaseCommand):
    help = ("File mail from .eml files, folders of them, Maildir folders and mbox files (each message once, as "
            "polled mail is); prints how many were created, added to tickets, ignored, held and quarantined.")

    def add_arguments(self, parser):
        parser.add_argument("paths", nargs="+", metavar="PATH")
        parser.add_argument("--mailbox", metavar="ADDRESS",
                            help="The intake address the mail reached (its kind, service and group).")

    def handle(self, *args, paths, mailbox, **options):
        try:
            counts = mail_import(paths=paths, mailbox=mailbox_for(mailbox))
        except DomainError as exc:
            raise CommandError(exc.message) from None
        total = sum(counts.values())
        self.stdout.write(f"{total} message{'s' if total != 1 else ''} read.")
        for outcome in InboundOutcome:
            self.stdout.write(f"  {outcome.label}: {counts.get(outcome.value, 0)}")
