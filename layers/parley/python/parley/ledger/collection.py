"""Collection: carrying the ledger's invoices to Stripe and charging the card on file, and
recording payments (CO-13 for failures).

Exactly once: every Stripe call carries an idempotency key derived from the ledger invoice id,
so a timeout after Stripe did the work is retried without a duplicate. An invoice not yet
carried to Stripe keeps a COLLECT entry on the agenda; the day's re-run (or tomorrow's run)
finishes it. Only Stripe's retryable failures (connection errors, timeouts, rate limits,
5xx — `PaymentProviderUnavailable`) defer an invoice; anything else is a bug or a rejected
request and propagates.
"""

from __future__ import annotations

from datetime import date, timedelta

from parley.billing.payments import Payment
from parley.errors import InvalidRequest, NotFound
from parley.gateways.stripe_models import PaymentProviderUnavailable, PaymentResult
from parley.ledger.config import BillingConfig
from parley.ledger.models import AgendaEntry, AgendaKind, BillingAccount, DayReport, InvoiceStatus, LedgerInvoice
from parley.ledger.ports import LedgerStore, PaymentsGateway
from parley.observability import logger


class Collection:
    def __init__(self, ledger: LedgerStore, config: BillingConfig, payments: PaymentsGateway | None) -> None:
        self._ledger = ledger
        self._config = config
        self._payments = payments

    def collect_pending(self, day: date, report: DayReport) -> None:
        """Carry the day's new invoices to Stripe and charge the card on file; what Stripe could
        not take now stays on the agenda for the re-run, and tomorrow."""
        if self._payments is None:
            return
        entries = {e.invoice_id: e for e in self._ledger.agenda(day, AgendaKind.COLLECT)}
        invoices = self._ledger.invoices_by_key([(e.client_id, str(e.invoice_id)) for e in entries.values()])
        accounts = self._ledger.accounts(sorted({i.client_id for i in invoices}))
        for invoice in invoices:
            entry = entries.get(invoice.invoice_id) or AgendaEntry(
                day=day, kind=AgendaKind.COLLECT, client_id=invoice.client_id, invoice_id=invoice.invoice_id)
            account = accounts.get(invoice.client_id)
            if account is not None and not self._settled(invoice):
                try:
                    self._collect(account, invoice, day, report)
                except PaymentProviderUnavailable as exc:  # retried by a re-run, and tomorrow
                    logger.warning("collection deferred", invoice_id=invoice.invoice_id, error=type(exc).__name__)
                    report.stripe_pending.append(invoice.invoice_id)
                    self._ledger.put_agenda([entry.moved_to(day + timedelta(days=1))])
                    continue
            self._ledger.remove_agenda(entry)

    @staticmethod
    def _settled(invoice: LedgerInvoice) -> bool:
        """Nothing to carry to Stripe: a zero invoice, or one Stripe has and that is paid."""
        return invoice.total_cents == 0 or (invoice.stripe_invoice_id is not None
                                            and invoice.status is InvoiceStatus.PAID)

    def _collect(self, account: BillingAccount, invoice: LedgerInvoice, day: date, report: DayReport) -> None:
        assert self._payments is not None
        customer = account.stripe_customer_id or self._payments.ensure_customer(
            account.client_id, account.name or account.client_id, account.email)
        stripe_invoice = self._payments.create_invoice(invoice.invoice_id, customer, invoice.lines, invoice.due_date)
        if invoice.stripe_invoice_id != stripe_invoice.id:
            self._ledger.set_stripe_invoice(invoice.client_id, invoice.invoice_id, stripe_invoice.id)
        if not account.payment_method or invoice.status is not InvoiceStatus.OPEN:
            return
        result = self._payments.pay_invoice(stripe_invoice.id, f"{invoice.invoice_id}:auto")
        if self._settle(invoice, result, day, source="card_on_file"):
            report.collected.append(invoice.invoice_id)
        else:
            report.declined.append(invoice.invoice_id)

    def _settle(self, invoice: LedgerInvoice, result: PaymentResult, day: date, *, source: str) -> bool:
        """Record a payment attempt's outcome: paid (with Stripe refs for disputes), or failed (CO-13)."""
        if result.paid:
            self._ledger.put_payment_refs([result.payment_intent_id, result.charge_id], invoice.client_id,
                                          invoice.invoice_id)
            self.record_payment(invoice.client_id, invoice.invoice_id, day, source=source)
            return True
        self._ledger.add_history([self._config.event(invoice.client_id, day, "payment_failed",
                                                     invoice_id=invoice.invoice_id, reason=result.declined_reason,
                                                     rule="CO-13")])
        return False

    def pay_now(self, client_id: str, invoice_id: str, day: date) -> bool:
        """The client pays an open invoice now (dashboard / portal / scenario), through Stripe."""
        invoice = self._ledger.invoice(client_id, invoice_id)
        if invoice is None:
            raise NotFound(f"no invoice {invoice_id}")
        if invoice.status is not InvoiceStatus.OPEN:
            return True
        if self._payments is None or invoice.stripe_invoice_id is None:
            raise InvalidRequest("this invoice has not reached Stripe yet; try again shortly")
        result = self._payments.pay_invoice(invoice.stripe_invoice_id, f"{invoice_id}:manual:{day.isoformat()}")
        return self._settle(invoice, result, day, source="client")

    def record_payment(self, client_id: str, invoice_id: str, day: date, *, source: str) -> bool:
        """The invoice is paid in full on `day` (idempotent: only an open invoice changes)."""
        invoice = self._ledger.invoice(client_id, invoice_id)
        if invoice is None or invoice.status is not InvoiceStatus.OPEN:
            return False
        payment = Payment(received_on=day, amount_cents=max(invoice.amount_due_cents, 1))
        return self._ledger.record_payment(invoice, payment, self._config.clock.now(), history=[
            self._config.event(client_id, day, "payment_received", invoice_id=invoice_id,
                               amount_cents=invoice.amount_due_cents, source=source)])
