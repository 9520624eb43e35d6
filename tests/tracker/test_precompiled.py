"""Queries compiled once per shape (`tracker.precompiled`) give what their QuerySet gives, for any values, with
the related rows, annotations and prefetches the QuerySet reads; they refuse what would change their SQL."""
from datetime import timedelta

import pytest
from django.db.models import Exists, OuterRef
from django.utils import timezone

from itsm import selectors as itsm_selectors
from tests.factories import TicketFactory
from tracker import selectors
from tracker.choices import Kind, LinkType
from tracker.models import Link, Ticket
from tracker.precompiled import Precompiled


def _fields(ticket) -> dict:
    return {f.attname: getattr(ticket, f.attname) for f in Ticket._meta.concrete_fields}


def test_rows_equal_the_querysets_for_every_value_and_build_once_per_shape(cast):
    built = []

    def build(shape, *, service_id, since):
        built.append(shape)
        qs = Ticket.objects.filter(service_id=service_id, created_at__gte=since).select_related("requester", "group")
        linked = Link.objects.filter(source_id=OuterRef("pk"))
        return qs.annotate(linked=Exists(linked)).order_by("-id")[:shape]

    query = Precompiled(build)
    payroll, mail = cast.services["payroll"], cast.services["mail"]
    tickets = [TicketFactory(service=payroll, requester=cast.requester, group=cast.l1) for _ in range(3)]
    TicketFactory(service=mail, requester=cast.other_requester)
    Link.objects.create(source=tickets[0], target=tickets[1], type=LinkType.RELATES_TO,
                        created_at=timezone.now())
    since = timezone.now() - timedelta(days=1)
    for service in (payroll, mail, payroll):
        got = query(5, service_id=service.pk, since=since)
        want = list(build(5, service_id=service.pk, since=since))
        assert [_fields(t) for t in got] == [_fields(t) for t in want]
        assert [(t.requester.username, t.group and t.group.name, t.linked) for t in got] == [
            (t.requester.username, t.group and t.group.name, t.linked) for t in want]
    assert query(5, service_id=payroll.pk, since=timezone.now() + timedelta(days=1)) == []
    assert len(query(2, service_id=payroll.pk, since=since)) == 2
    assert built.count(5) == 4 and built.count(2) == 1  # once compiled per shape; the rest are the references


def test_the_ticket_pages_reads_equal_the_orm_for_staff(cast, django_assert_num_queries):
    problem = TicketFactory(kind=Kind.PROBLEM, service=cast.services["payroll"], requester=cast.requester)
    incidents = [TicketFactory(kind=Kind.INCIDENT, requester=cast.requester) for _ in range(2)]
    for incident in incidents:
        Link.objects.create(source=incident, target=problem, type=LinkType.INSTANCE_OF, created_at=timezone.now())
    change = TicketFactory(kind=Kind.CHANGE, service=cast.services["payroll"], requester=cast.requester)
    page = selectors.ticket_for_user(cast.agent1, problem.key.lower(), page=True)
    plain = selectors.ticket_for_user(cast.requester, problem.key, page=True)  # the ORM's path
    assert _fields(page) == _fields(plain) and page.requester == plain.requester
    assert "sla_clocks" in page._prefetched_objects_cache  # the apps' prefetches are done too
    with django_assert_num_queries(1):
        links = selectors.ticket_links(ticket=problem, user=cast.agent1)
    assert [(r["direction"], r["other"].key) for r in links] == [
        (r["direction"], r["other"].key) for r in selectors.ticket_links(ticket=problem, user=cast.requester)]
    with django_assert_num_queries(1):
        around = itsm_selectors.ticket_neighbours(ticket=problem, user=cast.agent1)
    assert [t.key for t in around["instances"]] == [t.key for t in incidents]
    assert [t.key for t in around["changes"]] == [change.key]
    assert [t.linked for t in around["instances"]] == [False, False]


def test_what_would_change_the_sql_is_refused():
    with pytest.raises(TypeError):
        Precompiled(lambda shape, *, pk: Ticket.objects.filter(pk=pk))(pk=None)
    with pytest.raises(TypeError):
        Precompiled(lambda shape, *, flag: Ticket.objects.filter(is_open=flag))(flag=True)
    with pytest.raises(ValueError, match="title"):  # a value the query does not pass as it came
        Precompiled(lambda shape, *, title: Ticket.objects.filter(title__icontains=title))(title="VPN")


