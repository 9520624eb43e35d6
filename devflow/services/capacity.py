"""Support capacity: the decisions that let a development team work over its reserved support share."""

from datetime import date, datetime, timedelta

from django.db import transaction
from django.utils import timezone

from tracker import access, services
from tracker.choices import ChangeType, EventKind, Kind, Role
from tracker.errors import AccessDenied, Conflict, ValidationFailed
from tracker.models import AssignmentGroup, Ticket

from ..models import CapacityDecision

# The process owners who arbitrate an urgent fix against project work (DOMAIN: "the change manager ...
# arbitrates emergency changes against project work"), besides the team's own manager.
DECIDING_ROLES = frozenset({Role.CHANGE_MANAGER, Role.INCIDENT_MANAGER, Role.ADMIN})


def may_decide_capacity(actor, group: AssignmentGroup) -> bool:
    """The change manager, the incident manager, the team's manager or an admin."""
    return bool(actor and actor.is_authenticated) and (
        access.role_of(actor) in DECIDING_ROLES or (group.manager_id is not None and group.manager_id == actor.pk)
    )


def over_share_reason(ticket: Ticket) -> str:
    """Why this ticket may take a team over its share ("" when it may not): a P1 incident or an emergency change."""
    if ticket.kind == Kind.INCIDENT and ticket.priority == 1:
        return "P1 incident"
    if ticket.kind == Kind.CHANGE and ticket.change_type == ChangeType.EMERGENCY:
        return "emergency change"
    return ""


def capacity_decision_record(
    *,
    group: AssignmentGroup,
    ticket: Ticket,
    actor,
    note: str,
    agreed_with=None,
    week: date | None = None,
    now: datetime | None = None,
) -> CapacityDecision:
    """Record that `group` works over its support share for `ticket` in `week` (default: this week), decided
    by `actor` and agreed with `agreed_with`; one per team, ticket and week; a row on the ticket's timeline.
    Raises AccessDenied (403), ValidationFailed (400), Conflict (409)."""
    now = now or timezone.now()
    if not may_decide_capacity(actor, group):
        raise AccessDenied(
            f"Only the change manager, the incident manager, {group.name}'s manager or an admin decide that "
            "the team works over its support share."
        )
    if not over_share_reason(ticket):
        raise ValidationFailed(
            f"{ticket.key} is neither a P1 incident nor an emergency change; only those may take a team over "
            "its support share.", fields={"ticket": ["Not a P1 incident or an emergency change."]})
    if ticket.group_id != group.pk:
        raise ValidationFailed(f"{ticket.key} is not at {group.name}; decide for the team that works it.",
                               fields={"ticket": ["Not at this team."]})
    note = (note or "").strip()
    if not note:
        raise ValidationFailed("Say what was agreed and why.", fields={"note": ["Required."]})
    if agreed_with is not None and (agreed_with.pk == actor.pk or not access.is_staff_member(agreed_with)):
        raise ValidationFailed("Name the other member of staff it was agreed with (not yourself).",
                               fields={"agreed_with": ["Someone else on the staff."]})
    today = timezone.localdate(now)
    week = week or today
    monday = week - timedelta(days=week.weekday())
    if monday > today:
        raise ValidationFailed("Decide for this week or one already past.", fields={"week": ["In the future."]})
    with transaction.atomic():
        if CapacityDecision.objects.filter(group=group, ticket=ticket, week=monday).exists():
            raise Conflict(f"Going over {group.name}'s share for {ticket.key} in the week of {monday} is "
                           "already decided.")
        decision = CapacityDecision.objects.create(group=group, ticket=ticket, week=monday, decided_by=actor,
                                                   agreed_with=agreed_with, note=note, decided_at=now)
        with_whom = f", agreed with {agreed_with.display_name}" if agreed_with else ""
        services.event_record(ticket=ticket, actor=actor, kind=EventKind.CAPACITY, now=now, field="support_share",
                              new=group.name, old=monday.isoformat(), internal=True,
                              note=f"{group.name} works over its support share (week of {monday}){with_whom}: "
                                   f"{note}")
    return decision
