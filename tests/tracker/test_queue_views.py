"""Saved queue views: personal or shared with a team, with counts served apart from the queue page."""

import pytest
from django.http import QueryDict

from tests.factories import TicketFactory
from tracker import services
from tracker.errors import AccessDenied, Conflict, ValidationFailed
from tracker.models import QueueView


def test_a_view_keeps_only_the_queues_own_parameters(cast):
    view = services.queue_view_save(actor=cast.agent1, name="P1 on payroll",
                                    query=QueryDict("view=open&priority=1&service=3&evil=<x>&after=abc"))
    assert view.owner == cast.agent1 and view.group is None
    assert QueryDict(view.query).dict() == {"view": "open", "priority": "1", "service": "3"}


def test_sharing_needs_membership_and_names_are_unique_where_they_live(cast):
    shared = services.queue_view_save(actor=cast.agent1, name="Desk P1", query=QueryDict("priority=1"),
                                      group=cast.l1)
    assert shared.group == cast.l1 and shared.owner is None
    with pytest.raises(AccessDenied):
        services.queue_view_save(actor=cast.agent1, name="Theirs", query=QueryDict(""), group=cast.l3)
    with pytest.raises(Conflict):
        services.queue_view_save(actor=cast.agent1, name="Desk P1", query=QueryDict(""), group=cast.l1)
    services.queue_view_save(actor=cast.agent1, name="Desk P1", query=QueryDict(""))  # a personal one may
    with pytest.raises(ValidationFailed):
        services.queue_view_save(actor=cast.agent1, name="   ", query=QueryDict(""))


def test_only_the_owner_or_the_team_deletes_a_view(cast):
    mine = services.queue_view_save(actor=cast.agent1, name="Mine", query=QueryDict(""))
    with pytest.raises(AccessDenied):
        services.queue_view_delete(actor=cast.agent2, view=mine)
    services.queue_view_delete(actor=cast.agent1, view=mine)
    assert not QueueView.objects.exists()


def test_counts_come_in_their_own_request_for_every_view(cast, client_for):
    TicketFactory.create_batch(3, requester=cast.requester, group=cast.l1, priority=1)
    TicketFactory.create_batch(2, requester=cast.requester, group=cast.l1, priority=3)
    services.queue_view_save(actor=cast.agent1, name="Only P1", query=QueryDict("view=open&priority=1"),
                             group=cast.l1)
    client = client_for(cast.agent2)
    page = client.get("/queue/").content.decode()
    assert "Only P1" not in page  # liam is not in the desk's team
    desk = client_for(cast.agent1)
    page = desk.get("/queue/").content.decode()
    assert "Only P1" in page and 'class="count"' not in page  # the page itself counts nothing
    counts = desk.get("/queue/counts/", HTTP_HX_REQUEST="true").content.decode()
    assert 'Only P1 <span class="count">3</span>' in counts
    assert 'All open <span class="count">5</span>' in counts
