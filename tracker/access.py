"""Who sees and does what, in one place for the UI and the API.

Requesters see only the tickets they raised (any other key is a 404, never a 403, so keys do not leak);
every staff role sees every ticket. What each staff role may do is decided here and by the workflow
table (`tracker.workflows`).
"""
from functools import wraps

from django.db.models import Q, QuerySet
from django.shortcuts import redirect

from . import extensions
from .choices import Role
from .errors import AccessDenied, field_label
from .workflows import AGENTS, OWN_REQUESTER, REQUESTER_FIELDS, REQUESTER_KINDS, Move

ESCALATORS = frozenset({Role.AGENT_L1, Role.AGENT_L2, Role.ENGINEER_L3, Role.MANAGER, Role.ADMIN,
                        Role.CHANGE_MANAGER, Role.INCIDENT_MANAGER, Role.PROBLEM_MANAGER})
PICKERS = frozenset({Role.ENGINEER_L3, Role.AGENT_L2, Role.MANAGER, Role.ADMIN})


def role_of(user) -> str | None:
    if not user or not user.is_authenticated:
        return None
    if user.is_superuser:
        return Role.ADMIN
    return user.role


def is_staff_member(user) -> bool:
    role = role_of(user)
    return role is not None and role != Role.REQUESTER


def visible(user, queryset: QuerySet) -> QuerySet:
    """The start of every ticket selector: what this user may see at all."""
    role = role_of(user)
    if role is None:
        return queryset.none()
    if role == Role.REQUESTER:
        return queryset.filter(requester=user)
    return queryset


def may_see(user, ticket) -> bool:
    role = role_of(user)
    return role is not None and (role != Role.REQUESTER or ticket.requester_id == user.pk)


def may_take(user, move: Move, ticket) -> bool:
    role = role_of(user)
    if role is None:
        return False
    if role == Role.ADMIN or role in move.roles:
        return True
    return OWN_REQUESTER in move.roles and ticket.requester_id == user.pk


def require_move(user, move: Move, ticket) -> None:
    if not may_take(user, move, ticket):
        raise AccessDenied(f"Your role may not '{move.label or move.target}' on {ticket.key}.")


def may(user, action: str, ticket=None) -> bool:
    role = role_of(user)
    if role is None:
        return False
    if action in ("view", "comment"):
        return ticket is None or may_see(user, ticket)
    if action in ("internal_note", "edit", "link", "assign", "watch"):
        return role in AGENTS
    if action == "escalate":
        return role in ESCALATORS
    if action == "pick":
        return role in PICKERS
    if action == "configure":  # SLA calendars and policies, the priority matrix: they re-plan live work
        return role == Role.ADMIN
    return False


def require(user, action: str, ticket=None) -> None:
    if not may(user, action, ticket):
        what = f" on {ticket.key}" if ticket is not None else ""
        raise AccessDenied(f"Your role may not {action.replace('_', ' ')}{what}.")


def require_create(user, kind: str) -> None:
    role = role_of(user)
    if role is None:
        raise AccessDenied("Sign in to raise a ticket.")
    if role == Role.REQUESTER and kind not in REQUESTER_KINDS:
        raise AccessDenied("Requesters may raise incidents and service requests only.")


def writable_fields(user, fields: set[str]) -> None:
    """A requester may edit only the descriptive fields of their own ticket."""
    if role_of(user) == Role.REQUESTER:
        refused = sorted(set(fields) - REQUESTER_FIELDS)
        if refused:
            raise AccessDenied(f"Requesters may not set the {', '.join(field_label(n) for n in refused)}.",
                               fields={n: ["Staff only."] for n in refused})


def own_or_team(user) -> Q:
    """What an agent keeps (`owner`) or shares with a team they are in (`group`): macros, saved views."""
    return Q(owner=user) | Q(group__in=user.assignment_groups.values("pk"))


def staff_only(view):
    """Pages for staff: anyone else is sent home (a requester lands on their self-service page)."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not is_staff_member(request.user):
            return redirect(extensions.home_url(request.user))
        return view(request, *args, **kwargs)

    return wrapper
