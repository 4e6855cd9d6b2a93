"""The billing day (CO-9, CH-4, CH-5, CH-7, CO-12, CO-5): every client whose Billing Date is
the day gets its cycle invoice, then the day's invoices go to Stripe.

Exactly once where money moves: an invoice and the account's next state are stored in ONE
transaction, guarded by the account's version and the invoice's deterministic id — re-running
a billing day, or running it twice at once, bills each client once.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from parley.billing.calendar import next_billing_date, previous_billing_date
from parley.billing.invoicing import ClientBillingState, draft_cycle_invoice
from parley.billing.lines import InvoiceDraft
from parley.billing.metering import billable_units
from parley.billing.payments import default_date, default_warning_date, late_charge_date
from parley.billing.trial import trial_schedule
from parley.errors import NotFound
from parley.ledger.collection import Collection
from parley.ledger.config import BillingConfig
from parley.ledger.mail import BillingMail
from parley.ledger.models import (
    AccountStatus,
    AgendaEntry,
    AgendaKind,
    BillingAccount,
    ChatReport,
    DayReport,
    InvoiceStatus,
    LedgerInvoice,
    UsageCounter,
)
from parley.ledger.ports import LedgerStore

TRIAL_REMINDER_DAYS = 3  # "your free trial ends in 3 days"


def invoice_id_for(client_id: str, day: date, kind: str) -> str:
    return f"in_{day:%Y%m%d}_{kind}_{client_id}"


def ended_cycle_key(account: BillingAccount, day: date) -> str | None:
    """The usage counter of the cycle that ends before `day` (None before paid service)."""
    if account.paid_start is None or account.anchor_day is None or day <= account.paid_start:
        return None
    return max(previous_billing_date(account.anchor_day, day), account.paid_start).isoformat()


def new_invoice(client_id: str, day: date, kind: str, draft: InvoiceDraft) -> LedgerInvoice:
    return LedgerInvoice(invoice_id=invoice_id_for(client_id, day, kind), client_id=client_id, kind=kind,
                         issue_date=day, due_date=draft.due_date, lines=list(draft.lines),
                         total_cents=draft.total_cents,
                         # Nothing due (a final invoice without overage): settled as issued.
                         status=InvoiceStatus.PAID if draft.total_cents == 0 else InvoiceStatus.OPEN)


def chat_report(draft: InvoiceDraft, counter: UsageCounter | None) -> ChatReport | None:
    """CH-4: the report of the cycle that ended, stored with the invoice that bills it."""
    if draft.ended_cycle is None or counter is None:
        return None
    average = counter.first_response_seconds / counter.engaged_chats if counter.engaged_chats else None
    return ChatReport(cycle_start=draft.ended_cycle.start, cycle_end=draft.ended_cycle.end,
                      engaged_chats=counter.engaged_chats, first_response_seconds_avg=average)


class BillingDay:
    def __init__(self, ledger: LedgerStore, config: BillingConfig, collection: Collection) -> None:
        self._ledger = ledger
        self._config = config
        self._collection = collection
        self._mail = BillingMail(config.clock)

    def run(self, day: date) -> DayReport:
        report = DayReport(day=day)
        self.remind_trials_ending(day)
        due = [e.client_id for e in self._ledger.agenda(day, AgendaKind.BILL)]
        accounts = self._ledger.accounts(due)
        cycles = {a.client_id: ended_cycle_key(a, day) for a in accounts.values()}
        usages = self._ledger.usages([(c, k) for c, k in cycles.items() if k is not None])
        for client_id in due:
            account = accounts.get(client_id)
            if account is None or account.next_billing_date != day or account.status is not AccountStatus.ACTIVE:
                report.skipped.append(client_id)  # already billed (a re-run) or no longer billable
                continue
            key = cycles.get(client_id)
            if self.bill_client(account, day, usages.get((client_id, key)) if key else None, report):
                report.billed.append(client_id)
        self._collection.collect_pending(day, report)
        return report

    def bill_first(self, account: BillingAccount, day: date, report: DayReport) -> None:
        """Paid service that starts today or earlier: its first invoice goes out now (the
        day's run may be over), then to Stripe."""
        self.bill_client(account, day, None, report)
        self._collection.collect_pending(day, report)

    def bill_final(self, account: BillingAccount, day: date, report: DayReport) -> None:
        """The final invoice on the day after the last day of service (CO-2): what was incurred
        in the last (partial) cycle, no further monthly fee. Idempotent like any billing."""
        key = ended_cycle_key(account, day)
        counter = self._ledger.usage(account.client_id, key) if key else None
        if account.next_billing_date is not None and account.next_billing_date <= day:
            self.bill_client(account, day, counter, report)
        self._collection.collect_pending(day, report)

    def issue_invoice(self, client_id: str, day: date, kind: str, draft: InvoiceDraft) -> bool:
        """An invoice outside the billing cycle (trial usage, CO-4): stored, then collected."""
        account = self._ledger.account(client_id)
        if account is None:
            raise NotFound(f"no billing account for {client_id}")
        invoice = new_invoice(client_id, day, kind, draft)
        stored = self._ledger.commit_invoice(
            account, {}, invoice, agenda=self.deadlines(invoice),
            history=[self._config.event(client_id, day, "invoice_issued", invoice_id=invoice.invoice_id,
                                        total_cents=invoice.total_cents, invoice_kind=kind,
                                        email=self._mail.invoice_issued(account, invoice))])
        self._collection.collect_pending(day, DayReport(day=day))
        return stored

    def bill_client(self, account: BillingAccount, day: date, counter: UsageCounter | None,
                    report: DayReport, *, kind: str = "cycle") -> bool:
        """Store the client's invoice for `day` with its next state; False when a re-run (or a
        concurrent run) already did. `kind` names a cycle invoice ("reinstated": the first
        invoice of a service restored after default, whose id must not meet a voided one's)."""
        policy, catalog, price_changes = self._config.rules()
        state = ClientBillingState(**account.rule_state(), price_changes=price_changes)
        units = None if day == account.paid_start else self._units(counter)
        draft = draft_cycle_invoice(policy, catalog, state, billing_date=day, usage_units=units)
        final = draft.kind == "final"
        invoice = new_invoice(account.client_id, day, "final" if final else kind, draft)
        invoice.report = chat_report(draft, counter)
        following = None if final else next_billing_date(account.anchor_day or day.day, day)
        changes = {
            "next_billing_date": following,
            "current_plan_id": draft.plan_id_next_cycle or account.current_plan_id,
            "upgraded_plan_id": None,
            "pending_change": None if draft.pending_change_applied else account.pending_change,
            "setup_fee_charged": account.setup_fee_charged or draft.setup_fee_charged,
            "final_invoice_issued": final,
            "status": AccountStatus.TERMINATED if final else account.status,
        }
        agenda = self.deadlines(invoice)
        if following is not None:
            agenda.append(AgendaEntry(day=following, kind=AgendaKind.BILL, client_id=account.client_id))
        history = [self._config.event(account.client_id, day, "invoice_issued", invoice_id=invoice.invoice_id,
                                      total_cents=invoice.total_cents, invoice_kind=invoice.kind,
                                      notes=list(draft.notes), email=self._mail.invoice_issued(account, invoice))]
        if final:
            history.append(self._config.event(account.client_id, day, "final_invoice", rule="CO-2"))
        stored = self._ledger.commit_invoice(account, changes, invoice, agenda=agenda, history=history)
        if not stored:
            report.skipped.append(account.client_id)
        return stored

    def _units(self, counter: UsageCounter | None) -> Decimal:
        if counter is None:
            return Decimal(0)
        return billable_units(self._config.policy, engaged_chats=counter.engaged_chats,
                              agent_seconds=counter.agent_seconds)

    def deadlines(self, invoice: LedgerInvoice) -> list[AgendaEntry]:
        """The invoice's collection today, and (but for a late charge itself) the days its late
        charge (CO-11) and its default (CO-10 / CH-10) would fall on."""
        policy = self._config.policy

        def entry(day: date, kind: AgendaKind) -> AgendaEntry:
            return AgendaEntry(day=day, kind=kind, client_id=invoice.client_id, invoice_id=invoice.invoice_id)

        entries = [entry(invoice.issue_date, AgendaKind.COLLECT)]
        if invoice.kind != "late_charge":
            entries.append(entry(late_charge_date(policy, invoice.due_date), AgendaKind.LATE))
            entries.append(entry(default_date(policy, invoice.issue_date, invoice.due_date), AgendaKind.DEFAULT))
            entries.append(entry(default_warning_date(policy, invoice.issue_date, invoice.due_date), AgendaKind.WARN))
        return entries

    # --- the trial reminder ------------------------------------------------------------------
    def trial_reminder_entry(self, client_id: str, trial_start: date) -> AgendaEntry | None:
        """The day "your trial ends in 3 days" goes out (None for a trial of 3 days or less)."""
        schedule = trial_schedule(self._config.policy, trial_start)
        day = schedule.paid_start - timedelta(days=TRIAL_REMINDER_DAYS)
        return AgendaEntry(day=day, kind=AgendaKind.TRIAL_ENDING, client_id=client_id) if day > trial_start else None

    def remind_trials_ending(self, day: date) -> None:
        entries = self._ledger.agenda(day, AgendaKind.TRIAL_ENDING)
        accounts = self._ledger.accounts([e.client_id for e in entries])
        for entry in entries:
            account = accounts.get(entry.client_id)
            if account is not None and account.status is AccountStatus.TRIAL and account.trial_start is not None:
                schedule = trial_schedule(self._config.policy, account.trial_start)
                last_day = schedule.paid_start - timedelta(days=1)
                email = self._mail.trial_ending(account, last_day, (schedule.paid_start - day).days)
                self._ledger.record_once(f"trial_ending:{account.client_id}:{account.trial_start.isoformat()}", [
                    self._config.event(account.client_id, day, "trial_ending_reminder", email=email,
                                       last_day=last_day.isoformat(), rule="CO-4")])
            self._ledger.remove_agenda(entry)
