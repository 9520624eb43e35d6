"""The outbox relay: deliver queued email rows written by the sweep and by ticket changes.

Each message is claimed, sent and marked on its own: a short transaction leases it (pushes
`available_at` past the lease, a compare-and-set, so two relays cannot both take it), the SMTP
conversation happens outside any transaction, and a second short transaction marks it sent. A relay
killed mid-batch has marked every message it sent except at most the one in flight; that one is sent
again when its lease runs out, with the same Message-ID, so mail clients recognise the duplicate.

Every message goes out as it is stored: its Message-ID, `In-Reply-To` / `References` (so all mail about a ticket
threads in the reader's client and a reply finds its ticket), `Reply-To` the intake address, a plain-text part
and its HTML alternative; plus `Auto-Submitted: auto-generated` (auto-responders stay quiet) and
`X-Crossline-Ticket` (our own intake recognises a loop).
"""

import logging
import time
from datetime import datetime, timedelta

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import transaction
from django.utils import timezone

from ..choices import NotificationKind
from ..models import OutboxMessage
from .notifications import thread_headers
from .sweep import heartbeat_record, lock_skipping

log = logging.getLogger(__name__)
OUTBOX_HEARTBEAT = "outbox"
# A claimed message is left alone this long. It must outlast one SMTP conversation, hence the timeout below.
OUTBOX_LEASE = timedelta(minutes=5)
SMTP_TIMEOUT_S = 60


def _claim_one(now: datetime) -> OutboxMessage | None:
    """Lease the next message that may be tried now; None when there is none (or another relay won it)."""
    with transaction.atomic():
        pending = (OutboxMessage.objects.filter(sent_at__isnull=True, available_at__lte=now)
                   .select_related("ticket").order_by("available_at", "id"))
        msg = lock_skipping(pending).first()
        if msg is None:
            return None
        leased = OutboxMessage.objects.filter(pk=msg.pk, sent_at__isnull=True, available_at=msg.available_at).update(
            available_at=now + OUTBOX_LEASE
        )
    return msg if leased else None


def _settle_thread(msg: OutboxMessage) -> None:
    """An acknowledgement's thread and Reply-To, settled at its first sending: when it was written, the mail that
    raised its ticket was still being filed. Stored, so what is sent is what the row says."""
    if msg.kind != NotificationKind.RECEIVED or msg.ticket is None or msg.attempts:
        return
    thread_headers([msg])
    OutboxMessage.objects.filter(pk=msg.pk).update(in_reply_to=msg.in_reply_to, references=msg.references,
                                                   reply_to=msg.reply_to)


def _mail(msg: OutboxMessage, connection) -> EmailMultiAlternatives:
    headers = {"Message-ID": msg.message_id, "Auto-Submitted": "auto-generated"}
    if msg.ticket is not None:
        headers["X-Crossline-Ticket"] = msg.ticket.key
    if msg.in_reply_to:
        headers["In-Reply-To"] = msg.in_reply_to
    if msg.references:
        headers["References"] = msg.references
    mail = EmailMultiAlternatives(
        subject=msg.subject,
        body=msg.body,
        to=[msg.to_address],
        from_email=settings.DEFAULT_FROM_EMAIL,
        reply_to=[msg.reply_to] if msg.reply_to else None,
        headers=headers,
        connection=connection,
    )
    if msg.html_body:
        mail.attach_alternative(msg.html_body, "text/html")
    return mail


def outbox_deliver(*, now: datetime | None = None, batch: int = 100) -> int:
    """Send up to `batch` pending emails, each claimed, sent and marked on its own; returns how many were sent.

    A failure keeps the message queued with back-off. A crash resends at most the message in flight.
    """
    started = time.monotonic()
    now = now or timezone.now()
    sent = 0
    # A send that hangs must end before its lease does, or a second relay would send it too.
    connection = get_connection(timeout=min(settings.EMAIL_TIMEOUT or SMTP_TIMEOUT_S, SMTP_TIMEOUT_S))
    try:
        for _ in range(batch):
            msg = _claim_one(now)
            if msg is None:
                break
            _settle_thread(msg)
            try:
                _mail(msg, connection).send()
            except Exception as exc:  # SMTP down, address refused: keep it queued, back off
                attempts = msg.attempts + 1
                OutboxMessage.objects.filter(pk=msg.pk, sent_at__isnull=True).update(
                    attempts=attempts,
                    last_error=f"{type(exc).__name__}: {exc}"[:2000],
                    available_at=now + timedelta(seconds=min(3600, 30 * 2 ** min(attempts, 7))),
                )
                log.warning("Outbox %s failed (attempt %s): %s", msg.key, attempts, exc)
                continue
            OutboxMessage.objects.filter(pk=msg.pk).update(attempts=msg.attempts + 1, sent_at=timezone.now())
            sent += 1
    finally:
        connection.close()
    heartbeat_record(name=OUTBOX_HEARTBEAT, processed=sent, duration_s=time.monotonic() - started)
    return sent
