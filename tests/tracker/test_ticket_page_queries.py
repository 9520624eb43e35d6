"""The ticket page's statements for a ticket of each kind, with a warm session (README: workspace 14): the
session, the user, the ticket with its joins, its clocks, files, timeline, links, the requester's open count,
the agent's macros, the swarm's contributors, the neighbours (changes on its service, known errors, its major
incident or a problem's incidents), the releases on its service, the bell's unread count and the groups to
escalate to; a service request adds its catalogue request (read once for both of its panels), a defect its
code, a change its approval rounds, board, tasks, rollbacks, schedule and the people and groups of its forms.
And the labels of choices the page shows read as Django's get_FOO_display() reads them."""
import pytest
from django.utils import timezone, translation

from tests.factories import GroupFactory, TicketFactory
from tracker.choices import Kind, LinkType, Status, Tier
from tracker.models import Link, Ticket
from tracker.templatetags.ticket_page import choice_display

BUDGET = {Kind.INCIDENT: 13, Kind.REQUEST: 14, Kind.PROBLEM: 13, Kind.DEFECT: 14, Kind.CHANGE: 22}


@pytest.mark.parametrize("kind", list(BUDGET))
def test_the_page_of_each_kind_reads_its_budget(cast, client_for, kind, django_assert_num_queries):
    ticket = TicketFactory(kind=kind, requester=cast.requester, service=cast.services["payroll"], group=cast.l1)
    client = client_for(cast.agent1)
    client.get(f"/tickets/{ticket.key}/")
    with django_assert_num_queries(BUDGET[kind]):
        assert client.get(f"/tickets/{ticket.key}/").status_code == 200


@pytest.mark.parametrize("language", ["en", "de"])
def test_choice_labels_read_as_get_foo_display(language):
    fields = [f for f in Ticket._meta.concrete_fields if f.choices]
    assert {"kind", "status", "priority", "impact"} <= {f.name for f in fields}
    with translation.override(language):
        for field in fields:
            for value in [*(v for v, _ in field.flatchoices), "not-a-choice", 99]:
                ticket = Ticket(**{field.attname: value})
                assert choice_display(ticket, field.name) == getattr(ticket, f"get_{field.name}_display")()


def test_the_escalate_form_follows_group_edits_and_the_covering_rule(cast, client_for):
    payroll = cast.services["payroll"]
    ticket = TicketFactory(kind=Kind.INCIDENT, requester=cast.requester, service=payroll, group=cast.l1)
    client = client_for(cast.agent1)
    client.get(f"/tickets/{ticket.key}/")  # the groups are cached now
    cast.l1.escalates_to = None
    cast.l1.save()
    cast.l2.services.remove(payroll)  # App Support, the first L2 by id, no longer covers it
    other = GroupFactory(name="Another L2", tier=Tier.L2)
    other.services.add(payroll)
    page = client.get(f"/tickets/{ticket.key}/").content.decode()
    assert "Next tier: Another L2 (L2)" in page
    select = page[page.index('id="esc-group"'):page.index("</select>", page.index('id="esc-group"'))]
    assert [cast.l2.name in select, cast.l1.name in select] == [True, False]  # every group but its own
    assert select.index("Another L2") < select.index("App Support") < select.index("Payroll Dev")  # tier, name


@pytest.mark.parametrize("incidents", [1, 6])
def test_a_problems_incidents_and_its_services_changes_cost_no_query_per_row(
        cast, client_for, incidents, django_assert_num_queries):
    payroll = cast.services["payroll"]
    problem = TicketFactory(kind=Kind.PROBLEM, requester=cast.requester, service=payroll, group=cast.l1,
                            status=Status.IN_PROGRESS)
    for _ in range(incidents):
        incident = TicketFactory(kind=Kind.INCIDENT, requester=cast.other_requester, service=payroll)
        Link.objects.create(source=incident, target=problem, type=LinkType.INSTANCE_OF, created_at=timezone.now())
        TicketFactory(kind=Kind.CHANGE, requester=cast.requester, service=payroll)
    client = client_for(cast.agent1)
    client.get(f"/tickets/{problem.key}/")
    with django_assert_num_queries(BUDGET[Kind.PROBLEM]):
        page = client.get(f"/tickets/{problem.key}/").content.decode()
    assert page.count(cast.other_requester.display_name) >= incidents  # the Resolve form names each requester
    assert page.count('<span class="badge status">change</span>') == incidents
