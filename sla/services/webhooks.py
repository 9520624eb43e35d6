"""Outbound webhooks: events written to a transactional outbox of deliveries, one per subscription, and the relay
that posts them.

`webhook_event` is called inside the transaction of the change it reports, so a delivery exists if and
only if the change committed; `key` (subscription + event id) is unique, so a redone change cannot queue a
twin.

The relay (`webhooks_deliver`) works like the email outbox's: a short transaction leases one due delivery
(pushes `available_at` past the lease, a compare-and-set, so two relays cannot both take it), the POST happens
outside any transaction, and a second short transaction records the attempt and the outcome, only while the
lease is still ours. A relay killed mid-batch leaves at most the delivery in flight leased; it is posted again
when the lease runs out, with the same `X-Crossline-Delivery` id, so the receiver recognises the repeat.
Payloads are documented in docs/webhooks.md.
"""

import hashlib
import hmac
import json
import logging
import secrets
import time
import urllib.error
import urllib.request
import uuid
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from tracker import access, config_cache, inserts
from tracker.choices import Role
from tracker.errors import AccessDenied, Conflict, ValidationFailed
from tracker.models import Service
from tracker.services import rows_defer

from ..choices import DeliveryState, WebhookEvent
from ..models import WebhookAttempt, WebhookDelivery, WebhookSubscription
from .sweep import heartbeat_record, lock_skipping

log = logging.getLogger(__name__)

# A leased delivery is left alone this long; it must outlast one POST, hence the timeout below.
WEBHOOK_LEASE = timedelta(minutes=2)
WEBHOOK_TIMEOUT_S = 10
USER_AGENT = "Crossline-Webhooks/1"
MAX_BACKOFF_S = 6 * 3600
WEBHOOK_HEARTBEAT = "webhooks"
WEBHOOK_BATCH = 100  # deliveries per run of the relay task
CLAIM_CHUNK = 20  # deliveries leased per transaction
REDELIVER_MARK = "Redelivery requested."  # last_error of a delivery a person sent again: its next try is manual


def subscriptions_for(event: str) -> list[WebhookSubscription]:
    """The active subscriptions that asked for this event type (kept per process until a subscription changes
    in any process: `tracker.config_cache`)."""
    return [s for s in _active_subscriptions.get() if event in (s.events or [])]


config_cache.watch(WebhookSubscription)
_active_subscriptions = config_cache.Cached(lambda: list(WebhookSubscription.objects.filter(active=True)))


# The relay is woken once however many deliveries commit before it starts: the first wake sets this key on the
# broker's Redis (SET NX) and sends the task; a delivery that finds the key set knows a relay is on its way that
# has not begun to claim, so it takes this delivery too. The relay drops the key before it claims
# (`webhooks_deliver`). The key expires, so a wake that is lost holds the next ones back for at most WAKE_TTL_S
# (beat runs the relay meanwhile). A broker that is not Redis gets a task per transaction, as before.
WAKE_KEY = "crossline:webhooks:wake"
WAKE_TTL_S = 30
_gates: dict[str, object] = {}


def _wake_gate():
    """A Redis client on the broker's Redis (kept per process and broker), or None when the broker is not Redis."""
    from ..tasks import deliver_webhooks_task

    conf = deliver_webhooks_task.app.conf
    url = conf.broker_url or ""
    if conf.task_always_eager or not url.startswith(("redis://", "rediss://")):
        return None  # eager tasks run the relay at once: none is ever on its way
    gate = _gates.get(url)
    if gate is None:
        import redis

        gate = _gates[url] = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
    return gate


def _wake_relay() -> None:
    from ..tasks import deliver_webhooks_task

    gate = _wake_gate()
    if gate is not None:
        try:
            if not gate.set(WAKE_KEY, 1, nx=True, ex=WAKE_TTL_S):
                return  # a relay is on its way and has not begun to claim: it takes this delivery too
        except Exception:  # Redis refused: wake the relay as if there were no gate
            log.warning("Could not check the webhook relay's wake-up key; waking it", exc_info=True)
    try:
        deliver_webhooks_task.delay()
    except Exception:  # the broker is down: beat's next run picks the deliveries up
        log.warning("Could not wake the webhook relay; the next scheduled run delivers", exc_info=True)
        _wake_gate_open(gate)


