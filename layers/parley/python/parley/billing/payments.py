"""Payment deadlines, late charges (CO-11) and default (CO-10, CH-10).

"Money and dates" Decision: "within N days of X" means through the end of day X+N; the
consequence (late charge, default) happens on day X+N+1. The amount a consequence is based
on is what was still unpaid at the end of the last on-time day, so running the daily job
late, or twice, gives the same answer (ARCHITECTURE principle 5).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from parley.billing._validation import at_least
from parley.billing.calendar import consequence_day, last_day_within
from parley.billing.errors import InvalidBillingInput
from parley.billing.lines import InvoiceLine
from parley.billing.money import Cents, format_usd, percent_of
from parley.billing.policy import BillingPolicy


class Payment(BaseModel):
    """Money received against one invoice, on a business day."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    received_on: date
    amount_cents: Annotated[int, at_least(1)]


def paid_through(payments: Iterable[Payment], day: date) -> Cents:
    """Total received on or before the end of ``day``."""
    return sum(p.amount_cents for p in payments if p.received_on <= day)


# --------------------------------------------------------------------------- dates


def due_date(policy: BillingPolicy, billing_date: date) -> date:
    """CO-10: the Due Date, ``payment_due_days`` after the Billing Date (CH-10: the same day)."""
    return last_day_within(billing_date, policy.payment_due_days)


def last_day_before_late_charge(policy: BillingPolicy, due: date) -> date:
    """CO-11: the last day a payment still avoids the late charge (Due Date + 10)."""
    return last_day_within(due, policy.late_charge_days_after_due)


def late_charge_date(policy: BillingPolicy, due: date) -> date:
    """CO-11: the day the late charge is incurred (Due Date + 11 for ``call_on_me``)."""
    return consequence_day(due, policy.late_charge_days_after_due)


def _default_anchor(policy: BillingPolicy, billing_date: date, due: date | None) -> date:
    if policy.default_rule.anchor == "billing_date":
        return billing_date
    return due if due is not None else due_date(policy, billing_date)


def last_day_before_default(policy: BillingPolicy, billing_date: date, due: date | None = None) -> date:
    """CO-10 / CH-10: the last day full payment still avoids default."""
    return last_day_within(_default_anchor(policy, billing_date, due), policy.default_rule.days)


def default_date(policy: BillingPolicy, billing_date: date, due: date | None = None) -> date:
    """CO-10: Billing Date + 31 (``call_on_me``); CH-10: Due Date + 4 (``chat_outsource``)."""
    return last_day_before_default(policy, billing_date, due) + timedelta(days=1)


def failed_payment_deadline(policy: BillingPolicy, notified_on: date) -> date:
    """CO-13: after a failed payment or chargeback, the last day to pay (notification + 10)."""
    return last_day_within(notified_on, policy.failed_payment_days)


def failed_payment_pay_by(policy: BillingPolicy, notified_on: date, *, billing_date: date, due: date) -> date:
    """CO-13 as implemented: after a failed payment the amount is owed within
    ``failed_payment_days`` of the notification, but never before the invoice's own Due Date
    (a decline does not shorten the terms) nor after its last day before default (the date whose
    consequence, termination, is real: CO-10 / CH-10)."""
    return min(max(failed_payment_deadline(policy, notified_on), due),
               last_day_before_default(policy, billing_date, due))


def default_warning_date(policy: BillingPolicy, billing_date: date, due: date) -> date:
    """The day the default warning goes out: ``default_warning_days`` before the default date,
    never before the invoice's issue date."""
    return max(default_date(policy, billing_date, due) - timedelta(days=policy.default_warning_days), billing_date)


def default_rule_id(policy: BillingPolicy) -> str:
    """CO-10 when default counts from the Billing Date, CH-10 when from the Due Date."""
    return "CO-10" if policy.default_rule.anchor == "billing_date" else "CH-10"


# --------------------------------------------------------------------------- late charge


@dataclass(frozen=True, kw_only=True)
class InvoiceStanding:
    """What one invoice asks for and what was received against it: the late charge's inputs."""

    invoice_date: date
    amount_due_cents: Cents
    payments: Iterable[Payment]
    late_charge_already_applied: bool
    # None: the policy's Due Date for ``invoice_date``; set for invoices with other terms (final invoices).
    due: date | None = None


