"""Settling what a client owes: what is owed now, the dashboard's **Pay now** (every open
invoice charged to the card on file through Stripe, oldest first), payments collected another
way, and reinstatement after a default where the policy allows it.

Decision of CO-10 (reinstatement, `BillingPolicy.reinstate_on_full_payment`, off in both
presets): when a payment leaves nothing owed by a client terminated for default, on or before
its `reinstatable_until` (the default date + `reinstatement_window_days`), the service is
restored with a new cycle starting that day: the day of month becomes the new Billing Date
anchor, the monthly fee is invoiced in advance at once (invoice `in_{day}_reinstated_{client}`)
and collected; no proration. Without the flag, or after the window, a full payment settles the
debt and the account stays terminated.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from parley.chat.models import ClientStatus
from parley.errors import Conflict, NotFound
from parley.ledger.billing_day import BillingDay
from parley.ledger.collection import Collection
from parley.ledger.config import BillingConfig
from parley.ledger.models import (
    AccountStatus,
    AgendaEntry,
    AgendaKind,
    BillingAccount,
    DayReport,
    InvoiceStatus,
    LedgerInvoice,
    TerminationReason,
)
from parley.ledger.ports import BillingTenants, ConcurrentUpdate, LedgerStore
from parley.observability import logger


class NothingOwed(Conflict):
    """Pay now on an account that owes nothing (and has nothing to restore)."""

    code = "nothing_owed"


class NoCardOnFile(Conflict):
    """Pay now without a card on file: add one first (the Stripe portal / setup intent)."""

    code = "no_card_on_file"


@dataclass(frozen=True)
class OwedInvoice:
    invoice_id: str
    kind: str
    issue_date: date
    due_date: date
    amount_due_cents: int


@dataclass(frozen=True)
class AmountOwed:
    """What a client owes now, and what paying it in full does."""

    client_id: str
    invoices: tuple[OwedInvoice, ...]
    total_cents: int
    status: str
    termination_reason: str | None
    # A full payment today restores the service (reinstate_on_full_payment, within the window).
    reinstates_on_full_payment: bool
    reinstatable_until: date | None

    def public(self) -> dict[str, Any]:
        return {"clientId": self.client_id, "totalCents": self.total_cents, "status": self.status,
                "terminationReason": self.termination_reason,
                "reinstatesOnFullPayment": self.reinstates_on_full_payment,
                "reinstatableUntil": self.reinstatable_until.isoformat() if self.reinstatable_until else None,
                "invoices": [{"invoiceId": i.invoice_id, "kind": i.kind, "issueDate": i.issue_date.isoformat(),
                              "dueDate": i.due_date.isoformat(), "amountDueCents": i.amount_due_cents}
                             for i in self.invoices]}


@dataclass
class PayNowResult:
    """What Pay now did: the invoices it settled, the one that declined (then it stopped), and
    whether the service was restored."""

    paid: bool
    settled: list[str] = field(default_factory=list)
    declined_invoice_id: str | None = None
    reinstated: bool = False
    owed_after_cents: int = 0

    def public(self) -> dict[str, Any]:
        return {"paid": self.paid, "settled": self.settled, "declinedInvoiceId": self.declined_invoice_id,
                "reinstated": self.reinstated, "owedAfterCents": self.owed_after_cents}


def open_invoices(invoices: list[LedgerInvoice]) -> list[LedgerInvoice]:
    """The invoices still owed, oldest first (a void one is not owed)."""
    return sorted((i for i in invoices if i.status is InvoiceStatus.OPEN and i.amount_due_cents > 0),
                  key=lambda i: (i.issue_date, i.invoice_id))


class Settlement:
    def __init__(self, ledger: LedgerStore, config: BillingConfig, collection: Collection,
                 billing_day: BillingDay, tenants: BillingTenants) -> None:
        self._ledger = ledger
        self._config = config
        self._collection = collection
        self._billing_day = billing_day
        self._tenants = tenants

    def owed(self, client_id: str) -> AmountOwed:
        account = self._require(client_id)
        invoices = open_invoices(self._ledger.invoices(client_id))
        return AmountOwed(
            client_id=client_id, total_cents=sum(i.amount_due_cents for i in invoices), status=account.status.value,
            termination_reason=account.termination_reason.value if account.termination_reason else None,
            invoices=tuple(OwedInvoice(invoice_id=i.invoice_id, kind=i.kind, issue_date=i.issue_date,
                                       due_date=i.due_date, amount_due_cents=i.amount_due_cents) for i in invoices),
            reinstates_on_full_payment=self._reinstatable(account, self._config.today()),
            reinstatable_until=account.reinstatable_until)

    def pay_now(self, client_id: str) -> PayNowResult:
        """Charge every open invoice to the card on file, oldest first, through Stripe; stop at
        the first decline (recorded once, CO-13, with its email). Paying the last one restores
        the service where the policy allows (`reinstate_if_settled`). Raises `NothingOwed` when
        nothing is owed and nothing is to restore, `NoCardOnFile` without a card, and
        `InvalidRequest` for an invoice Stripe has not received yet (an outage: retried daily)."""
        account = self._require(client_id)
        today = self._config.today()
        owed = open_invoices(self._ledger.invoices(client_id))
        if not owed:
            if self.reinstate_if_settled(client_id, today):
                return PayNowResult(paid=True, reinstated=True, owed_after_cents=self.owed(client_id).total_cents)
            raise NothingOwed("nothing is owed: every invoice is paid")
        if not account.payment_method:
            raise NoCardOnFile("there is no card on file: add one, then pay")
        result = PayNowResult(paid=True)
        for invoice in owed:
            if not self._collection.pay_now(client_id, invoice.invoice_id, today):
                result.paid, result.declined_invoice_id = False, invoice.invoice_id
                break
            result.settled.append(invoice.invoice_id)
        after = self._require(client_id)
        result.reinstated = account.status is AccountStatus.TERMINATED and after.status is AccountStatus.ACTIVE
        result.owed_after_cents = self.owed(client_id).total_cents
        return result

    def settle_paid(self, client_id: str, invoice_ids: list[str], *, source: str) -> list[str]:
        """Invoices paid in full by a payment collected outside `pay_now` (e.g. a PaymentIntent
        the dashboard confirmed): recorded paid (idempotent), reinstatement follows as for any
        payment. Returns the invoices this call recorded."""
        today = self._config.today()
        return [i for i in invoice_ids if self._collection.record_payment(client_id, i, today, source=source)]

    # --- reinstatement (reinstate_on_full_payment) ---------------------------------------
    def _reinstatable(self, account: BillingAccount, day: date) -> bool:
        return (self._config.policy.reinstate_on_full_payment and account.status is AccountStatus.TERMINATED
                and account.termination_reason is TerminationReason.DEFAULT and not account.data_deleted
                and account.reinstatable_until is not None and day <= account.reinstatable_until)

    def reinstate_if_settled(self, client_id: str, day: date) -> bool:
        """After a payment: a client terminated for default that now owes nothing, within the
        window, gets its service back with a new cycle from `day` (fee in advance, no proration)."""
        account = self._ledger.account(client_id)
        if account is None or not self._reinstatable(account, day):
            return False
        if open_invoices(self._ledger.invoices(client_id)):
            return False
        try:
            restored = self._ledger.update_account(account, {
                "status": AccountStatus.ACTIVE, "termination_reason": None, "terminated_on": None,
                "in_default_since": None, "data_deletion_date": None, "reinstatable_until": None,
                "anchor_day": day.day, "next_billing_date": day, "upgraded_plan_id": None,
                "final_invoice_issued": False},
                history=[self._config.event(client_id, day, "service_reinstated", rule="reinstate_on_full_payment",
                                            anchor_day=day.day, terminated_on=str(account.terminated_on))],
                agenda=[AgendaEntry(day=day, kind=AgendaKind.BILL, client_id=client_id)])
        except ConcurrentUpdate:
            logger.info("reinstatement raced another update; the next payment or retry decides", client_id=client_id)
            return False
        client = self._tenants.get_client(client_id)
        if client is not None and client.with_service(ClientStatus.ACTIVE) != client:
            self._tenants.put_client(client.with_service(ClientStatus.ACTIVE))
        report = DayReport(day=day)
        self._billing_day.bill_client(restored, day, None, report, kind="reinstated")
        self._collection.collect_pending(day, report)
        return True

    def _require(self, client_id: str) -> BillingAccount:
        account = self._ledger.account(client_id)
        if account is None:
            raise NotFound(f"no billing account for {client_id}")
        return account