def _wake_gate_open(gate=None) -> None:
    """Let the next delivery wake the relay again (a relay is starting to claim, or the wake was not sent)."""
    if gate is None:
        gate = _wake_gate()
    if gate is None:
        return
    try:
        gate.delete(WAKE_KEY)
    except Exception:  # the key expires on its own
        log.warning("Could not clear the webhook relay's wake-up key", exc_info=True)


def _queue(rows: list[WebhookDelivery], ticket=None) -> int:
    """Write the deliveries (with a new `ticket`'s other rows while it is being created) and wake the relay after
    commit."""
    if not rows:
        return 0
    if ticket is None or not rows_defer(ticket, rows, ignore_conflicts=True):
        inserts.insert(rows, ignore_conflicts=True)
    transaction.on_commit(_wake_relay)
    return len(rows)


def _delivery(sub: WebhookSubscription, *, event: str, event_id: str, payload: dict, now: datetime):
    body = {"id": event_id, "event": event, "created_at": now.isoformat(), "data": payload}
    return WebhookDelivery(subscription=sub, event=event, event_id=event_id, key=f"{sub.pk}:{event_id}", payload=body,
                           created_at=now, available_at=now - timedelta(microseconds=1))


def webhook_event(*, event: str, payload: dict, now: datetime, event_id: str | None = None,
                  subscriptions: list[WebhookSubscription] | None = None, ticket=None) -> int:
    """Queue one delivery of this event per subscription that wants it; returns how many were queued.

    `payload` is the event's `data`; the envelope (id, event, created_at) is added here. Call it in the
    transaction of the change. `subscriptions`: the active ones when the caller read them already (a batch).
    `ticket`: the ticket the event is about, whose create, while it runs, writes the deliveries with its rows.
    """
    if event not in WebhookEvent.values:
        raise ValueError(f"Unknown webhook event {event!r}.")
    subs = [s for s in subscriptions if event in (s.events or [])] if subscriptions is not None \
        else subscriptions_for(event)
    if not subs:
        return 0
    event_id = event_id or uuid.uuid4().hex
    return _queue([_delivery(s, event=event, event_id=event_id, payload=payload, now=now) for s in subs], ticket)


# --- what the events say ------------------------------------------------------------------------------


def _name(obj) -> str | None:
    if obj is None:
        return None
    return getattr(obj, "username", None) or getattr(obj, "name", None) or str(obj)


def ticket_data(ticket) -> dict:
    """The ticket as every event shows it (docs/webhooks.md, "ticket")."""
    return {
        "key": ticket.key,
        "kind": ticket.kind,
        "title": ticket.title,
        "status": ticket.status,
        "priority": ticket.priority,
        "service": _name(ticket.service) if ticket.service_id else None,
        "group": _name(ticket.group) if ticket.group_id else None,
        "assignee": _name(ticket.assignee) if ticket.assignee_id else None,
        "url": f"{settings.CROSSLINE_BASE_URL}{reverse('tracker:ticket', args=[ticket.key])}",
    }


def _plain(value):
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, datetime):
        return value.isoformat()
    if hasattr(value, "_meta"):  # a row: its name, as people read it
        return _name(value)
    if isinstance(value, list | tuple | set):
        return [_plain(v) for v in value]
    return str(value)


_UPDATED = {"updated", "assigned", "escalated", "owner", "claimed"}


def on_ticket_change(change) -> None:
    """Registered with `tracker.hooks`: queue the ticket.* events of a change in its own transaction.

    An internal note is never sent: a comment event exists only for public comments."""
    found = _change_event(change)
    if found is None:
        return
    event, comment = found
    subs = subscriptions_for(event)
    if not subs:
        return
    data, event_id = _change_payload(change, comment)
    webhook_event(event=event, payload=data, now=change.now, event_id=event_id, subscriptions=subs,
                  ticket=change.ticket)


def _change_event(change) -> tuple[str, object] | None:
    """The ticket.* event of a change and its public comment (None for other events); None: no event."""
    reason = change.reason
    comment = None
    if reason == "created":
        event = WebhookEvent.TICKET_CREATED
    elif reason == "transition":
        event = WebhookEvent.TICKET_TRANSITIONED
    elif reason == "comment":
        comment = change.changes.get("comment", (None, None))[1]
        if comment is None or comment.internal:
            return None
        event = WebhookEvent.TICKET_COMMENTED
    elif reason in _UPDATED:
        event = WebhookEvent.TICKET_UPDATED
    else:
        return None
    return event, comment


