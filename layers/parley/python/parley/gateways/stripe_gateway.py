"""The Stripe gateway: the only door to Stripe (customers, invoices, collection, portal, webhooks).

Parley's own ledger decides what is owed and when; this gateway only carries it out, and does so
exactly once (ARCHITECTURE principle 5): every mutating call carries an idempotency key derived
from the ledger's ids, so repeating a call after a timeout, a crash or a 5xx returns what Stripe
did the first time instead of doing it again.

- ``customer:{client_id}``                  ensure_customer
- ``{ledger_invoice_id}:invoice``            the draft invoice
- ``{ledger_invoice_id}:item:{n}``           its n-th line (an invoice item added to that draft)
- ``{ledger_invoice_id}:finalize``           draft -> open
- ``{attempt_key}:pay``                      one collection attempt

Stripe keeps idempotency keys for 24 hours: the ledger records the ids returned here and does
not re-run a creation for an id it already has after that window.

Invoices are ``collection_method=send_invoice`` with ``auto_advance=false``: Stripe neither
charges nor dunns on its own schedule; the ledger decides when to call ``pay_invoice`` (CO-10,
CO-11, CH-10). The due date shown by Stripe is the end of the Due Date in the provider's business
time zone. The draft is created first and its lines added with ``invoice=`` (Stripe's current
flow, ``pending_invoice_items_behavior=exclude``), so an invoice never sweeps in pending items
that belong to another ledger invoice.

Errors: Stripe 5xx / 409 / 429, connection errors and timeouts raise ``PaymentProviderUnavailable``
(retryable: repeat the same call). A declined card is not an exception for ``pay_invoice``:
``PaymentResult(paid=False, declined_reason=...)``. Everything else raises a typed
``PaymentProviderError`` subclass. Webhooks with a missing or bad signature raise
``WebhookSignatureInvalid`` (HTTP 400).

The same code runs against Stripe and against localstripe (``infra/local/localstripe_server.py``):
only ``api_base`` differs.
"""

from __future__ import annotations

import re
import threading
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, date, datetime, time, tzinfo
from typing import Any, cast
from urllib.parse import urlsplit

import stripe
from stripe.params import InvoiceItemCreateParams

from parley import strict_json
from parley.errors import InvalidRequest
from parley.gateways.stripe_models import (
    BillingAddress,
    BillingDetails,
    CardSummary,
    CustomerTaxId,
    IdempotencyKeyReused,
    InvoiceLine,
    InvoiceLineLike,
    InvoiceLinks,
    PaymentMethodDeclined,
    PaymentProviderAuthFailed,
    PaymentProviderError,
    PaymentProviderRejected,
    PaymentProviderUnavailable,
    PaymentResult,
    StripeInvoice,
    WebhookEvent,
)

__all__ = [
    "BillingAddress",
    "BillingDetails",
    "CardSummary",
    "CustomerTaxId",
    "IdempotencyKeyReused",
    "InvoiceLine",
    "InvoiceLinks",
    "PaymentMethodDeclined",
    "PaymentProviderAuthFailed",
    "PaymentProviderError",
    "PaymentProviderRejected",
    "PaymentProviderUnavailable",
    "PaymentResult",
    "StripeGateway",
    "StripeInvoice",
    "StripeRequestCounter",
    "WebhookError",
    "WebhookEvent",
    "WebhookPayloadInvalid",
    "WebhookSignatureInvalid",
    "parse_webhook",
]

CURRENCY = "usd"  # CH-3: prices are in USD
WEBHOOK_TOLERANCE_SECONDS = 300


class WebhookError(InvalidRequest):
    """A webhook request we must refuse (HTTP 400); nothing is changed."""

    code = "invalid_webhook"


class WebhookSignatureInvalid(WebhookError):
    code = "invalid_webhook_signature"


class WebhookPayloadInvalid(WebhookError):
    code = "invalid_webhook_payload"


