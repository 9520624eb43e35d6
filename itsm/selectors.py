"""Reads of the self-service portal, the knowledge base, change enablement (CABs, templates, approval rounds),
the service-management panels of the ticket page, a change's tasks and rollbacks, and the change success and
failure rates. Every ticket query starts from `access.visible`."""

import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from urllib.parse import urlencode

from django.contrib.auth import get_user_model
from django.db.models import Count, Exists, IntegerField, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce, TruncMonth
from django.utils import timezone

from tracker import access
from tracker.choices import ImplementationResult, Kind, LinkType
from tracker.forms import staff_users
from tracker.models import AssignmentGroup, Link, Ticket

from .choices import OPEN_TASK_STATES, ChangeOutcome, RoundStatus, TaskState, Vote
from .models import (
    Approval,
    ApprovalRound,
    Cab,
    ChangeRollback,
    ChangeTask,
    ChangeTemplate,
    ChangeTemplateVersion,
    KnowledgeArticle,
)

_WORD = re.compile(r"[\w-]{4,}")


def service_recent_changes(
    *, user, service_id: int | None, now: datetime, days: int = 14, limit: int = 10
) -> list[Ticket]:
    """Changes on this service touched in the last `days` (index tracker_ticket_service_recent)."""
    if not service_id:
        return []
    since = now - timedelta(days=days)
    return list(
        access.visible(
            user, Ticket.objects.filter(service_id=service_id, kind=Kind.CHANGE, updated_at__gte=since)
        ).order_by("-updated_at")[:limit]
    )


# --- the portal ---------------------------------------------------------------------------------------


def portal_tickets(*, user):
    """A requester's own tickets (visible() already keeps them to their own), newest first; the page
    paginates it (index tracker_ticket_requester)."""
    return (
        access.visible(user, Ticket.objects.filter(requester=user))
        .select_related("service")
        .order_by("-created_at", "-id")
    )


def article_search(*, text: str = "", limit: int = 30) -> list[KnowledgeArticle]:
    qs = KnowledgeArticle.objects.filter(published=True).select_related("service")
    text = (text or "").strip()
    if text:
        cond = Q(title__icontains=text) | Q(body__icontains=text)
        for word in _WORD.findall(text)[:5]:
            cond |= Q(title__icontains=word)
        qs = qs.filter(cond)
    return list(qs.order_by("-updated_at")[:limit])


# --- change enablement ------------------------------------------------------------------------------------


def cab_list() -> list[Cab]:
    """Every CAB with its service and approvers (two queries, whatever the number of boards)."""
    members = Prefetch("members", queryset=get_user_model().objects.order_by("username"))
    boards = Cab.objects.select_related("service").prefetch_related(members)
    return list(boards.order_by("-active", "emergency", "name"))


def template_list(*, retired: bool = False) -> list[ChangeTemplate]:
    """Live templates (or the retired ones) with their service and how many changes each made (one query)."""
    qs = ChangeTemplate.objects.filter(retired_at__isnull=not retired).select_related("service", "retired_by")
    return list(qs.annotate(used=Count("versions__changes")).order_by("title"))


def template_versions(template: ChangeTemplate) -> list[ChangeTemplateVersion]:
    return list(template.versions.select_related("created_by", "service").annotate(used=Count("changes"))
                .order_by("-number"))


def change_rounds(ticket: Ticket) -> list[ApprovalRound]:
    """A change's approval rounds, newest first, with their board and every approver's vote (three queries)."""
    approvals = Prefetch("approvals", queryset=Approval.objects.select_related("approver").order_by("id"))
    return list(ApprovalRound.objects.filter(ticket=ticket).select_related("cab", "opened_by")
                .prefetch_related(approvals).order_by("-number"))


def awaiting_vote(qs: QuerySet, *, user, now=None) -> QuerySet:
    """The tickets of `qs` whose open round waits for this user's vote ("My approvals")."""
    mine = Approval.objects.filter(round__ticket=OuterRef("pk"), round__status=RoundStatus.OPEN, approver=user,
                                   decision=Vote.PENDING)
    return qs.filter(Exists(mine))


def pending_approval_count(user) -> int:
    """How many changes wait for this person's vote (the top bar's approvals chip; index itsm_approval_pending)."""
    return Approval.objects.filter(approver=user, decision=Vote.PENDING, round__status=RoundStatus.OPEN).count()
