"""The outbox relay: deliver queued email rows written by the sweep and by ticket changes."""

import logging
import time
from datetime import datetime, timedelta

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import transaction
from django.utils import timezone

from ..models import OutboxMessage
from .sweep import heartbeat_record, lock_skipping

log = logging.getLogger(__name__)
OUTBOX_HEARTBEAT = "outbox"


def outbox_deliver(*, now: datetime | None = None, batch: int = 100) -> int:
    """Send pending email: claim, send, mark sent. A failure is retried later with back-off.

    Send-then-mark: a crash between the two resends once, with the same Message-ID, which mail
    clients and our tests recognise as the same message.
    """
    started = time.monotonic()
    now = now or timezone.now()
    sent = 0
    with transaction.atomic():
        rows = list(
            lock_skipping(
                OutboxMessage.objects.filter(sent_at__isnull=True, available_at__lte=now).order_by("available_at", "id")
            )[:batch]
        )
        for msg in rows:
            try:
                EmailMessage(
                    subject=msg.subject,
                    body=msg.body,
                    to=[msg.to_address],
                    from_email=settings.DEFAULT_FROM_EMAIL,
                    headers={"Message-ID": msg.message_id},
                ).send()
            except Exception as exc:  # SMTP down, address refused: keep it queued, back off
                msg.attempts += 1
                msg.last_error = f"{type(exc).__name__}: {exc}"[:2000]
                msg.available_at = now + timedelta(seconds=min(3600, 30 * 2 ** min(msg.attempts, 7)))
                msg.save(update_fields=["attempts", "last_error", "available_at"])
                log.warning("Outbox %s failed (attempt %s): %s", msg.key, msg.attempts, exc)
                continue
            msg.attempts += 1
            msg.sent_at = timezone.now()
            msg.save(update_fields=["attempts", "sent_at"])
            sent += 1
    heartbeat_record(name=OUTBOX_HEARTBEAT, processed=sent, duration_s=time.monotonic() - started)
    return sent
