"""Automated fulfilment on a real Celery worker and the configured broker: a "VPN access" request puts its
requester in the group and resolves itself; a handler that fails on its first call is retried (with the
backoff the test settings make short) and has exactly one effect."""

import time

import pytest
from django.contrib.auth.models import Group

from itsm import handlers
from itsm.choices import AutomationState
from itsm.models import CatalogRequest
from tests.itsm.test_fulfilment import order, vpn_item
from tests.workers import wait_for
from tracker.celery import app
from tracker.choices import Status
from tracker.models import Ticket, TicketEvent


def _succeeded(*pks) -> bool:
    return all(CatalogRequest.objects.get(pk=pk).automation == AutomationState.SUCCEEDED for pk in pks)


@pytest.mark.celery_worker
@pytest.mark.django_db(transaction=True)
def test_the_worker_fulfils_an_automated_request_and_a_retry_has_exactly_one_effect(cast, private_broker):
    from celery.contrib.testing import tasks  # noqa: F401 - registers celery.ping for the test worker
    from celery.contrib.testing.worker import start_worker

    calls = []

    def flaky(request):
        calls.append(time.monotonic())
        if len(calls) == 1:
            raise handlers.Retry("The directory did not answer")
        group, _ = Group.objects.get_or_create(name="Payroll readers")
        request.ticket.requester.groups.add(group)
        return f"Added {request.ticket.requester.display_name} to “Payroll readers”."

    handlers.register("flaky_worker_test", "Flaky directory", flaky)
    started = time.monotonic()
    try:
        with start_worker(app, pool="solo", concurrency=1, perform_ping_check=False, shutdown_timeout=10):
            vpn = order(vpn_item(cast), cast.requester)  # queued on commit, to the worker
            bob = order(vpn_item(cast, service=cast.services["payroll"], handler="flaky_worker_test"),
                        cast.other_requester)
            done = wait_for(lambda: _succeeded(vpn.pk, bob.pk), timeout=12)
            # a duplicate delivery after success: a no-op
            from itsm.tasks import fulfil_request_task
            fulfil_request_task.delay(bob.pk)
            time.sleep(1)
    finally:
        handlers.unregister("flaky_worker_test")
    took = time.monotonic() - started
    assert done, [CatalogRequest.objects.get(pk=pk).result for pk in (vpn.pk, bob.pk)]
    assert took < 15

    vpn.refresh_from_db()
    assert vpn.result == "Added Alice to the group “VPN users” (the group was created, without permissions)."
    assert cast.requester.groups.filter(name="VPN users").exists()
    assert Ticket.objects.get(pk=vpn.ticket_id).status == Status.RESOLVED

    bob.refresh_from_db()
    assert (bob.automation, bob.attempts) == (AutomationState.SUCCEEDED, 2)
    assert bob.result == "Added Bob to “Payroll readers”."
    assert len(calls) == 2
    assert Group.objects.get(name="Payroll readers").user_set.count() == 1
    outcomes = list(TicketEvent.objects.filter(ticket_id=bob.ticket_id, field="request_automation")
                    .order_by("id").values_list("new", flat=True))
    assert outcomes == ["failed", "succeeded"]
    ticket = Ticket.objects.get(pk=bob.ticket_id)
    assert ticket.status == Status.RESOLVED and bob.result in ticket.resolution_note
