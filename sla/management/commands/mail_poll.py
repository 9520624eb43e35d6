"""Poll the intake mailboxes now, as the workers do every CROSSLINE_MAIL_POLL_SECONDS."""

from django.core.management.base import BaseCommand, CommandError

from sla.models import Mailbox
from sla.services.mail_poll import mailboxes_poll


class Command(BaseCommand):
    help = "File new mail of every active intake mailbox (or of one), then say what each one holds now."

    def add_arguments(self, parser):
        parser.add_argument("--mailbox", metavar="ADDRESS", help="Poll only the mailbox at this address.")

    def handle(self, *args, mailbox=None, **options):
        if mailbox and not Mailbox.objects.filter(address__iexact=mailbox).exists():
            known = ", ".join(Mailbox.objects.order_by("address").values_list("address", flat=True)) or "none yet"
            raise CommandError(f"No mailbox reads {mailbox} (mailboxes: {known}).")
        filed = mailboxes_poll(address=mailbox)
        boxes = Mailbox.objects.filter(active=True).exclude(imap_host="")
        if mailbox:
            boxes = boxes.filter(address__iexact=mailbox)
        failed = 0
        for box in boxes.order_by("name"):
            if box.last_error:
                failed += 1
                self.stderr.write(f"{box.address}: {box.last_error}")
        self.stdout.write(f"Filed {filed} message(s) from {boxes.count()} mailbox(es).")
        if failed:
            raise CommandError(f"{failed} mailbox(es) could not be polled.")
