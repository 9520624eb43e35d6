"""Each kind's workflow: every declared move works for an allowed role; anything else is refused clearly."""
import pytest

from tracker import hooks, services
from tracker.choices import ChangeType, Kind, Role, Status
from tracker.errors import AccessDenied, MissingField, TransitionRefused
from tracker.models import Ticket
from tracker.workflows import OWN_REQUESTER, WORKFLOWS

FILL = {
    "resolution_note": "done", "decision_note": "ok", "implementation_plan": "plan", "backout_plan": "back",
    "risk": "low", "implementation_result": "successful", "review_notes": "went fine", "root_cause": "cache",
    "workaround": "restart", "fix_version": "4.8", "emergency_justification": "outage", "severity": "s2",
}


@pytest.fixture
def core_rules_only(monkeypatch):
    """The core's table alone: the apps' guards and the approval rounds they keep (the CAB's votes decide a
    change in review; itsm's own tests hold those rules) are set aside."""
    monkeypatch.setattr(hooks, "_guards", [])
    monkeypatch.setattr(hooks, "_observers", [o for o in hooks._observers if not o.__module__.startswith("itsm")])


def _change_type_for(move) -> str:
    """A change type the move is open to (`when`), normal when any will do."""
    for change_type in (ChangeType.NORMAL, ChangeType.STANDARD, ChangeType.EMERGENCY):
        if move.when is None or move.when(Ticket(kind=Kind.CHANGE, change_type=change_type)):
            return change_type
    raise AssertionError(f"no change type opens {move}")


def _path_to(workflow, status, ticket):
    """Shortest chain of moves open to this ticket from the initial state to `status` (breadth first)."""
    frontier = [(workflow.initial, [])]
    seen = {workflow.initial}
    while frontier:
        state, path = frontier.pop(0)
        if state == status:
            return path
        for move in workflow.moves_from(state):
            if move.target not in seen and (move.when is None or move.when(ticket)):
                seen.add(move.target)
                frontier.append((move.target, [*path, move]))
    raise AssertionError(f"{status} unreachable")


def _ticket(cast, kind, **extra):
    actor = cast.requester if kind in (Kind.INCIDENT, Kind.REQUEST) else cast.agent2
    if kind == Kind.CHANGE:
        extra.setdefault("change_type", "normal")
    return services.ticket_create(actor=actor, kind=kind, title="t", requester=cast.requester, **extra)


def _actor_for(cast, move, ticket):
    by_role = {Role.CHANGE_MANAGER: cast.change_manager, Role.AGENT_L1: cast.agent1, Role.AGENT_L2: cast.agent2,
               Role.ENGINEER_L3: cast.engineer, Role.MANAGER: cast.manager, Role.ADMIN: cast.admin}
    for role in (Role.AGENT_L1, Role.AGENT_L2, Role.ENGINEER_L3, Role.CHANGE_MANAGER, Role.MANAGER):
        if role in move.roles:
            return by_role[role]
    assert OWN_REQUESTER in move.roles
    return ticket.requester


ALL_MOVES = [(kind, i) for kind, wf in WORKFLOWS.items() for i in range(len(wf.moves))]


@pytest.mark.parametrize(("kind", "index"), ALL_MOVES, ids=[f"{k}-{i}" for k, i in ALL_MOVES])
def test_every_declared_move_succeeds_for_an_allowed_role_and_is_recorded(cast, kind, index, core_rules_only):
    workflow = WORKFLOWS[kind]
    move = workflow.moves[index]
    ticket = _ticket(cast, kind, change_type=_change_type_for(move)) if kind == Kind.CHANGE else _ticket(cast, kind)
    for step in _path_to(workflow, move.source, ticket):
        services.ticket_transition(ticket=ticket, to=step.target, actor=_actor_for(cast, step, ticket),
                                   values={f: FILL[f] for f in step.requires})
    services.ticket_transition(ticket=ticket, to=move.target, actor=_actor_for(cast, move, ticket),
                               values={f: FILL[f] for f in move.requires})
    ticket.refresh_from_db()
    assert ticket.status == move.target
    last = ticket.events.filter(kind="status").order_by("-id").first()
    assert (last.old, last.new) == (move.source, move.target)


@pytest.mark.parametrize("kind", list(WORKFLOWS))
def test_a_move_not_in_the_table_is_refused_with_the_allowed_ones_named(cast, kind):
    ticket = _ticket(cast, kind)
    with pytest.raises(TransitionRefused) as exc:
        services.ticket_transition(ticket=ticket, to=Status.CLOSED, actor=cast.admin)
    assert "cannot move to 'Closed'" in exc.value.message
    assert "allowed from here" in exc.value.message
    ticket.refresh_from_db()
    assert ticket.status == Status.NEW


