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

from collections.abc import Callable
from datetime import date, timedelta

from parley.billing.payments import (
    Payment,
    default_date,
    default_rule_id,
    failed_payment_pay_by,
    last_day_before_default,
    last_day_before_late_charge,
    late_charge_date,
)
from parley.errors import InvalidRequest, NotFound
from parley.gateways.stripe_models import PaymentProviderUnavailable, PaymentResult
from parley.ledger.config import BillingConfig
from parley.ledger.mail import BillingMail, consequence_text
from parley.ledger.models import (
    AgendaEntry,
    AgendaKind,
    BillingAccount,
    CollectionOrder,
    DayReport,
    InvoiceStatus,
    LedgerInvoice,
)
from parley.ledger.ports import CollectionQueue, LedgerStore, PaymentsGateway
from parley.observability import logger


class Collection:
    def __init__(self, ledger: LedgerStore, config: BillingConfig, payments: PaymentsGateway | None,
                 queue: CollectionQueue | None = None) -> None:
        self._ledger = ledger
        self._config = config
        self._payments = payments
        self._queue = queue
        self._mail = BillingMail(config.clock)
        # Set by build_billing: what follows a recorded payment (reinstatement, where the policy allows).
        self.after_payment: Callable[[str, date], object] | None = None

    def collect_pending(self, day: date, report: DayReport) -> None:
        """Carry the day's new invoices to Stripe and charge the card on file: through the
        collection queue when there is one (the billing functions on AWS and locally), else here
        and now (the in-process services of tests and tools). What Stripe could not take stays on
        the agenda for the re-run, and tomorrow."""
        entries = self._ledger.agenda(day, AgendaKind.COLLECT)
        if self._queue is not None:
            self._fan_out(day, entries, report)
            return
        if self._payments is None:
            return
        invoices = {i.invoice_id: i for i in self._ledger.invoices_by_key(
            [(e.client_id, str(e.invoice_id)) for e in entries if e.invoice_id is not None])}
        accounts = self._ledger.accounts(sorted({e.client_id for e in entries}))
        for entry in entries:
            invoice = invoices.get(str(entry.invoice_id))
            account = accounts.get(entry.client_id)
            deferred = (invoice is not None and account is not None and not self._settled(invoice)
                        and not self._collect_entry(entry, account, invoice, report))
            if not deferred:  # a deferred entry stays for the day's re-run, and is on tomorrow's too
                self._ledger.remove_agenda(entry)

    def _fan_out(self, day: date, entries: list[AgendaEntry], report: DayReport) -> None:
        """One order per invoice on the queue. Each entry moves to tomorrow first, as the
        backstop the worker removes when it is done: an order the queue gave up on (dead-letter)
        is ordered again by tomorrow's run. A failure to enqueue fails the run, which the
        scheduler retries; an entry already moved is ordered then by tomorrow's run."""
        assert self._queue is not None
        orders = [CollectionOrder(client_id=e.client_id, invoice_id=e.invoice_id, day=day)
                  for e in entries if e.invoice_id is not None]
        for entry in entries:
            self._ledger.put_agenda([entry.moved_to(day + timedelta(days=1))])
            self._ledger.remove_agenda(entry)
        self._queue.enqueue(orders)
        report.enqueued.extend(o.invoice_id for o in orders)

    def collect_order(self, order: CollectionOrder, report: DayReport) -> None:
        """A collection worker's step: one invoice of the queue. Raises `PaymentProviderUnavailable`
        when Stripe could not take it now (the queue delivers the order again later); any other
        order is done, and its backstop entry removed. Idempotent: an invoice already carried and
        paid is not touched, and Stripe's side is found again by its ledger id."""
        if self._payments is None:
            raise RuntimeError("a collection worker needs the payments gateway")
        invoice = self._ledger.invoice(order.client_id, order.invoice_id)
        account = self._ledger.account(order.client_id)
        if invoice is not None and account is not None and not self._settled(invoice):
            self._collect(account, invoice, report.day, report)
        self._ledger.remove_agenda(AgendaEntry(day=order.day + timedelta(days=1), kind=AgendaKind.COLLECT,
                                               client_id=order.client_id, invoice_id=order.invoice_id))

    def _collect_entry(self, entry: AgendaEntry, account: BillingAccount, invoice: LedgerInvoice,
                       report: DayReport) -> bool:
        """Collect one invoice now; False when Stripe could not take it (deferred)."""
        try:
            self._collect(account, invoice, report.day, report)
        except PaymentProviderUnavailable as exc:  # retried by a re-run, and tomorrow
            logger.warning("collection deferred", invoice_id=invoice.invoice_id, error=type(exc).__name__)
            report.stripe_pending.append(invoice.invoice_id)
            self._ledger.put_agenda([entry.moved_to(report.day + timedelta(days=1))])
            return False
        return True

    @staticmethod
    def _settled(invoice: LedgerInvoice) -> bool:
        """Nothing to carry to Stripe: a zero invoice, a voided one (the cut-off cycle's fee at
        default, voided in Stripe by dunning if Stripe has it), or one Stripe has and that is paid."""
        return invoice.total_cents == 0 or invoice.status is InvoiceStatus.VOID or (
            invoice.stripe_invoice_id is not None and invoice.status is InvoiceStatus.PAID)

    def _collect(self, account: BillingAccount, invoice: LedgerInvoice, day: date, report: DayReport) -> None:
        assert self._payments is not None
        customer = account.stripe_customer_id or self._payments.ensure_customer(
            account.client_id, account.name or account.client_id, account.email)
        # A later day's attempt (a deferral) may be past Stripe's 24-hour idempotency window: the
        # gateway then looks for what it already created (the stored id, or the ledger id in
        # the customer's invoices) instead of trusting the key.
        stripe_invoice = self._payments.create_invoice(
            invoice.invoice_id, customer, invoice.lines, invoice.due_date,
            known_id=invoice.stripe_invoice_id, look_first=day > invoice.issue_date)
        if invoice.stripe_invoice_id != stripe_invoice.id:
            self._ledger.set_stripe_invoice(invoice.client_id, invoice.invoice_id, stripe_invoice.id)
        if not account.payment_method or invoice.status is not InvoiceStatus.OPEN:
            return
        result = self._payments.pay_invoice(stripe_invoice.id, f"{invoice.invoice_id}:auto")
        outcome = self._settle(invoice, result, day, source="card_on_file")
        if outcome is True:
            report.collected.append(invoice.invoice_id)
        elif outcome is False:
            report.declined.append(invoice.invoice_id)

    def _settle(self, invoice: LedgerInvoice, result: PaymentResult, day: date, *, source: str) -> bool | None:
        """Record a payment attempt's outcome: paid (with Stripe refs for disputes), or failed
        (CO-13). True only when this call recorded the payment, None when it was paid and
        recorded already (a concurrent run, the webhook): a run reports what it did itself."""
        if result.paid:
            self._ledger.put_payment_refs([result.payment_intent_id, result.charge_id], invoice.client_id,
                                          invoice.invoice_id)
            return True if self.record_payment(invoice.client_id, invoice.invoice_id, day, source=source) else None
        self.record_decline(invoice, day, reason=result.declined_reason or "declined", source=source)
        return False

    def record_decline(self, invoice: LedgerInvoice, day: date, *, reason: str, source: str) -> bool:
        """CO-13: a failed payment, recorded ONCE per invoice and business day whoever reports it
        (the collection that tried, or Stripe's `invoice.payment_failed` webhook about that same
        attempt), with its `pay_by` and the payment-failed email. False for a repeat."""
        policy = self._config.policy
        pay_by = failed_payment_pay_by(policy, day, billing_date=invoice.issue_date, due=invoice.due_date)
        consequences = self.consequences(invoice, day)
        account = self._ledger.account(invoice.client_id)
        email = self._mail.payment_failed(account, invoice, day, reason=reason, pay_by=pay_by,
                                          consequences=consequence_text(consequences))
        return self._ledger.record_once(f"payment_failed:{invoice.invoice_id}:{day.isoformat()}", [
            self._config.event(invoice.client_id, day, "payment_failed", email=email, invoice_id=invoice.invoice_id,
                               reason=reason, source=source, rule="CO-13", pay_by=pay_by.isoformat(),
                               consequences=[{"last_day": d.isoformat(), "then": what} for d, what in consequences])])

    def consequences(self, invoice: LedgerInvoice, day: date) -> list[tuple[date, str]]:
        """The deadlines of an open invoice still ahead on `day`, each with what follows it: the
        CO-11 late charge and the CO-10 / CH-10 termination (a late-charge invoice has neither)."""
        if invoice.kind == "late_charge":
            return []
        policy = self._config.policy
        found: list[tuple[date, str]] = []
        if policy.late_charge_percent and invoice.late_charge_invoice_id is None:
            last_on_time = last_day_before_late_charge(policy, invoice.due_date)
            if last_on_time >= day:
                found.append((last_on_time, f"a late charge of {policy.late_charge_percent.normalize():f}% on "
                                            f"{late_charge_date(policy, invoice.due_date).isoformat()} (CO-11)"))
        last_day = last_day_before_default(policy, invoice.issue_date, invoice.due_date)
        if last_day >= day:
            found.append((last_day, f"the service is terminated on "
                                    f"{default_date(policy, invoice.issue_date, invoice.due_date).isoformat()} "
                                    f"({default_rule_id(policy)})"))
        return found

    def pay_now(self, client_id: str, invoice_id: str, day: date) -> bool:
        """The client pays an open invoice now (dashboard / portal / scenario), through Stripe."""
        invoice = self._ledger.invoice(client_id, invoice_id)
        if invoice is None:
            raise NotFound(f"no invoice {invoice_id}")
        if invoice.status is not InvoiceStatus.OPEN:
            return True
        if self._payments is None or invoice.stripe_invoice_id is None:
            raise InvalidRequest("this invoice has not reached Stripe yet; try again shortly")
        account = self._ledger.account(client_id)
        # One attempt per day and card: a retry after a timeout replays it, while a card changed
        # after a decline is a new attempt (the day's key alone replayed the decline).
        card = account.payment_method if account else None
        result = self._payments.pay_invoice(invoice.stripe_invoice_id, f"{invoice_id}:manual:{day.isoformat()}:{card}")
        return self._settle(invoice, result, day, source="client") is not False

    def record_payment(self, client_id: str, invoice_id: str, day: date, *, source: str) -> bool:
        """The invoice is paid in full on `day` (idempotent: only an open invoice changes)."""
        invoice = self._ledger.invoice(client_id, invoice_id)
        if invoice is None or invoice.status is not InvoiceStatus.OPEN:
            return False
        payment = Payment(received_on=day, amount_cents=max(invoice.amount_due_cents, 1))
        recorded = self._ledger.record_payment(invoice, payment, self._config.clock.now(), history=[
            self._config.event(client_id, day, "payment_received", invoice_id=invoice_id,
                               amount_cents=invoice.amount_due_cents, source=source)])
        if recorded and self.after_payment is not None:
            self.after_payment(client_id, day)
        return recorded
