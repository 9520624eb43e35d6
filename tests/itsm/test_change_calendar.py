"""The change calendar's rules: blackouts (dated and repeating, global and per service), scheduling into one only
with a change manager's override and a reason, collisions flagged on both changes, for every path that writes a
window."""

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from itsm import selectors, services
from itsm.choices import Repeat
from itsm.models import Blackout, BlackoutOverride
from itsm.services import BlackoutHit
from tracker import services as core
from tracker.choices import EventKind, Kind, Status
from tracker.errors import AccessDenied, ValidationFailed
from tracker.models import TicketEvent

LONDON = ZoneInfo("Europe/London")
NOW = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


def at(*args, zone=UTC):
    return datetime(*args, tzinfo=zone)


@pytest.fixture
def payroll(cast):
    return cast.services["payroll"]


@pytest.fixture
def freeze(cast):
    """A global year-end change freeze: 18 Dec 2026 18:00 to 4 Jan 2027 06:00 London."""
    return services.blackout_create(actor=cast.change_manager, name="Year-end freeze", reason="Year-end trading.",
                                    starts_at=at(2026, 12, 18, 18, zone=LONDON), ends_at=at(2027, 1, 4, 6, zone=LONDON),
                                    now=NOW)


@pytest.fixture
def weekend(cast, payroll):
    """Payroll's weekly window: Friday 18:00 to Monday 06:00 London, from 2 Oct 2026 (summer time) on."""
    return services.blackout_create(actor=cast.change_manager, name="Payroll weekend", reason="Batch runs.",
                                    service=payroll, starts_at=at(2026, 10, 2, 18, zone=LONDON),
                                    ends_at=at(2026, 10, 5, 6, zone=LONDON), repeat=Repeat.WEEKLY,
                                    time_zone="Europe/London", now=NOW)


def change(cast, service, title="Deploy payroll release", start=None, end=None, actor=None):
    values = {"window_start": start, "window_end": end} if start else {}
    return core.ticket_create(actor=actor or cast.agent2, kind=Kind.CHANGE, title=title, service=service, now=NOW,
                              change_type="normal", risk="medium", **values)


# --- blackouts ------------------------------------------------------------------------------------------------

def test_a_weekly_blackout_keeps_its_wall_clock_across_the_summer_time_change(weekend):
    october = weekend.occurrences(at(2026, 10, 1), at(2026, 11, 1))
    assert [s.astimezone(LONDON).strftime("%a %d %H:%M") for s, _ in october] == [
        "Fri 02 18:00", "Fri 09 18:00", "Fri 16 18:00", "Fri 23 18:00", "Fri 30 18:00"]
    assert october[0][0] == at(2026, 10, 2, 17)  # 18:00 BST is 17:00 UTC ...
    assert october[-1][0] == at(2026, 10, 30, 18)  # ... and 18:00 GMT after 25 October is 18:00 UTC
    assert all(e.astimezone(LONDON).strftime("%a %H:%M") == "Mon 06:00" for _, e in october)
    # the occurrence running at the start of the period counts too
    assert weekend.occurrences(at(2026, 10, 4, 12), at(2026, 10, 4, 13)) == [(at(2026, 10, 2, 17),
                                                                             at(2026, 10, 5, 5))]


def test_a_monthly_blackout_on_the_last_working_day(cast):
    run = services.blackout_create(actor=cast.change_manager, name="Month-end close", reason="Finance closes.",
                                   starts_at=at(2026, 10, 30, 16, zone=LONDON),
                                   ends_at=at(2026, 10, 30, 23, zone=LONDON), repeat=Repeat.MONTHLY_LAST_WORKDAY,
                                   time_zone="Europe/London", repeat_until=date(2027, 1, 31), now=NOW)
    days = [s.astimezone(LONDON).date() for s, _ in run.occurrences(at(2026, 10, 1), at(2027, 6, 1))]
    # 31 Jan 2027 is a Sunday, so January's run is on Friday the 29th; nothing after "repeat until"
    assert days == [date(2026, 10, 30), date(2026, 11, 30), date(2026, 12, 31), date(2027, 1, 29)]