def test_resolving_without_note_is_refused_and_nothing_changes(cast):
    ticket = _ticket(cast, Kind.INCIDENT)
    services.ticket_transition(ticket=ticket, to=Status.IN_PROGRESS, actor=cast.agent1)
    version = ticket.version
    with pytest.raises(MissingField) as exc:
        services.ticket_transition(ticket=ticket, to=Status.RESOLVED, actor=cast.agent1)
    assert "resolution_note" in exc.value.fields
    ticket.refresh_from_db()
    assert (ticket.status, ticket.version) == (Status.IN_PROGRESS, version)


def test_a_requester_cannot_resolve_but_may_reopen_their_own_ticket(cast):
    ticket = _ticket(cast, Kind.INCIDENT)
    services.ticket_transition(ticket=ticket, to=Status.IN_PROGRESS, actor=cast.agent1)
    with pytest.raises(AccessDenied):
        services.ticket_transition(ticket=ticket, to=Status.RESOLVED, actor=cast.requester,
                                   values={"resolution_note": "x"})
    services.ticket_transition(ticket=ticket, to=Status.RESOLVED, actor=cast.agent1, values={"resolution_note": "x"})
    assert ticket.resolved_at is not None
    services.ticket_transition(ticket=ticket, to=Status.IN_PROGRESS, actor=cast.requester)
    ticket.refresh_from_db()
    assert ticket.status == Status.IN_PROGRESS and ticket.resolved_at is None


def test_the_cabs_decision_is_never_offered_as_a_move(cast, core_rules_only):
    """Out of review a change goes by its CAB's votes (tests/itsm): no button, no entry in the API's list."""
    change = _ticket(cast, Kind.CHANGE)
    services.ticket_transition(ticket=change, to=Status.REVIEW, actor=cast.agent2,
                               values={"implementation_plan": "p", "backout_plan": "b", "risk": "medium"})
    for user in (cast.change_manager, cast.admin, cast.agent2):
        offered = {m.target for m in services.available_moves(ticket=change, actor=user)}
        assert offered.isdisjoint({Status.APPROVED, Status.REJECTED, Status.NEW}), user
    declared = {m.target for m in WORKFLOWS[Kind.CHANGE].moves_from(Status.REVIEW) if not m.offered}
    assert declared == {Status.APPROVED, Status.REJECTED, Status.NEW}


def test_a_normal_change_cannot_skip_the_cab(cast):
    change = _ticket(cast, Kind.CHANGE)
    with pytest.raises(TransitionRefused) as exc:
        services.ticket_transition(ticket=change, to=Status.APPROVED, actor=cast.agent2,
                                   values={"implementation_plan": "p"})
    assert "standard" in exc.value.message


def test_a_requester_replying_to_a_ticket_waiting_on_them_puts_it_back_to_work(cast):
    ticket = _ticket(cast, Kind.INCIDENT)
    services.ticket_transition(ticket=ticket, to=Status.IN_PROGRESS, actor=cast.agent1)
    services.ticket_transition(ticket=ticket, to=Status.PENDING, actor=cast.agent1)
    services.ticket_comment(ticket=ticket, actor=cast.requester, body="It is Firefox 120.")
    ticket.refresh_from_db()
    assert ticket.status == Status.IN_PROGRESS


def test_refusals_name_fields_by_their_label_not_their_column(cast, api):
    ticket = _ticket(cast, Kind.PROBLEM)
    services.ticket_transition(ticket=ticket, to=Status.IN_PROGRESS, actor=cast.agent2)
    with pytest.raises(MissingField) as exc:
        services.ticket_transition(ticket=ticket, to=Status.KNOWN_ERROR, actor=cast.agent2)
    assert exc.value.message == f"Moving {ticket.key} to 'Known error' needs a root cause and a workaround."
    assert exc.value.fields["root_cause"] == ["Root cause is required for this move."]
    response = api(cast.agent1).post("/api/v1/tickets/", {"kind": "incident", "title": "x", "fix_version": "4.8"},
                                     format="json")
    assert response.json()["detail"] == "Check the fixed-in version: Only a defect has a fixed-in version, " \
                                        "not an incident."


def test_a_requester_setting_a_staff_field_is_told_its_label(cast):
    from tracker import access
    from tracker.errors import AccessDenied

    with pytest.raises(AccessDenied) as refused:
        access.writable_fields(cast.requester, {"title", "resolution_note"})
    assert "resolution note" in refused.value.message and "resolution_note" not in refused.value.message
