"""Invoices as pure functions of policy, catalog, the client's billing state and usage.

CO-9: on every Billing Date one invoice carries, in this order: the monthly fee of the
cycle starting that day (in advance), one-time fees due (the CO-5 setup fee on the first
paid invoice), then for the cycle that just ended (in arrears) the CH-5 upgrade
differential and the overage, then add-ons (CH-8) and tax (CH-3, on the subtotal).
There is never proration (CO-2, CH-9 Decision), and unused units are never carried
forward (CH-6): each cycle's usage is compared with that cycle's included units only.

CH-5 and overage (Decision): with auto-upgrade, the package in force at the end of a cycle
is the smallest one covering its usage (never below the package billed or an upgrade
already made). The client pays the differential (upgraded fee - billed fee, both at that
cycle's prices; never negative: no credits, CO-3) and *no overage* for units that package
covers; only beyond the largest package are extra units billed, at its overage rate. The
upgraded package stays for the next cycle unless the client asked for a change (CH-7).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from parley.billing._validation import at_least, between
from parley.billing.calendar import (
    Cycle,
    billing_date_on_or_before,
    is_billing_date,
    next_billing_date,
    previous_billing_date,
)
from parley.billing.errors import InvalidBillingInput, NotABillingDate
from parley.billing.lines import InvoiceDraft, InvoiceLine
from parley.billing.money import Cents, basis_points_of, format_usd, to_decimal, units_times_price
from parley.billing.payments import due_date
from parley.billing.plans import PlanCatalog, PriceChange, price_for_cycle, upgrade_target
from parley.billing.policy import BillingPolicy
from parley.billing.trial import trial_schedule

_ONE = Decimal(1)
_ONE_DAY = timedelta(days=1)


class PendingPlanChange(BaseModel):
    """CH-7: a package change the client asked for; it takes effect at the next cycle.

    Applied on the first Billing Date strictly after ``requested_on`` (asked for on a
    Billing Date itself, it waits for the following one: that cycle already started).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    plan_id: str
    requested_on: date


class AddOnRequest(BaseModel):
    """CH-8: an add-on ordered on ``requested_on``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    add_on_id: str
    quantity: Annotated[int, at_least(1)] = 1
    requested_on: date


class ClientBillingState(BaseModel):
    """What the ledger knows about one client's subscription, as the rules need it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    anchor_day: Annotated[int, between(1, 31)] = Field(description="Billing Date day of month (CO-9).")
    paid_start: date = Field(description="First day of paid service = first Billing Date (CO-9).")
    current_plan_id: str = Field(description="Package whose fee was billed for the current cycle.")
    upgraded_plan_id: str | None = Field(
        default=None, description="CH-5: package the client was upgraded to during the current cycle."
    )
    pending_change: PendingPlanChange | None = Field(default=None, description="CH-7 request, if any.")
    price_changes: tuple[PriceChange, ...] = Field(default=(), description="CO-12 announced price changes.")
    setup_fee_charged: bool = Field(default=False, description="CO-5: already charged for this service.")
    tax_rate_basis_points: Annotated[int, between(0, 10_000)] | None = Field(
        default=None, description="CH-3: this client's tax rate; None = the policy default."
    )
    cancellation_effective_date: date | None = Field(
        default=None, description="Last day of service after a notice (CO-2, CH-9)."
    )
    unbilled_add_ons: tuple[AddOnRequest, ...] = Field(
        default=(), description="CH-8 add-ons to put on this invoice (or use draft_add_on_invoice)."
    )


# --------------------------------------------------------------------------- helpers


def _units(value: Decimal | int | None) -> Decimal:
    amount = Decimal(0) if value is None else to_decimal(value)
    if amount < 0:
        raise InvalidBillingInput("usage must be >= 0")
    return amount


@dataclass(frozen=True)
class _PaidFor:
    """The service period a line pays for, and the plan whose price it charges (if any)."""

    period: Cycle
    plan_id: str | None = None


def _line(
    kind: str,
    description: str,
    quantity: Decimal,
    unit_amount: Cents,
    rule_id: str,
    paid_for: _PaidFor | None = None,
) -> InvoiceLine:
    period = paid_for.period if paid_for else None
    return InvoiceLine.model_validate(
        {
            "kind": kind,
            "description": description,
            "quantity": quantity,
            "unit_amount_cents": unit_amount,
            "amount_cents": units_times_price(quantity, unit_amount),
            "period_start": period.start if period else None,
            "period_end": period.end if period else None,
            "rule_id": rule_id,
            "plan_id": paid_for.plan_id if paid_for else None,
        }
    )


def _quantity_text(quantity: Decimal) -> str:
    return format(quantity.normalize(), "f") if quantity != 0 else "0"