# --- a change's tasks and rollbacks --------------------------------------------------------------------


def change_tasks(*, change: Ticket) -> list[ChangeTask]:
    """The change's tasks by planned start, with their owners (one query)."""
    return list(ChangeTask.objects.filter(change=change).select_related("assignee", "group")
                .order_by("planned_start", "number"))


def change_task(*, user, key: str, number: int) -> ChangeTask | None:
    """One task of a change this user may see, with its change and owners; None when there is none."""
    visible = access.visible(user, Ticket.objects.filter(key=key.upper(), kind=Kind.CHANGE))
    return (ChangeTask.objects.filter(change__in=visible, number=number)
            .select_related("change", "assignee", "group").first())


def handoff_choices() -> dict:
    """The people and groups a task can be handed to, read once for every row's hand-off form."""
    return {"staff": list(staff_users()), "groups": list(AssignmentGroup.objects.order_by("tier", "name"))}


def change_rollbacks(*, change: Ticket) -> list[ChangeRollback]:
    return list(ChangeRollback.objects.filter(change=change).select_related("run_by", "recorded_by")
                .order_by("ran_at", "id"))


def my_tasks(*, user, scope: str = "mine", limit: int = 200) -> list[ChangeTask]:
    """Change tasks for this person: held by them, or unassigned in one of their groups (`scope="mine"`),
    or every open task (`"open"`); open ones by planned start, then what they finished in the last week
    (indexes itsm_changetask_assignee / _group)."""
    visible = access.visible(user, Ticket.objects.filter(kind=Kind.CHANGE)).values("pk")
    qs = ChangeTask.objects.filter(change__in=visible).select_related("change", "assignee", "group")
    if scope == "open":
        return list(qs.filter(state__in=OPEN_TASK_STATES).order_by("planned_start", "id")[:limit])
    mine = Q(assignee=user) | Q(assignee__isnull=True, group__in=user.assignment_groups.values("pk"))
    recent = Q(finished_at__gte=timezone.now() - timedelta(days=7))
    rows = list(qs.filter(mine).filter(Q(state__in=OPEN_TASK_STATES) | recent).order_by("planned_start", "id")[:limit])
    return [t for t in rows if t.is_open] + [t for t in rows if not t.is_open]


TASK_STATES = tuple(TaskState.values)


def task_list(*, user, owner: str = "", state: str = "", change: str = "") -> QuerySet:
    """Change tasks for the API, filtered by owner (`me` or a username), state and change key."""
    visible = access.visible(user, Ticket.objects.filter(kind=Kind.CHANGE)).values("pk")
    qs = ChangeTask.objects.filter(change__in=visible).select_related("change", "assignee", "group")
    if owner == "me":
        qs = qs.filter(Q(assignee=user) | Q(assignee__isnull=True, group__in=user.assignment_groups.values("pk")))
    elif owner:
        qs = qs.filter(assignee__username=owner)
    if state == "open":
        qs = qs.filter(state__in=OPEN_TASK_STATES)
    elif state:
        qs = qs.filter(state=state)
    if change:
        qs = qs.filter(change__key=change.upper())
    return qs.order_by("planned_start", "id")


# --- change success and failure rates ---------------------------------------------------------------------

FAILED_RESULTS = (ImplementationResult.FAILED, ImplementationResult.ROLLED_BACK)


def _caused_incident():
    return Exists(Link.objects.filter(target=OuterRef("pk"), type=LinkType.CAUSED_BY, source__kind=Kind.INCIDENT))


def _failed() -> Q:
    """A change counts as failed when its go-live failed, it was rolled back, or it caused an incident."""
    return Q(implementation_result__in=FAILED_RESULTS) | Q(_caused_incident())


def went_live(*, user, start: datetime, end: datetime) -> QuerySet:
    """Changes whose implementation was recorded (a result and a resolution time) in [start, end)."""
    return access.visible(user, Ticket.objects.filter(
        kind=Kind.CHANGE, resolved_at__gte=start, resolved_at__lt=end).exclude(implementation_result=""))


