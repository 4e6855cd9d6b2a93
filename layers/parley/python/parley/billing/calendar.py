"""Dates of billing: Billing Dates, cycles, deadlines, business days, the provider's zone.

Every rule works on ``datetime.date`` values that are days in the provider's business
time zone ("Money and dates" Decision); an instant becomes such a day only through
``to_business_date``. Nothing here reads a clock: callers pass ``today``.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, timedelta, tzinfo
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from parley.billing.errors import InvalidBillingInput, NaiveDatetimeError
from parley.timezones import parse_time_zone as parse_time_zone  # re-export: lives in parley.timezones

_ONE_DAY = timedelta(days=1)


# --------------------------------------------------------------------------- zone


def to_business_date(moment: datetime, zone: tzinfo) -> date:
    """The provider's business day that contains the aware instant ``moment``.

    Naive datetimes are refused: their meaning depends on the machine (ARCHITECTURE:
    time comes from a clock object, in UTC).
    """
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise NaiveDatetimeError(f"datetime {moment.isoformat()} has no time zone")
    return moment.astimezone(zone).date()


# --------------------------------------------------------------------------- Billing Dates


def days_in_month(year: int, month: int) -> int:
    """Number of days of a month (28..31)."""
    first_of_next = date(year + 1, 1, 1) if month == 12 else date(year, month + 1, 1)
    return (first_of_next - _ONE_DAY).day


def _check_anchor(anchor_day: int) -> None:
    if not 1 <= anchor_day <= 31:
        raise InvalidBillingInput(f"billing anchor day {anchor_day} must be between 1 and 31")


def billing_date_in_month(anchor_day: int, year: int, month: int) -> date:
    """CO-9 Decision: the Billing Date of a month; a missing day clamps to the month's last day.

    Anchor 31 gives Feb 28 (29 in leap years), Apr 30...; the anchor itself is kept, so
    March is again the 31st.
    """
    _check_anchor(anchor_day)
    return date(year, month, min(anchor_day, days_in_month(year, month)))


def _shift_month(year: int, month: int, delta: int) -> tuple[int, int]:
    index = year * 12 + (month - 1) + delta
    return index // 12, index % 12 + 1


def is_billing_date(anchor_day: int, day: date) -> bool:
    """Whether ``day`` is a Billing Date for ``anchor_day`` (CO-9)."""
    return billing_date_in_month(anchor_day, day.year, day.month) == day


def billing_date_on_or_before(anchor_day: int, day: date) -> date:
    """The latest Billing Date that is <= ``day`` (start of the cycle containing ``day``)."""
    candidate = billing_date_in_month(anchor_day, day.year, day.month)
    if candidate <= day:
        return candidate
    year, month = _shift_month(day.year, day.month, -1)
    return billing_date_in_month(anchor_day, year, month)


def next_billing_date(anchor_day: int, day: date) -> date:
    """The first Billing Date strictly after ``day``."""
    candidate = billing_date_in_month(anchor_day, day.year, day.month)
    if candidate > day:
        return candidate
    year, month = _shift_month(day.year, day.month, 1)
    return billing_date_in_month(anchor_day, year, month)


def previous_billing_date(anchor_day: int, day: date) -> date:
    """The last Billing Date strictly before ``day``."""
    return billing_date_on_or_before(anchor_day, day - _ONE_DAY)


def billing_dates(anchor_day: int, start: date, end: date) -> list[date]:
    """Every Billing Date in ``[start, end]`` (both inclusive), in order (CO-9)."""
    _check_anchor(anchor_day)
    result: list[date] = []
    current = billing_date_on_or_before(anchor_day, start)
    if current < start:
        current = next_billing_date(anchor_day, current)
    while current <= end:
        result.append(current)
        current = next_billing_date(anchor_day, current)
    return result


class Cycle(BaseModel):
    """A billing cycle: from a Billing Date through the day before the next, both inclusive."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    start: date = Field(description="First day: a Billing Date.")
    end: date = Field(description="Last day, inclusive: the day before the next Billing Date.")

    def contains(self, day: date) -> bool:
        return self.start <= day <= self.end

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    @property
    def next_start(self) -> date:
        return self.end + _ONE_DAY