def _change_payload(change, comment) -> tuple[dict, str | None]:
    """The event's data and its id (a comment's is stable; None: a new one)."""
    data = {
        "ticket": ticket_data(change.ticket),
        "actor": _name(change.actor),
        "reason": change.reason,
        "changes": {name: {"old": _plain(old), "new": _plain(new)} for name, (old, new) in change.changes.items()
                    if name != "comment"},
    }
    event_id = None
    if comment is not None:
        data["comment"] = {"id": comment.pk, "author": _name(comment.author), "body": comment.body,
                           "created_at": _plain(comment.created_at)}
        event_id = f"comment-{comment.pk}"
    return data, event_id


def webhooks_for_effects(effects, now: datetime) -> int:
    """The sweep's warnings and breaches as sla.warning / sla.breach events: the subscriptions are read once and
    every delivery of the batch is written in one insert (the sweep's queries stay constant per batch)."""
    if not effects:
        return 0
    subs = [s for s in WebhookSubscription.objects.filter(active=True)
            if {WebhookEvent.SLA_WARNING, WebhookEvent.SLA_BREACH} & set(s.events or [])]
    if not subs:
        return 0
    tickets = {e.clock.ticket_id: e.clock.ticket for e in effects}
    services = Service.objects.in_bulk({t.service_id for t in tickets.values() if t.service_id})
    for t in tickets.values():
        if t.service_id:
            t.service = services[t.service_id]
    rows = []
    for e in effects:
        clock = e.clock
        breach = e.level >= 100
        event = WebhookEvent.SLA_BREACH if breach else WebhookEvent.SLA_WARNING
        wanted = [s for s in subs if event in s.events]
        if not wanted:
            continue
        data = {
            "ticket": ticket_data(clock.ticket),
            "clock": {"metric": clock.metric, "tier": clock.tier, "level": e.level, "goal_s": clock.goal_s,
                      "due_at": _plain(e.due_at if breach else clock.due_at), "breached": breach},
        }
        event_id = f"clock-{clock.pk}-L{e.level}"
        rows += [_delivery(s, event=event, event_id=event_id, payload=data, now=now) for s in wanted]
    return _queue(rows)


# --- the relay ----------------------------------------------------------------------------------------


