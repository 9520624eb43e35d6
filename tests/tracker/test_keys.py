"""Human keys: one numbering per kind, never a duplicate, even when many clients create at once."""

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from tests.workers import at_once
from tracker import hooks, services
from tracker.errors import Conflict
from tracker.models import KeyCounter, Ticket


def test_each_kind_counts_on_its_own(cast):
    made = [services.ticket_create(actor=cast.agent2, kind=k, title="x").key
            for k in ("incident", "incident", "change", "defect", "incident")]
    assert made == ["INC-1", "INC-2", "CHG-1", "DEF-1", "INC-3"]


def test_a_rolled_back_create_leaves_at_most_a_gap_never_a_duplicate(cast):
    services.ticket_create(actor=cast.agent1, kind="incident", title="a")
    with pytest.raises(RuntimeError), transaction.atomic():
        services.ticket_create(actor=cast.agent1, kind="incident", title="b")
        raise RuntimeError("client went away")
    third = services.ticket_create(actor=cast.agent1, kind="incident", title="c")
    assert third.key == "INC-2"  # the counter row rolled back with the ticket
    assert Ticket.objects.count() == 2


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_creation_never_duplicates_a_key(cast):
    threads, per_thread = 8, 25
    keys = [key for batch in at_once(lambda: [services.ticket_create(actor=cast.agent1, kind="incident",
                                                                      title="race").key
                                             for _ in range(per_thread)], threads)
            for key in batch]
    assert len(keys) == len(set(keys)) == threads * per_thread
    numbers = sorted(int(k.split("-")[1]) for k in keys)
    assert numbers == list(range(1, threads * per_thread + 1))


@pytest.fixture
def refuse_titled():
    """A guard refusing creates whose title is "refused", running `also()` first when it is set."""
    state = {"also": None}

    def guard(change):
        if change.reason == "created" and change.ticket.title == "refused":
            if state["also"]:
                state["also"]()
            raise Conflict("Refused on purpose.")

    hooks.register_guard(guard)
    yield state
    hooks._guards.remove(guard)


def _next_number(kind="incident") -> int:
    return KeyCounter.objects.get(kind=kind).next_number


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_create_of_its_own_takes_its_number_before_its_transaction(cast):
    services.ticket_create(actor=cast.agent1, kind="incident", title="first")  # the counter's row exists
    with CaptureQueriesContext(connection) as ctx:
        ticket = services.ticket_create(actor=cast.agent1, kind="incident", title="second")
    statements = [q["sql"] for q in ctx.captured_queries]
    bump = next(i for i, sql in enumerate(statements) if "tracker_keycounter" in sql)
    assert statements[bump + 1] == "BEGIN"  # committed on its own: its row lock is not held to the create's commit
    assert "tracker_keycounter" not in " ".join(statements[bump + 1:])
    assert ticket.key == "INC-2" and _next_number() == 3


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_refused_create_gives_its_number_back(cast, refuse_titled):
    services.ticket_create(actor=cast.agent1, kind="incident", title="a")
    with pytest.raises(Conflict):
        services.ticket_create(actor=cast.agent1, kind="incident", title="refused")
    assert _next_number() == 2
    assert services.ticket_create(actor=cast.agent1, kind="incident", title="b").key == "INC-2"


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_refused_create_leaves_a_gap_when_a_later_number_was_taken_meanwhile(cast, refuse_titled):
    services.ticket_create(actor=cast.agent1, kind="incident", title="a")
    # another create takes INC-3 while the refused one (INC-2) is still being written
    refuse_titled["also"] = lambda: at_once(lambda: services._bump_counter("incident"), 1)
    with pytest.raises(Conflict):
        services.ticket_create(actor=cast.agent1, kind="incident", title="refused")
    assert KeyCounter.objects.get(kind="incident").next_number == 4
    assert services.ticket_create(actor=cast.agent1, kind="incident", title="b").key == "INC-4"


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_an_error_after_the_commit_keeps_the_number_taken(cast):
    def fail_after_commit(change):
        if change.reason == "created" and change.ticket.title == "committed":
            transaction.on_commit(lambda: (_ for _ in ()).throw(RuntimeError("after the commit")))

    hooks.register(fail_after_commit)
    try:
        services.ticket_create(actor=cast.agent1, kind="incident", title="a")
        with pytest.raises(RuntimeError):
            services.ticket_create(actor=cast.agent1, kind="incident", title="committed")
    finally:
        hooks._observers.remove(fail_after_commit)
    assert Ticket.objects.filter(key="INC-2", title="committed").exists()
    assert services.ticket_create(actor=cast.agent1, kind="incident", title="b").key == "INC-3"
