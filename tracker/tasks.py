"""Periodic chores of the core."""
from celery import shared_task

from .api.idempotency import idempotency_purge


@shared_task(acks_late=True, max_retries=3)
def purge_idempotency_keys_task() -> int:
    return idempotency_purge()
