"""Work the workers do for service management: running a catalogue item's fulfilment handler."""

from celery import shared_task


@shared_task(acks_late=True, ignore_result=True)
def fulfil_request_task(request_pk: int) -> None:
    """Run the fulfilment handler of catalogue request `request_pk` (see `itsm.services.fulfilment`)."""
    from .services import fulfilment

    fulfilment.automation_run(request_pk=request_pk)