def late_charge_line(policy: BillingPolicy, invoice: InvoiceStanding, *, today: date) -> InvoiceLine | None:
    """CO-11: the late-charge line for one invoice, or ``None``.

    ``percent`` of the amount still unpaid at the end of the last on-time day (Due Date +
    ``late_charge_days_after_due``), half-up; charged from the next day on. Decision: once
    per invoice (``invoice.late_charge_already_applied``), never compounding (the base
    excludes any late charge), and a later payment does not undo it.
    """
    if invoice.amount_due_cents < 0:
        raise InvalidBillingInput("amount_due_cents must be >= 0")
    if invoice.late_charge_already_applied or policy.late_charge_percent == 0:
        return None
    due_on = invoice.due if invoice.due is not None else due_date(policy, invoice.invoice_date)
    if today < late_charge_date(policy, due_on):
        return None
    last_on_time = last_day_before_late_charge(policy, due_on)
    unpaid = invoice.amount_due_cents - paid_through(invoice.payments, last_on_time)
    if unpaid <= 0:
        return None
    amount = percent_of(unpaid, policy.late_charge_percent)
    if amount == 0:
        return None
    percent = format(policy.late_charge_percent.normalize(), "f")
    return InvoiceLine(
        kind="late_charge",
        description=(
            f"Late charge: {percent}% of {format_usd(unpaid)} not received by {last_on_time.isoformat()} "
            f"(Due Date {due_on.isoformat()} + {policy.late_charge_days_after_due} days, CO-11)"
        ),
        quantity=Decimal(1),
        unit_amount_cents=amount,
        amount_cents=amount,
        rule_id="CO-11",
    )


# --------------------------------------------------------------------------- default


class DefaultStatus(BaseModel):
    """Whether an invoice has put the client in default on ``today`` (CO-10 / CH-10), and why."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    in_default: bool
    last_day_to_pay: date = Field(description="Last day full payment avoids default.")
    default_date: date = Field(description="First day of default: last_day_to_pay + 1.")
    unpaid_at_deadline_cents: Cents = Field(description="Unpaid at the end of last_day_to_pay.")
    unpaid_now_cents: Cents = Field(description="Unpaid at the end of today (stays collectable, CO-10).")
    rule_id: str
    explanation: str


def default_status(
    policy: BillingPolicy,
    *,
    billing_date: date,
    amount_due_cents: Cents,
    payments: Iterable[Payment],
    today: date,
    due: date | None = None,
) -> DefaultStatus:
    """CO-10 / CH-10: in default from the day after the last day to pay, if not paid in full by then.

    ``amount_due_cents`` is everything owed on the invoice (include its late charge if the
    ledger added one to it). A payment after the deadline does not cure the default: the
    provider's right to terminate arose (CO-10), and the amounts stay collectable.
    """
    if amount_due_cents < 0:
        raise InvalidBillingInput("amount_due_cents must be >= 0")
    received = list(payments)
    deadline = last_day_before_default(policy, billing_date, due)
    first_default_day = deadline + timedelta(days=1)
    unpaid_at_deadline = max(0, amount_due_cents - paid_through(received, deadline))
    unpaid_now = max(0, amount_due_cents - paid_through(received, today))
    in_default = today >= first_default_day and unpaid_at_deadline > 0
    rule = default_rule_id(policy)
    anchor = "Billing Date" if policy.default_rule.anchor == "billing_date" else "Due Date"
    anchor_day = _default_anchor(policy, billing_date, due)
    if in_default:
        explanation = (
            f"{format_usd(unpaid_at_deadline)} was still unpaid at the end of {deadline.isoformat()}, "
            f"{policy.default_rule.days} days after the {anchor} {anchor_day.isoformat()}: in default "
            f"since {first_default_day.isoformat()} ({rule})."
        )
    elif unpaid_at_deadline == 0 and (today >= first_default_day or unpaid_now == 0):
        explanation = f"Paid in full by {min(today, deadline).isoformat()}: no default ({rule})."
    else:
        explanation = (
            f"Full payment is due by the end of {deadline.isoformat()} ({policy.default_rule.days} days after "
            f"the {anchor} {anchor_day.isoformat()}); otherwise default on {first_default_day.isoformat()} ({rule})."
        )
    return DefaultStatus(
        in_default=in_default,
        last_day_to_pay=deadline,
        default_date=first_default_day,
        unpaid_at_deadline_cents=unpaid_at_deadline,
        unpaid_now_cents=unpaid_now,
        rule_id=rule,
        explanation=explanation,
    )


def is_in_default(
    policy: BillingPolicy,
    *,
    billing_date: date,
    amount_due_cents: Cents,
    payments: Iterable[Payment],
    today: date,
    due: date | None = None,
) -> bool:
    """CO-10 / CH-10: ``default_status(...).in_default``."""
    return default_status(
        policy,
        billing_date=billing_date,
        amount_due_cents=amount_due_cents,
        payments=payments,
        today=today,
        due=due,
    ).in_default
