"""Cancellation notice: CO-2 (first 30 days, 30-day notice to a cycle end), CH-9 (7 business days + reason)."""

from __future__ import annotations

import pytest

from parley.billing import (
    BillingPolicy,
    NoticeNotAllowed,
    ReasonRequired,
    can_withdraw,
    effective_cancellation_date,
)

from .support import d

PAID = d("2025-03-15")  # first paid day and first Billing Date; anchor 15
ANCHOR = 15


# ---- CO-2: first 30 days of paid service


def test_co2_notice_on_day_1_ends_current_cycle(com: BillingPolicy) -> None:
    result = effective_cancellation_date(com, PAID, ANCHOR, PAID)
    assert result.within_free_window and result.day_of_paid_service == 1
    assert result.effective_date == d("2025-04-14")
    assert result.notice_expires_on is None
    assert result.rule_id == "CO-2"


def test_co2_notice_on_day_30_of_paid_service_is_within_first_30_days(com: BillingPolicy) -> None:
    result = effective_cancellation_date(com, PAID, ANCHOR, d("2025-04-13"))
    assert result.day_of_paid_service == 30 and result.within_free_window
    assert result.effective_date == d("2025-04-14")  # end of the current cycle
    assert "first 30 days" in result.explanation and "(CO-2)" in result.explanation


def test_co2_notice_on_day_31_needs_30_days_notice(com: BillingPolicy) -> None:
    result = effective_cancellation_date(com, PAID, ANCHOR, d("2025-04-14"))
    assert result.day_of_paid_service == 31 and not result.within_free_window
    assert result.notice_expires_on == d("2025-05-14")
    assert result.effective_date == d("2025-05-14")  # expiry is the last day of the Apr 15 - May 14 cycle


def test_co2_notice_on_day_32(com: BillingPolicy) -> None:
    result = effective_cancellation_date(com, PAID, ANCHOR, d("2025-04-15"))
    assert result.notice_expires_on == d("2025-05-15")
    assert result.effective_date == d("2025-06-14")


def test_co2_free_window_crossing_into_second_cycle_ends_that_cycle(com: BillingPolicy) -> None:
    # paid from Jan 31 (anchor 31): day 30 is Mar 1, in the Feb 28 - Mar 30 cycle
    result = effective_cancellation_date(com, d("2025-01-31"), 31, d("2025-03-01"))
    assert result.within_free_window
    assert result.effective_date == d("2025-03-30")


def test_co2_notice_expiring_on_last_day_of_cycle(com: BillingPolicy) -> None:
    result = effective_cancellation_date(com, PAID, ANCHOR, d("2025-06-14"))
    assert result.notice_expires_on == d("2025-07-14")
    assert result.effective_date == d("2025-07-14")


def test_co2_notice_expiring_on_first_day_of_next_cycle(com: BillingPolicy) -> None:
    result = effective_cancellation_date(com, PAID, ANCHOR, d("2025-06-15"))
    assert result.notice_expires_on == d("2025-07-15")
    assert result.effective_date == d("2025-08-14")
    assert "2025-07-15 to 2025-08-14" in result.explanation


def test_co2_notice_with_anchor_31_through_february(com: BillingPolicy) -> None:
    result = effective_cancellation_date(com, d("2024-10-31"), 31, d("2025-01-30"))
    assert result.notice_expires_on == d("2025-03-01")
    assert result.effective_date == d("2025-03-30")  # cycle Feb 28 - Mar 30


def test_co2_no_reason_needed_and_reason_kept(com: BillingPolicy) -> None:
    result = effective_cancellation_date(com, PAID, ANCHOR, d("2025-06-14"), reason="  moving on ")
    assert result.reason == "moving on"
    assert result.outstanding_due_date is None  # final invoice on normal terms


def test_co2_notice_before_paid_service_is_refused(com: BillingPolicy) -> None:
    with pytest.raises(NoticeNotAllowed) as info:
        effective_cancellation_date(com, PAID, ANCHOR, d("2025-03-14"))
    assert info.value.code == "notice_not_allowed"


# ---- CH-9: 7 business days' notice with a reason


def test_ch9_reason_required(cho: BillingPolicy) -> None:
    for reason in (None, "", "   "):
        with pytest.raises(ReasonRequired) as info:
            effective_cancellation_date(cho, PAID, ANCHOR, d("2025-04-14"), reason)
        assert info.value.code == "cancellation_reason_required"


def test_ch9_seven_business_days_across_a_weekend(cho: BillingPolicy) -> None:
    # Mon Apr 14 2025 -> Tue 15, Wed 16, Thu 17, Fri 18, Mon 21, Tue 22, Wed 23
    result = effective_cancellation_date(cho, PAID, ANCHOR, d("2025-04-14"), "too expensive")
    assert result.notice_expires_on == result.effective_date == d("2025-04-23")
    assert result.rule_id == "CH-9"
    assert result.outstanding_due_date == d("2025-04-28")  # 3 business days: Thu 24, Fri 25, Mon 28
    assert "no refund" in result.explanation


@pytest.mark.parametrize(
    ("notice", "effective"),
    [
        ("2025-04-10", "2025-04-21"),  # Thursday: Fri, Mon..Fri, Mon
        ("2025-04-11", "2025-04-22"),  # Friday
        ("2025-04-12", "2025-04-22"),  # Saturday: same as Friday
        ("2025-04-13", "2025-04-22"),  # Sunday: same as Friday
        ("2025-04-14", "2025-04-23"),  # Monday
    ],
)
def test_ch9_notice_around_a_weekend(cho: BillingPolicy, notice: str, effective: str) -> None:
    assert effective_cancellation_date(cho, PAID, ANCHOR, d(notice), "x").effective_date == d(effective)


def test_ch9_seven_business_days_across_thanksgiving(cho: BillingPolicy) -> None:
    result = effective_cancellation_date(cho, PAID, ANCHOR, d("2025-11-21"), "closing the shop")
    assert result.effective_date == d("2025-12-03")


def test_ch9_seven_business_days_across_christmas_and_new_year(cho: BillingPolicy) -> None:
    result = effective_cancellation_date(cho, PAID, ANCHOR, d("2025-12-24"), "budget")
    assert result.effective_date == d("2026-01-06")


def test_ch9_end_of_cycle_variant_when_configured() -> None:
    policy = BillingPolicy.from_preset("chat_outsource", cancellation_effective="end_of_cycle")
    result = effective_cancellation_date(policy, PAID, ANCHOR, d("2025-04-14"), "x")
    assert result.notice_expires_on == d("2025-04-23")
    assert result.effective_date == d("2025-05-14")


# ---- Decision: withdrawal until the notice takes effect


@pytest.mark.parametrize(("today", "allowed"), [("2025-07-13", True), ("2025-07-14", True), ("2025-07-15", False)])
def test_co2_withdrawal_until_effective_date(com: BillingPolicy, today: str, allowed: bool) -> None:
    result = effective_cancellation_date(com, PAID, ANCHOR, d("2025-06-14"))
    assert result.withdraw_until == d("2025-07-14")
    assert can_withdraw(result.effective_date, d(today)) is allowed