def _unit_word(policy: BillingPolicy, quantity: Decimal) -> str:
    if policy.unit == "engaged_chat":
        return "engaged chat" if quantity == 1 else "engaged chats"
    return "agent minute" if quantity == 1 else "agent minutes"


def _period_text(period: Cycle) -> str:
    return f"{period.start.isoformat()} to {period.end.isoformat()}"


def _tax_line(policy: BillingPolicy, rate: int | None, lines: list[InvoiceLine]) -> InvoiceLine | None:
    """CH-3: prices exclude tax; tax is its own line on the subtotal, half-up."""
    basis_points = policy.tax_rate_basis_points if rate is None else rate
    subtotal = sum(line.amount_cents for line in lines)
    tax = basis_points_of(subtotal, basis_points)
    if basis_points == 0 or tax == 0:
        return None
    percent = format((Decimal(basis_points) / 100).normalize(), "f")
    return _line("tax", f"Tax {percent}% on {format_usd(subtotal)} (CH-3)", _ONE, tax, "CH-3")


def tax_line(policy: BillingPolicy, rate: int | None, lines: list[InvoiceLine]) -> InvoiceLine | None:
    """CH-3: the tax line of these (untaxed) lines, None when there is no tax."""
    return _tax_line(policy, rate, lines)


def _add_on_lines(catalog: PlanCatalog, requests: Iterable[AddOnRequest]) -> list[InvoiceLine]:
    lines = []
    for request in requests:
        add_on = catalog.add_on(request.add_on_id)
        lines.append(
            _line(
                "add_on",
                f"{add_on.name} (add-on ordered {request.requested_on.isoformat()}, CH-8)",
                Decimal(request.quantity),
                add_on.price_cents,
                "CH-8",
            )
        )
    return lines


def _usage_lines(
    policy: BillingPolicy,
    catalog: PlanCatalog,
    state: ClientBillingState,
    period: Cycle,
    units: Decimal,
    *,
    overage_rule: str,
) -> tuple[list[InvoiceLine], str]:
    """Arrears of one (possibly partial) cycle: CH-5 differential, then overage (CO-6/CO-9)."""
    base = price_for_cycle(catalog, state.current_plan_id, period.start, state.price_changes)
    if policy.auto_upgrade:
        floor = state.upgraded_plan_id or state.current_plan_id
        if catalog.rank(floor) < catalog.rank(state.current_plan_id):
            raise InvalidBillingInput("upgraded_plan_id is smaller than current_plan_id")
        in_force = upgrade_target(catalog, floor, units).id
    elif state.upgraded_plan_id is not None:
        raise InvalidBillingInput("upgraded_plan_id is set but the billing policy has no auto-upgrade (CH-5)")
    else:
        in_force = state.current_plan_id
    price = price_for_cycle(catalog, in_force, period.start, state.price_changes)
    lines: list[InvoiceLine] = []
    if in_force != state.current_plan_id:
        difference = price.monthly_fee_cents - base.monthly_fee_cents
        if difference > 0:
            lines.append(
                _line(
                    "upgrade_differential",
                    f"Upgrade from {base.name} to {price.name} during {_period_text(period)}: "
                    f"{format_usd(price.monthly_fee_cents)} - {format_usd(base.monthly_fee_cents)} (CH-5)",
                    _ONE,
                    difference,
                    "CH-5",
                    _PaidFor(period, price.plan_id),
                )
            )
    over = units - price.included_units
    if over > 0:
        beyond_largest = policy.auto_upgrade
        rule = "CH-5" if beyond_largest else overage_rule
        what = "beyond the largest package" if beyond_largest else "overage"
        lines.append(
            _line(
                "overage_in_arrears",
                f"{price.name} {what}: {_quantity_text(over)} {_unit_word(policy, over)} over the "
                f"{price.included_units} included, {_period_text(period)}, at "
                f"{format_usd(price.overage_cents_per_unit)} ({rule})",
                over,
                price.overage_cents_per_unit,
                rule,
                _PaidFor(period, price.plan_id),
            )
        )
    return lines, in_force


# --------------------------------------------------------------------------- cycle invoice


