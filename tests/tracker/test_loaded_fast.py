"""Rows loaded by `tracker.models.LoadedFast.from_db` are the instances `Model.__init__` would build: the same field
values, deferred columns read on use, related rows joined or fetched, state of a saved row, and they save, refresh
and compare as before. A model with an init signal receiver is loaded by `Model.__init__`."""
import pytest
from django.db.models import Model
from django.db.models.signals import post_init

from tests.factories import TicketFactory
from tracker.choices import Kind
from tracker.models import LoadedFast, Ticket, User


def _django_way(model, db, field_names, values):
    return Model.from_db.__func__(model, db, field_names, values)


def _fields(obj) -> dict:
    return {f.attname: getattr(obj, f.attname) for f in type(obj)._meta.concrete_fields}


def test_a_loaded_row_equals_the_one_model_init_builds(cast):
    ticket = TicketFactory(kind=Kind.INCIDENT, requester=cast.requester, assignee=cast.agent1, group=cast.l1)
    names = [f.attname for f in Ticket._meta.concrete_fields]
    values = [getattr(ticket, n) for n in names]
    mine, theirs = Ticket.from_db("default", names, values), _django_way(Ticket, "default", names, values)
    assert type(mine) is Ticket and mine == theirs
    assert _fields(mine) == _fields(theirs)
    assert (mine._state.adding, mine._state.db) == (theirs._state.adding, theirs._state.db) == (False, "default")
    assert mine.get_deferred_fields() == theirs.get_deferred_fields() == set()


def test_deferred_columns_and_joined_rows_read_as_before(cast, django_assert_num_queries):
    ticket = TicketFactory(kind=Kind.INCIDENT, requester=cast.requester, assignee=cast.agent1, group=cast.l1,
                           description="Printer on floor 3 is jammed")
    with django_assert_num_queries(1):
        got = Ticket.objects.only("id", "key", "title", "assignee").select_related("assignee").get(pk=ticket.pk)
        assert got.assignee.username == cast.agent1.username  # joined: no query
        assert got.assignee._state.adding is False
    assert got.get_deferred_fields() >= {"description", "status", "requester_id"}
    with django_assert_num_queries(1):
        assert got.description == "Printer on floor 3 is jammed"  # a deferred column is read on first use
    with django_assert_num_queries(2):
        assert got.requester == cast.requester  # a deferred foreign key: its id, then its row


def test_a_loaded_row_saves_refreshes_and_caches_its_relations(cast):
    ticket = TicketFactory(kind=Kind.INCIDENT, requester=cast.requester, assignee=cast.agent1)
    got = Ticket.objects.get(pk=ticket.pk)
    got.title = "VPN drops every few minutes"
    got.save(update_fields=["title"])
    assert Ticket.objects.get(pk=ticket.pk).title == "VPN drops every few minutes"
    assert got.assignee == cast.agent1 and got.assignee is got.assignee  # fetched once, then cached
    got.assignee_id = cast.agent2.pk  # changing the id drops the cached row, as Django's descriptor does
    assert got.assignee == cast.agent2
    Ticket.objects.filter(pk=ticket.pk).update(title="Changed elsewhere")
    got.refresh_from_db(fields=["title"])
    assert got.title == "Changed elsewhere"
    assert User.objects.get(pk=cast.agent1.pk).check_password("wrong") is False  # users load the same way


def test_a_model_with_an_init_receiver_is_built_by_model_init(cast):
    TicketFactory(kind=Kind.INCIDENT, requester=cast.requester)
    seen = []

    def receiver(sender, instance, **kwargs):
        seen.append(instance.pk)

    post_init.connect(receiver, sender=Ticket)
    try:
        loaded = list(Ticket.objects.all())
    finally:
        post_init.disconnect(receiver, sender=Ticket)
    assert seen == [t.pk for t in loaded] and seen
    list(Ticket.objects.all())
    assert len(seen) == len(loaded)  # disconnected: no more calls


@pytest.mark.parametrize("model", [Ticket, User])
def test_the_hot_models_load_this_way(model):
    assert issubclass(model, LoadedFast)
