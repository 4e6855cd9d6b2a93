"""The ports of the billing domain: what the ledger services need from storage, tenants,
Stripe and Step Functions, in the domain's own terms. The DynamoDB, Stripe and Step Functions
adapters implement them (`parley.repositories.ledger`, `parley.repositories.tenants`,
`parley.gateways.stripe_gateway`, `parley.gateways.workflows`), and so do the in-memory
fakes of `parley.ledger.memory`; tests/contract runs one contract against both.

Keys, condition expressions and transactions are the adapters' business: a port method is
one domain step ("store this invoice with the account's next state, unless a re-run already
did"), atomic where the domain needs it to be.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime
from typing import Any, Protocol

from parley.billing.payments import Payment
from parley.chat.models import Client
from parley.errors import Conflict
from parley.gateways.stripe_models import InvoiceLineLike, PaymentResult, StripeInvoice
from parley.ledger.models import (
    AgendaEntry,
    AgendaKind,
    BillingAccount,
    CollectionOrder,
    HistoryEvent,
    LedgerInvoice,
    ProviderConfig,
    UsageBatch,
    UsageCounter,
)


class ConcurrentUpdate(Conflict):
    """The account changed since it was read: reload and try again."""

    code = "concurrent_update"


class LedgerStore(Protocol):
    """The billing ledger: provider configuration, accounts, usage, invoices, history, the
    daily agenda, Stripe references and seen webhooks."""

    # --- provider configuration ------------------------------------------------------
    def provider_config(self) -> ProviderConfig | None: ...
    def put_provider_config(self, config: ProviderConfig) -> None: ...

    # --- accounts (versioned: every update names the version it was read at) ----------
    def account(self, client_id: str) -> BillingAccount | None: ...
    def accounts(self, client_ids: Sequence[str]) -> dict[str, BillingAccount]: ...

    def create_account(self, account: BillingAccount, *, history: Iterable[HistoryEvent] = ()) -> None:
        """Store a new account (raises `ConcurrentUpdate` when it exists)."""

    def update_account(self, current: BillingAccount, changes: Mapping[str, Any], *,
                       history: Iterable[HistoryEvent] = (),
                       agenda: Iterable[AgendaEntry] = ()) -> BillingAccount:
        """Apply `changes` to the account read as `current`, with its history and agenda,
        atomically; raises `ConcurrentUpdate` when the stored account is no longer `current`'s
        version. Returns the account as stored (version bumped)."""

    # --- usage -------------------------------------------------------------------------
    def usage(self, client_id: str, cycle: str) -> UsageCounter: ...
    def usages(self, keys: Sequence[tuple[str, str]]) -> dict[tuple[str, str], UsageCounter]: ...

    def count_usage(self, batch: UsageBatch, now: datetime) -> list[str]:
        """Add the batch to its counter, marking each conversation counted for the batch's
        measure, atomically. When a conversation was already counted nothing is added and its
        id is returned (the caller retries without them); [] when the batch was counted."""

    # --- invoices ------------------------------------------------------------------------
    def commit_invoice(self, current: BillingAccount, changes: Mapping[str, Any], invoice: LedgerInvoice, *,
                       agenda: Iterable[AgendaEntry] = (), history: Iterable[HistoryEvent] = ()) -> bool:
        """Store a new invoice with the account's next state (`changes`, version-checked like
        `update_account`), atomically. A late charge (`for_invoice_id`) is linked from its
        invoice, once (CO-11). False, and nothing written, when the invoice exists, the account
        moved on, or the invoice already has its late charge."""

    def invoice(self, client_id: str, invoice_id: str) -> LedgerInvoice | None: ...
    def invoices_by_key(self, keys: Sequence[tuple[str, str]]) -> list[LedgerInvoice]: ...
    def invoices(self, client_id: str) -> list[LedgerInvoice]: ...
    def set_stripe_invoice(self, client_id: str, invoice_id: str, stripe_invoice_id: str) -> None: ...

    def record_payment(self, invoice: LedgerInvoice, payment: Payment, paid_at: datetime, *,
                       history: Iterable[HistoryEvent] = ()) -> bool:
        """Mark the invoice (as read, open) paid in full with `payment` added; False, and
        nothing written, when the stored invoice is already paid: a payment is recorded once."""

    def mark_disputed(self, client_id: str, invoice_id: str, *, history: Iterable[HistoryEvent] = ()) -> bool: ...

    def void_invoice(self, invoice: LedgerInvoice, voided_on: date, *, reissue: LedgerInvoice | None = None,
                     agenda: Iterable[AgendaEntry] = (), history: Iterable[HistoryEvent] = ()) -> bool:
        """Void the invoice (as read: open, nothing paid) with, when given, the new invoice that
        bills what stays owed of it (`reissue`), atomically. False, and nothing written, when the
        stored invoice is no longer open and unpaid, or the reissue exists."""

    # --- history -------------------------------------------------------------------------
    def history(self, client_id: str) -> list[HistoryEvent]: ...
    def add_history(self, events: Iterable[HistoryEvent]) -> None:
        """Every write of history events also writes their emails (`HistoryEvent.email`) to the
        outbox, in the same transaction as the event."""

    def record_once(self, key: str, events: Iterable[HistoryEvent]) -> bool:
        """Write the events (and their emails) unless a call with the same `key` did: one record
        per occurrence (a decline per invoice and day, a default warning per invoice). False,
        and nothing written, for a repeat."""

    # --- the daily agenda ----------------------------------------------------------------
    def agenda(self, day: date, kind: AgendaKind) -> list[AgendaEntry]: ...
    def put_agenda(self, entries: Iterable[AgendaEntry]) -> None: ...
    def remove_agenda(self, entry: AgendaEntry) -> None: ...

    # --- Stripe references and webhooks --------------------------------------------------
    def put_payment_refs(self, refs: Iterable[str | None], client_id: str, invoice_id: str) -> None:
        """Stripe customer / payment intent / charge id → the client and invoice it belongs to."""

    def payment_ref(self, ref: str) -> tuple[str, str] | None: ...

    def mark_webhook_seen(self, event_id: str, now: datetime) -> bool:
        """True the first time an event id is seen, False for a replay."""

    def forget_webhook_seen(self, event_id: str) -> None:
        """Undo `mark_webhook_seen` when applying the event failed, so its redelivery applies it."""


class BillingTenants(Protocol):
    """The part of the tenant repository the billing domain uses."""

    def get_client(self, client_id: str) -> Client | None: ...
    def put_client(self, client: Client) -> None: ...
    def put_client_user(self, user_sub: str, client_id: str) -> None: ...
    def add_client_to_team(self, team_id: str, client_id: str) -> None: ...


class PaymentsGateway(Protocol):
    """What the ledger asks of Stripe. Retryable failures (connection errors, timeouts, rate
    limits, Stripe 5xx) raise `parley.gateways.stripe_models.PaymentProviderUnavailable`; a
    declined card is a `PaymentResult` with `paid=False`."""

    def ensure_customer(self, client_id: str, name: str, email: str) -> str: ...
    def create_invoice(self, ledger_invoice_id: str, customer_id: str, lines: Sequence[InvoiceLineLike],
                       due_date: date, *, known_id: str | None = None, look_first: bool = False) -> StripeInvoice:
        """Idempotent per ledger invoice id, also after Stripe's 24-hour key window when given
        the stored Stripe id (`known_id`) or told to look for an earlier attempt (`look_first`)."""
    def pay_invoice(self, stripe_invoice_id: str, attempt_key: str) -> PaymentResult: ...
    def void_invoice(self, stripe_invoice_id: str) -> None:
        """Void an open Stripe invoice (the cut-off cycle's fee at default); a void one stays void."""


class CollectionQueue(Protocol):
    """Where the billing day hands its invoices to the collection workers (SQS on AWS and
    locally). `enqueue` returns only when every order is on the queue, else raises."""

    def enqueue(self, orders: Sequence[CollectionOrder]) -> None: ...


class Workflows(Protocol):
    """Long waits (trial end, notice period), started and stopped by a business-key name, so a
    second start or stop is harmless."""

    def start(self, machine_env_var: str, name: str, payload: dict[str, Any]) -> None: ...
    def stop(self, machine_env_var: str, name: str, cause: str) -> bool: ...