def sign(secret: str, body: bytes) -> str:
    """`X-Crossline-Signature`: sha256=<hex HMAC-SHA256 of the raw body, keyed with the subscription's secret>."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def backoff(attempts: int) -> timedelta:
    """The wait after the `attempts`-th failed try: base, 2 x base, 4 x base ... (at most six hours)."""
    base = settings.CROSSLINE_WEBHOOK_RETRY_BACKOFF
    return timedelta(seconds=min(MAX_BACKOFF_S, base * 2 ** max(0, attempts - 1)))


def _claim(now: datetime, size: int) -> list[WebhookDelivery]:
    """Lease up to `size` due deliveries in one short transaction (rows another relay holds are skipped)."""
    with transaction.atomic():
        due = WebhookDelivery.objects.filter(state=DeliveryState.PENDING, available_at__lte=now).order_by(
            "available_at", "id")
        found = list(lock_skipping(due)[:size])
        if not found:
            return []
        lease = now + WEBHOOK_LEASE
        # A compare-and-set as well as the row lock: on SQLite (no SKIP LOCKED) the write lock serialises relays.
        ids = [d.pk for d in found]
        leased = WebhookDelivery.objects.filter(pk__in=ids, state=DeliveryState.PENDING,
                                                available_at__lte=now).update(available_at=lease)
        mine = set(ids) if leased == len(ids) else set(
            WebhookDelivery.objects.filter(pk__in=ids, available_at=lease).values_list("pk", flat=True))
    subs = WebhookSubscription.objects.in_bulk({d.subscription_id for d in found})
    claimed = []
    for d in found:
        if d.pk in mine:
            d.available_at, d.subscription = lease, subs[d.subscription_id]
            claimed.append(d)
    return claimed


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """A redirect is an answer, not a delivery: urllib would follow it with a GET and no body."""

    def redirect_request(self, *args, **kwargs):
        return None


_opener = urllib.request.build_opener(_NoRedirects)


def _post(url: str, body: bytes, headers: dict) -> tuple[int | None, str]:
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with _opener.open(request, timeout=WEBHOOK_TIMEOUT_S) as response:
            response.read(1024)
            return response.status, ""
    except urllib.error.HTTPError as exc:
        return exc.code, f"HTTP {exc.code}"
    except Exception as exc:  # refused, timed out, DNS: a failed try
        return None, f"{type(exc).__name__}: {exc}"[:2000]


def _attempt(delivery: WebhookDelivery) -> bool:
    """POST one leased delivery and record the try; True when the receiver answered 2xx."""
    sub = delivery.subscription
    body = json.dumps(delivery.payload, separators=(",", ":"), sort_keys=True).encode()
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "X-Crossline-Event": delivery.event,
        "X-Crossline-Delivery": delivery.event_id,
        "X-Crossline-Timestamp": str(int(time.time())),
        "X-Crossline-Signature": sign(sub.secret, body),
    }
    started = time.monotonic()
    code, error = _post(sub.url, body, headers)
    ms = int((time.monotonic() - started) * 1000)
    ok = code is not None and 200 <= code < 300
    at = timezone.now()
    attempts = delivery.attempts + 1
    with transaction.atomic():
        fields = {"attempts": attempts, "last_status_code": code, "last_duration_ms": ms, "last_error": error}
        if ok:
            fields.update(state=DeliveryState.DELIVERED, delivered_at=at)
        elif attempts >= settings.CROSSLINE_WEBHOOK_MAX_ATTEMPTS:
            fields.update(state=DeliveryState.FAILED)
        else:
            fields.update(available_at=at + backoff(attempts))
        # Only while the lease is still ours: a relay whose lease ran out (and was taken over) records nothing,
        # so a delivery is never marked delivered twice.
        mine = WebhookDelivery.objects.filter(pk=delivery.pk, state=DeliveryState.PENDING,
                                              available_at=delivery.available_at).update(**fields)
        if mine:
            manual = delivery.last_error == REDELIVER_MARK
            WebhookAttempt.objects.create(delivery_id=delivery.pk, attempted_at=at, status_code=code,
                                          duration_ms=ms, error=error, ok=ok, manual=manual)
    return bool(mine) and ok


def webhooks_deliver(*, now: datetime | None = None, limit: int = 100) -> int:
    """Post up to `limit` due deliveries, leased a chunk at a time, each posted and recorded on its own; returns how
    many succeeded. A 2xx marks it delivered; anything else backs off exponentially until the last attempt, then
    it fails. A relay that dies leaves its chunk leased: those deliveries go out when the lease runs out."""
    started = time.monotonic()
    _wake_gate_open()  # before the first claim: a delivery committed from now on wakes a relay of its own
    delivered = tried = 0
    while tried < limit:
        chunk = _claim(now or timezone.now(), min(CLAIM_CHUNK, limit - tried))
        if not chunk:
            break
        for delivery in chunk:
            tried += 1
            try:
                delivered += _attempt(delivery)
            except Exception:  # never let one bad row stop the relay; its lease expires and it is tried again
                log.exception("Webhook delivery %s failed to run", delivery.pk)
    heartbeat_record(name=WEBHOOK_HEARTBEAT, processed=delivered, duration_s=time.monotonic() - started)
    return delivered


# --- people: who may, redeliver, subscriptions --------------------------------------------------------

MANAGERS = frozenset({Role.ADMIN, Role.MANAGER})


def may_manage_webhooks(user) -> bool:
    """Webhooks are set up and redelivered by administrators and managers."""
    return access.role_of(user) in MANAGERS


def _require(actor) -> None:
    if not may_manage_webhooks(actor):
        raise AccessDenied("Only administrators and managers manage webhooks.")


def webhook_redeliver(*, delivery: WebhookDelivery, actor, now: datetime | None = None) -> WebhookDelivery:
    """Send a delivery again now (a failed or delivered one, or a pending one at once); the next try is marked
    manual in the log."""
    _require(actor)
    now = now or timezone.now()
    with transaction.atomic():
        row = WebhookDelivery.objects.select_for_update().filter(pk=delivery.pk).first()
        if row is None:
            raise Conflict("This delivery no longer exists.")
        if row.state == DeliveryState.PENDING and row.available_at > now and row.last_error == REDELIVER_MARK:
            raise Conflict("A redelivery of this event is already on its way.")
        # The attempts so far stay counted: a redelivery that fails again backs off, or fails at once when the
        # retries were spent.
        WebhookDelivery.objects.filter(pk=row.pk).update(
            state=DeliveryState.PENDING, available_at=now, delivered_at=None, last_error=REDELIVER_MARK)
        transaction.on_commit(_wake_relay)
    row.refresh_from_db()
    return row


def _clean(*, name: str, url: str, events) -> tuple[str, str, list[str]]:
    fields: dict[str, list[str]] = {}
    name = (name or "").strip()
    url = (url or "").strip()
    if not name:
        fields["name"] = ["Give the subscription a name."]
    elif len(name) > 120:
        fields["name"] = ["Keep the name to 120 characters."]
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname or len(url) > 500 or " " in url:
        fields["url"] = ["Enter the receiver's full http:// or https:// address, e.g. https://hooks.example.com/in."]
    events = list(dict.fromkeys(events or []))
    unknown = [e for e in events if e not in WebhookEvent.values]
    if unknown:
        fields["events"] = [f"Unknown event type {unknown[0]!r}; choose among {', '.join(WebhookEvent.values)}."]
    elif not events:
        fields["events"] = ["Choose at least one event to send."]
    if fields:
        first = next(iter(fields.values()))[0]
        raise ValidationFailed(first, fields=fields)
    return name, url, events


def new_secret() -> str:
    return "whsec_" + secrets.token_urlsafe(32)


def webhook_subscription_save(*, actor, subscription: WebhookSubscription | None = None, name: str, url: str,
                              events, active: bool = True, regenerate_secret: bool = False,
                              now: datetime | None = None) -> tuple[WebhookSubscription, str | None]:
    """Create a subscription or change one; returns it and its new secret when one was made (shown once)."""
    _require(actor)
    name, url, events = _clean(name=name, url=url, events=events)
    now = now or timezone.now()
    secret = None
    with transaction.atomic():
        if subscription is None:
            secret = new_secret()
            subscription = WebhookSubscription.objects.create(name=name, url=url, events=events, active=bool(active),
                                                              secret=secret, created_by=actor, created_at=now)
        else:
            subscription.name, subscription.url, subscription.events = name, url, events
            subscription.active = bool(active)
            if regenerate_secret:
                secret = subscription.secret = new_secret()
            subscription.save(update_fields=["name", "url", "events", "active", "secret"])
    return subscription, secret


def webhook_subscription_delete(*, actor, subscription: WebhookSubscription) -> None:
    """Remove a subscription with its delivery log."""
    _require(actor)
    with transaction.atomic():
        subscription.delete()


# --- readers for the pages and the API ----------------------------------------------------------------


def webhook_subscription_list():
    """Every subscription with how many of its deliveries failed and wait."""
    from django.db.models import Count, Q

    return WebhookSubscription.objects.annotate(
        deliveries_failed=Count("deliveries", filter=Q(deliveries__state=DeliveryState.FAILED)),
        deliveries_pending=Count("deliveries", filter=Q(deliveries__state=DeliveryState.PENDING)),
    ).order_by("name", "id")


def webhook_delivery_log(*, subscription: WebhookSubscription, limit: int = 50) -> list[WebhookDelivery]:
    """A subscription's newest deliveries with their tries."""
    return list(subscription.deliveries.prefetch_related("tries").order_by("-created_at", "-id")[:limit])


def on_tickets_change(changes: list) -> None:
    """Registered with `tracker.hooks` as the batch variant of `on_ticket_change`: the same deliveries, with
    one read of the subscriptions, one of the tickets' services and one insert for the whole batch."""
    found = [(c, f) for c in changes if (f := _change_event(c)) is not None]
    if not found:
        return
    wanted = {event: subscriptions_for(event) for event in {f[0] for _, f in found}}
    found = [(c, f) for c, f in found if wanted[f[0]]]
    if not found:
        return
    tickets = [c.ticket for c, _ in found if c.ticket.service_id and not type(c.ticket).service.is_cached(c.ticket)]
    services = Service.objects.in_bulk({t.service_id for t in tickets}) if tickets else {}
    for t in tickets:
        t.service = services[t.service_id]
    rows = []
    for change, (event, comment) in found:
        data, event_id = _change_payload(change, comment)
        event_id = event_id or uuid.uuid4().hex
        rows += [_delivery(s, event=event, event_id=event_id, payload=data, now=change.now) for s in wanted[event]]
    _queue(rows)
