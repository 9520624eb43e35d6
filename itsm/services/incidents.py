"""Resolving incidents on behalf of what explains them (a problem, a major incident): one rule for both."""

from datetime import datetime

from tracker import services as core
from tracker.choices import Status
from tracker.models import Ticket


def resolve_with_note(ticket: Ticket, *, actor, note: str, because: str, now: datetime, reply: str = "") -> None:
    """Move an open ticket on to resolved through its workflow (start it, resume it) with `note` as its
    resolution note; with `reply`, also post it as a public reply first. Its requester hears once: the
    resolution, which carries the note (the reply and the intermediate moves are quiet)."""
    if reply:
        core.ticket_comment(ticket=ticket, actor=actor, body=reply, now=now, quiet=True)
    if ticket.status in (Status.NEW, Status.PENDING):
        core.ticket_transition(ticket=ticket, to=Status.IN_PROGRESS, actor=actor, now=now, quiet=True,
                               note=because)
    core.ticket_transition(ticket=ticket, to=Status.RESOLVED, actor=actor, now=now,
                           values={"resolution_note": note}, note=because)
