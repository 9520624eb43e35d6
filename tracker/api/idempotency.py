"""`Idempotency-Key` on the ticket writes a client may retry: create (POST /tickets/), update (PATCH
/tickets/KEY/) and transition (POST /tickets/KEY/transition/). A retry after a timeout does not create a twin
nor apply an edit twice: the same key with the same request (method, path and body) gets the first answer
(status and body) again; the same key with another request is refused (409).

The record is written in the same transaction as the change, so either both exist or neither does;
a concurrent duplicate hits the unique (user, key) constraint and is told to retry. Keys are per user.
"""
import hashlib
import json
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone

from tracker.errors import Conflict, ValidationFailed
from tracker.models import IdempotencyRecord

TTL = timedelta(hours=24)


def _hash(data, method: str = "POST", path: str = "") -> str:
    request = {"method": method.upper(), "path": path, "body": data}
    return hashlib.sha256(json.dumps(request, sort_keys=True, default=str).encode()).hexdigest()


def replay_or_run(*, user, key: str | None, data, run, method: str = "POST", path: str = ""):
    """Return `(status, body, replayed)`; `run()` must return `(status, body)` and do its writes atomically.
    The request's identity is `method` + `path` + `data` (the parsed body)."""
    if not key:
        status, body = run()
        return status, body, False
    if len(key) > 200:
        raise ValidationFailed("Idempotency-Key must be at most 200 characters.",
                               fields={"Idempotency-Key": ["Too long."]})
    digest = _hash(data, method, path)
    now = timezone.now()
    previous = IdempotencyRecord.objects.filter(user=user, key=key, created_at__gte=now - TTL).first()
    if previous is not None:
        if previous.request_hash != digest:
            raise Conflict("This Idempotency-Key was already used with a different request body (or on another "
                           "address); use a new key for a new request.")
        return previous.status, previous.body, True
    try:
        with transaction.atomic():
            IdempotencyRecord.objects.filter(user=user, key=key).delete()  # an expired one
            status, body = run()
            IdempotencyRecord.objects.create(user=user, key=key, request_hash=digest, status=status, body=body,
                                             ticket_key=str(body.get("key", ""))[:24], created_at=now)
    except IntegrityError:
        raise Conflict("A request with this Idempotency-Key is still being processed; retry in a moment.") from None
    return status, body, False


def idempotency_purge(*, now=None) -> int:
    """Forget answers older than the 24 h window (run hourly by beat); returns how many were removed."""
    now = now or timezone.now()
    deleted, _ = IdempotencyRecord.objects.filter(created_at__lt=now - TTL).delete()
    return deleted
