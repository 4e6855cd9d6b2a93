"""Dunning: the late charge on an invoice unpaid past its deadline (CO-11), the default warning,
and the default that terminates the service (CO-10 / CH-10). All read only their day's agenda.

Decisions of CO-10 as implemented:
* **Default is termination.** The account ends `terminated` with `termination_reason`
  `default`; everything owed stays open and collectable; the client's data is deleted after
  the retention period as for any termination (LC-3, `AgendaKind.DELETE_DATA`). With the
  policy's `reinstate_on_full_payment`, full payment of everything owed within
  `reinstatement_window_days` restores the service (`parley.ledger.settlement`).
* **The cut-off cycle's advance fee is voided.** The cycle in which the service is cut off is
  the one containing the default date; its monthly fee was invoiced in advance on its Billing
  Date (before the default, or at 00:10 on the default day itself, ahead of the 00:30 default
  run). That invoice is voided, in the ledger and in Stripe; its other lines (overage of the
  cycle before, a CH-5 differential, a setup fee) stay owed on a reissued invoice with the same
  Due Date. A late charge never falls on the voided amount. An invoice already paid is left as
  it is (no automatic refund, LC-5). The usage of the cut-off cycle's days of service (from its
  Billing Date to the day before the default) beyond the included units is billed on the
  default day (`in_{day}_cutoff_{client}`, CO-2's final-invoice rules): overage incurred
  before the cut-off stays owed.
"""

from __future__ import annotations

from datetime import date, timedelta

from parley.billing.calendar import billing_date_on_or_before, last_day_within
from parley.billing.invoicing import ClientBillingState, draft_final_invoice, tax_line
from parley.billing.lines import InvoiceLine
from parley.billing.metering import billable_units
from parley.billing.payments import (
    InvoiceStanding,
    default_date,
    default_rule_id,
    default_status,
    last_day_before_default,
    late_charge_line,
)
from parley.chat.models import ClientStatus
from parley.errors import NotFound
from parley.gateways.stripe_models import PaymentProviderUnavailable
from parley.ledger.billing_day import BillingDay, invoice_id_for
from parley.ledger.collection import Collection
from parley.ledger.config import BillingConfig
from parley.ledger.mail import BillingMail, consequence_text
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
from parley.ledger.ports import BillingTenants, LedgerStore, PaymentsGateway
from parley.observability import logger

ADVANCE_FEE = "monthly_fee_in_advance"


def never_sent(invoice: LedgerInvoice) -> bool:
    """An invoice Stripe never carried (an outage) was never presented to the client: no
    late charge and no default on it until it is (its collection is retried daily)."""
    return invoice.stripe_invoice_id is None and invoice.status is InvoiceStatus.OPEN


def open_amount_cents(invoices: list[LedgerInvoice]) -> int:
    """Everything owed: the amount due of every open invoice."""
    return sum(i.amount_due_cents for i in invoices if i.status is InvoiceStatus.OPEN)


def cut_off_invoice(invoices: list[LedgerInvoice], day: date) -> LedgerInvoice | None:
    """The invoice that billed in advance the fee of the cycle containing `day`."""
    found = [i for i in invoices if i.issue_date <= day and any(
        line.kind == ADVANCE_FEE and line.period_start is not None and line.period_end is not None
        and line.period_start <= day <= line.period_end for line in i.lines)]
    return max(found, key=lambda i: i.issue_date, default=None)


