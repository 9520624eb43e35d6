"""The queue's filter form shares its fixed choices between requests: the same options, the same validation."""
from django.http import QueryDict

from tracker.choices import Kind, Status, Tier
from tracker.filtersets import TicketFilterSet


def test_each_form_lists_and_checks_the_same_choices_without_copying_them(db):
    one, other = TicketFilterSet(QueryDict("status=new&tier=1")), TicketFilterSet(QueryDict("kind=nonsense"))
    assert one.form.fields["status"].choices is other.form.fields["status"].choices
    assert list(one.form.fields["status"].choices) == list(Status.choices)
    assert list(one.form.fields["kind"].choices) == list(Kind.choices)
    assert list(one.form.fields["tier"].choices) == [("", "Any tier"), *Tier.choices]
    assert one.is_valid() and not other.is_valid() and "kind" in other.errors
