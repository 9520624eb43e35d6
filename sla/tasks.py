"""Celery tasks: thin, idempotent, acks_late. Deadlines are rows; beat only turns the crank."""

from celery import shared_task
from celery.signals import worker_process_init
from django.conf import settings
from django.db import connection

from .services import clocks_sweep, outbox_deliver, rollup_refresh_recent, sweep_warm_up


@worker_process_init.connect
def _sweep_warm_up(**kwargs) -> None:
    """A pool process loads the sweep's templates as it starts, not inside the first batch it claims."""
    sweep_warm_up()


@shared_task(acks_late=True, max_retries=3, ignore_result=True)
def sweep_sla_clocks_task(fan_out: bool = True, batch: int = 1000) -> int:
    """Apply every due warning and breach; a run that finds work wakes the outbox relay at once.

    A burst drains in parallel: when beat's run finds its first batch full, it queues SLA_SWEEP_PARALLEL - 1
    more runs (which do not fan out again), so idle workers of the pool join in; each claims batches no other
    sweeper holds (SKIP LOCKED) until a batch comes back short. Only on PostgreSQL: SQLite keeps one sweeper."""
    def join_in() -> None:
        for _ in range(settings.SLA_SWEEP_PARALLEL - 1):
            sweep_sla_clocks_task.delay(fan_out=False, batch=batch)

    parallel = fan_out and settings.SLA_SWEEP_PARALLEL > 1 and connection.features.has_select_for_update_skip_locked
    applied = clocks_sweep(batch=batch, on_full_batch=join_in if parallel else None)
    if applied:
        deliver_outbox_task.delay()
    return applied


@shared_task(acks_late=True, max_retries=3, ignore_result=True)
def deliver_outbox_task() -> int:
    return outbox_deliver()


@shared_task(acks_late=True, max_retries=3, ignore_result=True)
def refresh_sla_rollup_task() -> int:
    """Keep the dashboard's daily roll-up and backlog snapshot current; safe to run twice."""
    return len(rollup_refresh_recent())


@shared_task(acks_late=True, max_retries=3, ignore_result=True)
def deliver_webhooks_task() -> int:
    """Post due webhook deliveries; woken when one is written, and by beat for retries. A full batch queues the next
    run at once, so a burst drains without waiting for beat."""
    from .services import webhooks_deliver
    from .services.webhooks import WEBHOOK_BATCH

    delivered = webhooks_deliver(limit=WEBHOOK_BATCH)
    if delivered >= WEBHOOK_BATCH:
        deliver_webhooks_task.delay()
    return delivered


@shared_task(acks_late=True, max_retries=3, ignore_result=True)
def poll_mailboxes_task() -> int:
    """File new mail of every active intake mailbox; a mailbox that fails keeps its error, the others go on."""
    from .services.mail_poll import mailboxes_poll

    return mailboxes_poll()
