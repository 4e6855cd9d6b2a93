"""Typed values crossing the Stripe gateway: what the ledger sends, what Stripe answered, and
the errors it raises (here, free of the Stripe SDK, so the domain can name them).

Money is integer cents (USD, CH-3), as everywhere in Parley.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import ClassVar, Protocol

from pydantic import BaseModel, ConfigDict, Field, model_validator

from parley.errors import ParleyError


class InvoiceLineLike(Protocol):
    """What the gateway needs of an invoice line. ``parley.billing.lines.InvoiceLine`` fits."""

    @property
    def description(self) -> str: ...
    @property
    def amount_cents(self) -> int: ...
    @property
    def rule_id(self) -> str: ...
    @property
    def period_start(self) -> date | None: ...
    @property
    def period_end(self) -> date | None: ...


class InvoiceLine(BaseModel):
    """One line of a ledger invoice as Stripe shows it (an invoice item)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    description: str = Field(min_length=1, max_length=500)
    amount_cents: int = Field(description="Negative for a credit.")
    rule_id: str = Field(description="CONTRACT_RULES id, e.g. CO-9; stored as item metadata parley_rule_id.")
    period_start: date | None = Field(default=None, description="First day of the service period.")
    period_end: date | None = Field(default=None, description="Last day (inclusive) of the service period.")

    @model_validator(mode="after")
    def _period(self) -> InvoiceLine:
        if (self.period_start is None) != (self.period_end is None):
            raise ValueError("period_end: give both ends of the service period or neither")
        if self.period_start and self.period_end and self.period_end < self.period_start:
            raise ValueError("period_end: must not be before period_start")
        return self


class StripeInvoice(BaseModel):
    """A Stripe invoice as the ledger needs it."""

    model_config = ConfigDict(frozen=True)

    id: str
    status: str = Field(description="draft | open | paid | uncollectible | void")
    amount_due_cents: int
    customer_id: str | None = None
    parley_invoice_id: str | None = None
    due_date: datetime | None = None
    hosted_invoice_url: str | None = None


class CardSummary(BaseModel):
    """What the dashboard shows of a card on file (never the id alone)."""

    model_config = ConfigDict(frozen=True)

    payment_method_id: str
    brand: str = Field(description="visa | mastercard | amex | ... (Stripe's card.brand)")
    last4: str
    exp_month: int
    exp_year: int


TAX_ID_TYPES = ("us_ein", "eu_vat", "gb_vat", "ca_bn", "au_abn", "nz_gst", "es_cif")
"""Tax id types the dashboard offers (Stripe's customer tax id ``type`` values)."""


class BillingAddress(BaseModel):
    """The address printed on invoices (Stripe customer ``address``)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    line1: str = Field(min_length=1, max_length=200)
    line2: str | None = Field(default=None, max_length=200)
    city: str = Field(min_length=1, max_length=100)
    postal_code: str = Field(min_length=1, max_length=20)
    state: str | None = Field(default=None, max_length=100)
    country: str = Field(pattern=r"^[A-Z]{2}$", description="ISO 3166-1 alpha-2")


class CustomerTaxId(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    type: str = Field(description=f"one of {', '.join(TAX_ID_TYPES)}")
    value: str = Field(min_length=2, max_length=40, pattern=r"^[A-Za-z0-9 .\-/]+$")

    @model_validator(mode="after")
    def _known_type(self) -> CustomerTaxId:
        if self.type not in TAX_ID_TYPES:
            raise ValueError(f"type: one of {', '.join(TAX_ID_TYPES)}")
        return self


class BillingDetails(BaseModel):
    """The customer's invoice details as Stripe holds them."""

    model_config = ConfigDict(frozen=True)

    name: str | None = None
    email: str | None = None
    address: BillingAddress | None = None
    tax_id: CustomerTaxId | None = None


class InvoiceLinks(BaseModel):
    """Stripe's own pages of an invoice (None where Stripe has none, e.g. localstripe)."""

    model_config = ConfigDict(frozen=True)

    hosted_invoice_url: str | None = None
    invoice_pdf: str | None = None


class PaymentResult(BaseModel):
    """Outcome of one attempt to collect an invoice.

    ``paid`` True: the invoice is paid (by this attempt or an earlier one). ``paid`` False with
    a ``declined_reason``: the card was declined (not an exception). ``paid`` False without a
    reason: the payment is still processing (asynchronous methods) or needs customer action;
    look at ``invoice_status`` and wait for the webhook.
    """

    model_config = ConfigDict(frozen=True)

    paid: bool
    invoice_id: str
    invoice_status: str
    amount_paid_cents: int = 0
    declined_reason: str | None = Field(default=None, description="Stripe decline_code, else error code.")
    decline_message: str | None = None
    payment_intent_id: str | None = None
    charge_id: str | None = Field(default=None, description="Known for declines (Stripe reports the charge).")


class WebhookEvent(BaseModel):
    """The parts of a verified Stripe event the ledger acts on. Dedup by ``id`` is the ledger's job."""

    model_config = ConfigDict(frozen=True)

    id: str
    type: str
    created: datetime
    livemode: bool = False
    object_type: str | None = Field(default=None, description="data.object.object, e.g. invoice, dispute.")
    object_id: str | None = None
    customer_id: str | None = None
    stripe_invoice_id: str | None = None
    parley_invoice_id: str | None = Field(default=None, description="From the invoice's metadata.")
    invoice_status: str | None = None
    amount_due_cents: int | None = None
    amount_paid_cents: int | None = None
    # charge.dispute.* only
    dispute_id: str | None = None
    dispute_status: str | None = None
    dispute_reason: str | None = None
    dispute_amount_cents: int | None = None
    charge_id: str | None = None
    payment_intent_id: str | None = None
    # customer.updated only: the card Stripe charges for invoices
    default_payment_method: str | None = None


# --------------------------------------------------------------------------------- errors
class PaymentProviderError(ParleyError):
    """Stripe refused or failed a call. ``retryable`` says whether repeating the same call may succeed."""

    code = "payment_provider_error"
    status = 502
    retryable: ClassVar[bool] = False

    def __init__(self, message: str = "", *, stripe_code: str | None = None, http_status: int | None = None,
                 request_id: str | None = None) -> None:
        super().__init__(message)
        self.stripe_code = stripe_code
        self.http_status = http_status
        self.request_id = request_id


class PaymentProviderUnavailable(PaymentProviderError):
    """5xx, 409 (concurrent use of an idempotency key), 429, connection error or timeout.
    Stripe may or may not have done the work: repeat the same call (same keys) to find out."""

    code = "payment_provider_unavailable"
    status = 503
    retryable = True


class PaymentProviderRejected(PaymentProviderError):
    """Stripe rejected the request (400/404/...): a bug or a stale id on our side, not transient."""

    code = "payment_provider_rejected"


class PaymentProviderAuthFailed(PaymentProviderError):
    """401/403: the API key is wrong or lacks the permission."""

    code = "payment_provider_auth_failed"


class IdempotencyKeyReused(PaymentProviderError):
    """The same idempotency key was sent with other parameters (e.g. a ledger invoice whose
    lines changed between two attempts). Never retry blindly."""

    code = "idempotency_key_reused"
    status = 409


class PaymentMethodDeclined(PaymentProviderError):
    """A card error outside of invoice collection (e.g. a card refused when attached)."""

    code = "payment_method_declined"
    status = 402
