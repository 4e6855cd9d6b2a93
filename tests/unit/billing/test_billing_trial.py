"""Trial and start of paid service: CO-4 limit and outcomes, CO-5 setup fee, CO-9 dates."""

from __future__ import annotations

from decimal import Decimal

import pytest

from parley.billing import (
    BillingPolicy,
    InvalidBillingInput,
    draft_trial_usage_invoice,
    early_conversion,
    in_trial,
    trial_end_outcome,
    trial_limit_exceeded,
    trial_schedule,
)

from .support import d

D = d("2025-03-01")


def test_co9_trial_started_day_d_last_day_d_plus_13(com: BillingPolicy) -> None:
    schedule = trial_schedule(com, D)
    assert schedule.trial_last_day == d("2025-03-14")
    assert schedule.paid_start == schedule.first_billing_date == d("2025-03-15")
    assert schedule.anchor_day == 15
    assert schedule.rule_id == "CO-9"


@pytest.mark.parametrize(("today", "expected"), [("2025-03-13", True), ("2025-03-14", True), ("2025-03-15", False)])
def test_co9_trial_end_day_before_of_after(com: BillingPolicy, today: str, expected: bool) -> None:
    assert in_trial(com, D, d(today)) is expected


def test_co9_trial_ending_on_the_31st_sets_anchor_31(com: BillingPolicy) -> None:
    schedule = trial_schedule(com, d("2025-01-17"))
    assert schedule.first_billing_date == d("2025-01-31")
    assert schedule.anchor_day == 31


def test_co9_chat_outsource_has_no_trial(cho: BillingPolicy) -> None:
    schedule = trial_schedule(cho, D)
    assert schedule.trial_last_day is None
    assert schedule.paid_start == D
    assert not in_trial(cho, D, D)


@pytest.mark.parametrize(("units", "expected"), [(499, False), (500, False), (501, True)])
def test_co4_trial_limit_500_units(com: BillingPolicy, units: int, expected: bool) -> None:
    assert trial_limit_exceeded(com, units) is expected


def test_co4_no_limit_never_exceeded(cho: BillingPolicy) -> None:
    assert not trial_limit_exceeded(cho, 10**6)


def test_co4_early_conversion_makes_that_day_the_billing_date(com: BillingPolicy) -> None:
    schedule = early_conversion(com, D, d("2025-03-09"))
    assert schedule.converted_early
    assert schedule.paid_start == schedule.first_billing_date == d("2025-03-09")
    assert schedule.anchor_day == 9
    assert schedule.rule_id == "CO-4"


@pytest.mark.parametrize("day", ["2025-02-28", "2025-03-15"])
def test_co4_early_conversion_only_during_trial(com: BillingPolicy, day: str) -> None:
    with pytest.raises(InvalidBillingInput):
        early_conversion(com, D, d(day))


def test_co4_early_conversion_disabled_by_policy() -> None:
    policy = BillingPolicy.from_preset("call_on_me", trial_limit_converts_to_paid=False)
    with pytest.raises(InvalidBillingInput):
        early_conversion(policy, D, d("2025-03-05"))


def test_co4_co5_plan_chosen_starts_paid_with_setup_fee(com: BillingPolicy) -> None:
    outcome = trial_end_outcome(com, trial_start=D, plan_chosen=True, trial_units=120)
    assert outcome.action == "start_paid"
    assert outcome.charge_setup_fee and not outcome.bill_trial_usage
    assert outcome.schedule.paid_start == d("2025-03-15")


def test_co4_no_plan_stops_service_and_bills_trial_usage(receptionist: BillingPolicy) -> None:
    outcome = trial_end_outcome(receptionist, trial_start=D, plan_chosen=False, trial_units=120)
    assert outcome.action == "stop_service"
    assert outcome.bill_trial_usage and not outcome.charge_setup_fee
    invoice = draft_trial_usage_invoice(receptionist, trial_start=D, trial_units=120)
    assert invoice is not None
    (line,) = invoice.lines
    assert (line.kind, line.rule_id, line.quantity, line.unit_amount_cents, line.amount_cents) == (
        "trial_usage",
        "CO-4",
        Decimal(120),
        175,
        21000,
    )
    assert (line.period_start, line.period_end) == (D, d("2025-03-14"))
    assert invoice.issue_date == d("2025-03-15") and invoice.due_date == d("2025-03-25")
    assert invoice.kind == "trial_usage" and invoice.total_cents == 21000


def test_co4_no_trial_usage_nothing_to_bill(com: BillingPolicy) -> None:
    assert draft_trial_usage_invoice(com, trial_start=D, trial_units=0) is None
    assert not trial_end_outcome(com, trial_start=D, plan_chosen=False, trial_units=0).bill_trial_usage


def test_co4_chat_presets_never_bill_trial_usage(cho: BillingPolicy, com: BillingPolicy) -> None:
    # Ruling on CO-4: the trial usage fee is None for both chat presets.
    for preset in (cho, com):
        assert preset.trial_overage_unit_cents is None
        assert draft_trial_usage_invoice(preset, trial_start=D, trial_units=50) is None
    assert not trial_end_outcome(com, trial_start=D, plan_chosen=False, trial_units=50).bill_trial_usage


def test_co5_no_setup_fee_policy_outcome(cho: BillingPolicy) -> None:
    assert not trial_end_outcome(cho, trial_start=D, plan_chosen=True, trial_units=0).charge_setup_fee