def draft_cycle_invoice(
    policy: BillingPolicy,
    catalog: PlanCatalog,
    state: ClientBillingState,
    *,
    billing_date: date,
    usage_units: Decimal | int | None = None,
) -> InvoiceDraft:
    """CO-9: the invoice of one Billing Date.

    ``usage_units`` is the usage of the cycle that ended the day before (in the policy's
    unit; ``None``/0 on the first paid invoice, which has no ended cycle). If the client's
    service ended before ``billing_date`` (``state.cancellation_effective_date``), this is
    the final invoice instead (``draft_final_invoice``, CO-2): no monthly fee.
    """
    catalog.require_unit(policy)
    effective = state.cancellation_effective_date
    if effective is not None and effective < billing_date:
        return draft_final_invoice(
            policy, catalog, state, effective_date=effective, issue_date=billing_date, usage_units=usage_units
        )
    if billing_date < state.paid_start:
        raise InvalidBillingInput(f"{billing_date.isoformat()} is before paid service ({state.paid_start})")
    first = billing_date == state.paid_start
    if not first and not is_billing_date(state.anchor_day, billing_date):
        raise NotABillingDate(
            f"{billing_date.isoformat()} is not a Billing Date for anchor day {state.anchor_day} (CO-9)"
        )
    units = _units(usage_units)
    next_cycle = Cycle(start=billing_date, end=next_billing_date(state.anchor_day, billing_date) - _ONE_DAY)
    notes: list[str] = []
    if first and units != 0:
        raise InvalidBillingInput("the first paid invoice has no ended cycle: usage must be 0 (CO-9)")
    ended = None if first else _ended_cycle(state, billing_date)
    arrears, plan_ended = _arrears(policy, catalog, state, ended, units, notes)
    next_plan, pending_applied = _next_cycle_plan(catalog, state, billing_date, plan_ended, notes)
    price = price_for_cycle(catalog, next_plan, billing_date, state.price_changes)
    if price.monthly_fee_cents != catalog.plan(next_plan).monthly_fee_cents:
        notes.append(f"{price.name}: price announced before this cycle applies (CO-12).")

    lines = [
        _line(
            "monthly_fee_in_advance",
            f"{price.name} monthly fee, {_period_text(next_cycle)} (in advance, CO-9)",
            _ONE,
            price.monthly_fee_cents,
            "CO-9",
            _PaidFor(next_cycle, price.plan_id),
        )
    ]
    setup = first and not state.setup_fee_charged and policy.setup_fee_cents > 0
    if setup:
        lines.append(
            _line(
                "setup_fee", "One-time setup fee (first paid billing cycle, CO-5)", _ONE, policy.setup_fee_cents, "CO-5"
            )
        )
    lines.extend(arrears)
    lines.extend(_add_on_lines(catalog, (r for r in state.unbilled_add_ons if r.requested_on <= billing_date)))
    tax = _tax_line(policy, state.tax_rate_basis_points, lines)
    if tax is not None:
        lines.append(tax)
    if effective is not None:
        notes.append(f"Service ends after {effective.isoformat()}; the full monthly fee applies (no proration).")
    return InvoiceDraft(
        kind="cycle",
        issue_date=billing_date,
        due_date=due_date(policy, billing_date),
        lines=tuple(lines),
        ended_cycle=ended,
        next_cycle=next_cycle,
        plan_id_next_cycle=next_plan,
        plan_id_ended_cycle=plan_ended,
        setup_fee_charged=setup,
        pending_change_applied=pending_applied,
        notes=tuple(notes),
    )


def _ended_cycle(state: ClientBillingState, billing_date: date) -> Cycle:
    """The cycle that ended the day before ``billing_date`` (from paid start, if later)."""
    start = max(previous_billing_date(state.anchor_day, billing_date), state.paid_start)
    return Cycle(start=start, end=billing_date - _ONE_DAY)


def _arrears(
    policy: BillingPolicy,
    catalog: PlanCatalog,
    state: ClientBillingState,
    ended: Cycle | None,
    units: Decimal,
    notes: list[str],
) -> tuple[list[InvoiceLine], str | None]:
    """CO-9: the usage lines of the ended cycle (none on the first paid invoice) and the plan
    in force at its end; a CH-5 upgrade is noted."""
    if ended is None:
        return [], None
    arrears, plan_ended = _usage_lines(policy, catalog, state, ended, units, overage_rule="CO-9")
    if plan_ended != state.current_plan_id:
        notes.append(
            f"Usage of {_quantity_text(units)} {_unit_word(policy, units)} upgraded the package to "
            f"{catalog.plan(plan_ended).name} (CH-5)."
        )
    return arrears, plan_ended


def _next_cycle_plan(
    catalog: PlanCatalog, state: ClientBillingState, billing_date: date, plan_ended: str | None, notes: list[str]
) -> tuple[str, bool]:
    """The plan of the cycle that starts on ``billing_date``: a change asked for before it
    (CH-7), else the plan in force at the end of the last cycle. Returns (plan id, whether the
    pending change was applied)."""
    pending = state.pending_change
    if pending is not None and pending.requested_on < billing_date:
        notes.append(f"Package change asked for on {pending.requested_on.isoformat()} takes effect (CH-7).")
        return catalog.plan(pending.plan_id).id, True
    return plan_ended or state.current_plan_id, False


