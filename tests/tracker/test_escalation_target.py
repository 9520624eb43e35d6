"""The next tier's group for a group without `escalates_to`: the first of the next tier covering the ticket's service,
else the first of that tier; read from the configuration cache, which sees groups and their services change."""
from tests.factories import GroupFactory, TicketFactory
from tracker.choices import Kind, Tier
from tracker.services import escalation_target


def test_a_group_without_a_next_group_escalates_to_the_next_tier_covering_the_service(
        cast, services, django_assert_max_num_queries):
    lone = GroupFactory(name="Field Desk", tier=Tier.L1)
    first_l2 = GroupFactory(name="Network L2", tier=Tier.L2)  # created after App Support: a higher id
    ticket = TicketFactory(kind=Kind.INCIDENT, requester=cast.requester, group=lone, service=services["payroll"])
    assert escalation_target(ticket) == cast.l2  # the first L2 group covering Payroll
    with django_assert_max_num_queries(1):  # the configuration's stamp at most: the groups are cached
        assert escalation_target(ticket) == cast.l2
    other = TicketFactory(kind=Kind.INCIDENT, requester=cast.requester, group=lone, service=services["mail"])
    assert escalation_target(other) == cast.l2  # none of L2 covers mail: the first of the tier
    first_l2.services.add(services["mail"])  # a change of coverage is seen at once
    assert escalation_target(other) == first_l2
    cast.l2.delete()
    assert escalation_target(ticket) == first_l2
    unassigned = TicketFactory(kind=Kind.INCIDENT, requester=cast.requester, group=None, service=services["mail"])
    assert escalation_target(unassigned) == first_l2  # no group: escalates from L1
    top = TicketFactory(kind=Kind.INCIDENT, requester=cast.requester, group=GroupFactory(tier=Tier.L3))
    assert escalation_target(top) is None
    chained = TicketFactory(kind=Kind.INCIDENT, requester=cast.requester, group=cast.l1)
    assert escalation_target(chained) == cast.l1.escalates_to
