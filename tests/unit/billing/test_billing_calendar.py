"""Dates: CO-9 Billing Dates with clamping, cycles, "within N days" (Decision), CH-9 business days."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from parley.billing import (
    CALL_ON_ME_HOLIDAYS,
    US_FEDERAL_HOLIDAYS,
    BusinessCalendar,
    Cycle,
    FixedDateHoliday,
    InvalidBillingInput,
    billing_date_in_month,
    billing_dates,
    consequence_day,
    cycle_for,
    cycle_starting,
    is_billing_date,
    last_day_within,
    next_billing_date,
    parse_time_zone,
    previous_billing_date,
    to_business_date,
)

from .support import d


@pytest.mark.parametrize(
    ("anchor", "year", "month", "expected"),
    [
        (29, 2024, 2, "2024-02-29"),  # leap
        (29, 2025, 2, "2025-02-28"),  # non-leap: clamps
        (30, 2024, 2, "2024-02-29"),
        (30, 2025, 2, "2025-02-28"),
        (31, 2024, 2, "2024-02-29"),
        (31, 2025, 2, "2025-02-28"),
        (31, 2025, 4, "2025-04-30"),
        (30, 2025, 4, "2025-04-30"),
        (31, 2025, 3, "2025-03-31"),  # anchor kept for later months
        (1, 2025, 2, "2025-02-01"),
    ],
)
def test_co9_billing_date_clamps_to_month_end(anchor: int, year: int, month: int, expected: str) -> None:
    assert billing_date_in_month(anchor, year, month) == d(expected)


def test_co9_anchor_31_over_a_year() -> None:
    dates = billing_dates(31, d("2025-01-01"), d("2025-12-31"))
    assert [x.day for x in dates] == [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]


def test_co9_billing_dates_inclusive_bounds() -> None:
    assert billing_dates(15, d("2025-03-15"), d("2025-05-15")) == [d("2025-03-15"), d("2025-04-15"), d("2025-05-15")]
    assert billing_dates(15, d("2025-03-16"), d("2025-05-14")) == [d("2025-04-15")]


def test_co9_cycle_for_a_date_inclusive_ends() -> None:
    assert cycle_for(15, d("2025-04-14")) == Cycle(start=d("2025-03-15"), end=d("2025-04-14"))
    assert cycle_for(15, d("2025-04-15")) == Cycle(start=d("2025-04-15"), end=d("2025-05-14"))
    # anchor 31: Feb 28 -> Mar 30 (Mar 31 is the next Billing Date)
    assert cycle_for(31, d("2025-03-01")) == Cycle(start=d("2025-02-28"), end=d("2025-03-30"))
    assert cycle_for(31, d("2025-03-31")).start == d("2025-03-31")
    assert cycle_for(30, d("2024-02-29")) == Cycle(start=d("2024-02-29"), end=d("2024-03-29"))


def test_co9_next_and_previous_billing_dates() -> None:
    assert next_billing_date(31, d("2025-01-31")) == d("2025-02-28")
    assert next_billing_date(31, d("2025-02-28")) == d("2025-03-31")
    assert previous_billing_date(31, d("2025-03-31")) == d("2025-02-28")
    assert is_billing_date(31, d("2025-04-30")) and not is_billing_date(31, d("2025-04-29"))


def test_co9_cycle_starting_requires_billing_date() -> None:
    assert cycle_starting(15, d("2025-04-15")).end == d("2025-05-14")
    with pytest.raises(InvalidBillingInput):
        cycle_starting(15, d("2025-04-16"))


def test_co9_invalid_anchor() -> None:
    with pytest.raises(InvalidBillingInput):
        billing_date_in_month(32, 2025, 1)


def test_money_and_dates_decision_within_n_days() -> None:
    assert last_day_within(d("2025-04-25"), 10) == d("2025-05-05")
    assert consequence_day(d("2025-04-25"), 10) == d("2025-05-06")


def test_money_and_dates_decision_business_date_from_utc() -> None:
    zone = parse_time_zone("Etc/GMT+7")
    assert to_business_date(datetime(2025, 4, 15, 6, 59, 59, tzinfo=UTC), zone) == d("2025-04-14")
    assert to_business_date(datetime(2025, 4, 15, 7, 0, 0, tzinfo=UTC), zone) == d("2025-04-15")
    la = parse_time_zone("America/Los_Angeles")  # DST: UTC-7 in summer, UTC-8 in winter
    assert to_business_date(datetime(2025, 1, 15, 7, 30, tzinfo=UTC), la) == d("2025-01-14")
    assert to_business_date(datetime(2025, 7, 15, 7, 30, tzinfo=UTC), la) == d("2025-07-15")


def test_time_zone_parsing_offsets_and_errors() -> None:
    assert parse_time_zone("UTC-07:00").utcoffset(None).total_seconds() == -7 * 3600  # type: ignore[union-attr]
    assert parse_time_zone("+05:30").utcoffset(None).total_seconds() == 5.5 * 3600  # type: ignore[union-attr]
    with pytest.raises(ValueError):
        parse_time_zone("UTC-25:00")
    with pytest.raises(ValueError):
        parse_time_zone("Nowhere/Land")


# ---- CH-9 business days / CO-8 holidays


def test_co8_call_on_me_closed_days_2025() -> None:
    assert CALL_ON_ME_HOLIDAYS.holidays_in_year(2025) == {
        d("2025-01-01"),
        d("2025-05-26"),  # Memorial Day: last Monday of May
        d("2025-07-04"),
        d("2025-09-01"),  # Labor Day
        d("2025-11-27"),  # Thanksgiving
        d("2025-11-28"),  # Black Friday
        d("2025-12-25"),
    }


def test_ch9_federal_observed_holidays_cross_year_end() -> None:
    assert d("2021-12-31") in US_FEDERAL_HOLIDAYS.holidays_in_year(2021)  # Jan 1 2022 is a Saturday
    assert d("2026-07-03") in US_FEDERAL_HOLIDAYS.holidays_in_year(2026)  # Jul 4 2026 is a Saturday
    assert d("2023-01-02") in US_FEDERAL_HOLIDAYS.holidays_in_year(2023)  # Jan 1 2023 is a Sunday
    assert len(US_FEDERAL_HOLIDAYS.holidays_in_year(2025)) == 11


def test_ch9_add_business_days_skips_weekends() -> None:
    cal = BusinessCalendar(name="weekdays only")
    assert cal.add_business_days(d("2025-04-11"), 1) == d("2025-04-14")  # Fri -> Mon
    assert cal.add_business_days(d("2025-04-12"), 1) == d("2025-04-14")  # Sat -> Mon
    assert cal.add_business_days(d("2025-04-14"), 7) == d("2025-04-23")
    assert cal.add_business_days(d("2025-04-14"), 0) == d("2025-04-14")


def test_ch9_add_business_days_skips_holidays() -> None:
    # Fri Nov 21 2025: Mon 24, Tue 25, Wed 26, (Thu 27 Thanksgiving), Fri 28, Mon 1, Tue 2, Wed 3
    assert US_FEDERAL_HOLIDAYS.add_business_days(d("2025-11-21"), 7) == d("2025-12-03")
    # with Black Friday closed too (CO-8 list) one more day
    assert CALL_ON_ME_HOLIDAYS.add_business_days(d("2025-11-21"), 7) == d("2025-12-04")
    assert US_FEDERAL_HOLIDAYS.business_days_between(d("2025-11-21"), d("2025-12-03")) == 7


def test_ch9_business_calendar_extra_days_and_custom_weekdays() -> None:
    cal = BusinessCalendar(name="six-day week", weekdays=(0, 1, 2, 3, 4, 5), extra_holidays=(d("2025-04-14"),))
    assert cal.add_business_days(d("2025-04-11"), 2) == d("2025-04-15")  # Sat 12 counts, Mon 14 closed
    assert not cal.is_business_day(d("2025-04-13"))


def test_ch9_fixed_holiday_validation() -> None:
    with pytest.raises(ValueError):
        FixedDateHoliday(name="bad", month=2, day=30)
    leap = FixedDateHoliday(name="leap", month=2, day=29)
    assert leap.dates_for(2025) == [] and leap.dates_for(2024) == [d("2024-02-29")]
