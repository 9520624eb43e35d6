"""Outbound webhooks: events written to a transactional outbox of deliveries, one per subscription.

`webhook_event` is called inside the transaction of the change it reports, so a delivery exists if and
only if the change committed; `key` (subscription + event id) is unique, so a redone change cannot queue a
twin.
"""

import uuid
from datetime import datetime, timedelta

from ..choices import WebhookEvent
from ..models import WebhookDelivery, WebhookSubscription


def subscriptions_for(event: str) -> list[WebhookSubscription]:
    """The active subscriptions that asked for this event type."""
    return [s for s in WebhookSubscription.objects.filter(active=True) if event in (s.events or [])]


def webhook_event(*, event: str, payload: dict, now: datetime, event_id: str | None = None,
                  subscriptions: list[WebhookSubscription] | None = None) -> int:
    """Queue one delivery of this event per subscription that wants it; returns how many were queued.

    `payload` is the event's `data`; the envelope (id, event, created_at) is added here. Call it in the
    transaction of the change. `subscriptions`: the active ones when the caller read them already (a batch).
    """
    if event not in WebhookEvent.values:
        raise ValueError(f"Unknown webhook event {event!r}.")
    subs = [s for s in subscriptions if event in (s.events or [])] if subscriptions is not None \
        else subscriptions_for(event)
    if not subs:
        return 0
    event_id = event_id or uuid.uuid4().hex
    body = {"id": event_id, "event": event, "created_at": now.isoformat(), "data": payload}
    rows = [
        WebhookDelivery(subscription=s, event=event, event_id=event_id, key=f"{s.pk}:{event_id}", payload=body,
                        created_at=now, available_at=now - timedelta(microseconds=1))
        for s in subs
    ]
    WebhookDelivery.objects.bulk_create(rows, ignore_conflicts=True)
    return len(rows)
