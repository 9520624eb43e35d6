"""The change-enablement API: a change's tasks (list, create, re-plan, hand off, report) and rollbacks, the
tasks of the caller, and the change success and failure rates. Every write calls one domain function."""
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status, viewsets
from rest_framework.response import Response

from sla.dashboard import period_from
from tracker import access, selectors
from tracker.api.views import if_match
from tracker.choices import Kind
from tracker.errors import AccessDenied, NotFound, ValidationFailed

from .. import selectors as q
from .. import services
from .serializers import (
    ChangeTaskSerializer,
    RatesSerializer,
    RollbackCreateSerializer,
    RollbackSerializer,
    TaskCreateSerializer,
    TaskHandoffSerializer,
    TaskReportSerializer,
    TaskUpdateSerializer,
)

KEY = OpenApiParameter("key", str, OpenApiParameter.PATH, description="The change's key, e.g. CHG-12.")
NUMBER = OpenApiParameter("number", int, OpenApiParameter.PATH, description="The task's number within the change.")
IF_MATCH = OpenApiParameter("If-Match", OpenApiTypes.STR, OpenApiParameter.HEADER, required=False,
                            description='The task\'s ETag (its version, e.g. "2"); a stale one answers 412.')


def _staff(request) -> None:
    if not access.is_staff_member(request.user):
        raise AccessDenied("Change tasks are for staff.")


def _change(request, key):
    _staff(request)
    change = selectors.ticket_for_user(request.user, key)
    if change.kind != Kind.CHANGE:
        raise NotFound(f"{change.key} is not a change; only changes have tasks and rollbacks.")
    return change


def _task_response(task, code=status.HTTP_200_OK):
    response = Response(ChangeTaskSerializer(task).data, status=code)
    response["ETag"] = f'"{task.version}"'
    return response


@extend_schema(parameters=[KEY])
class ChangeTaskViewSet(viewsets.ViewSet):
    """Tasks of one change, addressed by the change's key and the task's number (`CHG-12`, `2`)."""

    @extend_schema(responses={200: ChangeTaskSerializer(many=True)})
    def list(self, request, key=None):
        change = _change(request, key)
        tasks = q.change_tasks(change=change)
        for task in tasks:
            task.change = change  # no query per row for its key
        return Response(ChangeTaskSerializer(tasks, many=True).data)

    @extend_schema(request=TaskCreateSerializer, responses={201: ChangeTaskSerializer})
    def create(self, request, key=None):
        change = _change(request, key)
        body = TaskCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        task = services.task_add(change=change, actor=request.user, **body.validated_data)
        return _task_response(task, status.HTTP_201_CREATED)

    def _task(self, request, key, number):
        _change(request, key)
        task = q.change_task(user=request.user, key=key, number=int(number))
        if task is None:
            raise NotFound(f"{key.upper()} has no task {number}.")
        return task

    @extend_schema(responses={200: ChangeTaskSerializer}, parameters=[NUMBER])
    def retrieve(self, request, key=None, number=None):
        return _task_response(self._task(request, key, number))

    @extend_schema(request=TaskUpdateSerializer, responses={200: ChangeTaskSerializer}, parameters=[NUMBER, IF_MATCH])
    def partial_update(self, request, key=None, number=None):
        task = self._task(request, key, number)
        body = TaskUpdateSerializer(data=request.data, partial=True)
        body.is_valid(raise_exception=True)
        services.task_update(task=task, actor=request.user, changes=dict(body.validated_data),
                             version=if_match(request, required=False))
        return _task_response(self._task(request, key, number))

    @extend_schema(request=TaskReportSerializer, responses={200: ChangeTaskSerializer}, parameters=[NUMBER, IF_MATCH])
    def report(self, request, key=None, number=None):
        """The owner starts the task or reports it done or failed (a failed task fails the go-live); the
        change's coordinators cancel it."""
        task = self._task(request, key, number)
        body = TaskReportSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        services.task_report(task=task, actor=request.user, version=if_match(request, required=False),
                             **body.validated_data)
        return _task_response(self._task(request, key, number))

    @extend_schema(request=TaskHandoffSerializer, responses={200: ChangeTaskSerializer}, parameters=[NUMBER, IF_MATCH])
    def handoff(self, request, key=None, number=None):
        """Hand the task to another person and/or group (its owner, or the change's coordinators)."""
        task = self._task(request, key, number)
        body = TaskHandoffSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        services.task_handoff(task=task, actor=request.user, version=if_match(request, required=False),
                              **body.validated_data)
        return _task_response(self._task(request, key, number))


@extend_schema(parameters=[KEY])
class RollbackViewSet(viewsets.ViewSet):
    """Rollbacks of a change: each run of its backout plan, with who ran it, when, and the outcome."""

    @extend_schema(responses={200: RollbackSerializer(many=True)})
    def list(self, request, key=None):
        return Response(RollbackSerializer(q.change_rollbacks(change=_change(request, key)), many=True).data)

    @extend_schema(request=RollbackCreateSerializer, responses={201: RollbackSerializer})
    def create(self, request, key=None):
        change = _change(request, key)
        body = RollbackCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        rollback = services.rollback_record(change=change, actor=request.user, **body.validated_data)
        return Response(RollbackSerializer(rollback).data, status=status.HTTP_201_CREATED)


class MyTaskViewSet(viewsets.ViewSet):
    """Change tasks across changes: `owner=me` (held by me, or unassigned in my groups), a username, `state`
    (`open` or a state) and `change` (a key)."""

    @extend_schema(parameters=[
        OpenApiParameter("owner", str, description="me, or a username"),
        OpenApiParameter("state", str, description="open, planned, in_progress, done, failed or cancelled"),
        OpenApiParameter("change", str, description="a change's key"),
    ], responses={200: ChangeTaskSerializer(many=True)})
    def list(self, request):
        _staff(request)
        params = {k: request.query_params.get(k, "")[:40] for k in ("owner", "state", "change")}
        if params["state"] not in ("", "open", *q.TASK_STATES):
            raise ValidationFailed("state: use open or one of " + ", ".join(q.TASK_STATES) + ".",
                                   fields={"state": ["Unknown state."]})
        rows = q.task_list(user=request.user, **params)[:500]
        return Response(ChangeTaskSerializer(rows, many=True).data)


class ChangeRatesViewSet(viewsets.ViewSet):
    """Change success and failure rates per service, team and month, over `days` (default 30) or
    `start`/`end` dates; each row names the filter of /changes/outcomes/ that lists its changes."""

    @extend_schema(parameters=[OpenApiParameter("days", int), OpenApiParameter("start", OpenApiTypes.DATE),
                               OpenApiParameter("end", OpenApiTypes.DATE)], responses={200: RatesSerializer})
    def list(self, request):
        _staff(request)
        period = period_from(request.query_params, timezone.now())
        rates = q.change_rates(user=request.user, start=period.start, end=period.end)
        return Response(RatesSerializer({"start": period.start, "end": period.end, "overall": rates.overall,
                                         "by_service": rates.by_service, "by_team": rates.by_team,
                                         "by_month": rates.by_month}).data)
