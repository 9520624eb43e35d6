"""The queue's usual requests are read by SQL compiled once per shape: the same rows, cursors and totals as the ORM
builds, for every core view, sort, choice filter and page."""

from datetime import timedelta

import pytest
from django.http import QueryDict
from django.utils import timezone

from tests.factories import TicketFactory
from tracker import selectors
from tracker.choices import Kind, Status
from tracker.models import Contributor

FILTERS = ["", "kind=incident", "kind=incident&kind=change&priority=1&priority=2", "status=new&tier=1",
           "group={l2}&service={payroll}", "q=&assignee=&owner=&group=&tier=&sort="]  # the last: an empty form sent


@pytest.fixture
def tickets(cast):
    """Tickets of every kind, status and priority, in two groups, some assigned to or owned by lena, one she
    swarms on; created and updated at distinct times."""
    start = timezone.now() - timedelta(days=3)
    statuses = [Status.NEW, Status.IN_PROGRESS, Status.RESOLVED, Status.NEW]
    made = []
    for n in range(30):
        made.append(TicketFactory(
            kind=[Kind.INCIDENT, Kind.CHANGE, Kind.REQUEST][n % 3], status=statuses[n % 4], priority=n % 4 + 1,
            requester=cast.requester, group=[cast.l1, cast.l2][n % 2], service=cast.services["payroll"],
            assignee=cast.agent1 if n % 5 == 0 else None, owner=cast.agent1 if n % 7 == 0 else None,
            created_at=start + timedelta(minutes=7 * n), updated_at=start + timedelta(minutes=(13 * n) % 97)))
    Contributor.objects.create(ticket=made[3], user=cast.agent1, joined_at=start)
    return made


def _pages(user, view, params: QueryDict, sort_raw: str, compiled: bool) -> list:
    """Every page of the queue (keys, cursor) and the first page's total, read one way or the other."""
    related = selectors.columns_related(selectors.columns_for(user))
    filterset = selectors.TicketFilterSet(params, queryset=selectors.queue(user=user, view=view, related=related))
    assert filterset.is_valid(), filterset.errors
    shape = selectors.queue_shape(user=user, view=view, params=params, related=related) if compiled else None
    if compiled:
        assert shape is not None
    sort, desc = selectors.parse_sort(sort_raw, view.sort)
    seen, after = [], None
    while True:
        page = selectors.paginate(filterset.qs, sort=sort, desc=desc, after=after, size=4, shape=shape, user=user)
        seen.append(([t.key for t in page.rows], page.next_cursor, [t.assignee_id for t in page.rows]))
        if len(seen) == 1:
            seen.append(selectors.page_total(filterset.qs, page, first=True, shape=shape, user=user))
        if not page.next_cursor:
            return seen
        after = page.next_cursor


@pytest.mark.parametrize("slug", ["open", "mine", "owned", "my-group", "unassigned-l1", "swarming", "all"])
def test_the_compiled_queue_reads_what_the_orm_reads(cast, tickets, slug):
    view = selectors.saved_view(slug)
    for raw in FILTERS:
        params = QueryDict(raw.format(l2=cast.l2.pk, payroll=cast.services["payroll"].pk))
        for sort_raw in ("priority", "-priority", "-created", "updated"):
            for user in (cast.agent1, cast.agent2):
                assert _pages(user, view, params, sort_raw, True) == _pages(user, view, params, sort_raw, False), (
                    slug, raw, sort_raw, user)


def test_other_requests_are_built_by_the_orm(cast, tickets):
    related = ()
    open_view = selectors.saved_view("open")
    for raw in ("q=printer", "assignee=me", "breached=true", "created_after=2026-01-01T00:00:00Z"):
        assert selectors.queue_shape(user=cast.agent1, view=open_view, params=QueryDict(raw), related=related) is None
    breaching = selectors.saved_view("breaching")  # an app's view: its SQL may hold what it read when built
    assert selectors.queue_shape(user=cast.agent1, view=breaching, params=QueryDict(""), related=related) is None
    assert selectors.queue_shape(user=cast.requester, view=open_view, params=QueryDict(""), related=related) is None


def test_a_view_that_reads_the_viewer_takes_their_id_as_a_value(cast):
    mine = selectors.queue_shape(user=cast.agent1, view=selectors.saved_view("mine"), params=QueryDict(""))
    everyone = selectors.queue_shape(user=cast.agent1, view=selectors.saved_view("open"), params=QueryDict(""))
    assert mine.by_user and not everyone.by_user


def test_the_page_prefetches_the_badges_clocks_as_django_does(cast, django_assert_num_queries):
    """The clocks of the page's tickets: the same clocks in the same order per ticket as Django's prefetch, each
    knowing its ticket, and the cached set still filters by its ticket."""
    from django.db.models import prefetch_related_objects

    from sla.models import Calendar, Clock, Policy

    policy = Policy.objects.create(name="Incidents", order=10, response_s=3600, resolution_s=4 * 3600,
                                   calendar=Calendar.objects.create(name="24x7", time_zone="UTC", always_open=True))
    now = timezone.now()
    for n in range(6):
        ticket = TicketFactory(requester=cast.requester, created_at=now - timedelta(minutes=n))
        for cycle in range(1, n % 3 + 2):
            for metric in ("resolution", "response"):
                Clock.objects.create(ticket=ticket, policy=policy, metric=metric, cycle=cycle, goal_s=3600,
                                     started_at=now, due_at=now + timedelta(hours=1))
    view = selectors.saved_view("all")
    qs = selectors.queue(user=cast.agent1, view=view)
    lookups = qs._prefetch_related_lookups
    sort, desc = selectors.parse_sort("-created", view.sort)
    page = selectors.paginate(qs, sort=sort, desc=desc, after=None)
    django_way = list(qs.prefetch_related(None).order_by("-created_at", "-id")[:50])
    prefetch_related_objects(django_way, *lookups)
    clocks = [[c.pk for c in t._prefetched_objects_cache["sla_clocks"]] for t in page.rows]
    assert clocks == [[c.pk for c in t._prefetched_objects_cache["sla_clocks"]] for t in django_way]
    assert sum(map(len, clocks)) >= 6
    first = page.rows[0]
    with django_assert_num_queries(0):
        assert all(c.ticket is first for c in first._prefetched_objects_cache["sla_clocks"])
    others = page.rows[1]._prefetched_objects_cache["sla_clocks"]
    assert {c.ticket_id for c in others.filter(state="running")} == {page.rows[1].pk}


def test_past_the_bound_of_compiled_queries_the_orm_reads_the_page(cast, tickets, monkeypatch):
    monkeypatch.setattr(selectors, "COMPILED_MAX", 0)
    monkeypatch.setattr(selectors, "_compiled_keys", set())
    view, params = selectors.saved_view("mine"), QueryDict("kind=incident")
    assert _pages(cast.agent1, view, params, "-created", True) == _pages(cast.agent1, view, params, "-created", False)
    assert selectors._compiled_keys == set()
