"""The API of catalogue requests after the order, under `catalogue/`: the approver's decision
(`POST catalogue/requests/REQ-5/approve/`, `.../reject/`), the requests waiting for my decision
(`GET catalogue/approvals/`), a request's fulfilment tasks (`GET catalogue/requests/REQ-5/tasks/`) taken, done or
cancelled (`POST .../tasks/2/take/`, `.../done/`, `.../cancel/`), and a failed automation run again
(`POST catalogue/requests/REQ-5/automation/run-again/`). Every write validates its shape, then calls one domain
function of `itsm.services.fulfilment`."""

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from tracker import access, selectors
from tracker.errors import AccessDenied, NotFound

from ..choices import TaskState
from ..models import CatalogRequest, FulfilmentTask
from ..services import fulfilment

KEY = OpenApiParameter("key", str, OpenApiParameter.PATH, description="The request's key, e.g. REQ-5.")
NUMBER = OpenApiParameter("number", int, OpenApiParameter.PATH, description="The task's number within the request.")


class DecisionSerializer(serializers.Serializer):
    note = serializers.CharField(max_length=4000, required=False, allow_blank=True, default="",
                                 help_text="A note to the requester; required to reject (the reason).")


class TaskFinishSerializer(serializers.Serializer):
    note = serializers.CharField(max_length=4000, required=False, allow_blank=True, default="",
                                 help_text="What was done; why it is cancelled (required to cancel).")
    version = serializers.IntegerField(required=False, min_value=1, max_value=2**31 - 1,
                                       help_text="The task's version you read; a newer one is refused (412).")


class TaskTakeSerializer(serializers.Serializer):
    version = serializers.IntegerField(required=False, min_value=1, max_value=2**31 - 1)


class TaskSerializer(serializers.ModelSerializer):
    group = serializers.CharField(source="group.name", allow_null=True, default=None)
    assignee = serializers.CharField(source="assignee.username", allow_null=True, default=None)
    done_by = serializers.CharField(source="done_by.username", allow_null=True, default=None)
    state = serializers.CharField(help_text="planned, in_progress, done or cancelled (a change task's states).")

    class Meta:
        model = FulfilmentTask
        fields = ["number", "title", "group", "assignee", "state", "note", "done_by", "done_at", "version"]


class RequestStateSerializer(serializers.ModelSerializer):
    key = serializers.CharField(source="ticket.key")
    title = serializers.CharField(source="ticket.title")
    status = serializers.CharField(source="ticket.status")
    item = serializers.CharField(source="item.name")
    requester = serializers.CharField(source="ticket.requester.username")
    approver = serializers.CharField(source="approver.username", allow_null=True, default=None)

    class Meta:
        model = CatalogRequest
        fields = ["key", "title", "status", "item", "requester", "answers", "approval", "approver", "decided_at",
                  "decision_note", "automation", "attempts", "result", "automated_at", "created_at"]


def _for_approver(request, key) -> CatalogRequest:
    found = fulfilment.request_for_approver(user=request.user, key=key)
    if found is None:
        raise NotFound(f"No request {key} waiting for you.")
    return found


def _state(request, key) -> dict:
    return RequestStateSerializer(_for_approver(request, key)).data


def _decide(request, key, decision: str) -> Response:
    data = DecisionSerializer(data=request.data)
    data.is_valid(raise_exception=True)
    fulfilment.request_decide(request=_for_approver(request, key), actor=request.user, decision=decision,
                              note=data.validated_data["note"])
    return Response(_state(request, key))


@extend_schema(parameters=[KEY])
class ApproveView(APIView):
    @extend_schema(request=DecisionSerializer, responses={200: RequestStateSerializer})
    def post(self, request, key):
        """Approve a request waiting for you (its appointed approver; never your own): it moves to approved and
        its fulfilment begins (tasks made, handler queued)."""
        return _decide(request, key, "approve")


