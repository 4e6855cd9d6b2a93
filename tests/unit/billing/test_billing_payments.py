"""CO-10 Due Date, CO-11 late charge, CO-10 / CH-10 default, CO-13 failed payments.

Each deadline is checked the day before, the day of and the day after ("within N days of
X" = through the end of X+N; the consequence on X+N+1).
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from parley.billing import (
    BillingPolicy,
    InvoiceStanding,
    Payment,
    default_date,
    default_status,
    due_date,
    failed_payment_deadline,
    is_in_default,
    late_charge_date,
    late_charge_line,
)
from parley.billing.errors import ConfigError
from parley.billing.payments import default_warning_date, failed_payment_pay_by

from .support import d

B = d("2025-04-15")  # a Billing Date (anchor 15)


# ---- CO-10 Due Date


def test_co10_due_date_is_billing_date_plus_10(com: BillingPolicy) -> None:
    assert due_date(com, B) == d("2025-04-25")


def test_ch10_due_date_is_the_billing_date(cho: BillingPolicy) -> None:
    assert due_date(cho, B) == B


@pytest.mark.parametrize(("paid_on", "late"), [("2025-04-24", False), ("2025-04-25", False), ("2025-04-26", True)])
def test_co10_payment_around_due_date(com: BillingPolicy, paid_on: str, late: bool) -> None:
    # paying on the Due Date is on time; a day later is past due (but not yet a late charge: CO-11)
    assert (d(paid_on) > due_date(com, B)) is late


# ---- CO-11 late charge


def _late(policy: BillingPolicy, today: str, payments: list[Payment] | None = None, **kwargs: object) -> int | None:
    invoice = InvoiceStanding(
        invoice_date=B,
        amount_due_cents=10010,
        payments=payments or [],
        late_charge_already_applied=bool(kwargs.get("already", False)),
    )
    line = late_charge_line(policy, invoice, today=d(today))
    return None if line is None else line.amount_cents


def test_co11_late_charge_date_is_due_date_plus_11(com: BillingPolicy) -> None:
    assert late_charge_date(com, d("2025-04-25")) == d("2025-05-06")


def test_co11_late_charge_day_before_deadline(com: BillingPolicy) -> None:
    assert _late(com, "2025-05-04") is None


def test_co11_late_charge_on_last_day_within_10_days(com: BillingPolicy) -> None:
    assert _late(com, "2025-05-05") is None  # Due Date + 10: still within the 10 days


def test_co11_late_charge_day_after_deadline(com: BillingPolicy) -> None:
    assert _late(com, "2025-05-06") == 501  # 5 % of $100.10 = $5.005 -> $5.01, half-up


def test_co11_late_charge_line_shape(com: BillingPolicy) -> None:
    invoice = InvoiceStanding(invoice_date=B, amount_due_cents=10010, payments=[], late_charge_already_applied=False)
    line = late_charge_line(com, invoice, today=d("2025-05-06"))
    assert line is not None
    assert (line.kind, line.rule_id, line.quantity, line.unit_amount_cents) == ("late_charge", "CO-11", Decimal(1), 501)
    assert "2025-05-05" in line.description


def test_co11_payment_on_last_day_avoids_late_charge(com: BillingPolicy) -> None:
    assert _late(com, "2025-05-06", [Payment(received_on=d("2025-05-05"), amount_cents=10010)]) is None


def test_co11_payment_on_late_charge_day_does_not_avoid_it(com: BillingPolicy) -> None:
    assert _late(com, "2025-05-07", [Payment(received_on=d("2025-05-06"), amount_cents=10010)]) == 501


def test_co11_late_charge_on_amount_then_due_after_partial_payment(com: BillingPolicy) -> None:
    paid = [Payment(received_on=d("2025-04-25"), amount_cents=4000)]
    assert _late(com, "2025-05-06", paid) == 301  # 5 % of 6010 = 300.5 -> 301


def test_co11_late_charge_once_per_invoice(com: BillingPolicy) -> None:
    assert _late(com, "2025-06-30", already=True) is None


def test_co11_late_charge_not_compounding_same_amount_any_later_day(com: BillingPolicy) -> None:
    assert _late(com, "2025-05-06") == _late(com, "2025-08-01") == 501


def test_co11_no_late_charge_in_chat_outsource(cho: BillingPolicy) -> None:
    assert _late(cho, "2025-12-31") is None


def test_co11_late_charge_explicit_due_date_for_other_terms(com: BillingPolicy) -> None:
    invoice = InvoiceStanding(
        invoice_date=B, due=d("2025-04-18"), amount_due_cents=10000, payments=[], late_charge_already_applied=False
    )
    line = late_charge_line(com, invoice, today=d("2025-04-29"))
    assert line is not None and line.amount_cents == 500


# ---- CO-10 default: not paid in full within 30 days of the Billing Date


def test_co10_default_date_is_billing_date_plus_31(com: BillingPolicy) -> None:
    assert default_date(com, B) == d("2025-05-16")


@pytest.mark.parametrize(("today", "expected"), [("2025-05-14", False), ("2025-05-15", False), ("2025-05-16", True)])
def test_co10_default_around_deadline(com: BillingPolicy, today: str, expected: bool) -> None:
    assert is_in_default(com, billing_date=B, amount_due_cents=35000, payments=[], today=d(today)) is expected


def test_co10_default_status_explains_and_keeps_amount_collectable(com: BillingPolicy) -> None:
    late_payment = [Payment(received_on=d("2025-05-20"), amount_cents=10000)]
    status = default_status(com, billing_date=B, amount_due_cents=35000, payments=late_payment, today=d("2025-05-21"))
    assert status.in_default and status.rule_id == "CO-10"
    assert (status.unpaid_at_deadline_cents, status.unpaid_now_cents) == (35000, 25000)
    assert status.last_day_to_pay == d("2025-05-15")
    assert "2025-05-16" in status.explanation


def test_co10_full_payment_on_last_day_is_no_default(com: BillingPolicy) -> None:
    paid = [Payment(received_on=d("2025-05-15"), amount_cents=35000)]
    assert not is_in_default(com, billing_date=B, amount_due_cents=35000, payments=paid, today=d("2025-05-16"))


def test_co10_partial_payment_is_still_default(com: BillingPolicy) -> None:
    paid = [Payment(received_on=d("2025-05-01"), amount_cents=34999)]
    assert is_in_default(com, billing_date=B, amount_due_cents=35000, payments=paid, today=d("2025-05-16"))


# ---- CH-10 default: cancelled automatically 3 days after the Due Date (= Billing Date)


def test_ch10_default_date_is_due_date_plus_4(cho: BillingPolicy) -> None:
    assert default_date(cho, B) == d("2025-04-19")


@pytest.mark.parametrize(("today", "expected"), [("2025-04-17", False), ("2025-04-18", False), ("2025-04-19", True)])
def test_ch10_default_around_deadline(cho: BillingPolicy, today: str, expected: bool) -> None:
    status = default_status(cho, billing_date=B, amount_due_cents=29900, payments=[], today=d(today))
    assert status.in_default is expected
    assert status.rule_id == "CH-10"


# ---- CO-13 failed payment / chargeback


def test_co13_failed_payment_deadline(com: BillingPolicy, cho: BillingPolicy) -> None:
    assert failed_payment_deadline(com, d("2025-04-20")) == d("2025-04-30")
    assert failed_payment_deadline(cho, d("2025-04-20")) == d("2025-04-23")


# --------------------------------------------------------------------------- CO-13 pay_by, default warning


def test_co13_pay_by_is_notification_plus_10_within_the_due_date_and_the_last_day_before_default(
    com: BillingPolicy, cho: BillingPolicy
) -> None:
    billing = d("2026-04-06")
    due = due_date(com, billing)  # 2026-04-16
    # A decline on the Billing Date: notification + 10 is the Due Date itself.
    assert failed_payment_pay_by(com, billing, billing_date=billing, due=due) == due
    # Later declines: notification + 10 ...
    assert failed_payment_pay_by(com, d("2026-04-10"), billing_date=billing, due=due) == d("2026-04-20")
    # ... but never after the last day before default (Billing Date + 30).
    assert failed_payment_pay_by(com, d("2026-05-01"), billing_date=billing, due=due) == d("2026-05-06")
    # chat_outsource: due on the Billing Date, 3 days to pay, default on Due Date + 4.
    assert failed_payment_pay_by(cho, billing, billing_date=billing, due=billing) == d("2026-04-09")


def test_the_default_warning_is_three_days_before_default_never_before_the_issue_date(
    com: BillingPolicy, cho: BillingPolicy
) -> None:
    assert default_warning_date(com, d("2026-04-06"), d("2026-04-16")) == d("2026-05-04")  # default May 7
    assert default_warning_date(cho, d("2026-03-02"), d("2026-03-02")) == d("2026-03-03")  # default Mar 6
    short = BillingPolicy.from_preset("chat_outsource", default_warning_days=10)
    assert default_warning_date(short, d("2026-03-02"), d("2026-03-02")) == d("2026-03-02")


def test_reinstatement_window_must_fit_in_the_retention_period() -> None:
    with pytest.raises(ConfigError, match="reinstatement_window_days"):
        BillingPolicy.from_preset("call_on_me", reinstate_on_full_payment=True, reinstatement_window_days=31)
    assert BillingPolicy.from_preset("call_on_me", reinstate_on_full_payment=True,
                                     reinstatement_window_days=30).reinstate_on_full_payment
    presets = [BillingPolicy.from_preset(name) for name in ("call_on_me", "chat_outsource")]
    assert [p.reinstate_on_full_payment for p in presets] == [False, False]  # default is termination