@pytest.mark.parametrize(("values", "field", "words"), [
    ({"ends_at": at(2026, 12, 1, 8)}, "ends_at", "end after it starts"),
    ({"repeat": Repeat.WEEKLY, "ends_at": at(2026, 12, 12, 9)}, "ends_at", "within a week"),
    ({"repeat": Repeat.MONTHLY_LAST_WORKDAY}, "starts_at", "not the last working day"),
    ({"repeat": Repeat.WEEKLY, "repeat_until": date(2026, 11, 1)}, "repeat_until", "before the first"),
    ({"name": "  "}, "name", "name"),
    ({"reason": ""}, "reason", "why"),
    ({"time_zone": "Mars/Olympus"}, "time_zone", "not a time zone"),
])
def test_a_blackout_that_does_not_add_up_is_refused_with_what_to_fix(cast, values, field, words):
    good = {"name": "Peak", "reason": "Black Friday.", "starts_at": at(2026, 12, 1, 9), "ends_at": at(2026, 12, 1, 18)}
    with pytest.raises(ValidationFailed, match=words) as refused:
        services.blackout_create(actor=cast.change_manager, **{**good, **values})
    assert field in refused.value.fields
    assert not Blackout.objects.exists()


def test_only_a_change_manager_manages_blackouts(cast, freeze):
    with pytest.raises(AccessDenied, match="change manager"):
        services.blackout_create(actor=cast.agent2, name="Mine", reason="x", starts_at=at(2027, 2, 1),
                                 ends_at=at(2027, 2, 2))
    with pytest.raises(AccessDenied):
        services.blackout_update(blackout=freeze, actor=cast.agent2, name="Shorter")
    with pytest.raises(AccessDenied):
        services.blackout_delete(blackout=freeze, actor=cast.agent1)
    services.blackout_update(blackout=freeze, actor=cast.change_manager, name="Year-end change freeze")
    assert Blackout.objects.get().name == "Year-end change freeze"


# --- scheduling into a blackout ----------------------------------------------------------------------------------

def test_scheduling_into_a_blackout_without_an_override_is_refused_and_names_it(cast, payroll, freeze):
    chg = change(cast, payroll)
    version = chg.version
    with pytest.raises(BlackoutHit, match="“Year-end freeze”") as refused:
        services.change_schedule(ticket=chg, actor=cast.agent2, start=at(2026, 12, 22, 19), end=at(2026, 12, 22, 21))
    assert refused.value.status == 409 and "Year-end trading." in refused.value.message
    assert "window_start" in refused.value.fields
    chg.refresh_from_db()
    assert (chg.window_start, chg.version) == (None, version)
    assert not BlackoutOverride.objects.exists()
    assert not chg.events.filter(kind__in=[EventKind.FIELD, EventKind.SCHEDULE]).exists()


def test_an_override_by_someone_who_is_not_a_change_manager_is_refused(cast, payroll, freeze):
    chg = change(cast, payroll)
    with pytest.raises(AccessDenied, match=r"Only the change manager \(or an administrator\) may override the "
                                           "blackout “Year-end freeze”"):
        services.change_schedule(ticket=chg, actor=cast.agent2, start=at(2026, 12, 22, 19), end=at(2026, 12, 22, 21),
                                 override_reason="It is small.")
    chg.refresh_from_db()
    assert chg.window_start is None and not BlackoutOverride.objects.exists()


def test_a_change_manager_overrides_with_a_reason_and_the_timeline_says_so(cast, payroll, freeze):
    chg = change(cast, payroll)
    made = services.change_schedule(ticket=chg, actor=cast.change_manager, start=at(2026, 12, 22, 19),
                                    end=at(2026, 12, 22, 21), override_reason="Statutory tax tables, due 1 January.")
    chg.refresh_from_db()
    assert (chg.window_start, chg.window_end) == (at(2026, 12, 22, 19), at(2026, 12, 22, 21))
    assert [(o.blackout, o.reason, o.actor) for o in made] == [
        (freeze, "Statutory tax tables, due 1 January.", cast.change_manager)]
    row = chg.events.get(kind=EventKind.SCHEDULE, field="override")
    assert (row.new, row.note, row.actor) == ("Year-end freeze", "Statutory tax tables, due 1 January.",
                                              cast.change_manager)
    assert set(chg.events.filter(kind=EventKind.FIELD).values_list("field", flat=True)) == {"window_start",
                                                                                          "window_end"}
    schedule = selectors.change_schedule(ticket=chg, user=cast.agent1)
    assert [(h.blackout, h.override.reason) for h in schedule.hits] == [
        (freeze, "Statutory tax tables, due 1 January.")]


def test_an_override_holds_for_its_window_only(cast, payroll, freeze):
    chg = change(cast, payroll)
    services.change_schedule(ticket=chg, actor=cast.change_manager, start=at(2026, 12, 22, 19),
                             end=at(2026, 12, 22, 21), override_reason="Tax tables.")
    with pytest.raises(BlackoutHit):  # moved within the freeze: decided again
        services.change_schedule(ticket=chg, actor=cast.agent2, start=at(2026, 12, 23, 19), end=at(2026, 12, 23, 21))
    services.change_schedule(ticket=chg, actor=cast.agent2, start=at(2027, 1, 5, 19), end=at(2027, 1, 5, 21))
    chg.refresh_from_db()
    assert chg.window_start == at(2027, 1, 5, 19)