def _translate(exc: stripe.StripeError) -> PaymentProviderError:
    kwargs: dict[str, Any] = {"stripe_code": exc.code, "http_status": exc.http_status, "request_id": exc.request_id}
    message = exc.user_message or str(exc) or type(exc).__name__
    status = exc.http_status or 0
    if isinstance(exc, stripe.APIConnectionError | stripe.RateLimitError):
        return PaymentProviderUnavailable(message, **kwargs)
    if isinstance(exc, stripe.IdempotencyError):
        return IdempotencyKeyReused(message, **kwargs)
    if isinstance(exc, stripe.AuthenticationError | stripe.PermissionError):
        return PaymentProviderAuthFailed(message, **kwargs)
    if isinstance(exc, stripe.CardError):
        return PaymentMethodDeclined(message, **kwargs)
    if isinstance(exc, stripe.APIError) and (status >= 500 or status in (409, 429)):
        return PaymentProviderUnavailable(message, **kwargs)
    return PaymentProviderRejected(message, **kwargs)


@contextmanager
def _mapped_errors() -> Iterator[None]:
    try:
        yield
    except stripe.StripeError as exc:
        raise _translate(exc) from exc


# ------------------------------------------------------------------------ request counting
_ID_SEGMENT = re.compile(
    r"/(?:acct|bps|card|ch|cus|dp|du|evt|ii|il|in|inpay|pi|pm|price|prod|py|re|seti|si|src|sub|tok|txr)_[^/]+"
)


class StripeRequestCounter:
    """HTTP requests sent to Stripe, by ``"METHOD /path"`` with object ids replaced by ``{id}``
    (``POST /v1/invoices/{id}/pay``). Every attempt counts, SDK retries included. Thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: Counter[str] = Counter()

    def record(self, method: str, url: str) -> None:
        path = _ID_SEGMENT.sub("/{id}", urlsplit(url).path)
        with self._lock:
            self._counts[f"{method.upper()} {path}"] += 1

    def snapshot(self) -> dict[str, int]:
        with self._lock:
            return dict(self._counts)

    @property
    def total(self) -> int:
        with self._lock:
            return sum(self._counts.values())

    def reset(self) -> None:
        with self._lock:
            self._counts.clear()


class _CountingRequestsClient(stripe.RequestsClient):
    """The SDK's default HTTP client, counting each attempt."""

    def __init__(self, counter: StripeRequestCounter, timeout: float) -> None:
        super().__init__(timeout=timeout)
        self._counter = counter

    # The SDK's own RequestsClient already differs from HTTPClient's declared signature (no
    # ``_usage``, bytes body): we keep RequestsClient's, which is what its retry loop calls.
    def request(  # type: ignore[override]
        self, method: str, url: str, headers: Mapping[str, str] | None, post_data: Any = None,
    ) -> tuple[bytes, int, Mapping[str, str]]:
        self._counter.record(method, url)
        return super().request(method, url, headers, post_data)

    def request_stream(  # type: ignore[override]
        self, method: str, url: str, headers: Mapping[str, str] | None, post_data: Any = None,
    ) -> tuple[Any, int, Mapping[str, str]]:
        self._counter.record(method, url)
        return super().request_stream(method, url, headers, post_data)


# ----------------------------------------------------------------------------- helpers
def _str_id(value: object) -> str | None:
    """An expandable field: an id, or an expanded object with an id."""
    if isinstance(value, str):
        return value
    if isinstance(value, Mapping):
        inner = value.get("id")
        return inner if isinstance(inner, str) else None
    return None