def test_the_requesters_open_count_reads_as_the_bounded_count(cast):
    from tracker.choices import Status
    requester = cast.requester
    assert selectors.requester_open_count(TicketFactory(requester=requester), cast.agent1) == "1"
    TicketFactory.create_batch(99, requester=requester)
    TicketFactory(requester=requester, status=Status.CLOSED)
    ticket = Ticket.objects.filter(requester=requester).first()
    assert selectors.requester_open_count(ticket, cast.agent1) == "100"
    TicketFactory(requester=requester)
    assert selectors.requester_open_count(ticket, cast.agent1) == "100+"
    open_ones = Ticket.objects.filter(requester=requester, status__in=selectors.OPEN_STATUSES)
    assert selectors.requester_open_count(ticket, cast.agent1) == selectors.count_hint(open_ones, cap=100)
    assert selectors.requester_open_count(ticket, requester) == "100+"  # their own: the ORM's path, same answer


@pytest.mark.parametrize("to_attr", [None, "clock_list"])
def test_a_reverse_foreign_key_prefetch_of_one_row_is_compiled_and_reads_as_djangos(
        cast, to_attr, django_assert_num_queries):
    from django.db.models import Prefetch

    from sla.models import Calendar, Clock, Policy

    calendar = Calendar.objects.create(name="Always", time_zone="UTC", always_open=True)
    policy = Policy.objects.create(name="Inactive", calendar=calendar, active=False, order=999)
    ticket = TicketFactory(kind=Kind.INCIDENT, requester=cast.requester)
    other = TicketFactory(kind=Kind.INCIDENT, requester=cast.requester)
    for owner, metric in ((ticket, "resolution"), (ticket, "response"), (other, "response")):
        Clock.objects.create(ticket=owner, policy=policy, metric=metric, goal_s=3600, started_at=timezone.now())
    clocks = Clock.objects.only("id", "ticket_id", "metric", "state").order_by("-metric")

    def build(shape, *, key):
        return Ticket.objects.filter(key=key).prefetch_related(
            Prefetch("sla_clocks", queryset=clocks, to_attr=to_attr))[:2]

    query = Precompiled(build)
    for _ in range(2):  # compiled, then replayed
        with django_assert_num_queries(2):  # the ticket, its clocks
            (got,) = query(key=ticket.key)
        (want,) = build((), key=ticket.key)
        with django_assert_num_queries(0):
            mine = getattr(got, to_attr) if to_attr else list(got.sla_clocks.all())
            theirs = getattr(want, to_attr) if to_attr else list(want.sla_clocks.all())
            assert [(c.pk, c.metric, c.state, c.ticket is got) for c in mine] == [
                (c.pk, c.metric, c.state, c.ticket is want) for c in theirs]
            assert len(mine) == 2
    (found,) = query(key=other.key)
    assert [c.ticket_id for c in (getattr(found, to_attr) if to_attr else found.sla_clocks.all())] == [other.pk]
    assert query(key="NONE-1") == []


def test_a_prefetch_that_filters_is_left_to_django_so_each_request_filters_by_its_own_values(cast):
    """A prefetch's own filter may hold a value of its moment (a time, a state chosen by the request): compiled once,
    the next request would read with the first one's value. Such a prefetch is Django's, every time."""
    from django.db.models import Prefetch, prefetch_related_objects

    from sla.models import Calendar, Clock, Policy
    from tracker.precompiled import prefetch_compiled

    calendar = Calendar.objects.create(name="Always", time_zone="UTC", always_open=True)
    policy = Policy.objects.create(name="Inactive", calendar=calendar, active=False, order=999)
    tickets = [TicketFactory(kind=Kind.INCIDENT, requester=cast.requester) for _ in range(2)]
    for ticket in tickets:
        for metric in ("response", "resolution"):
            Clock.objects.create(ticket=ticket, policy=policy, metric=metric, goal_s=3600, started_at=timezone.now())
    for metric in ("response", "resolution", "response"):
        rows = list(Ticket.objects.filter(pk__in=[t.pk for t in tickets]).order_by("pk"))
        lookup = Prefetch("sla_clocks", queryset=Clock.objects.filter(metric=metric).order_by("pk"))
        left = prefetch_compiled(rows, [lookup])
        assert left == [lookup]
        prefetch_related_objects(rows, *left)
        assert [[c.metric for c in row.sla_clocks.all()] for row in rows] == [[metric], [metric]]
    # Columns and an order only: compiled, and per number of rows the same answer as Django's
    for count in (2, 1, 2):
        rows = list(Ticket.objects.filter(pk__in=[t.pk for t in tickets[:count]]).order_by("pk"))
        lookup = Prefetch("sla_clocks", queryset=Clock.objects.only("id", "ticket_id", "metric").order_by("metric"))
        assert prefetch_compiled(rows, [lookup]) == []
        assert [[c.metric for c in row.sla_clocks.all()] for row in rows] == [["resolution", "response"]] * count


