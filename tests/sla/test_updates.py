"""Requesters and watchers hear about replies and moves; internal notes stay internal."""
from sla.models import Notification, OutboxMessage
from tracker import services
from tracker.choices import Status


def _incident(cast):
    ticket = services.ticket_create(actor=cast.requester, kind="incident", title="VPN drops",
                                    service=cast.services["payroll"])
    services.ticket_assign(ticket=ticket, actor=cast.agent1, assignee=cast.agent1)
    services.ticket_watch(ticket=ticket, actor=cast.agent1, user=cast.agent2)
    return ticket


def test_a_public_reply_reaches_the_requester_and_watchers_but_not_its_author(cast):
    ticket = _incident(cast)
    services.ticket_comment(ticket=ticket, actor=cast.agent1, body="Try the new profile.")
    updates = Notification.objects.filter(ticket=ticket, kind="update")
    assert set(updates.values_list("recipient__username", flat=True)) == {"alice", "liam"}
    note = updates.get(recipient=cast.requester)
    assert "New reply from" in note.title and "Try the new profile." in note.body
    assert OutboxMessage.objects.filter(ticket=ticket, kind="update", to_address=cast.requester.email).exists()


def test_an_internal_note_never_reaches_the_requester(cast):
    ticket = _incident(cast)
    services.ticket_comment(ticket=ticket, actor=cast.agent1, body="Account locked by audit", internal=True)
    recipients = set(Notification.objects.filter(ticket=ticket, kind="update")
                     .values_list("recipient__username", flat=True))
    assert recipients == {"liam"}
    # Only the acknowledgement of the request reached the requester's mail, not the note.
    assert list(OutboxMessage.objects.filter(ticket=ticket, to_address=cast.requester.email)
                .values_list("kind", flat=True)) == ["received"]


def test_resolving_tells_the_requester_with_the_resolution_note(cast):
    ticket = _incident(cast)
    services.ticket_transition(ticket=ticket, to=Status.IN_PROGRESS, actor=cast.agent1)
    services.ticket_transition(ticket=ticket, to=Status.RESOLVED, actor=cast.agent1,
                               values={"resolution_note": "Certificate renewed."})
    note = Notification.objects.filter(ticket=ticket, kind="update", recipient=cast.requester).latest("id")
    assert "resolved" in note.title.lower() and "Certificate renewed." in note.body
    assert Notification.objects.filter(ticket=ticket, kind="update", recipient=cast.agent1).count() == 0
