"""The Celery application and the one beat schedule of Crossline."""
import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tracker.settings")

app = Celery("crossline", task_cls="celery.contrib.django.task:DjangoTask")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.conf.update(
    enable_utc=True,
    timezone="UTC",
    # Tasks are idempotent: a worker lost mid-task gives the message back instead of dropping it.
    task_acks_late=True,
    task_reject_on_worker_lost=True,
    worker_prefetch_multiplier=1,
    task_time_limit=600,
    task_soft_time_limit=540,
    task_ignore_result=True,
    broker_connection_retry_on_startup=True,
    worker_cancel_long_running_tasks_on_connection_loss=True,
)
app.autodiscover_tasks()


def beat_schedule(sweep_seconds: float) -> dict:
    """Every periodic job in one place; deadlines live in rows, beat only turns the crank."""
    return {
        "sweep-sla-clocks": {"task": "sla.tasks.sweep_sla_clocks_task", "schedule": sweep_seconds},
        "deliver-outbox": {"task": "sla.tasks.deliver_outbox_task", "schedule": max(sweep_seconds, 2.0)},
        # The dashboard reads today live, so the roll-up only has to follow yesterday and late changes.
        "refresh-sla-rollup": {"task": "sla.tasks.refresh_sla_rollup_task", "schedule": 300.0},
        "purge-idempotency-keys": {"task": "tracker.tasks.purge_idempotency_keys_task", "schedule": 3600.0},
        # Webhook retries fall due here; a new delivery also wakes the relay itself.
        "deliver-webhooks": {"task": "sla.tasks.deliver_webhooks_task", "schedule": max(sweep_seconds, 2.0)},
        "poll-mailboxes": {"task": "sla.tasks.poll_mailboxes_task", "schedule": _mail_poll_seconds()},
    }


def _mail_poll_seconds() -> float:
    """How often the intake mailboxes are polled (`CROSSLINE_MAIL_POLL_SECONDS`)."""
    from django.conf import settings

    return float(settings.CROSSLINE_MAIL_POLL_SECONDS)


@app.on_after_finalize.connect
def _install_schedule(sender, **kwargs):
    from django.conf import settings

    sender.conf.beat_schedule = beat_schedule(settings.SLA_SWEEP_SECONDS)
