"""Business hours of a client as validated data (CO-8, PR-2); evaluation is in ``evaluation``.

A client's hours are a weekly schedule (several ranges a day, minute resolution) in the
client's time zone, a holiday calendar (closed days and short days, by explicit date or by a
named rule resolved with the ``holidays`` package), and whether the client bought
after-hours coverage (PR-2). The rules as implemented are described in docs/hours.md.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta, tzinfo
from functools import lru_cache
from itertools import pairwise
from types import ModuleType
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from parley.hours import evaluation
from parley.timezones import parse_time_zone

_TIME = re.compile(r"^(?:([01]\d|2[0-3]):([0-5]\d)|24:00)$")
MINUTES_PER_DAY = 24 * 60
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


def minute_of_day(text: str) -> int:
    """``"08:30"`` -> 510; ``"24:00"`` -> 1440 (the end of the day)."""
    match = _TIME.match(text)
    if match is None:
        raise ValueError(f"{text!r} is not a time HH:MM between 00:00 and 24:00")
    if match.group(1) is None:
        return MINUTES_PER_DAY
    return int(match.group(1)) * 60 + int(match.group(2))


class TimeRange(BaseModel):
    """An opening range within one day: from ``start`` (included) to ``end`` (excluded).

    ``end`` may be ``24:00`` (open until midnight); a range never crosses midnight: a night
    shift is two ranges on consecutive days (``22:00-24:00`` and ``00:00-06:00``).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    start: str = Field(description="Opening time, HH:MM (00:00 to 23:59), in the client's zone.")
    end: str = Field(description="Closing time, HH:MM (00:01 to 24:00), later than start.")

    @field_validator("start", "end")
    @classmethod
    def _well_formed(cls, value: str) -> str:
        minute_of_day(value)
        return value

    @field_validator("end")
    @classmethod
    def _ends_after_start(cls, value: str, info: ValidationInfo) -> str:
        start = info.data.get("start")  # absent when start itself is invalid
        if start is not None and minute_of_day(value) <= minute_of_day(start):
            raise ValueError(f"{value} must be later than start {start} "
                             "(a range cannot cross midnight: split it in two days)")
        return value

    @property
    def start_minute(self) -> int:
        return minute_of_day(self.start)

    @property
    def end_minute(self) -> int:
        return minute_of_day(self.end)

    def __str__(self) -> str:
        return f"{self.start}-{self.end}"


def check_no_overlap(ranges: tuple[TimeRange, ...]) -> tuple[TimeRange, ...]:
    """Ranges of one day must not overlap (touching, 08:00-12:00 and 12:00-17:00, is allowed)."""
    ordered = sorted(ranges, key=lambda r: r.start_minute)
    for earlier, later in pairwise(ordered):
        if later.start_minute < earlier.end_minute:
            raise ValueError(f"ranges {earlier} and {later} overlap")
    return ranges


DayRanges = tuple[TimeRange, ...]


class WeeklyHours(BaseModel):
    """Opening ranges per weekday; a day with no range is closed."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    monday: DayRanges = ()
    tuesday: DayRanges = ()
    wednesday: DayRanges = ()
    thursday: DayRanges = ()
    friday: DayRanges = ()
    saturday: DayRanges = ()
    sunday: DayRanges = ()

    @field_validator(*WEEKDAYS)
    @classmethod
    def _no_overlap(cls, value: DayRanges) -> DayRanges:
        return check_no_overlap(value)

    def ranges_on(self, weekday: int) -> DayRanges:
        """The ranges of a weekday, 0 = Monday."""
        ranges: DayRanges = getattr(self, WEEKDAYS[weekday])
        return ranges

    @classmethod
    def same_every(cls, days: tuple[int, ...], ranges: DayRanges) -> WeeklyHours:
        """The same ranges on each weekday of ``days`` (0 = Monday), closed on the others."""
        return cls.model_validate({WEEKDAYS[d]: ranges for d in days})


# --------------------------------------------------------------------------- day rules


class OnDate(BaseModel):
    """One explicit date (a one-off closure, a stocktaking day)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: Literal["date"] = "date"
    day: date = Field(description="The date, YYYY-MM-DD, in the client's zone.")

    def dates_in(self, year: int) -> frozenset[date]:
        return frozenset({self.day}) if self.day.year == year else frozenset()


CHECK_HOLIDAY_NAMES = "check_holiday_names"
"""Validation context key: refuse holiday names the holidays package does not know."""


def _holidays_package() -> ModuleType:
    """The ``holidays`` package, imported on first use: only a rule naming a holiday needs it,
    and its ~10 ms import would otherwise be paid by every cold start that loads a client
    (every chat function), most of which never evaluate a named holiday."""
    import holidays

    return holidays


@lru_cache(maxsize=32)
def _known_names(country: str) -> frozenset[str]:
    calendar = _holidays_package().country_holidays(country, years=range(2000, 2051), observed=False)
    return frozenset(name for day in calendar for name in calendar.get_list(day))


