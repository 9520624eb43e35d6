"""A development team's backlog order: the team lead moves a defect or change up or down."""

from django.db import transaction

from tracker import access
from tracker.choices import Role
from tracker.errors import AccessDenied, NotFound, ValidationFailed
from tracker.models import AssignmentGroup, Ticket

from .. import selectors
from ..models import BacklogRank


def may_rank_backlog(actor, group: AssignmentGroup) -> bool:
    """The team's lead (its manager), a manager or an admin."""
    return bool(actor and actor.is_authenticated) and (
        access.role_of(actor) in (Role.MANAGER, Role.ADMIN)
        or (group.manager_id is not None and group.manager_id == actor.pk)
    )


def backlog_move(*, group: AssignmentGroup, ticket: Ticket, actor, to: int) -> int:
    """Put `ticket` at position `to` (1 = top) of the team's backlog; the whole order it is shown in is stored,
    so the others keep their places. Atomic; returns the new position. Raises AccessDenied, NotFound,
    ValidationFailed."""
    if not may_rank_backlog(actor, group):
        raise AccessDenied(f"Only {group.name}'s lead, a manager or an admin orders its backlog.")
    with transaction.atomic():
        # One writer at a time per team: lock the team's row (a no-op lock on SQLite, which serialises writes).
        AssignmentGroup.objects.select_for_update().filter(pk=group.pk).first()
        rows = selectors.team_backlog(team=group)
        ids = [t.pk for t in rows]
        if ticket.pk not in ids:
            raise NotFound(f"{ticket.key} is not in {group.name}'s open backlog.")
        if not isinstance(to, int) or to < 1:
            raise ValidationFailed("Give a position from 1.", fields={"position": ["At least 1."]})
        to = min(to, len(ids))
        ids.remove(ticket.pk)
        ids.insert(to - 1, ticket.pk)
        BacklogRank.objects.filter(group=group).exclude(ticket_id__in=ids).delete()
        current = dict(BacklogRank.objects.filter(group=group).values_list("ticket_id", "pk"))
        changed, new = [], []
        for position, ticket_id in enumerate(ids, start=1):
            if ticket_id in current:
                changed.append(BacklogRank(pk=current[ticket_id], group=group, ticket_id=ticket_id,
                                           position=position))
            else:
                new.append(BacklogRank(group=group, ticket_id=ticket_id, position=position))
        BacklogRank.objects.bulk_update(changed, ["position"])
        BacklogRank.objects.bulk_create(new)
    return to
