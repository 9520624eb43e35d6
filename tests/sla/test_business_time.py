"""Business-time arithmetic: counting and adding business seconds across nights, weekends, holidays, DST."""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from sla.calendars import BusinessCalendar, CalendarNeverOpen

LONDON = ZoneInfo("Europe/London")
NEW_YORK = ZoneInfo("America/New_York")
WEEKDAYS_9_TO_5 = [(d, time(9), time(17)) for d in range(5)]


def office(tz="Europe/London", holidays=(), hours=WEEKDAYS_9_TO_5):
    return BusinessCalendar.build(time_zone=tz, hours=hours, holidays=holidays)


def test_adding_within_one_day_stays_on_that_day():
    start = datetime(2026, 1, 12, 10, 0, tzinfo=LONDON)  # Monday
    assert office().add(start, 3 * 3600) == datetime(2026, 1, 12, 13, 0, tzinfo=LONDON)


def test_time_left_at_close_continues_the_next_morning():
    start = datetime(2026, 1, 12, 16, 0, tzinfo=LONDON)
    due = office().add(start, 2 * 3600)
    assert due == datetime(2026, 1, 13, 10, 0, tzinfo=LONDON)
    assert office().seconds_between(start, due) == 2 * 3600


def test_a_start_at_night_counts_from_the_next_opening():
    start = datetime(2026, 1, 12, 22, 0, tzinfo=LONDON)
    assert office().add(start, 60) == datetime(2026, 1, 13, 9, 1, tzinfo=LONDON)
    assert office().seconds_between(start, datetime(2026, 1, 13, 8, 59, tzinfo=LONDON)) == 0


def test_friday_afternoon_continues_on_monday():
    start = datetime(2026, 1, 16, 16, 0, tzinfo=LONDON)  # Friday
    assert office().add(start, 2 * 3600) == datetime(2026, 1, 19, 10, 0, tzinfo=LONDON)
    assert office().seconds_between(start, datetime(2026, 1, 19, 10, 0, tzinfo=LONDON)) == 2 * 3600


def test_a_holiday_is_skipped_like_a_weekend():
    cal = office(holidays=[date(2026, 12, 25)])
    start = datetime(2026, 12, 24, 16, 0, tzinfo=LONDON)  # Thursday; Friday is Christmas
    assert cal.add(start, 2 * 3600) == datetime(2026, 12, 28, 10, 0, tzinfo=LONDON)


def test_holidays_imported_from_the_holidays_package_are_closed_days():
    import holidays

    uk = holidays.country_holidays("GB", subdiv="ENG", years=2026)
    cal = office(holidays=uk.keys())
    good_friday = date(2026, 4, 3)
    assert good_friday in cal.holidays
    start = datetime(2026, 4, 2, 16, 0, tzinfo=LONDON)  # Thursday; Friday and Monday are bank holidays
    assert cal.add(start, 2 * 3600) == datetime(2026, 4, 7, 10, 0, tzinfo=LONDON)


def test_several_intervals_a_day_leave_the_lunch_break_out():
    hours = [(d, time(8), time(12)) for d in range(5)] + [(d, time(13), time(17)) for d in range(5)]
    cal = office(hours=hours)
    start = datetime(2026, 1, 12, 11, 0, tzinfo=LONDON)
    assert cal.add(start, 2 * 3600) == datetime(2026, 1, 12, 14, 0, tzinfo=LONDON)


def test_office_hours_keep_their_wall_clock_across_the_spring_dst_change():
    # Clocks go forward on Sunday 29 March 2026: Friday 16:00 GMT + 2 h of work = Monday 10:00 BST.
    start = datetime(2026, 3, 27, 16, 0, tzinfo=LONDON)
    due = office().add(start, 2 * 3600)
    assert due == datetime(2026, 3, 30, 10, 0, tzinfo=LONDON)
    assert due.astimezone(UTC) == datetime(2026, 3, 30, 9, 0, tzinfo=UTC)


def test_a_24x7_calendar_in_london_counts_23_hours_on_the_spring_dst_day():
    cal = BusinessCalendar.build(time_zone="Europe/London", always_open=True, holidays=[date(2026, 12, 25)])
    sunday = datetime(2026, 3, 29, 0, 0, tzinfo=LONDON)
    monday = datetime(2026, 3, 30, 0, 0, tzinfo=LONDON)
    assert cal.seconds_between(sunday, monday) == 23 * 3600


def test_a_24x7_calendar_counts_25_hours_on_the_autumn_dst_day():
    cal = BusinessCalendar.build(time_zone="Europe/London", always_open=True, holidays=[date(2026, 12, 25)])
    sunday = datetime(2026, 10, 25, 0, 0, tzinfo=LONDON)
    assert cal.seconds_between(sunday, sunday + timedelta(days=1)) == 25 * 3600
    assert cal.add(sunday, 25 * 3600) == datetime(2026, 10, 26, 0, 0, tzinfo=LONDON)


def test_a_night_shift_across_the_autumn_change_lasts_one_hour_longer():
    # 00:00-06:00 New York on the night the clocks go back (1 November 2026) is 7 real hours.
    cal = office(tz="America/New_York", hours=[(d, time(0), time(6)) for d in range(7)])
    start = datetime(2026, 11, 1, 0, 0, tzinfo=NEW_YORK)
    assert cal.seconds_between(start, datetime(2026, 11, 1, 6, 0, tzinfo=NEW_YORK)) == 7 * 3600


def test_counting_is_the_inverse_of_adding():
    cal = office(holidays=[date(2026, 12, 25)])
    start = datetime(2026, 12, 21, 14, 37, 11, tzinfo=LONDON)
    for seconds in (1, 59, 3600, 8 * 3600, 40 * 3600, 200 * 3600):
        assert cal.seconds_between(start, cal.add(start, seconds)) == seconds


def test_a_calendar_with_no_hours_refuses_to_plan():
    with pytest.raises(CalendarNeverOpen):
        office(hours=[]).add(datetime(2026, 1, 12, tzinfo=UTC), 60)


def test_a_long_goal_is_computed_by_days_not_minutes():
    import time as wall

    cal = office()
    t0 = wall.perf_counter()
    due = cal.add(datetime(2026, 1, 12, 9, tzinfo=LONDON), 250 * 8 * 3600)  # a working year
    assert wall.perf_counter() - t0 < 0.5
    assert due == datetime(2026, 12, 25, 17, 0, tzinfo=LONDON)  # the 250th working day, at close