def _int(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _str(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _metadata(obj: Mapping[str, Any]) -> Mapping[str, Any]:
    meta = obj.get("metadata")
    return meta if isinstance(meta, Mapping) else {}


def _to_invoice(inv: stripe.Invoice) -> StripeInvoice:
    raw = inv.to_dict()  # fields a local stand-in may lack are read leniently
    return StripeInvoice(
        id=inv.id or "",
        status=inv.status or "",
        amount_due_cents=inv.amount_due,
        customer_id=_str_id(raw.get("customer")),
        parley_invoice_id=_str(_metadata(raw).get("parley_invoice_id")),
        due_date=datetime.fromtimestamp(inv.due_date, UTC) if inv.due_date else None,
        hosted_invoice_url=_str(raw.get("hosted_invoice_url")),
    )


def _replayed(obj: stripe.StripeObject) -> bool:
    """Stripe answered from its idempotency store (header ``Idempotent-Replayed: true``)."""
    response = obj.last_response
    return response is not None and str(response.headers.get("Idempotent-Replayed", "")).lower() == "true"


def _payment_intent_of(inv: stripe.Invoice) -> str | None:
    """The payment intent that paid the invoice, else of its most recent payment (lists are
    newest first); ``payments`` must be expanded."""
    payments = inv.to_dict().get("payments")
    data = payments.get("data") if isinstance(payments, Mapping) else None
    entries = [p for p in data if isinstance(p, Mapping)] if isinstance(data, list) else []
    if not entries:
        return None
    chosen = next((p for p in entries if p.get("status") == "paid"), entries[0])
    payment = chosen.get("payment")
    return _str_id(payment.get("payment_intent")) if isinstance(payment, Mapping) else None


# ------------------------------------------------------------------------------ webhooks
WEBHOOK_MAX_BYTES = 512 * 1024  # Stripe's events are a few KB; an invoice with many lines tens
WEBHOOK_MAX_DEPTH = 32


def parse_webhook(payload: bytes, signature_header: str | None, secret: str,
                  *, tolerance_seconds: int = WEBHOOK_TOLERANCE_SECONDS) -> WebhookEvent:
    """Verify a Stripe webhook (``Stripe-Signature`` header) and extract what the ledger needs.

    Raises ``WebhookSignatureInvalid`` for a missing, malformed, wrong or too old signature
    (replays older than ``tolerance_seconds``), ``WebhookPayloadInvalid`` for a signed body that
    is not a Stripe event. Parsing the same delivery twice gives equal results.
    """
    if not signature_header:
        raise WebhookSignatureInvalid("missing Stripe-Signature header")
    if not secret:
        raise ValueError("webhook secret is not configured")
    try:
        stripe.WebhookSignature.verify_header(payload, signature_header, secret, tolerance_seconds)
    except stripe.SignatureVerificationError as exc:
        raise WebhookSignatureInvalid(f"bad Stripe-Signature: {exc.user_message or exc}") from exc
    except (ValueError, TypeError) as exc:  # a body that is not UTF-8 cannot carry a signature
        raise WebhookPayloadInvalid("webhook body is not a Stripe event") from exc
    # Signed, but its shape is still checked: bounded JSON, an object (an array was a 500).
    try:
        raw = strict_json.load(payload, max_bytes=WEBHOOK_MAX_BYTES, max_depth=WEBHOOK_MAX_DEPTH)
    except strict_json.JsonRefused as exc:
        raise WebhookPayloadInvalid(f"webhook body is not a Stripe event: {exc.message}") from exc
    if not isinstance(raw, dict):
        raise WebhookPayloadInvalid("webhook body is not a Stripe event (not a JSON object)")
    return _event_from_dict(raw)


def _event_from_dict(raw: Mapping[str, Any]) -> WebhookEvent:
    event_id, event_type, created = raw.get("id"), raw.get("type"), _int(raw.get("created"))
    if not isinstance(event_id, str) or not isinstance(event_type, str) or created is None:
        raise WebhookPayloadInvalid("webhook body is not a Stripe event (id, type, created)")
    data = raw.get("data")
    obj = data.get("object") if isinstance(data, Mapping) else None
    obj = obj if isinstance(obj, Mapping) else {}
    object_type = _str(obj.get("object"))
    fields: dict[str, Any] = {
        "id": event_id, "type": event_type, "created": datetime.fromtimestamp(created, UTC),
        "livemode": bool(raw.get("livemode", False)), "object_type": object_type,
        "object_id": _str(obj.get("id")), "customer_id": _str_id(obj.get("customer")),
    }
    if object_type == "invoice":
        fields.update(
            stripe_invoice_id=_str(obj.get("id")),
            parley_invoice_id=_str(_metadata(obj).get("parley_invoice_id")),
            invoice_status=_str(obj.get("status")),
            amount_due_cents=_int(obj.get("amount_due")),
            amount_paid_cents=_int(obj.get("amount_paid")),
        )
    elif event_type.startswith("charge.dispute."):
        fields.update(
            dispute_id=_str(obj.get("id")),
            dispute_status=_str(obj.get("status")),
            dispute_reason=_str(obj.get("reason")),
            dispute_amount_cents=_int(obj.get("amount")),
            charge_id=_str_id(obj.get("charge")),
            payment_intent_id=_str_id(obj.get("payment_intent")),
            parley_invoice_id=_str(_metadata(obj).get("parley_invoice_id")),
        )
    elif object_type == "charge":
        fields.update(charge_id=_str(obj.get("id")), payment_intent_id=_str_id(obj.get("payment_intent")))
    elif object_type == "payment_intent":
        fields.update(payment_intent_id=_str(obj.get("id")))
    elif object_type == "customer":
        settings = obj.get("invoice_settings")
        default = settings.get("default_payment_method") if isinstance(settings, Mapping) else None
        fields.update(customer_id=_str(obj.get("id")), default_payment_method=_str_id(default))
    return WebhookEvent(**fields)


# ------------------------------------------------------------------------------ gateway
class StripeGateway:
    """Carries out the ledger's decisions on Stripe. Build one per process (it holds an HTTP session).

    ``api_key`` comes from configuration (Secrets Manager / environment on AWS; the obvious test
    key ``sk_test_local`` locally). ``api_base`` points the SDK at localstripe or a test proxy.
    ``business_tz`` is the provider's business time zone (CONTRACT_RULES "Money and dates"):
    dates become Stripe timestamps at the start (periods) or end (due dates, period ends) of
    that day there.
    """

    def __init__(self, api_key: str, *, api_base: str | None = None, timeout_seconds: float = 20.0,
                 max_network_retries: int = 2, business_tz: tzinfo = UTC) -> None:
        if not api_key:
            raise ValueError("a Stripe API key is required")
        self.requests = StripeRequestCounter()
        self._tz = business_tz
        self._client = stripe.StripeClient(
            api_key,
            base_addresses={"api": api_base} if api_base else None,
            max_network_retries=max_network_retries,
            http_client=_CountingRequestsClient(self.requests, timeout_seconds),
        )

    @property
    def client(self) -> stripe.StripeClient:
        """The underlying SDK client (tests and operator tools; the domain uses the methods below)."""
        return self._client

    # --- customers -------------------------------------------------------------------
    def ensure_customer(self, client_id: str, name: str, email: str) -> str:
        """The Stripe customer of a Parley client, created once (key ``customer:{client_id}``).

        The caller stores the returned id. Retrying with the same arguments returns the same
        customer; within Stripe's 24 h key window, other arguments for the same client raise
        ``IdempotencyKeyReused`` (update the customer instead).
        """
        with _mapped_errors():
            customer = self._client.v1.customers.create(
                params={"name": name, "email": email, "metadata": {"parley_client_id": client_id}},
                options={"idempotency_key": f"customer:{client_id}"},
            )
        return customer.id

    # --- invoices --------------------------------------------------------------------
    def create_invoice(self, ledger_invoice_id: str, customer_id: str, lines: Sequence[InvoiceLineLike],
                       due_date: date, *, known_id: str | None = None, look_first: bool = False) -> StripeInvoice:
        """Create, fill and finalize the Stripe invoice of one ledger invoice; return it open.

        Idempotent per ``ledger_invoice_id``: after any failure (including a timeout where Stripe
        did the work) call again with the same arguments; the result is the same invoice, with
        each line once. Metadata ``parley_invoice_id`` is on the invoice and on every item.

        Stripe forgets idempotency keys after 24 hours, so a retry after that must not trust
        them: with ``known_id`` (the Stripe id the ledger stored) or ``look_first`` (an attempt
        on a later day than the invoice's) the gateway first finds what it already created —
        that invoice, or the customer's invoice whose metadata names the ledger id — and only
        adds the lines it lacks (by ``parley_line``) and finalizes a draft.
        """
        if not lines:
            raise ValueError("a ledger invoice without lines has nothing to send to Stripe")
        meta = {"parley_invoice_id": ledger_invoice_id}
        with _mapped_errors():
            earlier = self._earlier_invoice(ledger_invoice_id, customer_id, known_id) \
                if known_id or look_first else None
            if earlier is not None and earlier.status != "draft":
                return _to_invoice(earlier)
            present = self._lines_present(earlier.id or "") if earlier is not None else set()
            draft = earlier or self._client.v1.invoices.create(
                params={
                    "customer": customer_id,
                    "currency": CURRENCY,
                    "collection_method": "send_invoice",
                    "due_date": self._end_of_day(due_date),
                    "auto_advance": False,
                    "pending_invoice_items_behavior": "exclude",
                    "metadata": meta,
                },
                options={"idempotency_key": f"{ledger_invoice_id}:invoice"},
            )
            invoice_id = draft.id or ""
            for n, line in enumerate(lines):
                if str(n) in present:
                    continue
                item_meta = {**meta, "parley_rule_id": line.rule_id, "parley_line": str(n)}
                params: InvoiceItemCreateParams = {
                    "customer": customer_id,
                    "invoice": invoice_id,
                    "currency": CURRENCY,
                    "amount": line.amount_cents,
                    "description": line.description,
                    "metadata": item_meta,
                }
                if line.period_start is not None and line.period_end is not None:
                    params["period"] = {"start": self._start_of_day(line.period_start),
                                        "end": self._end_of_day(line.period_end)}
                self._client.v1.invoice_items.create(
                    params=params, options={"idempotency_key": f"{ledger_invoice_id}:item:{n}"},
                )
            final = self._client.v1.invoices.finalize_invoice(
                invoice_id, params={"auto_advance": False},
                options={"idempotency_key": f"{ledger_invoice_id}:finalize"},
            )
            if _replayed(final):  # the invoice as it was when first finalized: it may be paid by now
                final = self._client.v1.invoices.retrieve(invoice_id)
        return _to_invoice(final)

    def _earlier_invoice(self, ledger_invoice_id: str, customer_id: str, known_id: str | None) -> stripe.Invoice | None:
        """The Stripe invoice an earlier attempt created for this ledger invoice, if any."""
        if known_id:
            return self._client.v1.invoices.retrieve(known_id)
        page = self._client.v1.invoices.list(params={"customer": customer_id, "limit": 100})
        return next((i for i in page.auto_paging_iter()
                     if _metadata(i.to_dict()).get("parley_invoice_id") == ledger_invoice_id), None)

    def _lines_present(self, stripe_invoice_id: str) -> set[str]:
        """The `parley_line` numbers already on a draft (each line is added once)."""
        items = self._client.v1.invoice_items.list(params={"invoice": stripe_invoice_id, "limit": 100})
        return {str(_metadata(item.to_dict()).get("parley_line")) for item in items.auto_paging_iter()}

    def get_invoice(self, stripe_invoice_id: str) -> StripeInvoice:
        with _mapped_errors():
            return _to_invoice(self._client.v1.invoices.retrieve(stripe_invoice_id))

    def pay_invoice(self, stripe_invoice_id: str, attempt_key: str) -> PaymentResult:
        """Charge the customer's default payment method for an open invoice (key ``{attempt_key}:pay``).

        A declined card is ``PaymentResult(paid=False, declined_reason=...)``. Repeating an
        attempt key replays its result; a new attempt on an invoice already paid (e.g. after a
        timeout where Stripe did charge) answers ``paid=True`` without charging again.
        """
        try:
            invoice = self._client.v1.invoices.pay(
                stripe_invoice_id, params={"expand": ["payments"]},
                options={"idempotency_key": f"{attempt_key}:pay"},
            )
        except stripe.CardError as exc:
            return self._declined(stripe_invoice_id, exc)
        except stripe.InvalidRequestError as exc:
            # e.g. "Invoice is already paid": look at the invoice rather than at the message.
            current = self._retrieve_for_payment(stripe_invoice_id)
            if current.status == "paid":
                return self._result(current)
            if current.status == "open":
                # The invoice is payable but the customer's card on file is not (removed, detached,
                # none by default): a failed attempt the client must fix (CO-13), like a decline —
                # one client's card must not stop everyone else's billing day.
                return PaymentResult(paid=False, invoice_id=stripe_invoice_id, invoice_status="open",
                                     declined_reason=exc.code or "payment_method_unusable",
                                     decline_message=exc.user_message or str(exc))
            raise _translate(exc) from exc
        except stripe.StripeError as exc:
            raise _translate(exc) from exc
        return self._result(invoice)

    def void_invoice(self, stripe_invoice_id: str) -> None:
        """Void an open invoice (the ledger voided it: the cut-off cycle's fee at default). Voiding
        is idempotent by state: an invoice already void is left as it is."""
        try:
            self._client.v1.invoices.void_invoice(stripe_invoice_id,
                                                  options={"idempotency_key": f"{stripe_invoice_id}:void"})
        except stripe.InvalidRequestError as exc:
            current = self._retrieve_for_payment(stripe_invoice_id)
            if current.status != "void":
                raise _translate(exc) from exc
        except stripe.StripeError as exc:
            raise _translate(exc) from exc

    def _retrieve_for_payment(self, stripe_invoice_id: str) -> stripe.Invoice:
        with _mapped_errors():
            return self._client.v1.invoices.retrieve(stripe_invoice_id, params={"expand": ["payments"]})

    @staticmethod
    def _result(invoice: stripe.Invoice) -> PaymentResult:
        return PaymentResult(
            paid=invoice.status == "paid",
            invoice_id=invoice.id or "",
            invoice_status=invoice.status or "",
            amount_paid_cents=invoice.amount_paid,
            payment_intent_id=_payment_intent_of(invoice),
        )

    def _declined(self, stripe_invoice_id: str, exc: stripe.CardError) -> PaymentResult:
        err = exc.error
        pi = err.payment_intent if err is not None else None
        return PaymentResult(
            paid=False,
            invoice_id=stripe_invoice_id,
            invoice_status="open",
            declined_reason=(err.decline_code or err.code if err is not None else None) or exc.code or "declined",
            decline_message=(err.message if err is not None else None) or exc.user_message,
            payment_intent_id=pi.id if pi is not None else None,
            charge_id=err.charge if err is not None else None,
        )

    # --- payment methods -------------------------------------------------------------
    def attach_test_payment_method(self, customer_id: str, pm: str = "pm_card_visa") -> str:
        """Attach a payment method (test token such as ``pm_card_visa`` or
        ``pm_card_chargeCustomerFail`` = card 4000000000000341) and make it the customer's
        default for invoices. Returns the attached payment method id. A card refused at attach
        raises ``PaymentMethodDeclined``."""
        with _mapped_errors():
            method = self._client.v1.payment_methods.attach(pm, params={"customer": customer_id})
            self._client.v1.customers.update(
                customer_id, params={"invoice_settings": {"default_payment_method": method.id}},
            )
        return method.id

    def create_setup_intent(self, customer_id: str) -> str:
        """A SetupIntent for saving a card off-session (Stripe.js on the dashboard); returns its client secret."""
        with _mapped_errors():
            intent = self._client.v1.setup_intents.create(
                params={"customer": customer_id, "usage": "off_session"},
            )
        if not intent.client_secret:
            raise PaymentProviderRejected("Stripe returned a SetupIntent without a client secret")
        return intent.client_secret

    def card_summary(self, payment_method_id: str) -> CardSummary | None:
        """Brand, last 4 and expiry of a card (None for a payment method that is not a card)."""
        with _mapped_errors():
            method = self._client.v1.payment_methods.retrieve(payment_method_id)
        card = method.to_dict().get("card")
        if not isinstance(card, Mapping):
            return None
        return CardSummary(payment_method_id=payment_method_id, brand=str(card.get("brand") or "card"),
                           last4=str(card.get("last4") or ""), exp_month=_int(card.get("exp_month")) or 0,
                           exp_year=_int(card.get("exp_year")) or 0)

    # --- invoice details (address, tax id) ------------------------------------------
    def billing_details(self, customer_id: str) -> BillingDetails:
        """The name, email, address and (first) tax id Stripe prints on the customer's invoices."""
        with _mapped_errors():
            customer = self._client.v1.customers.retrieve(customer_id).to_dict()
            tax_ids = self._client.v1.customers.tax_ids.list(customer_id).data
        raw_address = customer.get("address")
        address = None
        if isinstance(raw_address, Mapping) and raw_address.get("line1"):
            address = BillingAddress.model_validate({k: raw_address.get(k) or None for k in
                                                     ("line1", "line2", "city", "postal_code", "state", "country")})
        first = tax_ids[0] if tax_ids else None
        return BillingDetails(name=_str(customer.get("name")), email=_str(customer.get("email")), address=address,
                              tax_id=CustomerTaxId(type=first.type, value=first.value) if first else None)

    def set_billing_details(self, customer_id: str, address: BillingAddress, tax_id: CustomerTaxId | None) -> None:
        """Store the invoice address and the one tax id on the Stripe customer (printed on its
        invoices). Repeating the call changes nothing: a tax id already there is kept, others are
        removed (a customer has one tax id in Parley)."""
        fields = {k: v or "" for k, v in address.model_dump().items()}  # "" unsets a field on Stripe
        with _mapped_errors():
            self._client.v1.customers.update(customer_id, params={"address": cast(Any, fields)})
            existing = self._client.v1.customers.tax_ids.list(customer_id).data
            keep = [t for t in existing if tax_id is not None and (t.type, t.value) == (tax_id.type, tax_id.value)]
            for stale in existing:
                if stale not in keep:
                    self._client.v1.customers.tax_ids.delete(customer_id, stale.id)
            if tax_id is not None and not keep:
                self._client.v1.customers.tax_ids.create(customer_id, params={"type": cast(Any, tax_id.type),
                                                                              "value": tax_id.value})

    def invoice_links(self, stripe_invoice_id: str) -> InvoiceLinks:
        """Stripe's hosted invoice page (pay there) and its PDF."""
        with _mapped_errors():
            raw = self._client.v1.invoices.retrieve(stripe_invoice_id).to_dict()
        return InvoiceLinks(hosted_invoice_url=_str(raw.get("hosted_invoice_url")),
                            invoice_pdf=_str(raw.get("invoice_pdf")))

    def as_stripe_has_it_now(self, event: WebhookEvent) -> WebhookEvent:
        """A `customer.updated` with the customer's invoice default card as Stripe has it now,
        not as the event carried it: Stripe does not promise order, and localstripe delivers a
        second later, so an event about an older change would put an older card back on file."""
        if event.type != "customer.updated" or not event.customer_id:
            return event
        with _mapped_errors():
            customer = self._client.v1.customers.retrieve(event.customer_id).to_dict()
        settings = customer.get("invoice_settings")
        current = settings.get("default_payment_method") if isinstance(settings, Mapping) else None
        return event.model_copy(update={"default_payment_method": _str_id(current)})

    # --- customer portal -------------------------------------------------------------
    def portal_session_url(self, customer_id: str, return_url: str) -> str:
        """A short-lived URL of the Stripe customer portal (payment methods, invoice history)."""
        with _mapped_errors():
            session = self._client.v1.billing_portal.sessions.create(
                params={"customer": customer_id, "return_url": return_url},
            )
        return session.url

    # --- webhooks --------------------------------------------------------------------
    @staticmethod
    def parse_webhook(payload: bytes, signature_header: str | None, secret: str) -> WebhookEvent:
        """See the module-level ``parse_webhook`` (no API call, no API key needed)."""
        return parse_webhook(payload, signature_header, secret)

    # --- dates -----------------------------------------------------------------------
    def _start_of_day(self, day: date) -> int:
        return int(datetime.combine(day, time.min, self._tz).timestamp())

    def _end_of_day(self, day: date) -> int:
        return int(datetime.combine(day, time(23, 59, 59), self._tz).timestamp())
