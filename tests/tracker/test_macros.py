"""Macros: a canned reply with variables that may also hand the ticket on and move it, all or nothing."""

import pytest

from tracker import selectors, services
from tracker.choices import EventKind, Kind, Status
from tracker.errors import AccessDenied, DomainError
from tracker.models import Comment, Macro, Ticket, TicketEvent


@pytest.fixture
def ticket(cast):
    incident = services.ticket_create(actor=cast.agent1, kind=Kind.INCIDENT, title="VPN drops",
                                      requester=cast.requester, service=cast.services["payroll"], group=cast.l1)
    services.ticket_transition(ticket=incident, to=Status.IN_PROGRESS, actor=cast.agent1)
    return incident


def test_variables_are_filled_and_an_unknown_one_stays_visible(cast, ticket):
    macro = Macro(name="Hello", body="Hi {requester_first_name}, {agent} here about {key} ({title}). {typo}",
                  owner=cast.agent1)
    text = services.macro_render(macro=macro, ticket=ticket, actor=cast.agent1)
    assert text == f"Hi Alice, {cast.agent1.display_name} here about {ticket.key} (VPN drops). {{typo}}"


def test_a_macro_replies_and_resolves_in_one_step_with_the_reply_as_resolution_note(cast, ticket):
    macro = Macro.objects.create(name="Solved", body="Fixed by a reboot.", to_status=Status.RESOLVED, group=cast.l1)
    services.ticket_reply_with_macro(ticket=ticket, actor=cast.agent1, macro=macro, body="Fixed: reboot the router.")
    ticket.refresh_from_db()
    assert ticket.status == Status.RESOLVED and ticket.resolution_note == "Fixed: reboot the router."
    use = TicketEvent.objects.get(ticket=ticket, kind=EventKind.MACRO)
    assert "Solved" in use.note and "Resolved" in use.note


def test_a_refused_move_leaves_nothing_behind(cast, ticket):
    macro = Macro.objects.create(name="Approve", body="Approved.", to_status=Status.APPROVED, group=cast.l1)
    before = Comment.objects.count()
    with pytest.raises(DomainError):
        services.ticket_reply_with_macro(ticket=ticket, actor=cast.agent1, macro=macro, body="Approved.")
    assert Comment.objects.count() == before
    assert Ticket.objects.get(pk=ticket.pk).status == Status.IN_PROGRESS


def test_a_team_macro_hands_the_ticket_on(cast, ticket):
    macro = Macro.objects.create(name="To app support", body="Passing to {group}.", to_group=cast.l2,
                                 group=cast.l1, internal=True)
    services.ticket_reply_with_macro(ticket=ticket, actor=cast.agent1, macro=macro, body="Passing on.")
    ticket.refresh_from_db()
    assert ticket.group == cast.l2 and Comment.objects.get(ticket=ticket).internal


def test_only_the_owner_or_the_team_may_use_a_macro(cast, ticket):
    mine = Macro.objects.create(name="Mine", body="x", owner=cast.agent2)
    assert [m.name for m in selectors.macros_for(cast.agent1)] == []
    with pytest.raises(AccessDenied):
        services.ticket_reply_with_macro(ticket=ticket, actor=cast.agent1, macro=mine, body="x")


def test_the_comment_box_fills_from_a_macro_and_sends_with_it(cast, ticket, client_for):
    macro = Macro.objects.create(name="Need info", body="Hi {requester_first_name}, which site?",
                                 to_status=Status.PENDING, group=cast.l1)
    client = client_for(cast.agent1)
    filled = client.get(f"/tickets/{ticket.key}/macro/", {"macro": macro.pk}, HTTP_HX_REQUEST="true")
    assert "Hi Alice, which site?" in filled.content.decode() and "moves it to" in filled.content.decode()
    client.post(f"/tickets/{ticket.key}/comment/", {"body": "Hi Alice, which site are you at?", "macro": macro.pk},
                HTTP_HX_REQUEST="true")
    ticket.refresh_from_db()
    assert ticket.status == Status.PENDING
    assert Comment.objects.get(ticket=ticket).body == "Hi Alice, which site are you at?"


def test_braces_that_are_not_variables_stay_as_written(cast, ticket):
    macro = Macro(name="Odd", body="Use {0} or { or {} or {key.__class__} for {key}", owner=cast.agent1)
    text = services.macro_render(macro=macro, ticket=ticket, actor=cast.agent1)
    assert text == f"Use {{0}} or {{ or {{}} or {{key.__class__}} for {ticket.key}"
