"""Invoice lines and invoice drafts: what the rules decide is owed, before any ledger or Stripe.

Every line states its rule (``rule_id``), the service period it pays for and an amount in
integer cents that always equals ``quantity x unit_amount_cents`` rounded half-up.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, PlainSerializer, model_validator

from parley.billing.calendar import Cycle
from parley.billing.money import Cents, units_times_price

LineKind = Literal[
    "monthly_fee_in_advance",
    "setup_fee",
    "upgrade_differential",
    "overage_in_arrears",
    "trial_usage",
    "add_on",
    "late_charge",
    "tax",
]
"""Line kinds, in the order they appear on an invoice."""


def json_quantity(value: Decimal) -> int | float:
    """A quantity in JSON, one type everywhere (the API, the ledger item, scenario output): a
    number, an integer when whole. Fractional quantities are agent minutes in 30-second steps
    (CO-7), exact as binary fractions."""
    return int(value) if value == value.to_integral_value() else float(value)


Quantity = Annotated[Decimal, PlainSerializer(json_quantity, return_type=int | float, when_used="json")]

InvoiceKind = Literal["cycle", "final", "trial_usage", "add_on"]


class InvoiceLine(BaseModel):
    """One charge, with the rule that makes it due and the period it pays for."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: LineKind
    description: str = Field(description="Human text shown on the invoice.")
    quantity: Quantity = Field(description="Units charged (fractional for agent minutes, CO-7).")
    unit_amount_cents: Cents
    amount_cents: Cents = Field(description="quantity x unit_amount_cents, half-up to the cent.")
    period_start: date | None = Field(default=None, description="First day of the service period paid for.")
    period_end: date | None = Field(default=None, description="Last day (inclusive) of that period.")
    rule_id: str = Field(description="CONTRACT_RULES id that makes this line due, e.g. CO-9.")
    plan_id: str | None = None

    @model_validator(mode="after")
    def _consistent(self) -> InvoiceLine:
        if self.quantity < 0:
            raise ValueError("quantity: must be at least 0")
        if self.amount_cents != units_times_price(self.quantity, self.unit_amount_cents):
            raise ValueError("amount_cents: must equal quantity x unit_amount_cents (half-up)")
        if (self.period_start is None) != (self.period_end is None):
            raise ValueError("period_end: give both ends of the service period or neither")
        if self.period_start and self.period_end and self.period_end < self.period_start:
            raise ValueError("period_end: must not be before period_start")
        return self


class InvoiceDraft(BaseModel):
    """An invoice decided by the rules, plus the client's billing state after it (for the ledger)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: InvoiceKind
    issue_date: date = Field(description="Billing Date (cycle) or day the invoice is issued.")
    due_date: date = Field(description="Last day to pay on time (CO-10, CH-9 for final invoices).")
    currency: Literal["USD"] = "USD"
    lines: tuple[InvoiceLine, ...]
    ended_cycle: Cycle | None = Field(
        default=None, description="Period whose usage is billed in arrears (partial on a final invoice)."
    )
    next_cycle: Cycle | None = Field(default=None, description="Cycle whose fee is billed in advance.")
    plan_id_next_cycle: str | None = Field(
        default=None, description="Package in force from the issue date (None: service ended)."
    )
    plan_id_ended_cycle: str | None = Field(
        default=None, description="Package in force at the end of the ended cycle (CH-5 upgrades included)."
    )
    setup_fee_charged: bool = Field(default=False, description="This invoice carries the CO-5 setup fee.")
    pending_change_applied: bool = Field(default=False, description="A CH-7 plan change took effect.")
    notes: tuple[str, ...] = Field(default=(), description="Why, in plain words (shown on the dashboard).")

    @property
    def subtotal_cents(self) -> Cents:
        """Sum of every line except tax."""
        return sum(line.amount_cents for line in self.lines if line.kind != "tax")

    @property
    def tax_cents(self) -> Cents:
        return sum(line.amount_cents for line in self.lines if line.kind == "tax")

    @property
    def total_cents(self) -> Cents:
        return self.subtotal_cents + self.tax_cents

    def lines_of(self, kind: LineKind) -> tuple[InvoiceLine, ...]:
        """The lines of one kind, in invoice order."""
        return tuple(line for line in self.lines if line.kind == kind)
