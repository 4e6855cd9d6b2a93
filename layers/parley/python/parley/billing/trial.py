"""Trial and start of paid service (CO-4, CO-5, CO-9).

CO-9 Decision: a trial started on day D expires at the end of day D+13 (with 14 days);
paid service and the first Billing Date are D+14, whose day of month becomes the anchor.
CO-4: usage beyond the trial limit converts the client to paid at once; at the end of the
trial a client who chose a plan starts paying, otherwise service stops (and, where the
policy says so, the trial usage is billed).
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from parley.billing.errors import InvalidBillingInput
from parley.billing.money import to_decimal
from parley.billing.policy import BillingPolicy


class TrialSchedule(BaseModel):
    """The key days of a trial and of the paid service that follows it (CO-9)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    trial_start: date
    trial_last_day: date | None = Field(description="Last day of the trial; None when the policy has no trial.")
    paid_start: date = Field(description="First day of paid service (CO-9).")
    first_billing_date: date = Field(description="Equal to paid_start: the day of the first payment (CO-9).")
    anchor_day: int = Field(description="Day of month of the Billing Date, kept for short months (CO-9).")
    converted_early: bool = Field(default=False, description="CO-4: the trial limit was exceeded.")
    rule_id: str
    explanation: str


def trial_schedule(policy: BillingPolicy, trial_start: date) -> TrialSchedule:
    """CO-9: trial D .. D+length-1, paid service and first Billing Date on D+length.

    With ``trial_length_days`` 0 (``chat_outsource``: only a free demo, CH-1) paid service
    starts on ``trial_start`` itself, the day the client activates a package.
    """
    length = policy.trial_length_days
    paid_start = trial_start + timedelta(days=length)
    if length == 0:
        return TrialSchedule(
            trial_start=trial_start,
            trial_last_day=None,
            paid_start=paid_start,
            first_billing_date=paid_start,
            anchor_day=paid_start.day,
            rule_id="CO-9",
            explanation=(
                f"No trial: paid service and the first Billing Date start on {paid_start.isoformat()}; "
                f"the client is billed on day {paid_start.day} of each month (CO-9)."
            ),
        )
    last_day = paid_start - timedelta(days=1)
    return TrialSchedule(
        trial_start=trial_start,
        trial_last_day=last_day,
        paid_start=paid_start,
        first_billing_date=paid_start,
        anchor_day=paid_start.day,
        rule_id="CO-9",
        explanation=(
            f"The {length}-day trial runs {trial_start.isoformat()} to {last_day.isoformat()}; paid service "
            f"and the first Billing Date are {paid_start.isoformat()}, then day {paid_start.day} of each month "
            "(the last day in shorter months) (CO-9)."
        ),
    )


def in_trial(policy: BillingPolicy, trial_start: date, today: date) -> bool:
    """Whether ``today`` is a trial day (ignores early conversion, which the caller records)."""
    last = trial_schedule(policy, trial_start).trial_last_day
    return last is not None and trial_start <= today <= last


def trial_limit_exceeded(policy: BillingPolicy, trial_units: Decimal | int) -> bool:
    """CO-4: usage *beyond* the limit (500 units: the 501st) exceeds it; no limit never does."""
    limit = policy.trial_unit_limit
    return limit is not None and to_decimal(trial_units) > limit


def early_conversion(policy: BillingPolicy, trial_start: date, exceeded_on: date) -> TrialSchedule:
    """CO-4: the client exceeded the trial limit on ``exceeded_on`` and converts to paid at once.

    Decision: that business day becomes the first day of paid service and the first
    Billing Date (CO-9: "the day you first start paying"), so its day of month is the
    anchor; usage up to the limit stays free, usage from the conversion on belongs to the
    first paid cycle. The plan is the one the client chose (the caller's concern).
    """
    if not policy.trial_limit_converts_to_paid:
        raise InvalidBillingInput("this billing policy does not convert a trial to paid when its limit is exceeded")
    schedule = trial_schedule(policy, trial_start)
    last = schedule.trial_last_day
    if last is None or not trial_start <= exceeded_on <= last:
        raise InvalidBillingInput(f"{exceeded_on.isoformat()} is not a day of the trial that started {trial_start}")
    return TrialSchedule(
        trial_start=trial_start,
        trial_last_day=exceeded_on,
        paid_start=exceeded_on,
        first_billing_date=exceeded_on,
        anchor_day=exceeded_on.day,
        converted_early=True,
        rule_id="CO-4",
        explanation=(
            f"Trial usage went beyond the {policy.trial_unit_limit}-unit limit on {exceeded_on.isoformat()}: "
            f"the client is converted to paid at once; that day is the first Billing Date, then day "
            f"{exceeded_on.day} of each month (CO-4, CO-9)."
        ),
    )


class TrialEndOutcome(BaseModel):
    """What happens when the trial expires (CO-4)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    action: Literal["start_paid", "stop_service"]
    schedule: TrialSchedule
    bill_trial_usage: bool = Field(description="CO-4: bill the trial usage (draft_trial_usage_invoice).")
    charge_setup_fee: bool = Field(description="CO-5: the first paid invoice carries the setup fee.")
    rule_id: str
    explanation: str


def trial_end_outcome(
    policy: BillingPolicy, *, trial_start: date, plan_chosen: bool, trial_units: Decimal | int
) -> TrialEndOutcome:
    """CO-4 / CO-5 at trial expiry: start paying (setup fee on the first invoice) or stop."""
    schedule = trial_schedule(policy, trial_start)
    if plan_chosen:
        fee = policy.setup_fee_cents > 0
        return TrialEndOutcome(
            action="start_paid",
            schedule=schedule,
            bill_trial_usage=False,
            charge_setup_fee=fee,
            rule_id="CO-9",
            explanation=(
                f"A plan was chosen: paid service starts on {schedule.paid_start.isoformat()}"
                + (", with the one-time setup fee on the first invoice (CO-5)." if fee else " (CO-9).")
            ),
        )
    bill = policy.trial_overage_unit_cents is not None and to_decimal(trial_units) > 0
    return TrialEndOutcome(
        action="stop_service",
        schedule=schedule,
        bill_trial_usage=bill,
        charge_setup_fee=False,
        rule_id="CO-4",
        explanation=(
            "No plan was chosen: service stops at the end of the trial"
            + (" and the trial usage is billed per unit (CO-4)." if bill else " (CO-4).")
        ),
    )
