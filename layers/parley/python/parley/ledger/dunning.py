"""Dunning: the late charge on an invoice unpaid past its deadline (CO-11), and the default
that deactivates the service (CO-10 / CH-10). Both read only their day's agenda."""

from __future__ import annotations

from datetime import date

from parley.billing.lines import InvoiceLine
from parley.billing.payments import InvoiceStanding, default_status, late_charge_line
from parley.chat.models import ClientStatus
from parley.errors import NotFound
from parley.ledger.billing_day import BillingDay
from parley.ledger.collection import Collection
from parley.ledger.config import BillingConfig
from parley.ledger.models import AccountStatus, AgendaKind, DayReport, InvoiceStatus, LedgerInvoice
from parley.ledger.ports import BillingTenants, LedgerStore


def never_sent(invoice: LedgerInvoice) -> bool:
    """An invoice Stripe never carried (an outage) was never presented to the client: no
    late charge and no default on it until it is (its collection is retried daily)."""
    return invoice.stripe_invoice_id is None and invoice.status is InvoiceStatus.OPEN


class Dunning:
    def __init__(self, ledger: LedgerStore, config: BillingConfig, billing_day: BillingDay,
                 collection: Collection, tenants: BillingTenants) -> None:
        self._ledger = ledger
        self._config = config
        self._billing_day = billing_day
        self._collection = collection
        self._tenants = tenants

    def _due(self, day: date, kind: AgendaKind) -> list[LedgerInvoice]:
        """The day's invoices of this kind that were presented to the client."""
        entries = self._ledger.agenda(day, kind)
        invoices = self._ledger.invoices_by_key([(e.client_id, str(e.invoice_id)) for e in entries])
        return [i for i in invoices if not never_sent(i)]

    # --- late charges (CO-11) ------------------------------------------------------------
    def run_late_charges(self, day: date) -> DayReport:
        report = DayReport(day=day)
        policy = self._config.policy
        for invoice in self._due(day, AgendaKind.LATE):
            standing = InvoiceStanding(invoice_date=invoice.issue_date, amount_due_cents=invoice.total_cents,
                                       payments=invoice.payments, due=invoice.due_date,
                                       late_charge_already_applied=invoice.late_charge_invoice_id is not None)
            line = late_charge_line(policy, standing, today=day)
            if line is not None and self._add_late_charge(invoice, line, day):
                report.late_charges.append(invoice.invoice_id)
        self._collection.collect_pending(day, report)
        return report

    def _add_late_charge(self, invoice: LedgerInvoice, line: InvoiceLine, day: date) -> bool:
        """Its own invoice, linked from the original once (a conditional write: never twice)."""
        late = LedgerInvoice(invoice_id=f"{invoice.invoice_id}-late", client_id=invoice.client_id,
                             kind="late_charge", issue_date=day, due_date=day, lines=[line],
                             total_cents=line.amount_cents, for_invoice_id=invoice.invoice_id)
        account = self._ledger.account(invoice.client_id)
        if account is None:
            raise NotFound(f"no billing account for {invoice.client_id}")
        return self._ledger.commit_invoice(
            account, {}, late, agenda=self._billing_day.deadlines(late),
            history=[self._config.event(invoice.client_id, day, "late_charge", invoice_id=late.invoice_id,
                                        for_invoice_id=invoice.invoice_id, amount_cents=line.amount_cents,
                                        rule="CO-11")])

    # --- default (CO-10 / CH-10) ---------------------------------------------------------
    def run_defaults(self, day: date) -> DayReport:
        report = DayReport(day=day)
        policy = self._config.policy
        for invoice in self._due(day, AgendaKind.DEFAULT):
            status = default_status(policy, billing_date=invoice.issue_date, amount_due_cents=invoice.total_cents,
                                    payments=invoice.payments, today=day, due=invoice.due_date)
            if status.in_default and self.deactivate(invoice.client_id, day, status.rule_id, status.explanation):
                report.defaults.append(invoice.client_id)
        return report

    def deactivate(self, client_id: str, day: date, rule: str, why: str) -> bool:
        """Service off: the widget shows the offline form and agents get no new chats; every
        amount owed stays collectable (CO-10)."""
        account = self._ledger.account(client_id)
        if account is None:
            raise NotFound(f"no billing account for {client_id}")
        if account.status in (AccountStatus.DEACTIVATED, AccountStatus.TERMINATED):
            return False
        self._ledger.update_account(
            account, {"status": AccountStatus.DEACTIVATED, "in_default_since": day, "next_billing_date": None},
            history=[self._config.event(client_id, day, "service_deactivated", rule=rule, why=why)])
        client = self._tenants.get_client(client_id)
        if client is not None:
            self._tenants.put_client(client.model_copy(update={"status": ClientStatus.DEACTIVATED}))
        return True
