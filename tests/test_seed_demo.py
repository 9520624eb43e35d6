"""The demo seed: one login per role, the tier chain, realistic tickets of every kind, a fast bulk path."""
from io import StringIO

from django.contrib.auth import authenticate
from django.core.management import call_command

from tracker.choices import Kind, Role, Tier
from tracker.models import AssignmentGroup, Link, Ticket, TicketEvent


def test_seed_demo_creates_a_login_per_role_and_tickets_of_every_kind_with_history(db):
    call_command("seed_demo", "--history", "60", stdout=StringIO())
    for role in Role.values:
        user = Ticket.requester.field.related_model.objects.filter(role=role).first()
        assert user is not None, role
        assert authenticate(username=user.username, password="demo") == user
    assert set(AssignmentGroup.objects.values_list("tier", flat=True)) == set(Tier.values)
    assert set(Ticket.objects.values_list("kind", flat=True)) == set(Kind.values)
    assert TicketEvent.objects.filter(kind="escalation").exists() and Link.objects.exists()
    assert TicketEvent.objects.filter(kind="comment").exists()

    call_command("seed_demo", stdout=StringIO())  # a second run changes nothing
    assert Ticket.objects.count() == 60


def test_bulk_tickets_get_unique_keys_after_the_demo_ones(db):
    call_command("seed_demo", "--history", "10", "--tickets", "500", stdout=StringIO())
    assert Ticket.objects.count() == 510
    keys = list(Ticket.objects.values_list("key", flat=True))
    assert len(keys) == len(set(keys))
