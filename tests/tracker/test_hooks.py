"""Guards: an app's rule refuses a change before the core writes it, for every domain function alike."""
import pytest

from tracker import hooks, services
from tracker.choices import EventKind, Kind, Status
from tracker.errors import Conflict
from tracker.models import Ticket, TicketEvent


@pytest.fixture
def no_urgent_titles():
    seen = []

    def guard(change):
        seen.append(change.reason)
        title = change.changes.get("title", (None, change.ticket.title))[1]
        if "URGENT" in title:
            raise Conflict("Titles do not shout; write the title without 'URGENT'.")
        if change.changes.get("status", (None, None))[1] == Status.RESOLVED and change.ticket.priority == 1:
            raise Conflict("A P1 is resolved by its incident manager.")

    hooks.register_guard(guard)
    yield seen
    hooks._guards.remove(guard)


def test_a_guard_refuses_a_create_and_nothing_is_kept(cast, no_urgent_titles):
    with pytest.raises(Conflict, match="without 'URGENT'"):
        services.ticket_create(actor=cast.agent1, kind=Kind.INCIDENT, title="URGENT printer")
    assert not Ticket.objects.exists() and not TicketEvent.objects.exists()
    ticket = services.ticket_create(actor=cast.agent1, kind=Kind.INCIDENT, title="Printer jams")
    assert ticket.key == "INC-1"  # the refused create did not use up a number
    assert no_urgent_titles == ["created", "created"]


def test_a_guard_refuses_an_update_and_a_move_with_the_old_values_intact(cast, no_urgent_titles):
    ticket = services.ticket_create(actor=cast.agent1, kind=Kind.INCIDENT, title="Payroll down", impact=1, urgency=1)
    with pytest.raises(Conflict):
        services.ticket_update(ticket=ticket, actor=cast.agent1, version=ticket.version,
                               changes={"title": "URGENT payroll down"})
    services.ticket_transition(ticket=ticket, actor=cast.agent1, to=Status.IN_PROGRESS)
    with pytest.raises(Conflict, match="incident manager"):
        services.ticket_transition(ticket=ticket, actor=cast.agent1, to=Status.RESOLVED,
                                   values={"resolution_note": "Restarted"})
    ticket.refresh_from_db()
    assert (ticket.title, ticket.status, ticket.resolution_note) == ("Payroll down", Status.IN_PROGRESS, "")
    assert list(ticket.events.filter(kind=EventKind.STATUS).values_list("new", flat=True)) == [Status.IN_PROGRESS]
    assert no_urgent_titles[-3:] == ["updated", "transition", "transition"]