# --------------------------------------------------------------------------- final invoice


def draft_final_invoice(
    policy: BillingPolicy,
    catalog: PlanCatalog,
    state: ClientBillingState,
    *,
    effective_date: date,
    issue_date: date,
    usage_units: Decimal | int | None = None,
) -> InvoiceDraft:
    """CO-2: after cancellation, bill what was incurred up to ``effective_date``, no further fee.

    ``usage_units`` covers the last (possibly partial) cycle: from its Billing Date through
    ``effective_date``. Due date: CH-9's business days after cancellation when the policy
    has them, else the normal terms counted from ``issue_date`` (CO-10).
    """
    catalog.require_unit(policy)
    if issue_date <= effective_date:
        raise InvalidBillingInput("a final invoice is issued after the last day of service")
    if effective_date < state.paid_start:
        raise InvalidBillingInput("service ended before paid service started: nothing to bill here")
    units = _units(usage_units)
    start = max(billing_date_on_or_before(state.anchor_day, effective_date), state.paid_start)
    period = Cycle(start=start, end=effective_date)
    lines, plan_ended = _usage_lines(policy, catalog, state, period, units, overage_rule="CO-2")
    lines.extend(_add_on_lines(catalog, (r for r in state.unbilled_add_ons if r.requested_on <= effective_date)))
    tax = _tax_line(policy, state.tax_rate_basis_points, lines)
    if tax is not None:
        lines.append(tax)
    if policy.final_balance_due_business_days is not None:
        due = policy.business_calendar.add_business_days(effective_date, policy.final_balance_due_business_days)
        due = max(due, issue_date)
        due_note = f"due within {policy.final_balance_due_business_days} business days of cancellation (CH-9)"
    else:
        due = due_date(policy, issue_date)
        due_note = "due on the normal payment terms (CO-10)"
    return InvoiceDraft(
        kind="final",
        issue_date=issue_date,
        due_date=due,
        lines=tuple(lines),
        ended_cycle=period,
        plan_id_ended_cycle=plan_ended,
        notes=(
            f"Final invoice: service ended after {effective_date.isoformat()}; usage and fees incurred "
            f"before then are billed, no further monthly fee (CO-2); {due_note}.",
        ),
    )


# --------------------------------------------------------------------------- other invoices


def draft_trial_usage_invoice(
    policy: BillingPolicy,
    *,
    trial_start: date,
    trial_units: Decimal | int,
    tax_rate_basis_points: int | None = None,
) -> InvoiceDraft | None:
    """CO-4: no plan chosen at trial end -> bill the trial usage at ``trial_overage_unit_cents``.

    ``None`` when the policy never bills trial usage (chat presets) or nothing was used.
    Issued the day after the trial; normal payment terms. No setup fee (CO-5).
    """
    price = policy.trial_overage_unit_cents
    units = _units(trial_units)
    if price is None or units == 0:
        return None
    schedule = trial_schedule(policy, trial_start)
    last = schedule.trial_last_day
    if last is None:
        return None
    period = Cycle(start=trial_start, end=last)
    lines = [
        _line(
            "trial_usage",
            f"Trial usage {_period_text(period)}: {_quantity_text(units)} {_unit_word(policy, units)} at "
            f"{format_usd(price)} (no plan chosen, CO-4)",
            units,
            price,
            "CO-4",
            _PaidFor(period),
        )
    ]
    tax = _tax_line(policy, tax_rate_basis_points, lines)
    if tax is not None:
        lines.append(tax)
    issue = schedule.paid_start
    return InvoiceDraft(
        kind="trial_usage",
        issue_date=issue,
        due_date=due_date(policy, issue),
        lines=tuple(lines),
        ended_cycle=period,
        notes=("No plan was chosen at the end of the trial: service stopped and trial usage is billed (CO-4).",),
    )


def draft_add_on_invoice(
    policy: BillingPolicy,
    catalog: PlanCatalog,
    *,
    request: AddOnRequest,
    tax_rate_basis_points: int | None = None,
) -> InvoiceDraft:
    """CH-8: an add-on is charged on request, on its own invoice issued the day it is ordered."""
    lines = _add_on_lines(catalog, [request])
    tax = _tax_line(policy, tax_rate_basis_points, lines)
    if tax is not None:
        lines.append(tax)
    return InvoiceDraft(
        kind="add_on",
        issue_date=request.requested_on,
        due_date=due_date(policy, request.requested_on),
        lines=tuple(lines),
        notes=("Add-ons are charged on request, as separate line items (CH-8).",),
    )