def test_a_compiled_prefetch_holds_each_rows_related_rows_as_the_relation_would(cast, django_assert_num_queries):
    """The rows a compiled prefetch gave are read with no query, and what is asked of the relation later (a
    filter, a count, exists, its SQL) is what Django's own prefetch answers: this row's related rows only."""
    from django.db.models import Prefetch, prefetch_related_objects

    from sla.models import Calendar, Clock, Policy
    from tracker.precompiled import prefetch_compiled

    calendar = Calendar.objects.create(name="Always", time_zone="UTC", always_open=True)
    policy = Policy.objects.create(name="Inactive", calendar=calendar, active=False, order=999)
    tickets = [TicketFactory(kind=Kind.INCIDENT, requester=cast.requester) for _ in range(3)]
    for ticket, metrics in zip(tickets, (("response", "resolution"), ("response",), ()), strict=True):
        for metric in metrics:
            Clock.objects.create(ticket=ticket, policy=policy, metric=metric, goal_s=3600, started_at=timezone.now())
    clocks = Clock.objects.only("id", "ticket_id", "metric").order_by("metric")
    ids = [t.pk for t in tickets]
    mine = list(Ticket.objects.filter(pk__in=ids).order_by("pk"))
    assert prefetch_compiled(mine, [Prefetch("sla_clocks", queryset=clocks)]) == []
    theirs = list(Ticket.objects.filter(pk__in=ids).order_by("pk"))
    prefetch_related_objects(theirs, Prefetch("sla_clocks", queryset=clocks))
    with django_assert_num_queries(0):
        assert [[c.metric for c in t.sla_clocks.all()] for t in mine] == [["resolution", "response"], ["response"], []]
        assert [t.sla_clocks.count() for t in mine] == [2, 1, 0]
        assert all(c.ticket is t for t in mine for c in t.sla_clocks.all())
    for got, want in zip(mine, theirs, strict=True):
        assert str(got.sla_clocks.all().query) == str(want.sla_clocks.all().query)
        assert list(got.sla_clocks.filter(metric="response")) == list(want.sla_clocks.filter(metric="response"))
        assert got.sla_clocks.all().exists() == want.sla_clocks.all().exists()
        assert [c.ticket is got for c in got.sla_clocks.filter(metric="response")] == [True] * (got.pk != ids[2])
    clone = mine[0].sla_clocks.all()._chain()  # a clone asks the database again, for this row's rows only
    assert sorted(c.metric for c in clone) == ["resolution", "response"]


def test_a_compiled_count_is_the_number_of_rows_the_query_gives(cast, django_assert_num_queries):
    made = [TicketFactory(kind=Kind.INCIDENT, requester=cast.requester) for _ in range(7)]

    def build(shape, *, after):
        qs = Ticket.objects.filter(pk__gt=after).values_list("pk", flat=True).order_by("id")
        return qs[:shape] if shape else qs

    query = Precompiled(build)
    for shape, after in ((0, 0), (0, made[3].pk), (3, 0), (10, made[5].pk), (0, made[6].pk), (3, made[4].pk)):
        with django_assert_num_queries(1):
            n = query.count(shape, after=after)
        assert n == len(query(shape, after=after)) == len(build(shape, after=after))
    assert query.count(0, after=made[2].pk) == 4
    assert query.count(3, after=0) == 3  # a slice caps the count
    nothing = Precompiled(lambda shape, *, after: Ticket.objects.filter(pk__gt=after, pk__in=[]))
    with django_assert_num_queries(0):
        assert nothing.count(after=1) == 0