@lru_cache(maxsize=512)
def _dates_named(country: str, year: int, name: str, observed: bool) -> tuple[date, ...]:
    calendar = _holidays_package().country_holidays(country, years=year, observed=observed)
    wanted = {name, f"{name} (observed)"} if observed else {name}
    return tuple(sorted(day for day in calendar if wanted & set(calendar.get_list(day))))


class OnHoliday(BaseModel):
    """A yearly rule: a holiday as the ``holidays`` package names it, shifted by ``offset_days``.

    ``{"name": "Thanksgiving Day", "offset_days": 1}`` is Black Friday; ``{"name": "New Year's
    Day", "offset_days": -1}`` is New Year's Eve (December 31 of the year before). The dates
    come from the package for any year it knows the holiday in (``observed`` false: the day
    itself; true: also the weekday it is observed on when it falls on a weekend).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: Literal["holiday"] = "holiday"
    country: str = Field(default="US", description="ISO 3166 country code known to the holidays package.")
    name: str = Field(min_length=1, description="Holiday name in the holidays package, e.g. 'Labor Day'.")
    offset_days: int = Field(default=0, ge=-7, le=7, description="Days after (+) or before (-) the holiday.")
    observed: bool = Field(default=False, description="Also the observed day of a weekend holiday.")

    @field_validator("country")
    @classmethod
    def _known_country(cls, value: str) -> str:
        if value not in _holidays_package().list_supported_countries():
            raise ValueError(f"{value!r} is not a country the holidays package knows")
        return value

    @field_validator("name")
    @classmethod
    def _known_name(cls, value: str, info: ValidationInfo) -> str:
        # Checked on input only (parse_hours): a stored rule whose name a newer package spells
        # differently must still load; it then matches no date (docs/hours.md).
        checking = bool(info.context and info.context.get(CHECK_HOLIDAY_NAMES))
        country = info.data.get("country")  # absent when the country itself is unknown
        if checking and country is not None and value not in _known_names(country):
            raise ValueError(f"{value!r} is not a {country} holiday the holidays package knows "
                             f"(known: {', '.join(sorted(_known_names(country)))})")
        return value

    def dates_in(self, year: int) -> frozenset[date]:
        shift = timedelta(days=self.offset_days)
        found = {day + shift for y in (year - 1, year, year + 1)
                 for day in _dates_named(self.country, y, self.name, self.observed)}
        return frozenset(day for day in found if day.year == year)


DayRule = Annotated[OnDate | OnHoliday, Field(discriminator="kind")]


class ClosedDay(BaseModel):
    """A day closed all day (CO-8: Memorial Day, Christmas Day...)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    label: str = Field(min_length=1, description="Shown to people, e.g. 'Black Friday'.")
    on: DayRule


class ShortDay(BaseModel):
    """A day with its own ranges instead of the weekly ones (CO-8: 8am-12pm on Christmas Eve).

    A short day only shortens: on a weekday the weekly schedule keeps closed it stays closed.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    label: str = Field(min_length=1)
    on: DayRule
    ranges: DayRanges = Field(min_length=1, description="The day's opening ranges.")

    @field_validator("ranges")
    @classmethod
    def _no_overlap(cls, value: DayRanges) -> DayRanges:
        return check_no_overlap(value)


class HolidayCalendar(BaseModel):
    """Closed days and short days. A date that is both is closed."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    closed_days: tuple[ClosedDay, ...] = ()
    short_days: tuple[ShortDay, ...] = ()


# --------------------------------------------------------------------------- the client's hours


class BusinessHours(BaseModel):
    """A client's opening hours, holiday calendar and after-hours coverage (CO-8, PR-2)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    preset: str | None = Field(default=None, description="Preset these hours were built from, if any.")
    time_zone: str = Field(description="IANA zone (America/Denver, Etc/GMT+7 = UTC-7 without DST).")
    weekly: WeeklyHours
    holidays: HolidayCalendar = HolidayCalendar()
    after_hours_coverage: bool = Field(
        default=False, description="PR-2: the client bought after-hours coverage; chats are routed at any time."
    )

    @field_validator("time_zone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        parse_time_zone(value)  # ValueError naming the zone when unknown
        return value

    @property
    def zone(self) -> tzinfo:
        return parse_time_zone(self.time_zone)

    def is_open(self, at: datetime) -> bool:
        """Whether ``at`` falls in the client's opening hours (holidays applied)."""
        return evaluation.is_open(self, at)

    def open_now(self, at: datetime) -> bool:
        """Same as ``is_open``: within opening hours, whatever the coverage."""
        return self.is_open(at)

    def routes_now(self, at: datetime) -> bool:
        """Whether chats go to agents at ``at``: within hours, or at any time with coverage (PR-2)."""
        return self.after_hours_coverage or self.is_open(at)

    def next_change(self, at: datetime) -> datetime | None:
        """The next instant after ``at`` at which ``is_open`` changes (UTC); None if none within two years."""
        return evaluation.next_change(self, at)