@dataclass
class RateRow:
    label: str
    params: dict  # what the list behind the figures filters by (service, group or month)
    total: int = 0
    failed: int = 0

    @property
    def query(self) -> str:
        return urlencode(self.params)

    @property
    def successful(self) -> int:
        return self.total - self.failed

    @property
    def success_rate(self) -> str:
        return f"{100 * self.successful / self.total:.0f}" if self.total else "—"

    @property
    def failure_rate(self) -> str:
        return f"{100 * self.failed / self.total:.0f}" if self.total else "—"


@dataclass
class Rates:
    overall: RateRow
    by_service: list[RateRow] = field(default_factory=list)
    by_team: list[RateRow] = field(default_factory=list)
    by_month: list[RateRow] = field(default_factory=list)


def change_rates(*, user, start: datetime, end: datetime) -> Rates:
    """Change success and failure rates of the changes that went live in [start, end), overall and per
    service, team (the change's assignment group) and month (of the go-live, in the reporting zone). One
    query, grouped by (service, team, month); the three tables are its sums."""
    zone = timezone.get_default_timezone()
    cells = (went_live(user=user, start=start, end=end)
             .annotate(month=TruncMonth("resolved_at", tzinfo=zone))
             .values("service_id", "service__name", "group_id", "group__name", "month")
             .annotate(total=Count("id"), failed=Count("id", filter=_failed()))
             .order_by())
    overall = RateRow("All changes", {})
    tables: dict[str, dict] = {"service": {}, "group": {}, "month": {}}
    for c in cells:
        month = c["month"].date() if isinstance(c["month"], datetime) else c["month"]
        keys = {
            "service": (c["service_id"], c["service__name"] or "No service", {"service": c["service_id"] or "none"}),
            "group": (c["group_id"], c["group__name"] or "No team", {"group": c["group_id"] or "none"}),
            "month": (month, f"{month:%B %Y}", {"month": f"{month:%Y-%m}"}),
        }
        for table, (key, label, params) in keys.items():
            row = tables[table].setdefault(key, RateRow(label, params))
            row.total += c["total"]
            row.failed += c["failed"]
        overall.total += c["total"]
        overall.failed += c["failed"]
    # Services and teams by name ("No service" last), months in time order.
    return Rates(
        overall=overall,
        by_service=sorted(tables["service"].values(), key=lambda r: (r.params["service"] == "none", r.label)),
        by_team=sorted(tables["group"].values(), key=lambda r: (r.params["group"] == "none", r.label)),
        by_month=[tables["month"][k] for k in sorted(tables["month"])],
    )


def month_range(text: str) -> tuple[datetime, datetime] | None:
    """'2026-11' -> the month's start and the next month's start in the reporting zone; None if malformed."""
    try:
        first = date.fromisoformat(f"{text}-01")
    except ValueError:
        return None
    after = date(first.year + first.month // 12, first.month % 12 + 1, 1)
    zone = timezone.get_default_timezone()
    return (datetime.combine(first, datetime.min.time(), zone), datetime.combine(after, datetime.min.time(), zone))


def change_outcomes(*, user, start: datetime, end: datetime, service: str = "", group: str = "", month: str = "",
                    outcome: str = "") -> QuerySet:
    """The changes behind a rate: went live in the period, on a service / team / month, successful or failed;
    each with its count of incidents caused, newest go-live first."""
    qs = went_live(user=user, start=start, end=end)
    for name, value in (("service", service), ("group", group)):
        if value == "none":
            qs = qs.filter(**{f"{name}__isnull": True})
        elif value.isdigit():
            qs = qs.filter(**{f"{name}_id": int(value)})
    if month:
        bounds = month_range(month)
        if bounds:
            qs = qs.filter(resolved_at__gte=bounds[0], resolved_at__lt=bounds[1])
    if outcome == ChangeOutcome.FAILED:
        qs = qs.filter(_failed())
    elif outcome == ChangeOutcome.SUCCESSFUL:
        qs = qs.exclude(_failed())
    incidents = Link.objects.filter(target=OuterRef("pk"), type=LinkType.CAUSED_BY, source__kind=Kind.INCIDENT)
    counted = incidents.order_by().values("target").annotate(n=Count("id")).values("n")
    return (qs.select_related("service", "group")
            .annotate(incidents=Coalesce(Subquery(counted, output_field=IntegerField()), 0))
            .order_by("-resolved_at", "-id"))