def cycle_for(anchor_day: int, day: date) -> Cycle:
    """The billing cycle that contains ``day`` (CO-9)."""
    start = billing_date_on_or_before(anchor_day, day)
    return Cycle(start=start, end=next_billing_date(anchor_day, start) - _ONE_DAY)


def cycle_starting(anchor_day: int, start: date) -> Cycle:
    """The cycle that begins on the Billing Date ``start``; raises if ``start`` is not one."""
    if not is_billing_date(anchor_day, start):
        raise InvalidBillingInput(f"{start.isoformat()} is not a Billing Date for anchor day {anchor_day}")
    return cycle_for(anchor_day, start)


# --------------------------------------------------------------------------- deadlines


def last_day_within(day: date, days: int) -> date:
    """Last day of "within N days of X": day X+N ("Money and dates" Decision)."""
    return day + timedelta(days=days)


def consequence_day(day: date, days: int) -> date:
    """The day the consequence of missing "within N days of X" happens: X+N+1."""
    return day + timedelta(days=days + 1)


# --------------------------------------------------------------------------- business days

Weekday = Annotated[int, Field(ge=0, le=6, description="0 = Monday ... 6 = Sunday")]


class FixedDateHoliday(BaseModel):
    """A holiday on the same date every year (Christmas Day: month 12, day 25)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: Literal["fixed"] = "fixed"
    name: str = Field(min_length=1)
    month: int = Field(ge=1, le=12)
    day: int = Field(ge=1, le=31)
    observed: bool = Field(
        default=False,
        description="US federal rule: on a Saturday it is observed the Friday before, on a Sunday the Monday after.",
    )

    @model_validator(mode="after")
    def _day_exists(self) -> FixedDateHoliday:
        if self.day > days_in_month(2000, self.month):  # 2000 is a leap year: Feb 29 allowed
            raise ValueError(f"month {self.month} has no day {self.day}")
        return self

    def dates_for(self, year: int) -> list[date]:
        if self.day > days_in_month(year, self.month):
            return []  # Feb 29 in a common year
        actual = date(year, self.month, self.day)
        if self.observed and actual.weekday() == 5:
            return [actual - _ONE_DAY]
        if self.observed and actual.weekday() == 6:
            return [actual + _ONE_DAY]
        return [actual]


class WeekdayHoliday(BaseModel):
    """A holiday on the n-th (or last, ``nth=-1``) weekday of a month, plus an offset.

    Thanksgiving: month 11, weekday 3 (Thursday), nth 4; Black Friday: the same with
    ``offset_days=1``; Memorial Day: month 5, weekday 0, nth -1.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: Literal["weekday"] = "weekday"
    name: str = Field(min_length=1)
    month: int = Field(ge=1, le=12)
    weekday: Weekday
    nth: Literal[1, 2, 3, 4, 5, -1]
    offset_days: int = Field(default=0, ge=-6, le=6)

    def dates_for(self, year: int) -> list[date]:
        if self.nth == -1:
            last = date(year, self.month, days_in_month(year, self.month))
            base = last - timedelta(days=(last.weekday() - self.weekday) % 7)
        else:
            first = date(year, self.month, 1)
            base = first + timedelta(days=(self.weekday - first.weekday()) % 7 + 7 * (self.nth - 1))
            if base.month != self.month:
                return []
        return [base + timedelta(days=self.offset_days)]


HolidayRule = Annotated[FixedDateHoliday | WeekdayHoliday, Field(discriminator="kind")]


