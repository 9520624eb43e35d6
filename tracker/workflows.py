"""Every kind's state machine, declared once as data, and which fields each kind owns.

Only `tracker.services.ticket_transition` applies a move; the UI shows `available_moves()` as buttons
and the API lists them on each ticket, so both read the same table.
"""
from collections.abc import Callable
from dataclasses import dataclass, field

from .choices import Kind, Role, Status
from .errors import Conflict, MissingField, TransitionRefused, field_label, field_phrase

S = Status
OWN_REQUESTER = "own_requester"  # the ticket's own requester, whatever their role
AGENTS = frozenset({Role.AGENT_L1, Role.AGENT_L2, Role.ENGINEER_L3, Role.CHANGE_MANAGER, Role.INCIDENT_MANAGER,
                    Role.PROBLEM_MANAGER, Role.MANAGER, Role.ADMIN})
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
    offers: tuple[str, ...] = ()  # fields the move may also set, not required by it (the CAB's decision note)
    # False: a move an app takes through its own domain function (the CAB's votes decide a change), never a
    # button of the ticket page nor an entry of the API's `transitions`; the app's guard refuses it otherwise.
    offered: bool = True

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


def _m(source, target, roles, label, requires=(), when=None, when_text="", offers=(), offered=True):
    return Move(source, target, frozenset(roles), tuple(requires), label, when, when_text, tuple(offers), offered)


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

