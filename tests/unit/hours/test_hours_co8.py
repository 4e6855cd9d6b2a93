"""CO-8 exactly, for 2026, 2027 and 2028: the call_on_me preset's closed days and short days.

Expected dates are computed here from the calendar definitions (last Monday of May, fourth
Thursday of November...) with the standard library, not with the code under test or the
holidays package. MST is UTC-7 all year (no daylight saving).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest

from parley.hours import BusinessHours, hours_preset

MST = timezone(timedelta(hours=-7))
YEARS = (2026, 2027, 2028)


def last_weekday(year: int, month: int, weekday: int) -> date:
    day = date(year, month + 1, 1) - timedelta(days=1)
    while day.weekday() != weekday:
        day -= timedelta(days=1)
    return day


def nth_weekday(year: int, month: int, weekday: int, n: int) -> date:
    day = date(year, month, 1)
    while day.weekday() != weekday:
        day += timedelta(days=1)
    return day + timedelta(weeks=n - 1)


def thanksgiving(year: int) -> date:
    return nth_weekday(year, 11, 3, 4)


def closed_days(year: int) -> dict[str, date]:
    return {
        "Memorial Day": last_weekday(year, 5, 0),
        "Independence Day": date(year, 7, 4),
        "Labor Day": nth_weekday(year, 9, 0, 1),
        "Thanksgiving Day": thanksgiving(year),
        "Black Friday": thanksgiving(year) + timedelta(days=1),
        "Christmas Day": date(year, 12, 25),
        "New Year's Day": date(year, 1, 1),
    }


def short_days(year: int) -> dict[str, date]:
    return {
        "Thanksgiving Eve": thanksgiving(year) - timedelta(days=1),
        "Christmas Eve": date(year, 12, 24),
        "New Year's Eve": date(year, 12, 31),
    }


def mst(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=MST)


@pytest.fixture(scope="module")
def com() -> BusinessHours:
    return hours_preset("call_on_me")


CLOSED = [(year, name, day) for year in YEARS for name, day in closed_days(year).items()]
SHORT = [(year, name, day) for year in YEARS for name, day in short_days(year).items()]


def test_the_expected_dates_are_the_known_ones() -> None:
    # A guard on the test's own date arithmetic, against published calendars.
    assert closed_days(2026)["Memorial Day"] == date(2026, 5, 25)
    assert closed_days(2027)["Labor Day"] == date(2027, 9, 6)
    assert closed_days(2028)["Thanksgiving Day"] == date(2028, 11, 23)
    assert short_days(2026)["Thanksgiving Eve"] == date(2026, 11, 25)


def test_the_preset_uses_billings_provider_zone(com: BusinessHours) -> None:
    from parley.billing import BillingPolicy

    assert com.time_zone == BillingPolicy.from_preset("call_on_me").time_zone == "Etc/GMT+7"
    assert com.after_hours_coverage is False


@pytest.mark.parametrize(("year", "name", "day"), CLOSED, ids=[f"{y}-{n}" for y, n, _ in CLOSED])
def test_each_co8_closed_day_is_closed_all_day(com: BusinessHours, year: int, name: str, day: date) -> None:
    for hour, minute in ((0, 0), (8, 0), (11, 59), (12, 0), (16, 59)):
        assert not com.is_open(mst(day, hour, minute)), f"{name} {day} {hour:02}:{minute:02}"


@pytest.mark.parametrize(("year", "name", "day"), CLOSED, ids=[f"{y}-{n}" for y, n, _ in CLOSED])
def test_the_same_weekday_a_week_earlier_is_a_normal_day(com: BusinessHours, year: int, name: str, day: date) -> None:
    # Shows the closures above come from the holiday calendar, not from the weekly hours.
    week_before = day - timedelta(weeks=1)
    if week_before.weekday() < 5 and week_before not in closed_days(week_before.year).values():
        assert com.is_open(mst(week_before, 8)) and com.is_open(mst(week_before, 16, 59))
    else:
        assert not com.is_open(mst(week_before, 10))


@pytest.mark.parametrize(("year", "name", "day"), SHORT, ids=[f"{y}-{n}" for y, n, _ in SHORT])
def test_each_co8_short_day_opens_8_to_12_mst(com: BusinessHours, year: int, name: str, day: date) -> None:
    if day.weekday() >= 5:  # a short day only shortens: a weekend eve stays closed
        assert not any(com.is_open(mst(day, h)) for h in range(24))
        return
    assert not com.is_open(mst(day, 7, 59))
    assert com.is_open(mst(day, 8, 0))
    assert com.is_open(mst(day, 11, 59))
    assert not com.is_open(mst(day, 12, 0))
    assert not com.is_open(mst(day, 16, 59))
    assert com.next_change(mst(day, 10)) == mst(day, 12)


def test_every_day_of_2026_to_2028_matches_the_rule(com: BusinessHours) -> None:
    day = date(2026, 1, 1)
    while day.year <= 2028:
        closed = set(closed_days(day.year).values())
        short = set(short_days(day.year).values())
        working = day.weekday() < 5 and day not in closed
        assert com.is_open(mst(day, 10)) is working, day
        assert com.is_open(mst(day, 14)) is (working and day not in short), day
        day += timedelta(days=1)


def test_weekend_holidays_move_nothing(com: BusinessHours) -> None:
    # Independence Day 2027 is a Sunday: Monday July 5 is a normal day (no observed closure).
    assert date(2027, 7, 4).weekday() == 6
    assert com.is_open(mst(date(2027, 7, 5), 16, 59))
    # Christmas Day 2027 is a Saturday: Friday December 24 is Christmas Eve, a short day, not closed.
    assert com.is_open(mst(date(2027, 12, 24), 11, 59))
    assert not com.is_open(mst(date(2027, 12, 24), 12))
    # New Year's Day 2028 is a Saturday: Friday December 31, 2027 is New Year's Eve, a short day.
    assert com.is_open(mst(date(2027, 12, 31), 8))
    assert not com.is_open(mst(date(2027, 12, 31), 13))


def test_next_opening_after_thanksgiving_eve_skips_the_long_weekend(com: BusinessHours) -> None:
    eve = short_days(2026)["Thanksgiving Eve"]  # Wednesday
    monday = eve + timedelta(days=5)
    assert com.next_change(mst(eve, 12)) == mst(monday, 8)
    assert com.next_change(mst(eve, 11, 59)) == mst(eve, 12)
