"""Work the workers do for service management: running a catalogue item's fulfilment handler."""

from celery import shared_task
from django.conf import settings


# A failed attempt is recorded (state, error, timeline) and raised again: Celery retries it with exponential
# backoff (1x, 2x, 4x the base wait, no jitter so the waits are predictable). A duplicate delivery or a retry after
# success is a no-op: `automation_run` claims the run under the request's row lock.
@shared_task(acks_late=True, ignore_result=True, autoretry_for=(Exception,),
             retry_backoff=settings.CROSSLINE_FULFILMENT_RETRY_BACKOFF,
             retry_backoff_max=settings.CROSSLINE_FULFILMENT_RETRY_BACKOFF_MAX, retry_jitter=False,
             max_retries=settings.CROSSLINE_FULFILMENT_RETRIES)
def fulfil_request_task(request_pk: int) -> str:
    """Run the fulfilment handler of catalogue request `request_pk` (see `itsm.services.fulfilment`)."""
    from .services import fulfilment

    return fulfilment.automation_run(request_pk=request_pk)
