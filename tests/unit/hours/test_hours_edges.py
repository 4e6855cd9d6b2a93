"""Opening and closing at the minute, several ranges a day, midnight, weekends."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from parley.hours import BusinessHours, NaiveInstant, day_ranges, parse_hours

MST = timezone(timedelta(hours=-7))
ONE_MINUTE = timedelta(minutes=1)


def at(text: str, zone: timezone = MST) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=zone)


@pytest.fixture(scope="module")
def split_day() -> BusinessHours:
    # A lunch break on weekdays, a Saturday morning, closed on Sunday.
    weekday = [{"start": "09:00", "end": "12:00"}, {"start": "13:00", "end": "17:30"}]
    return parse_hours({
        "time_zone": "Etc/GMT+7",
        "weekly": {"monday": weekday, "tuesday": weekday, "wednesday": weekday, "thursday": weekday,
                   "friday": weekday, "saturday": [{"start": "10:00", "end": "14:00"}]},
    })


@pytest.mark.parametrize("boundary", ["09:00", "13:00"])
def test_opens_at_the_minute(split_day: BusinessHours, boundary: str) -> None:
    opening = at(f"2026-12-01T{boundary}")  # a Tuesday
    assert not split_day.is_open(opening - ONE_MINUTE)
    assert split_day.is_open(opening)
    assert split_day.next_change(opening - ONE_MINUTE) == opening


@pytest.mark.parametrize("boundary", ["12:00", "17:30"])
def test_closes_at_the_minute(split_day: BusinessHours, boundary: str) -> None:
    closing = at(f"2026-12-01T{boundary}")
    assert split_day.is_open(closing - ONE_MINUTE)
    assert not split_day.is_open(closing)
    assert split_day.next_change(closing - ONE_MINUTE) == closing


def test_the_lunch_break_and_the_evening(split_day: BusinessHours) -> None:
    assert split_day.next_change(at("2026-12-01T12:30")) == at("2026-12-01T13:00")
    assert split_day.next_change(at("2026-12-01T18:00")) == at("2026-12-02T09:00")
    assert split_day.next_change(at("2026-12-01T00:00")) == at("2026-12-01T09:00")


def test_friday_evening_to_saturday_to_monday(split_day: BusinessHours) -> None:
    assert split_day.next_change(at("2026-12-04T17:30")) == at("2026-12-05T10:00")  # Saturday morning
    assert split_day.next_change(at("2026-12-05T14:00")) == at("2026-12-07T09:00")  # Sunday closed
    assert not split_day.is_open(at("2026-12-06T10:00"))


def test_next_change_is_in_utc_and_strictly_later(split_day: BusinessHours) -> None:
    change = split_day.next_change(at("2026-12-01T09:00"))
    assert change == datetime(2026, 12, 1, 19, 0, tzinfo=UTC)  # 12:00 MST
    assert change is not None and change.utcoffset() == timedelta(0)


def test_instants_in_any_offset_mean_the_same(split_day: BusinessHours) -> None:
    assert split_day.is_open(datetime(2026, 12, 1, 16, 0, tzinfo=UTC))  # 09:00 MST
    assert not split_day.is_open(datetime(2026, 12, 1, 15, 59, tzinfo=UTC))


def test_touching_ranges_do_not_close_in_between() -> None:
    hours = parse_hours({"time_zone": "UTC", "weekly": {"monday": [{"start": "08:00", "end": "12:00"},
                                                                    {"start": "12:00", "end": "17:00"}]}})
    assert hours.is_open(at("2026-11-30T12:00", UTC))
    assert hours.next_change(at("2026-11-30T11:00", UTC)) == at("2026-11-30T17:00", UTC)


def test_a_night_shift_across_midnight_is_one_interval() -> None:
    hours = parse_hours({"time_zone": "UTC", "weekly": {"monday": [{"start": "22:00", "end": "24:00"}],
                                                        "tuesday": [{"start": "00:00", "end": "06:00"}]}})
    assert hours.is_open(at("2026-11-30T23:59", UTC))
    assert hours.is_open(at("2026-12-01T00:00", UTC))
    assert not hours.is_open(at("2026-12-01T06:00", UTC))
    assert hours.next_change(at("2026-11-30T23:00", UTC)) == at("2026-12-01T06:00", UTC)
    assert hours.next_change(at("2026-12-01T06:00", UTC)) == at("2026-12-07T22:00", UTC)


def test_always_and_never_open_have_no_next_change() -> None:
    always = parse_hours({"preset": "always_open"})
    never = parse_hours({"time_zone": "UTC", "weekly": {}})
    moment = at("2026-12-01T03:00", UTC)
    assert always.is_open(moment) and always.next_change(moment) is None
    assert not never.is_open(moment) and never.next_change(moment) is None


def test_explicit_closed_and_short_dates() -> None:
    hours = parse_hours({
        "time_zone": "UTC",
        "weekly": {"monday": [{"start": "08:00", "end": "17:00"}], "tuesday": [{"start": "08:00", "end": "17:00"}]},
        "holidays": {
            "closed_days": [{"label": "Stocktaking", "on": {"kind": "date", "day": "2026-11-30"}}],
            "short_days": [{"label": "Staff party", "on": {"kind": "date", "day": "2026-12-01"},
                            "ranges": [{"start": "08:00", "end": "10:00"}, {"start": "11:00", "end": "12:00"}]},
                           {"label": "Stocktaking too", "on": {"kind": "date", "day": "2026-11-30"},
                            "ranges": [{"start": "08:00", "end": "09:00"}]}],
        },
    })
    assert not hours.is_open(at("2026-11-30T08:30", UTC))  # closed wins over short
    assert day_ranges(hours, datetime(2026, 12, 1).date()) == ((480, 600), (660, 720))
    assert hours.next_change(at("2026-11-30T09:00", UTC)) == at("2026-12-01T08:00", UTC)
    assert hours.next_change(at("2026-12-01T10:00", UTC)) == at("2026-12-01T11:00", UTC)
    assert hours.is_open(at("2026-12-08T16:59", UTC))  # the next Tuesday is a normal one


def test_a_naive_instant_is_refused(split_day: BusinessHours) -> None:
    with pytest.raises(NaiveInstant):
        split_day.is_open(datetime(2026, 12, 1, 9, 0))
    with pytest.raises(NaiveInstant):
        split_day.next_change(datetime(2026, 12, 1, 9, 0))


def test_an_observed_rule_also_closes_the_observed_weekday() -> None:
    # July 4, 2026 is a Saturday; the US observes it on Friday July 3.
    weekdays = {name: [{"start": "08:00", "end": "17:00"}] for name in ("thursday", "friday", "saturday")}
    rule = {"kind": "holiday", "name": "Independence Day"}

    def hours(observed: bool) -> BusinessHours:
        return parse_hours({"time_zone": "UTC", "weekly": weekdays, "holidays": {"closed_days": [
            {"label": "Fourth of July", "on": {**rule, "observed": observed}}]}})

    friday, saturday = at("2026-07-03T10:00", UTC), at("2026-07-04T10:00", UTC)
    assert not hours(True).is_open(friday) and not hours(True).is_open(saturday)
    assert hours(False).is_open(friday) and not hours(False).is_open(saturday)
