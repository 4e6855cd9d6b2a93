"""Ledger records (pydantic). Money is integer cents; dates are business days in the
provider's time zone."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from parley.billing.invoicing import PendingPlanChange
from parley.billing.lines import InvoiceLine
from parley.billing.payments import Payment
from parley.billing.plans import PriceChange
from parley.email.models import OutboxEmail


class AccountStatus(StrEnum):
    TRIAL = "trial"
    ACTIVE = "active"  # paid service
    STOPPED = "stopped"  # trial ended without a plan (CO-4)
    # Cancellation took effect (CO-2 / CH-9), or default (CO-10 / CH-10): `termination_reason`
    # says which. What is owed stays collectable; reinstatement only where the policy allows it.
    TERMINATED = "terminated"


class TerminationReason(StrEnum):
    CANCELLATION = "cancellation"  # a notice took effect (CO-2 / CH-9)
    DEFAULT = "default"  # material default in payment (CO-10 / CH-10)


class Notice(BaseModel):
    """A cancellation notice (CO-2 / CH-9) and what it means, as the dashboard explains it."""

    notice_id: str
    given_on: date
    reason: str | None = None
    effective_date: date  # the last day of service
    withdraw_until: date
    outstanding_due_date: date | None = None
    rule_id: str
    explanation: str
    status: str = "pending"  # pending | withdrawn | effective


class BillingAccount(BaseModel):
    """One client's subscription as the ledger knows it (item CLIENT#{id} / BILLING)."""

    client_id: str
    name: str = ""
    email: str = ""
    status: AccountStatus = AccountStatus.TRIAL
    trial_start: date | None = None
    plan_id: str | None = None  # the plan chosen (for trial conversion) / the current package
    anchor_day: int | None = None
    paid_start: date | None = None
    next_billing_date: date | None = None
    current_plan_id: str | None = None  # package whose fee was billed for the current cycle
    upgraded_plan_id: str | None = None  # CH-5 upgrade during the current cycle
    pending_change: PendingPlanChange | None = None  # CH-7
    setup_fee_charged: bool = False  # CO-5
    tax_rate_basis_points: int | None = None  # CH-3
    cancellation_effective_date: date | None = None
    final_invoice_issued: bool = False
    stripe_customer_id: str | None = None
    payment_method: str | None = None  # a Stripe PaymentMethod id on file
    in_default_since: date | None = None
    notice: Notice | None = None
    trial_converted_early: bool = False
    terminated_on: date | None = None
    termination_reason: TerminationReason | None = None
    # reinstate_on_full_payment: the last day full payment of everything owed restores service
    reinstatable_until: date | None = None
    data_deletion_date: date | None = None
    data_deleted: bool = False
    version: int = 0  # optimistic concurrency: every write checks and bumps it

    def rule_state(self) -> dict[str, Any]:
        """The fields `parley.billing.invoicing.ClientBillingState` needs."""
        return {
            "anchor_day": self.anchor_day, "paid_start": self.paid_start, "current_plan_id": self.current_plan_id,
            "upgraded_plan_id": self.upgraded_plan_id, "pending_change": self.pending_change,
            "setup_fee_charged": self.setup_fee_charged, "tax_rate_basis_points": self.tax_rate_basis_points,
            "cancellation_effective_date": self.cancellation_effective_date,
        }


class InvoiceStatus(StrEnum):
    OPEN = "open"  # issued, not (fully) paid
    PAID = "paid"
    VOID = "void"  # the cut-off cycle's advance fee at default (Decision of CO-10)


class ChatReport(BaseModel):
    """CH-4: the chat performance report of the cycle that ended, stored with its invoice."""

    cycle_start: date
    cycle_end: date
    engaged_chats: int
    conversations: int = 0
    first_response_seconds_avg: float | None = None
    response_seconds_avg: float | None = None
    satisfaction_avg: float | None = None


class LedgerInvoice(BaseModel):
    """An invoice of the ledger (item CLIENT#{client} / INVOICE#{invoice_id})."""

    invoice_id: str  # deterministic: in_{client}_{issue date}[_{kind}] — a re-run finds it
    client_id: str
    kind: str  # cycle | final | trial_usage | late_charge | add_on | reissue | reinstated
    issue_date: date
    due_date: date
    lines: list[InvoiceLine]
    total_cents: int
    amount_paid_cents: int = 0
    status: InvoiceStatus = InvoiceStatus.OPEN
    stripe_invoice_id: str | None = None
    late_charge_invoice_id: str | None = None  # CO-11: once per invoice
    for_invoice_id: str | None = None  # a late charge names the invoice it is for
    report: ChatReport | None = None
    payments: list[Payment] = Field(default_factory=list)
    paid_at: datetime | None = None
    disputed: bool = False
    voided_on: date | None = None
    reissued_as: str | None = None  # a voided invoice's lines that stay owed, on their own invoice
    reissue_of: str | None = None

    @property
    def amount_due_cents(self) -> int:
        return max(self.total_cents - self.amount_paid_cents, 0)