class BusinessCalendar(BaseModel):
    """CH-9's business days: the listed weekdays minus holidays (rules plus one-off dates)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(min_length=1, description="Label shown in explanations.")
    weekdays: tuple[Weekday, ...] = Field(
        default=(0, 1, 2, 3, 4), min_length=1, description="Working weekdays, 0 = Monday."
    )
    holidays: tuple[HolidayRule, ...] = Field(default=(), description="Yearly holiday rules.")
    extra_holidays: tuple[date, ...] = Field(default=(), description="One-off closed days.")

    def holidays_in_year(self, year: int) -> frozenset[date]:
        """All holiday dates falling in ``year`` (observed shifts may cross a year end)."""
        found: set[date] = {d for d in self.extra_holidays if d.year == year}
        for rule in self.holidays:
            for y in (year - 1, year, year + 1):
                found.update(d for d in rule.dates_for(y) if d.year == year)
        return frozenset(found)

    def is_holiday(self, day: date) -> bool:
        return day in self.holidays_in_year(day.year)

    def is_business_day(self, day: date) -> bool:
        return day.weekday() in self.weekdays and not self.is_holiday(day)

    def _days_after(self, start: date) -> Iterator[date]:
        cache: dict[int, frozenset[date]] = {}
        day = start
        for _ in range(3660):  # ten years: a calendar with no business day is a config error
            day += _ONE_DAY
            if day.year not in cache:
                cache[day.year] = self.holidays_in_year(day.year)
            if day.weekday() in self.weekdays and day not in cache[day.year]:
                yield day
        raise InvalidBillingInput(f"business calendar {self.name!r} has no business day for ten years")

    def add_business_days(self, start: date, count: int) -> date:
        """The ``count``-th business day strictly after ``start`` (``start`` itself never counts).

        CH-9: notice given on a Friday evening or on a holiday starts counting on the next
        business day. ``count`` 0 returns ``start``.
        """
        if count < 0:
            raise InvalidBillingInput("business day count must be >= 0")
        if count == 0:
            return start
        for index, day in enumerate(self._days_after(start), start=1):
            if index == count:
                return day
        raise AssertionError("unreachable")  # pragma: no cover

    def business_days_between(self, start: date, end: date) -> int:
        """How many business days fall in ``(start, end]``."""
        if end <= start:
            return 0
        count = 0
        for day in self._days_after(start):
            if day > end:
                break
            count += 1
        return count


def _fixed(name: str, month: int, day: int, *, observed: bool) -> FixedDateHoliday:
    return FixedDateHoliday(name=name, month=month, day=day, observed=observed)


def _weekday(name: str, month: int, weekday: int, nth: Literal[1, 2, 3, 4, 5, -1], offset: int = 0) -> WeekdayHoliday:
    return WeekdayHoliday(name=name, month=month, weekday=weekday, nth=nth, offset_days=offset)


CALL_ON_ME_HOLIDAYS = BusinessCalendar(
    name="Call On Me closed days (CO-8)",
    holidays=(
        _weekday("Memorial Day", 5, 0, -1),
        _fixed("Independence Day", 7, 4, observed=False),
        _weekday("Labor Day", 9, 0, 1),
        _weekday("Thanksgiving Day", 11, 3, 4),
        _weekday("Black Friday", 11, 3, 4, offset=1),
        _fixed("Christmas Day", 12, 25, observed=False),
        _fixed("New Year's Day", 1, 1, observed=False),
    ),
)
"""CO-8's seven closed days, on their actual dates (the seed names days, not observed shifts)."""

US_FEDERAL_HOLIDAYS = BusinessCalendar(
    name="US federal holidays (5 U.S.C. 6103, observed)",
    holidays=(
        _fixed("New Year's Day", 1, 1, observed=True),
        _weekday("Birthday of Martin Luther King, Jr.", 1, 0, 3),
        _weekday("Washington's Birthday", 2, 0, 3),
        _weekday("Memorial Day", 5, 0, -1),
        _fixed("Juneteenth National Independence Day", 6, 19, observed=True),
        _fixed("Independence Day", 7, 4, observed=True),
        _weekday("Labor Day", 9, 0, 1),
        _weekday("Columbus Day", 10, 0, 2),
        _fixed("Veterans Day", 11, 11, observed=True),
        _weekday("Thanksgiving Day", 11, 3, 4),
        _fixed("Christmas Day", 12, 25, observed=True),
    ),
)
"""The eleven US federal holidays with the federal observed-day rule (Sat -> Fri, Sun -> Mon)."""