def test_a_recurring_blackout_is_hit_only_on_its_service_and_its_days(cast, payroll, weekend):
    sunday = (at(2026, 11, 15, 10, zone=LONDON), at(2026, 11, 15, 12, zone=LONDON))
    chg = change(cast, payroll)
    with pytest.raises(BlackoutHit, match="Payroll weekend"):
        services.change_schedule(ticket=chg, actor=cast.agent2, start=sunday[0], end=sunday[1])
    mail = change(cast, cast.services["mail"], title="Mail gateway patch")
    services.change_schedule(ticket=mail, actor=cast.agent2, start=sunday[0], end=sunday[1])  # another service
    services.change_schedule(ticket=chg, actor=cast.agent2, start=at(2026, 11, 17, 19, zone=LONDON),
                             end=at(2026, 11, 17, 21, zone=LONDON))  # a Tuesday
    # a window that only touches the blackout's edge (ends at Friday 18:00) does not fall into it
    services.change_schedule(ticket=chg, actor=cast.agent2, start=at(2026, 11, 20, 16, zone=LONDON),
                             end=at(2026, 11, 20, 18, zone=LONDON))


def test_the_guard_holds_for_every_write_of_a_window_not_only_the_schedule_panel(cast, payroll, freeze):
    inside = {"window_start": at(2026, 12, 28, 9), "window_end": at(2026, 12, 28, 10)}
    with pytest.raises(BlackoutHit):  # the new-ticket form and the API's POST
        change(cast, payroll, start=inside["window_start"], end=inside["window_end"])
    chg = change(cast, payroll)
    with pytest.raises(BlackoutHit):  # the inline edit and the API's PATCH
        core.ticket_update(ticket=chg, actor=cast.agent2, version=chg.version, changes=inside)
    with pytest.raises(BlackoutHit):  # a global freeze holds for a change without a service too
        change(cast, None, start=inside["window_start"], end=inside["window_end"])
    chg.refresh_from_db()
    assert chg.window_start is None


def test_moving_a_scheduled_change_to_a_service_in_its_blackout_is_refused(cast, payroll, weekend, cabs):
    sunday = {"window_start": at(2026, 11, 15, 10), "window_end": at(2026, 11, 15, 12)}
    chg = change(cast, cast.services["mail"], start=sunday["window_start"], end=sunday["window_end"])
    with pytest.raises(BlackoutHit, match="Payroll weekend"):
        core.ticket_update(ticket=chg, actor=cast.agent2, version=chg.version, changes={"service": payroll})
    core.ticket_transition(ticket=chg, to=Status.REVIEW, actor=cast.agent2,  # other writes pass (to the CAB)
                           values={"implementation_plan": "Deploy", "backout_plan": "Redeploy", "risk": "low"})


def test_a_window_needs_both_ends_and_must_end_after_it_starts(cast, payroll):
    chg = change(cast, payroll)
    with pytest.raises(ValidationFailed, match="both the start and the end"):
        services.change_schedule(ticket=chg, actor=cast.agent2, start=at(2027, 2, 1, 9), end=None)
    with pytest.raises(ValidationFailed, match="end after it starts"):
        services.change_schedule(ticket=chg, actor=cast.agent2, start=at(2027, 2, 1, 9), end=at(2027, 2, 1, 9))
    incident = core.ticket_create(actor=cast.agent1, kind=Kind.INCIDENT, title="Payslips blank")
    with pytest.raises(ValidationFailed, match="not a change"):
        services.change_schedule(ticket=incident, actor=cast.agent2, start=at(2027, 2, 1, 9), end=at(2027, 2, 1, 10))
    with pytest.raises(AccessDenied):
        services.change_schedule(ticket=chg, actor=cast.requester, start=at(2027, 2, 1, 9), end=at(2027, 2, 1, 10))


# --- collisions ---------------------------------------------------------------------------------------------

