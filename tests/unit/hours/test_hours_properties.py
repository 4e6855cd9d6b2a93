"""Property: is_open and next_change agree, for random weekly hours in zones with odd DST."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from parley.hours import WEEKDAYS, BusinessHours, parse_hours

ZONES = ["America/New_York", "Europe/London", "Australia/Lord_Howe", "Etc/GMT+7", "America/Santiago"]


@st.composite
def day_ranges(draw: st.DrawFn) -> list[dict[str, str]]:
    cuts = sorted(draw(st.sets(st.integers(0, 96), max_size=6)))  # quarter hours
    ranges = []
    for start, end in zip(cuts[::2], cuts[1::2], strict=False):
        ranges.append({"start": f"{start // 4:02}:{start % 4 * 15:02}",
                       "end": "24:00" if end == 96 else f"{end // 4:02}:{end % 4 * 15:02}"})
    return ranges


@st.composite
def business_hours(draw: st.DrawFn) -> BusinessHours:
    weekly = {name: draw(day_ranges()) for name in WEEKDAYS}
    return parse_hours({"time_zone": draw(st.sampled_from(ZONES)), "weekly": weekly})


instants = st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2028, 12, 31),
                        timezones=st.just(UTC))


@settings(max_examples=150, deadline=None)
@given(hours=business_hours(), at=instants)
def test_is_open_stays_constant_until_next_change_and_flips_there(hours: BusinessHours, at: datetime) -> None:
    state = hours.is_open(at)
    change = hours.next_change(at)
    if change is None:
        for days in (1, 7, 30):
            assert hours.is_open(at + timedelta(days=days)) is state
        return
    assert change > at
    assert hours.is_open(change) is not state
    assert hours.is_open(at + (change - at) / 2) is state
    before = change - timedelta(microseconds=1)
    assert before < at or hours.is_open(before) is state