class Dunning:
    def __init__(self, ledger: LedgerStore, config: BillingConfig, billing_day: BillingDay,
                 collection: Collection, tenants: BillingTenants, payments: PaymentsGateway | None = None) -> None:
        self._ledger = ledger
        self._config = config
        self._billing_day = billing_day
        self._collection = collection
        self._tenants = tenants
        self._payments = payments
        self._mail = BillingMail(config.clock)

    def _due(self, day: date, kind: AgendaKind) -> list[LedgerInvoice]:
        """The day's open invoices of this kind that were presented to the client (a paid one
        is a no-op for every kind; a voided one gets no late charge, warning or default)."""
        entries = self._ledger.agenda(day, kind)
        invoices = self._ledger.invoices_by_key([(e.client_id, str(e.invoice_id)) for e in entries])
        return [i for i in invoices if not never_sent(i) and i.status is not InvoiceStatus.VOID]

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
        account = self._require(invoice.client_id)
        consequences = consequence_text(self._collection.consequences(invoice, day))
        return self._ledger.commit_invoice(
            account, {}, late, agenda=self._billing_day.deadlines(late),
            history=[self._config.event(invoice.client_id, day, "late_charge", invoice_id=late.invoice_id,
                                        for_invoice_id=invoice.invoice_id, amount_cents=line.amount_cents,
                                        rule="CO-11", email=self._mail.late_charge(account, late, consequences))])

    # --- default (CO-10 / CH-10) ---------------------------------------------------------
    def run_defaults(self, day: date) -> DayReport:
        """The day's Stripe voids to retry, default warnings, then defaults."""
        report = DayReport(day=day)
        self._retry_voids(day)
        self._warn(day)
        policy = self._config.policy
        for invoice in self._due(day, AgendaKind.DEFAULT):
            status = default_status(policy, billing_date=invoice.issue_date, amount_due_cents=invoice.total_cents,
                                    payments=invoice.payments, today=day, due=invoice.due_date)
            if status.in_default and self.terminate_for_default(invoice.client_id, day, status.rule_id,
                                                                status.explanation):
                report.defaults.append(invoice.client_id)
        return report

    def _warn(self, day: date) -> None:
        """Before the default date: the invoice still unpaid gets its one warning email."""
        policy = self._config.policy
        invoices = [i for i in self._due(day, AgendaKind.WARN) if i.status is InvoiceStatus.OPEN]
        accounts = self._ledger.accounts(sorted({i.client_id for i in invoices}))
        for invoice in invoices:
            account = accounts.get(invoice.client_id)
            if account is None or account.status is not AccountStatus.ACTIVE:
                continue
            last_day = last_day_before_default(policy, invoice.issue_date, invoice.due_date)
            first_default_day = default_date(policy, invoice.issue_date, invoice.due_date)
            rule = default_rule_id(policy)
            email = self._mail.default_warning(account, invoice, last_day_to_pay=last_day,
                                               default_date=first_default_day, rule=rule)
            self._ledger.record_once(f"default_warning:{invoice.invoice_id}", [self._config.event(
                invoice.client_id, day, "default_warning", email=email, invoice_id=invoice.invoice_id,
                amount_cents=invoice.amount_due_cents, last_day_to_pay=last_day.isoformat(),
                default_date=first_default_day.isoformat(), rule=rule)])

    def terminate_for_default(self, client_id: str, day: date, rule: str, why: str) -> bool:
        """Default is termination (CO-10 / CH-10): service off (the widget shows the offline
        form, agents get no new chats), the cut-off cycle's fee voided, data deleted after the
        retention period; everything else owed stays collectable. False when already ended."""
        account = self._require(client_id)
        if account.status is AccountStatus.TERMINATED:
            return False
        policy = self._config.policy
        deletion = day + timedelta(days=policy.data_retention_days)
        until = last_day_within(day, policy.reinstatement_window_days) if policy.reinstate_on_full_payment else None
        void = self._void_cut_off_fee(account, day)
        self._bill_cut_off_usage(account, day)
        account = self._require(client_id)
        owed = open_amount_cents(self._ledger.invoices(client_id))
        email = self._mail.terminated(account, day=day, why=f"The service was terminated for non-payment: {why}",
                                      owed_cents=owed, data_deletion_date=deletion, reinstatable_until=until)
        self._ledger.update_account(account, {
            "status": AccountStatus.TERMINATED, "termination_reason": TerminationReason.DEFAULT,
            "terminated_on": day, "in_default_since": day, "next_billing_date": None,
            "data_deletion_date": deletion, "reinstatable_until": until},
            history=[self._config.event(client_id, day, "service_terminated", reason="default", rule=rule, why=why,
                                        owed_cents=owed, voided_invoice_id=void,
                                        data_deletion_date=deletion.isoformat(),
                                        reinstatable_until=until.isoformat() if until else None, email=email)],
            agenda=[AgendaEntry(day=deletion, kind=AgendaKind.DELETE_DATA, client_id=client_id)])
        client = self._tenants.get_client(client_id)
        if client is not None:
            self._tenants.put_client(client.model_copy(update={"status": ClientStatus.DEACTIVATED}))
        return True

    def _void_cut_off_fee(self, account: BillingAccount, day: date) -> str | None:
        """Void the invoice that billed the cut-off cycle's fee in advance (open and unpaid), and
        reissue what else it billed; the id of the voided invoice, or None."""
        invoice = cut_off_invoice(self._ledger.invoices(account.client_id), day)
        if invoice is None or invoice.status is not InvoiceStatus.OPEN or invoice.amount_paid_cents:
            return None
        reissue = self._reissue(account, invoice, day)
        agenda = []
        if reissue is not None:
            agenda = [e for e in self._billing_day.deadlines(reissue) if e.kind is AgendaKind.COLLECT or (
                e.kind is AgendaKind.LATE and e.day > day)]  # service is over: no default or warning of its own
        history = [self._config.event(account.client_id, day, "invoice_voided", invoice_id=invoice.invoice_id,
                                      amount_cents=invoice.total_cents, reissued_as=reissue.invoice_id if reissue
                                      else None, rule=default_rule_id(self._config.policy),
                                      why="the monthly fee of the cycle in which the service is cut off is voided "
                                          "(that service is not provided)")]
        if reissue is not None:
            history.append(self._config.event(account.client_id, day, "invoice_issued", invoice_id=reissue.invoice_id,
                                              total_cents=reissue.total_cents, invoice_kind=reissue.kind,
                                              email=self._mail.invoice_issued(account, reissue)))
        if not self._ledger.void_invoice(invoice, day, reissue=reissue, agenda=agenda, history=history):
            return None
        self._void_in_stripe(invoice.client_id, invoice.invoice_id, invoice.stripe_invoice_id, day)
        if reissue is not None:
            self._collection.collect_pending(day, DayReport(day=day))
        return invoice.invoice_id

    def _bill_cut_off_usage(self, account: BillingAccount, day: date) -> None:
        """Overage of the days of service in the cut-off cycle (its Billing Date to the day before), billed
        as a final invoice is (CO-2: usage incurred before the end, no fee). Nothing when the
        cycle starts on the default day itself, or there is no overage. Idempotent by its id."""
        if account.anchor_day is None or account.paid_start is None:
            return
        start = max(billing_date_on_or_before(account.anchor_day, day), account.paid_start)
        last_day = day - timedelta(days=1)
        if start > last_day:
            return
        policy, catalog, price_changes = self._config.rules()
        counter = self._ledger.usage(account.client_id, start.isoformat())
        units = billable_units(policy, engaged_chats=counter.engaged_chats, agent_seconds=counter.agent_seconds)
        state = ClientBillingState(**account.rule_state(), price_changes=price_changes)
        draft = draft_final_invoice(policy, catalog, state, effective_date=last_day, issue_date=day, usage_units=units)
        # The cycle's fee is voided: no CH-5 differential on it either, only the overage.
        kept = [line for line in draft.lines if line.kind == "overage_in_arrears"]
        if not kept:
            return
        tax = tax_line(policy, account.tax_rate_basis_points, kept)
        lines = [*kept, *([tax] if tax else [])]
        invoice = LedgerInvoice(invoice_id=invoice_id_for(account.client_id, day, "cutoff"),
                                client_id=account.client_id, kind="cutoff", issue_date=day, due_date=draft.due_date,
                                lines=lines, total_cents=sum(line.amount_cents for line in lines))
        agenda = [e for e in self._billing_day.deadlines(invoice) if e.kind in (AgendaKind.COLLECT, AgendaKind.LATE)]
        issued = self._config.event(account.client_id, day, "invoice_issued", invoice_id=invoice.invoice_id,
                                    total_cents=invoice.total_cents, invoice_kind=invoice.kind,
                                    email=self._mail.invoice_issued(account, invoice))
        if self._ledger.commit_invoice(account, {}, invoice, agenda=agenda, history=[issued]):
            self._collection.collect_pending(day, DayReport(day=day))

    def _reissue(self, account: BillingAccount, invoice: LedgerInvoice, day: date) -> LedgerInvoice | None:
        """What stays owed of the voided invoice: its lines but the advance fee and the tax, with
        the tax of what is left (CH-3); the same Due Date, so its late charge keeps its day."""
        kept = [line for line in invoice.lines if line.kind not in (ADVANCE_FEE, "tax")]
        if not kept:
            return None
        tax = tax_line(self._config.policy, account.tax_rate_basis_points, kept)
        lines = [*kept, *([tax] if tax else [])]
        return LedgerInvoice(invoice_id=invoice_id_for(account.client_id, day, "reissue"), client_id=account.client_id,
                             kind="reissue", issue_date=day, due_date=invoice.due_date, lines=lines,
                             total_cents=sum(line.amount_cents for line in lines), reissue_of=invoice.invoice_id)

    def _void_in_stripe(self, client_id: str, invoice_id: str, stripe_invoice_id: str | None, day: date) -> None:
        if self._payments is None or stripe_invoice_id is None:
            return
        try:
            self._payments.void_invoice(stripe_invoice_id)
        except PaymentProviderUnavailable as exc:  # the ledger's void stands; Stripe's is retried tomorrow
            logger.warning("Stripe void deferred", invoice_id=invoice_id, error=type(exc).__name__)
            self._ledger.put_agenda([AgendaEntry(day=day + timedelta(days=1), kind=AgendaKind.VOID,
                                                 client_id=client_id, invoice_id=invoice_id)])

    def _retry_voids(self, day: date) -> None:
        for entry in self._ledger.agenda(day, AgendaKind.VOID):
            invoice = self._ledger.invoice(entry.client_id, str(entry.invoice_id))
            self._ledger.remove_agenda(entry)
            if invoice is not None and invoice.status is InvoiceStatus.VOID:
                self._void_in_stripe(invoice.client_id, invoice.invoice_id, invoice.stripe_invoice_id, day)

    def _require(self, client_id: str) -> BillingAccount:
        account = self._ledger.account(client_id)
        if account is None:
            raise NotFound(f"no billing account for {client_id}")
        return account

