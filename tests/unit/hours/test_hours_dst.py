"""A zone with daylight saving (America/New_York): EST = UTC-5, EDT = UTC-4.

2026: clocks go from 02:00 EST to 03:00 EDT on Sunday March 8, and from 02:00 EDT back to
01:00 EST on Sunday November 1. Expected instants are written in UTC by hand.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from parley.hours import WEEKDAYS, BusinessHours, parse_hours

ONE_MINUTE = timedelta(minutes=1)


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def every_day(*ranges: tuple[str, str]) -> BusinessHours:
    day = [{"start": start, "end": end} for start, end in ranges]
    return parse_hours({"time_zone": "America/New_York", "weekly": {name: day for name in WEEKDAYS}})


def test_opening_follows_the_wall_clock_across_spring_forward() -> None:
    hours = every_day(("08:00", "17:00"))
    assert hours.is_open(utc("2026-03-07T13:00")) and not hours.is_open(utc("2026-03-07T12:59"))  # EST
    assert hours.is_open(utc("2026-03-09T12:00")) and not hours.is_open(utc("2026-03-09T11:59"))  # EDT
    assert hours.next_change(utc("2026-03-07T22:00")) == utc("2026-03-08T12:00")  # Sunday 08:00 EDT
    assert hours.next_change(utc("2026-03-08T12:00")) == utc("2026-03-08T21:00")  # 17:00 EDT


def test_opening_follows_the_wall_clock_across_fall_back() -> None:
    hours = every_day(("08:00", "17:00"))
    assert hours.next_change(utc("2026-10-31T22:00")) == utc("2026-11-01T13:00")  # Sunday 08:00 EST
    assert not hours.is_open(utc("2026-11-01T12:59")) and hours.is_open(utc("2026-11-01T13:00"))


def test_an_opening_inside_the_spring_gap_opens_when_the_gap_ends() -> None:
    hours = every_day(("02:30", "05:00"))  # 02:30 does not exist on March 8: 02:00 EST is 03:00 EDT
    assert not hours.is_open(utc("2026-03-08T06:59"))  # 01:59 EST
    assert hours.is_open(utc("2026-03-08T07:00"))  # 03:00 EDT
    assert hours.next_change(utc("2026-03-08T06:00")) == utc("2026-03-08T07:00")
    assert hours.next_change(utc("2026-03-08T07:00")) == utc("2026-03-08T09:00")  # 05:00 EDT


def test_a_closing_in_the_repeated_hour_happens_at_its_first_occurrence() -> None:
    hours = every_day(("00:00", "01:30"))
    assert hours.is_open(utc("2026-11-01T05:29"))  # 01:29 EDT
    assert not hours.is_open(utc("2026-11-01T05:30"))  # 01:30 EDT, the first one
    assert not hours.is_open(utc("2026-11-01T06:15"))  # 01:15 EST, the repeated hour: still closed
    assert hours.next_change(utc("2026-11-01T04:00")) == utc("2026-11-01T05:30")


def test_a_range_over_the_repeated_hour_lasts_an_hour_longer() -> None:
    hours = every_day(("01:30", "03:00"))
    assert hours.next_change(utc("2026-11-01T05:00")) == utc("2026-11-01T05:30")  # 01:30 EDT
    assert hours.next_change(utc("2026-11-01T05:30")) == utc("2026-11-01T08:00")  # 03:00 EST
    assert hours.is_open(utc("2026-11-01T07:59"))


def test_a_fixed_zone_has_no_daylight_saving() -> None:
    hours = parse_hours({"preset": "call_on_me"})
    assert hours.is_open(utc("2026-07-14T15:00")) and not hours.is_open(utc("2026-07-14T14:59"))  # 08:00 MST
    assert hours.is_open(utc("2026-01-13T15:00")) and not hours.is_open(utc("2026-01-13T14:59"))
