"""Every kind's state machine, declared once as data, and which fields each kind owns.

Only `tracker.services.ticket_transition` applies a move; the UI shows `available_moves()` as buttons
and the API lists them on each ticket, so both read the same table.
"""
from collections.abc import Callable
from dataclasses import dataclass, field

from .choices import Kind, Role, Status
from .errors import MissingField, TransitionRefused, field_label, field_phrase

S = Status
OWN_REQUESTER = "own_requester"  # the ticket's own requester, whatever their role
AGENTS = frozenset({Role.AGENT_L1, Role.AGENT_L2, Role.ENGINEER_L3, Role.CHANGE_MANAGER, Role.MANAGER, Role.ADMIN})
CAB = frozenset({Role.CHANGE_MANAGER, Role.ADMIN})
DEVELOPERS = frozenset({Role.ENGINEER_L3, Role.AGENT_L2, Role.MANAGER, Role.ADMIN})


@dataclass(frozen=True)
class Move:
    source: str
    target: str
    roles: frozenset
    requires: tuple[str, ...] = ()
    label: str = ""
    when: Callable | None = None  # extra condition on the ticket, e.g. only standard changes
    when_text: str = ""
    offers: tuple[str, ...] = ()  # fields the move's form also offers, not required by the move itself

    def check_required(self, ticket, values: dict) -> None:
        missing = [f for f in self.requires if not (values.get(f) or getattr(ticket, f, None))]
        if missing:
            raise MissingField(
                f"Moving {ticket.key} to '{Status(self.target).label}' needs {field_phrase(missing)}.",
                fields={f: [f"{field_label(f, capital=True)} is required for this move."] for f in missing},
            )


@dataclass(frozen=True)
class Workflow:
    kind: str
    initial: str
    moves: tuple[Move, ...] = field(default_factory=tuple)

    @property
    def states(self) -> list[str]:
        seen = [self.initial]
        for m in self.moves:
            for s in (m.source, m.target):
                if s not in seen:
                    seen.append(s)
        return seen

    def moves_from(self, status: str) -> list[Move]:
        return [m for m in self.moves if m.source == status]

    def move(self, ticket, target: str) -> Move:
        for m in self.moves_from(ticket.status):
            if m.target == target:
                if m.when and not m.when(ticket):
                    raise TransitionRefused(f"{ticket.key} cannot move to '{_label(target)}': {m.when_text}.")
                return m
        allowed = ", ".join(f"'{m.target}'" for m in self.moves_from(ticket.status)) or "none"
        raise TransitionRefused(
            f"{ticket.key} is '{_label(ticket.status)}' and cannot move to '{_label(target)}'; "
            f"allowed from here: {allowed}."
        )


# Moves that park, refuse or abandon work: offered in the menu, never as the page's main action.
SIDE_TARGETS = frozenset({S.CANCELLED, S.PENDING, S.REJECTED})


def primary_move(kind: str, moves: list[Move]) -> Move | None:
    """The move that carries the work on (the page's main button): the first, in the workflow's order,
    that goes forward and is not a side move; else the first that is not a side move (e.g. "Resume")."""
    order = WORKFLOWS[kind].states
    onward = [m for m in moves if m.target not in SIDE_TARGETS]
    forward = [m for m in onward if order.index(m.target) > order.index(m.source)]
    return (forward or onward or [None])[0]


def _label(status: str) -> str:
    try:
        return str(Status(status).label)
    except ValueError:
        return status


def _m(source, target, roles, label, requires=(), when=None, when_text="", offers=()):
    return Move(source, target, frozenset(roles), tuple(requires), label, when, when_text, tuple(offers))


REOPENERS = AGENTS | {OWN_REQUESTER}

INCIDENT = Workflow(Kind.INCIDENT, S.NEW, (
    _m(S.NEW, S.IN_PROGRESS, AGENTS, "Start work"),
    _m(S.NEW, S.CANCELLED, AGENTS | {OWN_REQUESTER}, "Cancel", ["resolution_note"]),
    _m(S.IN_PROGRESS, S.PENDING, AGENTS, "Wait on requester"),
    _m(S.PENDING, S.IN_PROGRESS, AGENTS | {OWN_REQUESTER}, "Resume"),
    _m(S.IN_PROGRESS, S.RESOLVED, AGENTS, "Resolve", ["resolution_note"]),
    _m(S.RESOLVED, S.IN_PROGRESS, REOPENERS, "Reopen"),
    _m(S.RESOLVED, S.CLOSED, AGENTS | {OWN_REQUESTER}, "Close"),
))

