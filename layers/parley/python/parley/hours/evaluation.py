"""Evaluating business hours at an instant: open or not, and when that changes next.

Every function takes the instant to judge (from the injected clock); nothing reads the
system time. A day's ranges are wall-clock times in the client's zone, turned into
instants once per day ("interval semantics", docs/hours.md): a time that does not exist
(the spring-forward gap) means the first instant after the gap; a time that happens twice
(fall-back) means its first occurrence. So a client closing at 01:30 on a fall-back night
closes once, at the first 01:30.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from functools import lru_cache
from typing import TYPE_CHECKING

from parley.hours.errors import NaiveInstant

if TYPE_CHECKING:
    from parley.hours.models import BusinessHours, DayRanges, HolidayCalendar

HORIZON_DAYS = 2 * 366
"""How far ahead ``next_change`` looks; hours that never change within it return None."""

_ONE_DAY = timedelta(days=1)
_ONE_MINUTE = timedelta(minutes=1)
_CLOSED: tuple[tuple[int, int], ...] = ()

Interval = tuple[datetime, datetime]


@lru_cache(maxsize=256)
def _special_days(calendar: HolidayCalendar, year: int) -> dict[date, tuple[tuple[int, int], ...]]:
    """Dates of ``year`` whose ranges the calendar sets: closed (no range) or short-day ranges."""
    special: dict[date, tuple[tuple[int, int], ...]] = {}
    for short in calendar.short_days:
        for day in short.on.dates_in(year):
            special[day] = _minutes(short.ranges)
    for closed in calendar.closed_days:  # applied last: a date both closed and short is closed
        for day in closed.on.dates_in(year):
            special[day] = _CLOSED
    return special


def _minutes(ranges: DayRanges) -> tuple[tuple[int, int], ...]:
    return tuple(sorted((r.start_minute, r.end_minute) for r in ranges))


def day_ranges(hours: BusinessHours, day: date) -> tuple[tuple[int, int], ...]:
    """The day's opening ranges as (start, end) minutes of the day, holidays applied, sorted."""
    weekly = _minutes(hours.weekly.ranges_on(day.weekday()))
    special = _special_days(hours.holidays, day.year).get(day)
    if special is None or not weekly:  # a short day never opens a day the week keeps closed
        return weekly
    return special


def _wall(moment: datetime, zone: tzinfo) -> datetime:
    return moment.astimezone(zone).replace(tzinfo=None)


def local_instant(day: date, minute: int, zone: tzinfo) -> datetime:
    """The UTC instant at which the wall clock in ``zone`` first shows ``day`` + ``minute``.

    Ambiguous (fall-back) times give their first occurrence; times inside a spring-forward gap
    give the end of the gap, the first instant whose wall time is not earlier.
    """
    wall = datetime.combine(day, time()) + timedelta(minutes=minute)
    first = wall.replace(tzinfo=zone, fold=0).astimezone(UTC)
    if _wall(first, zone) == wall:
        return first
    other = wall.replace(tzinfo=zone, fold=1).astimezone(UTC)
    low, high = min(first, other), max(first, other)
    while high - low > _ONE_MINUTE:  # the gap's end: first minute whose wall time reaches `wall`
        middle = low + (high - low) // 2
        middle -= timedelta(seconds=middle.second, microseconds=middle.microsecond)
        if _wall(middle, zone) >= wall:
            high = middle
        else:
            low = middle
    return high


def day_intervals(hours: BusinessHours, day: date) -> list[Interval]:
    """The day's opening ranges as UTC instants [start, end)."""
    zone = hours.zone
    return [(local_instant(day, start, zone), local_instant(day, end, zone)) for start, end in day_ranges(hours, day)]


def _require_aware(at: datetime) -> None:
    if at.tzinfo is None or at.utcoffset() is None:
        raise NaiveInstant(f"datetime {at.isoformat()} has no time zone")


def is_open(hours: BusinessHours, at: datetime) -> bool:
    """Whether ``at`` lies in one of the client's opening intervals (CO-8 holidays applied)."""
    _require_aware(at)
    local_day = at.astimezone(hours.zone).date()
    for day in (local_day - _ONE_DAY, local_day, local_day + _ONE_DAY):
        if any(start <= at < end for start, end in day_intervals(hours, day)):
            return True
    return False


def _merged_intervals(hours: BusinessHours, first_day: date, days: int) -> Iterator[Interval]:
    """Opening intervals from ``first_day`` on for ``days`` days, touching ones joined
    (Monday until 24:00 and Tuesday from 00:00 are one interval). An interval still open at the
    horizon is not yielded: its end is unknown."""
    pending: Interval | None = None
    for offset in range(days):
        for start, end in day_intervals(hours, first_day + timedelta(days=offset)):
            if pending is not None and start <= pending[1]:
                pending = (pending[0], max(pending[1], end))
                continue
            if pending is not None:
                yield pending
            pending = (start, end)
    horizon = local_instant(first_day + timedelta(days=days), 0, hours.zone)
    if pending is not None and pending[1] < horizon:
        yield pending


def next_change(hours: BusinessHours, at: datetime) -> datetime | None:
    """The first instant after ``at`` at which ``is_open`` flips, in UTC.

    Open now: the closing instant; closed now: the next opening ("we open at 8:00"). None
    when nothing changes within ``HORIZON_DAYS`` (always open, or never open).
    """
    _require_aware(at)
    first_day = at.astimezone(hours.zone).date() - _ONE_DAY
    for start, end in _merged_intervals(hours, first_day, HORIZON_DAYS):
        if end <= at:
            continue
        return start if start > at else end
    return None


def next_routing_change(hours: BusinessHours, at: datetime) -> datetime | None:
    """When ``routes_now`` flips next: never with after-hours coverage (PR-2), else ``next_change``."""
    return None if hours.after_hours_coverage else next_change(hours, at)
