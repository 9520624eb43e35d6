"""Business-time arithmetic over a calendar: counting business seconds and adding them to an instant.

The work is per local day, never per minute: each day's open intervals are turned into UTC instants
through the calendar's time zone (so a DST day simply has a shorter or longer night), then whole
intervals are summed or consumed; a goal of a month costs about thirty cheap steps.
Instants are aware datetimes; results are whole seconds (a breach is `now >= due_at`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from tracker.errors import ValidationFailed

MAX_DAYS = 366 * 10  # a goal or span beyond ten years of open time is a configuration error
_MIDNIGHT = time(0, 0)


class CalendarNeverOpen(ValidationFailed):
    """The calendar has no open time, so a business-time goal can never be reached.

    Configuration refuses such calendars; this is the last guard (a refusal, not a crash) for old rows.
    """

    def __init__(self, message: str):
        super().__init__(message, fields={"calendar": ["Has no open time."]})


@dataclass(frozen=True)
class BusinessCalendar:
    """A value object: time zone, weekly intervals (weekday -> [(start, end)]), holiday dates, or 24x7."""

    tz: ZoneInfo
    week: tuple[tuple[tuple[time, time], ...], ...] = field(default_factory=lambda: ((),) * 7)
    holidays: frozenset[date] = frozenset()
    always_open: bool = False

    @classmethod
    def build(
        cls, *, time_zone: str = "UTC", hours=(), holidays=(), always_open: bool = False
    ) -> BusinessCalendar:
        """`hours`: iterable of (weekday 0=Mon, start, end); an end of 00:00 means the end of the day."""
        week: list[list[tuple[time, time]]] = [[] for _ in range(7)]
        for weekday, start, end in hours:
            week[weekday].append((start, end))
        return cls(
            tz=ZoneInfo(time_zone),
            week=tuple(tuple(sorted(d)) for d in week),
            holidays=frozenset(holidays),
            always_open=always_open,
        )

    # --- the day's open intervals as UTC instants --------------------------------------------------

    def _intervals(self, day: date) -> list[tuple[datetime, datetime]]:
        if day in self.holidays:
            return []
        spans = ((_MIDNIGHT, _MIDNIGHT),) if self.always_open else self.week[day.weekday()]
        out = []
        for start, end in spans:
            a = datetime.combine(day, start, self.tz).astimezone(UTC)
            end_day = day + timedelta(days=1) if end == _MIDNIGHT else day
            b = datetime.combine(end_day, end, self.tz).astimezone(UTC)
            if b > a:
                out.append((a, b))
        return out

    def _local_day(self, instant: datetime) -> date:
        return instant.astimezone(self.tz).date()

    @property
    def _plain_24x7(self) -> bool:
        return self.always_open and not self.holidays

    # --- public arithmetic -------------------------------------------------------------------------

    def seconds_between(self, start: datetime, end: datetime) -> int:
        """Business seconds in [start, end); 0 when end <= start."""
        if end <= start:
            return 0
        if self._plain_24x7:
            return int((end - start).total_seconds())
        total = 0.0
        day = self._local_day(start) - timedelta(days=1)  # an interval may begin the local day before
        last = self._local_day(end)
        for _ in range(MAX_DAYS):
            if day > last:
                break
            for a, b in self._intervals(day):
                lo, hi = max(a, start), min(b, end)
                if hi > lo:
                    total += (hi - lo).total_seconds()
            day += timedelta(days=1)
        return int(total)

    def add(self, start: datetime, seconds: int) -> datetime:
        """The instant at which `seconds` business seconds have been counted from `start`.

        `add(t, 0)` is `t`. Raises CalendarNeverOpen when the calendar has no open time.
        """
        if seconds <= 0:
            return start
        if self._plain_24x7:
            return start + timedelta(seconds=seconds)
        if self.always_open is False and not any(self.week):
            raise CalendarNeverOpen(
                "The SLA calendar has no open time; an administrator must add working hours or make it 24x7."
            )
        remaining = float(seconds)
        day = self._local_day(start) - timedelta(days=1)
        for _ in range(MAX_DAYS):
            for a, b in self._intervals(day):
                if b <= start:
                    continue
                a = max(a, start)
                span = (b - a).total_seconds()
                if remaining <= span:
                    return a + timedelta(seconds=remaining)
                remaining -= span
            day += timedelta(days=1)
        raise CalendarNeverOpen(
            "The SLA goal lies more than ten years of business time ahead: the calendar has (almost) no open "
            "time; an administrator must add working hours or make it 24x7."
        )

    def threshold_at(self, *, resumed_at: datetime, elapsed_s: int, goal_s: int, percent: int) -> datetime:
        """When a running clock reaches `percent` of its goal (rounded up to whole seconds)."""
        target = math.ceil(goal_s * percent / 100)
        return self.add(resumed_at, max(0, target - elapsed_s))


def business_calendar(calendar) -> BusinessCalendar:
    """The arithmetic for a `sla.models.Calendar` row, cached per row and `updated_at`."""
    key = (calendar.pk, calendar.updated_at)
    cached = _cache.get(key)
    if cached is None:
        hours = [(h.weekday, h.start, h.end) for h in calendar.hours.all()]
        holidays = [h.date for h in calendar.holidays.all()]
        cached = BusinessCalendar.build(
            time_zone=calendar.time_zone, hours=hours, holidays=holidays, always_open=calendar.always_open
        )
        if len(_cache) > 256:
            _cache.clear()
        _cache[key] = cached
    return cached


def forget_calendar(calendar_id: int) -> None:
    for key in [k for k in _cache if k[0] == calendar_id]:
        _cache.pop(key, None)


_cache: dict[tuple, BusinessCalendar] = {}