REQUEST = Workflow(Kind.REQUEST, S.NEW, (
    _m(S.NEW, S.IN_PROGRESS, AGENTS, "Start fulfilment"),
    _m(S.NEW, S.CANCELLED, AGENTS | {OWN_REQUESTER}, "Cancel", ["resolution_note"]),
    _m(S.IN_PROGRESS, S.PENDING, AGENTS, "Wait on requester"),
    _m(S.PENDING, S.IN_PROGRESS, AGENTS | {OWN_REQUESTER}, "Resume"),
    _m(S.IN_PROGRESS, S.RESOLVED, AGENTS, "Fulfil", ["resolution_note"]),
    _m(S.RESOLVED, S.IN_PROGRESS, REOPENERS, "Reopen"),
    _m(S.RESOLVED, S.CLOSED, AGENTS | {OWN_REQUESTER}, "Close"),
))

PROBLEM = Workflow(Kind.PROBLEM, S.NEW, (
    _m(S.NEW, S.IN_PROGRESS, AGENTS, "Investigate"),
    _m(S.IN_PROGRESS, S.KNOWN_ERROR, AGENTS, "Record known error", ["root_cause", "workaround"]),
    _m(S.KNOWN_ERROR, S.IN_PROGRESS, AGENTS, "Reinvestigate"),
    _m(S.IN_PROGRESS, S.RESOLVED, AGENTS, "Resolve", ["root_cause", "resolution_note"]),
    _m(S.KNOWN_ERROR, S.RESOLVED, AGENTS, "Resolve", ["resolution_note"]),
    _m(S.RESOLVED, S.IN_PROGRESS, AGENTS, "Reopen"),
    _m(S.RESOLVED, S.CLOSED, AGENTS, "Close"),
    _m(S.NEW, S.CANCELLED, AGENTS, "Cancel", ["resolution_note"]),
))


def _is_standard(ticket) -> bool:
    return ticket.change_type == "standard"


CHANGE = Workflow(Kind.CHANGE, S.NEW, (
    _m(S.NEW, S.REVIEW, AGENTS | {OWN_REQUESTER}, "Submit to CAB",
       ["implementation_plan", "backout_plan", "risk"]),
    _m(S.NEW, S.APPROVED, AGENTS, "Approve (standard change)", ["implementation_plan"],
       when=_is_standard, when_text="only a standard (pre-approved) change skips the CAB"),
    _m(S.REVIEW, S.APPROVED, CAB, "Approve", ["decision_note"]),
    _m(S.REVIEW, S.REJECTED, CAB, "Reject", ["decision_note"]),
    _m(S.REJECTED, S.NEW, AGENTS | {OWN_REQUESTER}, "Revisit"),
    _m(S.APPROVED, S.IN_PROGRESS, AGENTS, "Start implementation"),
    _m(S.IN_PROGRESS, S.RESOLVED, AGENTS, "Record implementation", ["implementation_result"]),
    # The post-implementation review is offered on close; an app's guard may require it (failed go-lives).
    _m(S.RESOLVED, S.CLOSED, CAB | {Role.MANAGER}, "Close after review",
       offers=["review_notes", "review_cause", "review_actions"]),
    _m(S.NEW, S.CANCELLED, AGENTS | {OWN_REQUESTER}, "Withdraw", ["resolution_note"]),
    _m(S.REJECTED, S.CANCELLED, AGENTS | {OWN_REQUESTER}, "Withdraw", ["resolution_note"]),
))

DEFECT = Workflow(Kind.DEFECT, S.NEW, (
    _m(S.NEW, S.IN_PROGRESS, DEVELOPERS, "Accept"),
    _m(S.NEW, S.CANCELLED, DEVELOPERS, "Won't fix", ["resolution_note"]),
    _m(S.IN_PROGRESS, S.RESOLVED, DEVELOPERS, "Mark fixed", ["fix_version", "resolution_note"]),
    _m(S.RESOLVED, S.IN_PROGRESS, AGENTS, "Reopen"),
    _m(S.RESOLVED, S.CLOSED, AGENTS, "Close (shipped)"),
))

WORKFLOWS: dict[str, Workflow] = {w.kind: w for w in (INCIDENT, REQUEST, PROBLEM, CHANGE, DEFECT)}

COMMON_FIELDS = (
    "title", "description", "impact", "urgency", "group", "assignee", "service", "category", "resolution_note",
)
KIND_FIELDS: dict[str, tuple[str, ...]] = {
    Kind.INCIDENT: (),
    Kind.REQUEST: (),
    Kind.PROBLEM: ("root_cause", "workaround", "known_error"),
    Kind.CHANGE: ("change_type", "risk", "implementation_plan", "backout_plan", "window_start", "window_end",
                  "decision_note", "implementation_result", "review_notes", "review_cause", "review_actions"),
    Kind.DEFECT: ("severity", "affected_version", "fix_version"),
}
ALL_KIND_FIELDS = frozenset(f for fields in KIND_FIELDS.values() for f in fields)
# What a requester may set on their own ticket (through the portal or the API).
REQUESTER_FIELDS = frozenset({"title", "description", "impact", "urgency", "service", "category"})
REQUESTER_KINDS = frozenset({Kind.INCIDENT, Kind.REQUEST})


def editable_fields(kind: str) -> tuple[str, ...]:
    return COMMON_FIELDS + KIND_FIELDS[kind]
