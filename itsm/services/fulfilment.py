"""Fulfilment of catalogue requests: who approves a request, and what happens once it may be fulfilled (its
fulfilment tasks made from the item's templates, its fulfilment handler queued for the workers)."""

from datetime import datetime

from django.db import transaction

from ..choices import ApprovalMode, AutomationState
from ..models import CatalogItem, CatalogRequest, FulfilmentTask


def approver_for(item: CatalogItem, requester):
    """Who approves `requester`'s request of `item`: their line manager, the item's named approver, or nobody
    (an item without approval). None with an approval needed means nobody is set to decide it."""
    if item.approval == ApprovalMode.MANAGER:
        return requester.manager
    if item.approval == ApprovalMode.NAMED:
        return item.approver
    return None


def fulfilment_begin(*, request: CatalogRequest, actor, now: datetime) -> list[FulfilmentTask]:
    """The request may be fulfilled (approved, or needing no approval): make its fulfilment tasks from the
    item's templates and queue its handler, if the item is automatable, for the workers after commit. Runs in
    the caller's transaction."""
    item = request.item
    tasks = FulfilmentTask.objects.bulk_create([
        FulfilmentTask(request_id=request.ticket_id, number=n, title=template.title, group_id=template.group_id,
                       created_at=now, updated_at=now)
        for n, template in enumerate(item.task_templates.all(), start=1)
    ])
    if item.handler:
        CatalogRequest.objects.filter(pk=request.pk).update(automation=AutomationState.QUEUED)
        request.automation = AutomationState.QUEUED
        pk = request.pk
        transaction.on_commit(lambda: _queue(pk))
    return tasks


def _queue(request_pk: int) -> None:
    from ..tasks import fulfil_request_task

    fulfil_request_task.delay(request_pk)
