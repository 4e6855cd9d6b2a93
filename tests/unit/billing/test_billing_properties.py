"""Property tests: CO-9 clamping and cycles, CO-2 / CH-9 effective cancellation dates."""

from __future__ import annotations

from datetime import date, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from parley.billing import (
    BillingPolicy,
    billing_date_in_month,
    cycle_for,
    effective_cancellation_date,
    is_billing_date,
    next_billing_date,
)
from parley.billing.calendar import days_in_month

COM = BillingPolicy.from_preset("call_on_me")
CHO = BillingPolicy.from_preset("chat_outsource")

anchors = st.integers(min_value=1, max_value=31)
days = st.dates(min_value=date(2000, 1, 1), max_value=date(2090, 12, 31))


@given(anchors, st.integers(min_value=1900, max_value=2200), st.integers(min_value=1, max_value=12))
def test_co9_clamping_always_valid_date_within_month(anchor: int, year: int, month: int) -> None:
    billing = billing_date_in_month(anchor, year, month)
    assert (billing.year, billing.month) == (year, month)
    assert billing.day == min(anchor, days_in_month(year, month))


@given(anchors, days)
def test_co9_cycles_are_contiguous_and_one_month_long(anchor: int, day: date) -> None:
    cycle = cycle_for(anchor, day)
    assert cycle.contains(day)
    assert is_billing_date(anchor, cycle.start) and is_billing_date(anchor, cycle.next_start)
    assert 28 <= cycle.days <= 31
    assert next_billing_date(anchor, cycle.start) == cycle.next_start
    assert cycle_for(anchor, cycle.next_start).start == cycle.next_start


@settings(max_examples=300)
@given(days, st.integers(min_value=30, max_value=800))
def test_co2_effective_date_is_cycle_end_after_notice_expiry_within_one_cycle(paid_start: date, offset: int) -> None:
    anchor = paid_start.day
    notice = paid_start + timedelta(days=offset)  # day 31 of paid service or later
    result = effective_cancellation_date(COM, paid_start, anchor, notice)
    expiry = notice + timedelta(days=30)
    assert not result.within_free_window
    assert result.notice_expires_on == expiry
    assert is_billing_date(anchor, result.effective_date + timedelta(days=1))  # a cycle end
    assert result.effective_date >= expiry
    assert result.effective_date < next_billing_date(anchor, expiry)  # less than one cycle after it
    assert cycle_for(anchor, expiry).end == result.effective_date


@given(days, st.integers(min_value=0, max_value=29))
def test_co2_first_30_days_ends_current_cycle(paid_start: date, offset: int) -> None:
    notice = paid_start + timedelta(days=offset)
    result = effective_cancellation_date(COM, paid_start, paid_start.day, notice)
    assert result.within_free_window
    assert result.effective_date == cycle_for(paid_start.day, notice).end


@given(days, st.integers(min_value=0, max_value=400))
def test_ch9_effective_date_is_seventh_business_day(paid_start: date, offset: int) -> None:
    notice = paid_start + timedelta(days=offset)
    result = effective_cancellation_date(CHO, paid_start, paid_start.day, notice, "reason")
    calendar = CHO.business_calendar
    assert calendar.is_business_day(result.effective_date)
    assert calendar.business_days_between(notice, result.effective_date) == 7
    assert result.effective_date > notice