# A catalogue item may need an approval (the requester's manager or a named approver): its app records the
# decision and takes the `offered=False` moves (a refusal cancels the request with the approver's reason); its
# guard refuses starting the fulfilment of a request still waiting for its approval.
REQUEST = Workflow(Kind.REQUEST, S.NEW, (
    _m(S.NEW, S.IN_PROGRESS, AGENTS, "Start fulfilment"),
    _m(S.NEW, S.APPROVED, AGENTS, "Approved", offered=False),
    _m(S.APPROVED, S.IN_PROGRESS, AGENTS, "Start fulfilment"),
    _m(S.APPROVED, S.CANCELLED, AGENTS | {OWN_REQUESTER}, "Cancel", ["resolution_note"]),
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


def _needs_cab(ticket) -> bool:
    return ticket.change_type != "standard"


def _is_emergency(ticket) -> bool:
    return ticket.change_type == "emergency"


# A change's approval is decided by the votes of its CAB (an app counts them and takes the `offered=False`
# moves out of review, refusing them through a guard otherwise); the moves below only say where it goes.
CAB_OUTCOME = ("decision_note",)
CHANGE = Workflow(Kind.CHANGE, S.NEW, (
    _m(S.NEW, S.REVIEW, AGENTS | {OWN_REQUESTER}, "Submit to CAB",
       ["implementation_plan", "backout_plan", "risk"],
       when=_needs_cab, when_text="a standard change is pre-approved and never goes to the CAB"),
    # A standard change's plan is its template's (the app that makes them from templates guards that).
    _m(S.NEW, S.APPROVED, AGENTS, "Approve (standard change)",
       when=_is_standard, when_text="only a standard (pre-approved) change skips the CAB"),
    _m(S.REVIEW, S.APPROVED, AGENTS, "Approved by the CAB", offers=CAB_OUTCOME, offered=False),
    _m(S.REVIEW, S.REJECTED, AGENTS, "Rejected by the CAB", offers=CAB_OUTCOME, offered=False),
    _m(S.REVIEW, S.NEW, AGENTS, "Changes requested by the CAB", offers=CAB_OUTCOME, offered=False),
    _m(S.REVIEW, S.IN_PROGRESS, AGENTS, "Start before approval (emergency)", ["emergency_justification"],
       when=_is_emergency, when_text="only an emergency change may start before its approval"),
    _m(S.REVIEW, S.CANCELLED, AGENTS | {OWN_REQUESTER}, "Withdraw", ["resolution_note"]),
    _m(S.REJECTED, S.NEW, AGENTS | {OWN_REQUESTER}, "Revisit"),
    # Taken by `ticket_update` when a field frozen by approval changes (see STAGE_LOCKS).
    _m(S.APPROVED, S.REVIEW, AGENTS | {OWN_REQUESTER}, "Back to the CAB", when=_needs_cab,
       when_text="a standard change is approved once, as its template says", offered=False),
    _m(S.APPROVED, S.IN_PROGRESS, AGENTS, "Start implementation"),
    _m(S.IN_PROGRESS, S.RESOLVED, AGENTS, "Record implementation", ["implementation_result"]),
    # The post-implementation review is offered on close; an app's guard may require it (failed go-lives).
    _m(S.RESOLVED, S.CLOSED, CAB | {Role.MANAGER}, "Close after review",
       offers=["review_notes", "review_cause", "review_actions"]),
    _m(S.NEW, S.CANCELLED, AGENTS | {OWN_REQUESTER}, "Withdraw", ["resolution_note"]),
    _m(S.REJECTED, S.CANCELLED, AGENTS | {OWN_REQUESTER}, "Withdraw", ["resolution_note"]),
))

# A defect is triaged (sized, given to a team), worked, reviewed, fixed (the fix merged: the VCS link takes
# that move when a merged pull request says "fixes DEF-n"), verified (a release's UAT sign-off takes it) and
# closed when its release ships. A failed review or verification sends it back to work.
DEFECT = Workflow(Kind.DEFECT, S.NEW, (
    _m(S.NEW, S.TRIAGED, DEVELOPERS, "Triage", ["severity"], offers=["component", "affected_version"]),
    _m(S.NEW, S.CANCELLED, DEVELOPERS, "Won't fix", ["resolution_note"]),
    _m(S.TRIAGED, S.IN_PROGRESS, DEVELOPERS, "Start work"),
    _m(S.TRIAGED, S.CANCELLED, DEVELOPERS, "Won't fix", ["resolution_note"]),
    _m(S.IN_PROGRESS, S.IN_REVIEW, DEVELOPERS, "Send to review"),
    _m(S.IN_PROGRESS, S.FIXED, DEVELOPERS, "Mark fixed", ["resolution_note"], offers=["fix_version"]),
    _m(S.IN_REVIEW, S.FIXED, DEVELOPERS, "Mark fixed", ["resolution_note"], offers=["fix_version"]),
    _m(S.IN_REVIEW, S.IN_PROGRESS, DEVELOPERS, "Request changes"),
    _m(S.FIXED, S.VERIFIED, AGENTS, "Verify"),
    _m(S.FIXED, S.IN_PROGRESS, AGENTS, "Reopen"),
    _m(S.VERIFIED, S.IN_PROGRESS, AGENTS, "Reopen"),
    _m(S.VERIFIED, S.CLOSED, AGENTS, "Close (shipped)"),
))

WORKFLOWS: dict[str, Workflow] = {w.kind: w for w in (INCIDENT, REQUEST, PROBLEM, CHANGE, DEFECT)}

COMMON_FIELDS = (
    "title", "description", "impact", "urgency", "group", "assignee", "service", "category", "resolution_note",
)
KIND_FIELDS: dict[str, tuple[str, ...]] = {
    Kind.INCIDENT: (),
    Kind.REQUEST: (),
    Kind.PROBLEM: ("cause_category", "root_cause", "workaround", "known_error"),
    Kind.CHANGE: ("change_type", "risk", "implementation_plan", "backout_plan", "window_start", "window_end",
                  "decision_note", "emergency_justification", "implementation_result", "review_notes",
                  "review_cause", "review_actions"),
    Kind.DEFECT: ("severity", "component", "affected_version", "fix_version"),
}
# Choices the shared new-ticket form does not offer: an app makes such tickets its own way, and its guard
# refuses them on the generic path (a standard change comes from a change manager's template).
APP_MADE_CHOICES = {"change_type": frozenset({"standard"})}
ALL_KIND_FIELDS = frozenset(f for fields in KIND_FIELDS.values() for f in fields)
# What a requester may set on their own ticket (through the portal or the API).
REQUESTER_FIELDS = frozenset({"title", "description", "impact", "urgency", "service", "category"})
REQUESTER_KINDS = frozenset({Kind.INCIDENT, Kind.REQUEST})


def editable_fields(kind: str) -> tuple[str, ...]:
    return COMMON_FIELDS + KIND_FIELDS[kind]


# --- stage locks: which fields may change in which state, one declaration per kind ----------------------

@dataclass(frozen=True)
class FieldLock:
    """When some of a kind's fields may change. In `editable` states an edit is simply saved; in `reapprove`
    states it is saved and needs a new approval: the ticket goes back to `back_to` (a change approved as
    planned goes back to the CAB; one already in review starts a new round there). Elsewhere it is refused,
    with `reason`. Enforced by `tracker.services` for the pages and the API alike; a move may still set the
    fields it requires or declares optional (the implementation result as the implementation is recorded)."""

    fields: tuple[str, ...]
    editable: frozenset
    reason: str
    reapprove: frozenset = frozenset()
    back_to: str = ""


CHANGE_PLAN = ("implementation_plan", "backout_plan", "risk", "window_start", "window_end")
STAGE_LOCKS: dict[str, tuple[FieldLock, ...]] = {
    Kind.CHANGE: (
        FieldLock(CHANGE_PLAN, frozenset({S.NEW, S.REJECTED}), reapprove=frozenset({S.REVIEW, S.APPROVED}),
                  back_to=S.REVIEW, reason="the CAB approved the change as planned and its implementation has "
                  "begun; raise a new change for a new plan"),
        # Also fixed once the change has been submitted at all (`tracker.services._require_change_type_open`).
        FieldLock(("change_type",), frozenset({S.NEW}), reason="the type decides who approves the change"),
        FieldLock(("decision_note",), frozenset(), reason="it is written by the CAB's decision"),
        FieldLock(("emergency_justification",), frozenset({S.NEW, S.REVIEW}),
                  reason="it records why the change started before its approval"),
        FieldLock(("implementation_result",), frozenset({S.IN_PROGRESS}),
                  reason="it records how the implementation went, while it runs"),
        FieldLock(("review_notes",), frozenset({S.IN_PROGRESS, S.RESOLVED}),
                  reason="the review follows the implementation"),
    ),
}


def field_lock(kind: str, name: str) -> FieldLock | None:
    return next((lock for lock in STAGE_LOCKS.get(kind, ()) if name in lock.fields), None)


def stage_allows(kind: str, status: str, name: str) -> bool:
    """May this field be edited in this state at all (perhaps at the price of a new approval)?"""
    lock = field_lock(kind, name)
    return lock is None or status in lock.editable or status in lock.reapprove


def needs_reapproval(kind: str, status: str, names) -> list[str]:
    """The fields among `names` whose edit in this state needs a new approval."""
    return [n for n in names if (lock := field_lock(kind, n)) is not None and status in lock.reapprove]


def creatable_fields(kind: str) -> tuple[str, ...]:
    """The fields a new ticket of this kind may be raised with (the result and decision fields come later)."""
    initial = WORKFLOWS[kind].initial
    return tuple(n for n in editable_fields(kind) if (lock := field_lock(kind, n)) is None or initial in lock.editable)


def check_stage(ticket, names, *, allowed=()) -> list[str]:
    """Refuse (Conflict) an edit of a field that the ticket's state has frozen; return the fields whose edit
    needs a new approval. `allowed`: fields the move being taken sets itself."""
    status = ticket.status
    frozen = [n for n in names if n not in allowed and not stage_allows(ticket.kind, status, n)]
    if frozen:
        lock = field_lock(ticket.kind, frozen[0])
        states = [s for s in WORKFLOWS[ticket.kind].states if s in lock.editable or s in lock.reapprove]
        where = (f"It can change only while {ticket.key} is " + " or ".join(f"'{_label(s)}'" for s in states)
                 if states else "Nobody sets it by hand")
        names_text = ", ".join(field_label(n) for n in frozen)
        raise Conflict(
            f"{ticket.key} is '{_label(status)}', so its {names_text} can no longer change: {lock.reason}. {where}.",
            fields={n: [f"Frozen while {ticket.key} is '{_label(status)}'."] for n in frozen})
    return needs_reapproval(ticket.kind, status, [n for n in names if n not in allowed])