@extend_schema(parameters=[KEY])
class RejectView(APIView):
    @extend_schema(request=DecisionSerializer, responses={200: RequestStateSerializer})
    def post(self, request, key):
        """Reject a request waiting for you, with the reason (`note`, required): it is cancelled with
        "Not approved by …: reason", and the requester is told."""
        return _decide(request, key, "reject")


class MyApprovalsView(APIView):
    @extend_schema(responses={200: RequestStateSerializer(many=True)})
    def get(self, request):
        """The requests waiting for my decision, oldest first."""
        return Response(RequestStateSerializer(fulfilment.pending_approvals(request.user), many=True).data)


def _ticket(request, key):
    ticket = selectors.ticket_for_user(request.user, key)
    if fulfilment.request_of(ticket) is None:
        raise NotFound(f"{ticket.key} is not a catalogue request.")
    return ticket


def _task(request, key, number) -> FulfilmentTask:
    if not access.is_staff_member(request.user):
        raise AccessDenied("Fulfilment tasks are worked by staff.")
    ticket = _ticket(request, key)
    task = FulfilmentTask.objects.filter(request=ticket, number=number).select_related("request").first()
    if task is None:
        raise NotFound(f"{ticket.key} has no task T{number}.")
    return task


def _task_data(task: FulfilmentTask) -> dict:
    fresh = FulfilmentTask.objects.select_related("group", "assignee", "done_by").get(pk=task.pk)
    return TaskSerializer(fresh).data


@extend_schema(parameters=[KEY])
class TaskListView(APIView):
    @extend_schema(responses={200: TaskSerializer(many=True)})
    def get(self, request, key):
        """The request's fulfilment tasks, by number (its requester may read them too)."""
        return Response(TaskSerializer(fulfilment.request_tasks(_ticket(request, key)), many=True).data)


@extend_schema(parameters=[KEY, NUMBER])
class TaskTakeView(APIView):
    @extend_schema(request=TaskTakeSerializer, responses={200: TaskSerializer})
    def post(self, request, key, number):
        """Take the task (assign it to me; members of its group, or a manager). The first task taken starts the
        request's fulfilment."""
        task = _task(request, key, number)
        data = TaskTakeSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fulfilment.task_assign(task=task, actor=request.user, assignee=request.user,
                               version=data.validated_data.get("version"))
        return Response(_task_data(task))


def _finish(request, key, number, state: str) -> Response:
    task = _task(request, key, number)
    data = TaskFinishSerializer(data=request.data)
    data.is_valid(raise_exception=True)
    fulfilment.task_finish(task=task, actor=request.user, state=state, note=data.validated_data["note"],
                           version=data.validated_data.get("version"))
    return Response(_task_data(task))


@extend_schema(parameters=[KEY, NUMBER])
class TaskDoneView(APIView):
    @extend_schema(request=TaskFinishSerializer, responses={200: TaskSerializer})
    def post(self, request, key, number):
        """Mark the task done; the last one done (with the automation, if any, succeeded) resolves the request."""
        return _finish(request, key, number, TaskState.DONE)


@extend_schema(parameters=[KEY, NUMBER])
class TaskCancelView(APIView):
    @extend_schema(request=TaskFinishSerializer, responses={200: TaskSerializer})
    def post(self, request, key, number):
        """Cancel the task, saying why (`note`, required)."""
        return _finish(request, key, number, TaskState.CANCELLED)


@extend_schema(parameters=[KEY])
class AutomationRunAgainView(APIView):
    @extend_schema(request=None, responses={200: RequestStateSerializer})
    def post(self, request, key):
        """Queue a failed fulfilment handler to run again (agents)."""
        ticket = _ticket(request, key)
        fulfilment.automation_retry(request=fulfilment.request_of(ticket), actor=request.user)
        found = CatalogRequest.objects.select_related("item", "ticket", "ticket__requester", "approver").get(
            ticket=ticket)
        return Response(RequestStateSerializer(found).data)
