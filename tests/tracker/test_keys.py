"""Human keys: one numbering per kind, never a duplicate, even when many clients create at once."""

import pytest

from tests.workers import at_once
from tracker import services
from tracker.models import Ticket


def test_each_kind_counts_on_its_own(cast):
    made = [services.ticket_create(actor=cast.agent2, kind=k, title="x").key
            for k in ("incident", "incident", "change", "defect", "incident")]
    assert made == ["INC-1", "INC-2", "CHG-1", "DEF-1", "INC-3"]


def test_a_rolled_back_create_leaves_at_most_a_gap_never_a_duplicate(cast):
    from django.db import transaction

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
