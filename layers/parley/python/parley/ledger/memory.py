"""In-memory implementations of the billing ports, for unit tests that run in milliseconds.
They pass the same contract tests (tests/contract) as the DynamoDB, Stripe and Step Functions
adapters: same answers, same refusals (a stale account version, an invoice stored twice, a
conversation counted twice, a replayed webhook), same atomicity (a refused step writes nothing).

Stored values are deep copies, as a database returns them: changing a model a fake handed out
changes nothing stored.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from parley.billing.payments import Payment
from parley.chat.models import Client
from parley.email.models import OutboxEmail
from parley.gateways.stripe_models import (
    IdempotencyKeyReused,
    InvoiceLineLike,
    PaymentProviderRejected,
    PaymentProviderUnavailable,
    PaymentResult,
    StripeInvoice,
)
from parley.ledger.models import (
    AgendaEntry,
    AgendaKind,
    BillingAccount,
    CollectionOrder,
    HistoryEvent,
    InvoiceStatus,
    LedgerInvoice,
    ProviderConfig,
    UsageBatch,
    UsageCounter,
)
from parley.ledger.ports import ConcurrentUpdate


class InMemoryLedger:
    """`LedgerStore` in dictionaries."""

    def __init__(self) -> None:
        self._config: ProviderConfig | None = None
        self._accounts: dict[str, BillingAccount] = {}
        self._usage: dict[tuple[str, str], UsageCounter] = {}
        self._counted: set[tuple[str, str]] = set()  # (conversation, measure)
        self._invoices: dict[tuple[str, str], LedgerInvoice] = {}
        self._history: list[HistoryEvent] = []
        self._agenda: dict[tuple[date, AgendaKind, str], AgendaEntry] = {}
        self._refs: dict[str, tuple[str, str]] = {}
        self._webhooks: set[str] = set()
        self._once: set[str] = set()
        self.outbox: dict[str, OutboxEmail] = {}  # the emails the history events carried, by id

    # --- provider configuration ------------------------------------------------------
    def provider_config(self) -> ProviderConfig | None:
        return self._config.model_copy(deep=True) if self._config else None

    def put_provider_config(self, config: ProviderConfig) -> None:
        self._config = config.model_copy(deep=True)

    # --- accounts ----------------------------------------------------------------------
    def account(self, client_id: str) -> BillingAccount | None:
        found = self._accounts.get(client_id)
        return found.model_copy(deep=True) if found else None

    def accounts(self, client_ids: Sequence[str]) -> dict[str, BillingAccount]:
        return {c: a for c in client_ids if (a := self.account(c)) is not None}

    def create_account(self, account: BillingAccount, *, history: Iterable[HistoryEvent] = ()) -> None:
        history = list(history)
        if account.client_id in self._accounts or not self._emails_new(history):
            raise ConcurrentUpdate("the account changed meanwhile; reload and try again")
        self._accounts[account.client_id] = account.model_copy(deep=True)
        self.add_history(history)

    def update_account(self, current: BillingAccount, changes: Mapping[str, Any], *,
                       history: Iterable[HistoryEvent] = (),
                       agenda: Iterable[AgendaEntry] = ()) -> BillingAccount:
        history = list(history)
        if not self._is_current(current) or not self._emails_new(history):
            raise ConcurrentUpdate("the account changed meanwhile; reload and try again")
        updated = self._next_version(current, changes)
        self.put_agenda(agenda)
        self.add_history(history)
        return updated

    def _is_current(self, account: BillingAccount) -> bool:
        stored = self._accounts.get(account.client_id)
        return stored is not None and stored.version == account.version

    def _next_version(self, current: BillingAccount, changes: Mapping[str, Any]) -> BillingAccount:
        updated = current.model_copy(update={**changes, "version": current.version + 1})
        # Round-trip, as a database does: what is read back is what was validated.
        self._accounts[current.client_id] = BillingAccount.model_validate(updated.model_dump(mode="json"))
        return updated

    # --- usage -------------------------------------------------------------------------
    def usage(self, client_id: str, cycle: str) -> UsageCounter:
        found = self._usage.get((client_id, cycle))
        return found.model_copy() if found else UsageCounter(client_id=client_id, cycle=cycle)

    def usages(self, keys: Sequence[tuple[str, str]]) -> dict[tuple[str, str], UsageCounter]:
        return {k: self.usage(*k) for k in keys}

    def count_usage(self, batch: UsageBatch, now: datetime) -> list[str]:
        already = [c for c in batch.conversation_ids if (c, batch.measure) in self._counted]
        if already:
            return already
        self._counted |= {(c, batch.measure) for c in batch.conversation_ids}
        counter = self.usage(batch.client_id, batch.cycle)
        self._usage[(batch.client_id, batch.cycle)] = counter.model_copy(update={
            "engaged_chats": counter.engaged_chats + batch.engaged_chats,
            "agent_seconds": counter.agent_seconds + batch.agent_seconds,
            "first_response_seconds": counter.first_response_seconds + batch.first_response_seconds})
        return []

    # --- invoices ------------------------------------------------------------------------
    def commit_invoice(self, current: BillingAccount, changes: Mapping[str, Any], invoice: LedgerInvoice, *,
                       agenda: Iterable[AgendaEntry] = (), history: Iterable[HistoryEvent] = ()) -> bool:
        key = (invoice.client_id, invoice.invoice_id)
        original = self._invoices.get((invoice.client_id, invoice.for_invoice_id)) if invoice.for_invoice_id else None
        history = list(history)
        if key in self._invoices or not self._is_current(current) or not self._emails_new(history):
            return False
        if invoice.for_invoice_id is not None:
            if original is None or original.late_charge_invoice_id is not None:
                return False
            self._invoices[(invoice.client_id, original.invoice_id)] = original.model_copy(
                update={"late_charge_invoice_id": invoice.invoice_id})
        self._next_version(current, changes)
        self._invoices[key] = LedgerInvoice.model_validate(invoice.model_dump(mode="json"))
        self.put_agenda(agenda)
        self.add_history(history)
        return True

    def invoice(self, client_id: str, invoice_id: str) -> LedgerInvoice | None:
        found = self._invoices.get((client_id, invoice_id))
        return found.model_copy(deep=True) if found else None

    def invoices_by_key(self, keys: Sequence[tuple[str, str]]) -> list[LedgerInvoice]:
        return [i for k in keys if (i := self.invoice(*k)) is not None]

    def invoices(self, client_id: str) -> list[LedgerInvoice]:
        return sorted((i.model_copy(deep=True) for (c, _), i in self._invoices.items() if c == client_id),
                      key=lambda i: i.invoice_id)

    def set_stripe_invoice(self, client_id: str, invoice_id: str, stripe_invoice_id: str) -> None:
        self._change_invoice(client_id, invoice_id, {"stripe_invoice_id": stripe_invoice_id})

    def record_payment(self, invoice: LedgerInvoice, payment: Payment, paid_at: datetime, *,
                       history: Iterable[HistoryEvent] = ()) -> bool:
        stored = self._invoices.get((invoice.client_id, invoice.invoice_id))
        history = list(history)
        if invoice.status is not InvoiceStatus.OPEN or stored is None or stored.status is not InvoiceStatus.OPEN \
                or not self._emails_new(history):
            return False
        self._change_invoice(invoice.client_id, invoice.invoice_id, {
            "status": InvoiceStatus.PAID, "amount_paid_cents": invoice.total_cents, "paid_at": paid_at,
            "payments": [*invoice.payments, payment]})
        self.add_history(history)
        return True

    def mark_disputed(self, client_id: str, invoice_id: str, *, history: Iterable[HistoryEvent] = ()) -> bool:
        if not self._change_invoice(client_id, invoice_id, {"disputed": True}):
            return False
        self.add_history(history)
        return True

    def void_invoice(self, invoice: LedgerInvoice, voided_on: date, *, reissue: LedgerInvoice | None = None,
                     agenda: Iterable[AgendaEntry] = (), history: Iterable[HistoryEvent] = ()) -> bool:
        stored = self._invoices.get((invoice.client_id, invoice.invoice_id))
        history = list(history)
        if stored is None or stored.status is not InvoiceStatus.OPEN or stored.amount_paid_cents \
                or not self._emails_new(history) \
                or (reissue is not None and (reissue.client_id, reissue.invoice_id) in self._invoices):
            return False
        self._change_invoice(invoice.client_id, invoice.invoice_id, {
            "status": InvoiceStatus.VOID, "voided_on": voided_on,
            "reissued_as": reissue.invoice_id if reissue else None})
        if reissue is not None:
            self._invoices[(reissue.client_id, reissue.invoice_id)] = LedgerInvoice.model_validate(
                reissue.model_dump(mode="json"))
        self.put_agenda(agenda)
        self.add_history(history)
        return True

    def _change_invoice(self, client_id: str, invoice_id: str, changes: dict[str, Any]) -> bool:
        stored = self._invoices.get((client_id, invoice_id))
        if stored is None:
            return False
        self._invoices[(client_id, invoice_id)] = stored.model_copy(update=changes)
        return True

    # --- history -------------------------------------------------------------------------
    def history(self, client_id: str) -> list[HistoryEvent]:
        return sorted((h.model_copy(deep=True) for h in self._history if h.client_id == client_id),
                      key=lambda h: h.at)

    def add_history(self, events: Iterable[HistoryEvent]) -> None:
        events = list(events)
        if not self._emails_new(events):
            return  # as the adapter's transaction: a repeated email cancels the event with it
        for event in events:
            if event.email is not None:
                self.outbox[event.email.email_id] = event.email.model_copy(deep=True)
            self._history.append(event.model_copy(deep=True, update={"email": None}))

    def record_once(self, key: str, events: Iterable[HistoryEvent]) -> bool:
        events = list(events)
        if key in self._once or not self._emails_new(events):
            return False
        self._once.add(key)
        self.add_history(events)
        return True

    def _emails_new(self, events: Sequence[HistoryEvent]) -> bool:
        """The outbox refuses an email id it has (the adapter's condition): all new, or refused."""
        ids = [e.email.email_id for e in events if e.email is not None]
        return len(set(ids)) == len(ids) and not any(i in self.outbox for i in ids)

    # --- the daily agenda ----------------------------------------------------------------
    def agenda(self, day: date, kind: AgendaKind) -> list[AgendaEntry]:
        return sorted((e for (d, k, _), e in self._agenda.items() if d == day and k is kind),
                      key=lambda e: e.subject)

    def put_agenda(self, entries: Iterable[AgendaEntry]) -> None:
        self._agenda.update({(e.day, e.kind, e.subject): e for e in entries})

    def remove_agenda(self, entry: AgendaEntry) -> None:
        self._agenda.pop((entry.day, entry.kind, entry.subject), None)

    # --- Stripe references and webhooks --------------------------------------------------
    def put_payment_refs(self, refs: Iterable[str | None], client_id: str, invoice_id: str) -> None:
        self._refs.update({ref: (client_id, invoice_id) for ref in refs if ref})

    def payment_ref(self, ref: str) -> tuple[str, str] | None:
        return self._refs.get(ref)

    def mark_webhook_seen(self, event_id: str, now: datetime) -> bool:
        if event_id in self._webhooks:
            return False
        self._webhooks.add(event_id)
        return True

    def forget_webhook_seen(self, event_id: str) -> None:
        self._webhooks.discard(event_id)


class InMemoryTenants:
    """`BillingTenants` (and the lookups the chat side makes of a client) in dictionaries."""

    def __init__(self) -> None:
        self._clients: dict[str, Client] = {}
        self._users: dict[str, str] = {}
        self.teams: dict[str, list[str]] = {}  # team id -> client ids

    def get_client(self, client_id: str) -> Client | None:
        found = self._clients.get(client_id)
        return found.model_copy(deep=True) if found else None

    def put_client(self, client: Client) -> None:
        self._clients[client.client_id] = client.model_copy(deep=True)

    def client_by_widget_key(self, widget_key: str) -> Client | None:
        return next((c.model_copy(deep=True) for c in self._clients.values() if c.widget_key == widget_key), None)

    def put_client_user(self, user_sub: str, client_id: str) -> None:
        self._users[user_sub] = client_id

    def add_client_to_team(self, team_id: str, client_id: str) -> None:
        self.teams.setdefault(team_id, []).append(client_id)

    def client_of_user(self, user_sub: str) -> str | None:
        return self._users.get(user_sub)


@dataclass
class _FakeInvoice:
    invoice: StripeInvoice
    lines: tuple[tuple[str, int], ...]
    payment_intent_id: str | None = None


@dataclass
class InMemoryPayments:
    """`PaymentsGateway` as Stripe behaves for the ledger: idempotent by the ledger's keys
    (the same invoice id returns the same Stripe invoice; other lines under it are refused),
    cards that pay or decline, and an outage switch (`unavailable`) that fails every call as
    a retryable error. `calls` records what was asked, in order."""

    unavailable: bool = False
    declining: set[str] = field(default_factory=set)  # customers whose card declines
    customers: dict[str, str] = field(default_factory=dict)  # client id -> customer id
    invoices: dict[str, _FakeInvoice] = field(default_factory=dict)  # ledger invoice id -> Stripe's
    calls: list[tuple[str, str]] = field(default_factory=list)

    def _call(self, method: str, subject: str) -> None:
        self.calls.append((method, subject))
        if self.unavailable:
            raise PaymentProviderUnavailable("Stripe is unavailable (fake outage)", http_status=503)

    def ensure_customer(self, client_id: str, name: str, email: str) -> str:
        self._call("ensure_customer", client_id)
        return self.customers.setdefault(client_id, f"cus_{client_id}")

    def create_invoice(self, ledger_invoice_id: str, customer_id: str, lines: Sequence[InvoiceLineLike],
                       due_date: date, *, known_id: str | None = None, look_first: bool = False) -> StripeInvoice:
        # Keys never expire here, so an earlier attempt is always found by its ledger id.
        self._call("create_invoice", ledger_invoice_id)
        if not lines:
            raise ValueError("a ledger invoice without lines has nothing to send to Stripe")
        asked = tuple((line.description, line.amount_cents) for line in lines)
        existing = self.invoices.get(ledger_invoice_id)
        if existing is not None:
            if existing.lines != asked:
                raise IdempotencyKeyReused(f"{ledger_invoice_id}: the same keys with other lines")
            return existing.invoice
        invoice = StripeInvoice(id=f"in_fake_{len(self.invoices) + 1}", status="open", customer_id=customer_id,
                                amount_due_cents=sum(cents for _, cents in asked), parley_invoice_id=ledger_invoice_id)
        self.invoices[ledger_invoice_id] = _FakeInvoice(invoice, asked)
        return invoice

    def pay_invoice(self, stripe_invoice_id: str, attempt_key: str) -> PaymentResult:
        self._call("pay_invoice", stripe_invoice_id)
        found = next((f for f in self.invoices.values() if f.invoice.id == stripe_invoice_id), None)
        if found is None:
            raise PaymentProviderRejected(f"No such invoice: '{stripe_invoice_id}'", http_status=404)
        invoice = found.invoice
        if invoice.status == "paid":
            return self._result(found)
        if invoice.customer_id in self.declining:
            return PaymentResult(paid=False, invoice_id=invoice.id, invoice_status="open",
                                 declined_reason="generic_decline", decline_message="Your card was declined.",
                                 charge_id=f"ch_declined_{invoice.id}_{attempt_key}")
        found.invoice = invoice.model_copy(update={"status": "paid"})
        found.payment_intent_id = f"pi_{invoice.id}"
        return self._result(found)

    def void_invoice(self, stripe_invoice_id: str) -> None:
        self._call("void_invoice", stripe_invoice_id)
        found = next((f for f in self.invoices.values() if f.invoice.id == stripe_invoice_id), None)
        if found is None:
            raise PaymentProviderRejected(f"No such invoice: '{stripe_invoice_id}'", http_status=404)
        if found.invoice.status == "paid":
            raise PaymentProviderRejected("a paid invoice cannot be voided", http_status=400)
        found.invoice = found.invoice.model_copy(update={"status": "void"})

    @staticmethod
    def _result(found: _FakeInvoice) -> PaymentResult:
        invoice = found.invoice
        return PaymentResult(paid=True, invoice_id=invoice.id, invoice_status="paid",
                             amount_paid_cents=invoice.amount_due_cents, payment_intent_id=found.payment_intent_id,
                             charge_id=f"ch_{invoice.id}")


@dataclass
class InMemoryCollectionQueue:
    """`CollectionQueue` as a list: tests hand `orders` to `Collection.collect_order` themselves."""

    orders: list[CollectionOrder] = field(default_factory=list)

    def enqueue(self, orders: Sequence[CollectionOrder]) -> None:
        self.orders.extend(orders)


@dataclass
class InMemoryWorkflows:
    """`Workflows`: executions by name; a second start of a name is harmless (and a stopped
    name is not started again), a stop of an unknown one returns False."""

    running: dict[str, dict[str, Any]] = field(default_factory=dict)  # name -> input
    stopped: dict[str, str] = field(default_factory=dict)  # name -> cause

    def start(self, machine_env_var: str, name: str, payload: dict[str, Any]) -> None:
        if name not in self.stopped:
            self.running.setdefault(name, dict(payload))

    def stop(self, machine_env_var: str, name: str, cause: str) -> bool:
        if name in self.stopped:
            return True
        if name not in self.running:
            return False
        del self.running[name]
        self.stopped[name] = cause
        return True
