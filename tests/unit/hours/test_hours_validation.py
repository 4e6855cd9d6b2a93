"""Bad hours get one clear error naming each field (InvalidHours, 400 invalid_hours)."""

from __future__ import annotations

from typing import Any

import pytest

from parley.errors import InvalidRequest
from parley.hours import InvalidHours, parse_hours


def monday(*ranges: tuple[str, str]) -> dict[str, Any]:
    return {"time_zone": "UTC", "weekly": {"monday": [{"start": s, "end": e} for s, e in ranges]}}


def problem(data: Any) -> InvalidHours:
    with pytest.raises(InvalidHours) as caught:
        parse_hours(data)
    return caught.value


@pytest.mark.parametrize("text", ["8:00", "25:00", "12:60", "24:01", "noon", "", "08:00:00"])
def test_a_malformed_time_names_its_field(text: str) -> None:
    error = problem(monday((text, "17:00")))
    assert error.fields == ("weekly.monday[0].start",)
    assert "HH:MM" in error.message


@pytest.mark.parametrize(("start", "end"), [("17:00", "08:00"), ("08:00", "08:00"), ("22:00", "02:00")])
def test_an_end_not_after_its_start_is_refused(start: str, end: str) -> None:
    error = problem(monday(("07:00", "07:30"), (start, end)))
    assert error.fields == ("weekly.monday[1].end",)
    assert "must be later than start" in error.message


def test_overlapping_ranges_are_refused() -> None:
    error = problem(monday(("13:00", "17:00"), ("08:00", "13:01")))
    assert error.fields == ("weekly.monday",)
    assert error.message == "hours: weekly.monday: ranges 08:00-13:01 and 13:00-17:00 overlap"


def test_overlapping_short_day_ranges_are_refused() -> None:
    data = {**monday(("08:00", "17:00")), "holidays": {"short_days": [
        {"label": "Eve", "on": {"kind": "date", "day": "2026-12-24"},
         "ranges": [{"start": "08:00", "end": "12:00"}, {"start": "11:00", "end": "12:30"}]}]}}
    assert problem(data).fields == ("holidays.short_days[0].ranges",)


def test_a_short_day_needs_a_range() -> None:
    data = {**monday(("08:00", "17:00")), "holidays": {"short_days": [
        {"label": "Eve", "on": {"kind": "date", "day": "2026-12-24"}, "ranges": []}]}}
    assert problem(data).fields == ("holidays.short_days[0].ranges",)


@pytest.mark.parametrize("zone", ["Mars/Olympus_Mons", "EST5EDT6", "", "America/Phoenixx"])
def test_an_unknown_time_zone_is_refused(zone: str) -> None:
    error = problem({"time_zone": zone, "weekly": {}})
    assert error.fields == ("time_zone",)
    assert "not a known time zone" in error.message


def test_an_unknown_holiday_name_or_country_is_refused() -> None:
    rule = {"kind": "holiday", "name": "Thanksgivin Day"}
    error = problem({**monday(), "holidays": {"closed_days": [{"label": "T", "on": rule}]}})
    assert error.fields == ("holidays.closed_days[0].on.holiday.name",)
    assert "'Thanksgivin Day' is not a US holiday" in error.message and "Thanksgiving Day" in error.message
    rule = {"kind": "holiday", "name": "Labor Day", "country": "XX"}
    error = problem({**monday(), "holidays": {"closed_days": [{"label": "L", "on": rule}]}})
    assert error.fields == ("holidays.closed_days[0].on.holiday.country",)


def test_every_problem_is_reported_at_once() -> None:
    error = problem({"time_zone": "Nowhere/Land", "weekly": {"sunday": [{"start": "9", "end": "10:00"}],
                                                              "funday": []}, "colour": "red"})
    assert set(error.fields) == {"time_zone", "weekly.sunday[0].start", "weekly.funday", "colour"}


def test_unknown_presets_and_non_objects_are_refused() -> None:
    assert problem({"preset": "night_owl"}).fields == ("preset",)
    assert problem(["not", "an", "object"]).fields == ("",)


def test_a_preset_with_overrides_is_validated_too() -> None:
    assert parse_hours({"preset": "call_on_me", "after_hours_coverage": True}).after_hours_coverage
    assert problem({"preset": "call_on_me", "time_zone": "Moon/Base"}).fields == ("time_zone",)


def test_the_error_is_an_http_400_with_a_stable_code() -> None:
    error = problem(monday(("17:00", "08:00")))
    assert isinstance(error, InvalidRequest)
    assert (error.status, error.code) == (400, "invalid_hours")


def test_a_stored_rule_with_a_name_the_package_no_longer_knows_still_loads() -> None:
    # Input is checked (above); stored data is not re-judged, so a package upgrade that renames a
    # holiday cannot make a client's item unreadable. The rule then matches no date.
    from datetime import UTC, datetime

    from parley.hours import BusinessHours

    stored = {"time_zone": "UTC", "weekly": {"friday": [{"start": "08:00", "end": "17:00"}]},
              "holidays": {"closed_days": [{"label": "Renamed", "on": {"kind": "holiday", "name": "Old Name Day"}}]}}
    hours = BusinessHours.model_validate(stored)
    assert hours.is_open(datetime(2026, 12, 4, 9, tzinfo=UTC))
    assert problem(stored).fields == ("holidays.closed_days[0].on.holiday.name",)