class UsageCounter(BaseModel):
    client_id: str
    cycle: str  # the cycle's first day (ISO) or "TRIAL"
    engaged_chats: int = 0
    agent_seconds: int = 0  # CO-7 rounded billable seconds
    first_response_seconds: int = 0  # sum over the engaged chats, for the CH-4 report


class HistoryEvent(BaseModel):
    """A dated status change or money movement, for the timeline and the scenario runner."""

    client_id: str
    day: date
    at: datetime
    kind: str
    detail: dict[str, Any] = Field(default_factory=dict)
    # The email this event sends: the store writes it to the outbox in the same transaction as
    # the event (no email without the event, no event without the email). Not part of the record.
    email: OutboxEmail | None = Field(default=None, exclude=True)


class ProviderConfig(BaseModel):
    """The provider's billing configuration as stored (PROVIDER / BILLING), validated on read."""

    policy: dict[str, Any]
    catalog: dict[str, Any]
    price_changes: list[PriceChange] = Field(default_factory=list)


class AgendaKind(StrEnum):
    """What a dated agenda entry asks the daily jobs to do (item AGENDA#{day} / {kind}#{subject})."""

    BILL = "BILL"  # the client's Billing Date
    COLLECT = "COLLECT"  # an invoice not yet carried to Stripe / not yet charged
    LATE = "LATE"  # the day an unpaid invoice's late charge is due (CO-11)
    DEFAULT = "DEFAULT"  # the day an unpaid invoice puts the client in default (CO-10 / CH-10)
    TERMINATED = "TERMINATED"  # the day a cancellation took effect (CO-2)
    WARN = "WARN"  # the day an unpaid invoice's default warning goes out (before its default day)
    TRIAL_ENDING = "TRIAL_ENDING"  # three days before a trial ends: the reminder email
    DELETE_DATA = "DELETE_DATA"  # the end of the retention period after a default (LC-3)
    VOID = "VOID"  # a void Stripe could not take at default, retried the next day


class AgendaEntry(BaseModel):
    """One entry of a day's agenda: a client (BILL, TERMINATED) or one of its invoices."""

    model_config = ConfigDict(frozen=True)

    day: date
    kind: AgendaKind
    client_id: str
    invoice_id: str | None = None

    @property
    def subject(self) -> str:
        return self.invoice_id or self.client_id

    def moved_to(self, day: date) -> AgendaEntry:
        return self.model_copy(update={"day": day})


class UsageBatch(BaseModel):
    """Usage of one client and cycle from one batch of chats, added at once (idempotently per
    conversation: `measure` names what a conversation was counted for)."""

    model_config = ConfigDict(frozen=True)

    client_id: str
    cycle: str
    conversation_ids: tuple[str, ...]
    measure: Literal["engaged_chats", "agent_time"] = "engaged_chats"
    engaged_chats: int = 0
    agent_seconds: int = 0
    first_response_seconds: int = 0


TRIAL_CYCLE = "TRIAL"  # the usage counter of the free trial (paid cycles are keyed by their first day)


@dataclass
class DayReport:
    """What a daily run did (the scheduled functions log it; tests and the scenario runner read it)."""

    day: date
    billed: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    collected: list[str] = field(default_factory=list)
    declined: list[str] = field(default_factory=list)
    stripe_pending: list[str] = field(default_factory=list)
    enqueued: list[str] = field(default_factory=list)  # invoices handed to the collection queue
    late_charges: list[str] = field(default_factory=list)
    defaults: list[str] = field(default_factory=list)


class CollectionOrder(BaseModel):
    """One invoice to carry to Stripe and charge, as the billing day puts it on the collection
    queue (one SQS message; strict: a message of another shape is refused, not guessed at)."""

    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)

    client_id: str = Field(min_length=1, max_length=128)
    invoice_id: str = Field(min_length=1, max_length=200)
    # The billing day that issued the order: its backstop agenda entry is on the day after.
    day: date = Field(strict=False)  # an ISO date string in the JSON body
