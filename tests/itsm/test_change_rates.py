"""Change success and failure rates per service, team and month, on the manager dashboard, each figure linking
to the changes behind it; failed = failed, rolled back, or caused at least one incident."""
from datetime import timedelta

import pytest
from django.utils import timezone

from itsm import selectors
from tests.factories import GroupFactory
from tracker import services
from tracker.choices import Kind, Status, Tier

from .conftest import approve


def went_live(cast, title, result, *, service=None, group=None, at=None):
    change = services.ticket_create(actor=cast.agent2, kind=Kind.CHANGE, title=title, change_type="normal",
                                    service=service or cast.services["payroll"], group=group or cast.l2)
    approve(change, cast)
    services.ticket_transition(ticket=change, to=Status.IN_PROGRESS, actor=cast.agent2)
    if result == "rolled_back":
        from itsm import services as itsm

        itsm.rollback_record(change=change, actor=cast.agent2, run_by=cast.engineer, ran_at=timezone.now(),
                             outcome="restored")
    services.ticket_transition(ticket=change, to=Status.RESOLVED, actor=cast.agent2, now=at,
                               values={"implementation_result": result})
    return change


def caused(cast, change):
    incident = services.ticket_create(actor=cast.requester, kind=Kind.INCIDENT, title="Broken since last night")
    services.ticket_link(source=incident, target=change, type="caused_by", actor=cast.agent1)


@pytest.fixture
def changes(cast):
    web = GroupFactory(name="Web Dev", tier=Tier.L3)
    ok = went_live(cast, "Rotate certificates", "successful")
    noisy = went_live(cast, "Move the batch", "successful")
    caused(cast, noisy)
    caused(cast, noisy)  # two incidents, still one failed change
    failed = went_live(cast, "Payroll 4.8", "failed", group=web)
    back = went_live(cast, "Mail gateway 11.2", "rolled_back", service=cast.services["mail"])
    return {"ok": ok, "noisy": noisy, "failed": failed, "back": back, "web": web}


def _rates(user):
    now = timezone.now()
    return selectors.change_rates(user=user, start=now - timedelta(days=30), end=now + timedelta(minutes=1))


def test_failed_means_failed_rolled_back_or_causing_an_incident(cast, changes):
    rates = _rates(cast.manager)
    assert (rates.overall.total, rates.overall.failed) == (4, 3)
    assert (rates.overall.success_rate, rates.overall.failure_rate) == ("25", "75")
    services_ = {r.label: (r.total, r.failed) for r in rates.by_service}
    assert services_ == {"Payroll": (3, 2), "Mail": (1, 1)}
    teams = {r.label: (r.total, r.failed) for r in rates.by_team}
    assert teams == {"App Support": (3, 2), "Web Dev": (1, 1)}
    assert sum(r.total for r in rates.by_month) == 4


def test_changes_not_yet_live_or_outside_the_period_do_not_count(cast, changes):
    services.ticket_create(actor=cast.agent2, kind=Kind.CHANGE, title="Planned only", change_type="normal")
    went_live(cast, "Long ago", "failed", at=timezone.now() - timedelta(days=60))
    assert _rates(cast.manager).overall.total == 4


def test_the_list_behind_a_figure_is_the_changes_it_counts(cast, changes):
    now = timezone.now()
    failed = selectors.change_outcomes(user=cast.manager, start=now - timedelta(days=30), end=now + timedelta(
        minutes=1), service=str(cast.services["payroll"].pk), outcome="failed")
    assert {c.key for c in failed} == {changes["noisy"].key, changes["failed"].key}
    assert {c.key: c.incidents for c in failed} == {changes["noisy"].key: 2, changes["failed"].key: 0}


def test_the_dashboard_shows_the_rates_each_linking_to_its_changes(cast, changes, client_for):
    client = client_for(cast.manager)
    page = client.get("/dashboard/?days=30").content.decode()
    assert "Change failure rate" in page and "75 %" in page and "25 %" in page
    payroll = cast.services["payroll"].pk
    link = f"/changes/outcomes/?days=30&service={payroll}&outcome=failed"
    assert f'href="{link}"' in page
    listing = client.get(link).content.decode()
    assert changes["failed"].key in listing and changes["noisy"].key in listing
    assert changes["ok"].key not in listing and changes["back"].key not in listing
    assert "Failed changes on Payroll" in listing


def test_the_failure_rate_moves_when_an_incident_is_linked_to_a_change(cast, changes):
    before = _rates(cast.manager).overall.failed
    caused(cast, changes["ok"])
    assert _rates(cast.manager).overall.failed == before + 1


@pytest.mark.parametrize("rows", [1, 8])
def test_the_rates_take_one_query_whatever_the_number_of_changes(cast, rows, django_assert_num_queries):
    for i in range(rows):
        went_live(cast, f"Change {i}", "successful" if i % 2 else "failed")
    with django_assert_num_queries(1):
        _rates(cast.manager)


@pytest.mark.parametrize("rows", [1, 8])
def test_the_list_behind_a_rate_queries_are_constant(cast, rows, client_for, django_assert_max_num_queries):
    for i in range(rows):
        went_live(cast, f"Change {i}", "failed")
    client = client_for(cast.manager)
    with django_assert_max_num_queries(8):
        assert client.get("/changes/outcomes/?days=30&outcome=failed").status_code == 200