def test_two_changes_on_one_service_with_overlapping_windows_collide_on_both(cast, payroll):
    first = change(cast, payroll, "Deploy payroll release", at(2027, 2, 2, 19), at(2027, 2, 2, 22))
    second = change(cast, payroll, "Patch payroll database", at(2027, 2, 2, 21), at(2027, 2, 2, 23))
    change(cast, payroll, "Rotate certificates", at(2027, 2, 2, 22), at(2027, 2, 2, 23, 30))  # touches `first` only
    mail = change(cast, cast.services["mail"], "Mail patch", at(2027, 2, 2, 19), at(2027, 2, 2, 22))

    assert [t.key for t in selectors.change_collisions(ticket=first)] == [second.key]
    assert second.key in [t.key for t in selectors.change_collisions(ticket=first)]
    assert first.key in [t.key for t in selectors.change_collisions(ticket=second)]
    assert selectors.change_collisions(ticket=mail) == []  # another service
    # both timelines say so, written when the second change was scheduled
    for this, other in ((first, second), (second, first)):
        assert this.events.filter(kind=EventKind.SCHEDULE, field="collision", new=other.key).count() == 1

    cal = selectors.calendar(user=cast.agent1, start=at(2027, 2, 1), end=at(2027, 2, 8))
    flagged = {e.ticket.key: sorted(t.key for t in e.collisions) for e in cal.entries}
    third = [k for k in flagged if k not in (first.key, second.key, mail.key)][0]
    assert flagged[first.key] == [second.key]
    assert flagged[second.key] == sorted([first.key, third])
    assert flagged[mail.key] == []
    assert len(cal.collisions) == 2


def test_a_cancelled_change_collides_with_nothing_and_a_move_away_ends_the_collision(cast, payroll):
    first = change(cast, payroll, "Deploy payroll release", at(2027, 2, 2, 19), at(2027, 2, 2, 22))
    second = change(cast, payroll, "Patch payroll database", at(2027, 2, 2, 20), at(2027, 2, 2, 21))
    core.ticket_transition(ticket=second, to=Status.CANCELLED, actor=cast.agent2,
                           values={"resolution_note": "Merged into the release."})
    assert selectors.change_collisions(ticket=first) == []
    third = change(cast, payroll, "Rotate certificates", at(2027, 2, 2, 20), at(2027, 2, 2, 21))
    assert selectors.change_collisions(ticket=first) == [third]
    services.change_schedule(ticket=third, actor=cast.agent2, start=at(2027, 2, 3, 20), end=at(2027, 2, 3, 21))
    assert selectors.change_collisions(ticket=first) == []


def test_a_window_across_the_edge_of_the_period_collides_with_one_outside_it(cast, payroll):
    inside = change(cast, payroll, "Long migration", at(2027, 1, 31, 20), at(2027, 2, 1, 6))
    outside = change(cast, payroll, "Late January patch", at(2027, 1, 31, 19), at(2027, 1, 31, 21))
    cal = selectors.calendar(user=cast.agent1, start=at(2027, 2, 1), end=at(2027, 3, 1))
    assert [e.ticket for e in cal.entries] == [inside]
    assert cal.entries[0].collisions == [outside]


def test_a_blackout_added_after_a_change_was_scheduled_flags_it_until_overridden(cast, payroll):
    chg = change(cast, payroll, start=at(2026, 12, 22, 19), end=at(2026, 12, 22, 21))
    freeze = services.blackout_create(actor=cast.change_manager, name="Year-end freeze", reason="Trading.",
                                      starts_at=at(2026, 12, 18), ends_at=at(2027, 1, 4))
    (entry,) = selectors.calendar(user=cast.agent1, start=at(2026, 12, 1), end=at(2027, 1, 1)).entries
    assert entry.blocked and entry.hits[0].blackout == freeze
    # the change manager lets it run where it is: the same window, with an override
    services.change_schedule(ticket=chg, actor=cast.change_manager, start=chg.window_start, end=chg.window_end,
                             override_reason="Agreed with finance.")
    (entry,) = selectors.calendar(user=cast.agent1, start=at(2026, 12, 1), end=at(2027, 1, 1)).entries
    assert not entry.blocked and entry.hits[0].override.reason == "Agreed with finance."
    assert TicketEvent.objects.filter(ticket=chg, kind=EventKind.SCHEDULE, field="override").count() == 1


def test_deleting_a_blackout_keeps_its_overrides_on_the_changes(cast, payroll, freeze):
    chg = change(cast, payroll)
    services.change_schedule(ticket=chg, actor=cast.change_manager, start=at(2026, 12, 22, 19),
                             end=at(2026, 12, 22, 21), override_reason="Tax tables.")
    services.blackout_delete(blackout=freeze, actor=cast.change_manager)
    (override,) = selectors.overrides_of(ticket=chg)
    assert (override.blackout, override.blackout_name) == (None, "Year-end freeze")
