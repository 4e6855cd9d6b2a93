"""Applies the billing rules (`parley.billing`) to the ledger and carries the result out
through Stripe. The ledger decides; Stripe collects.

Exactly once where money moves (ARCHITECTURE principle 5):
* an invoice and the account's next state are written in ONE DynamoDB transaction, guarded
  by the account's version and the invoice's deterministic id — re-running a billing day,
  or running it twice at once, bills each client once;
* every Stripe call carries an idempotency key derived from the ledger invoice id, so a
  timeout after Stripe did the work is retried without a duplicate;
* an invoice not yet carried to Stripe keeps a COLLECT entry on the day's agenda; the
  day's re-run (or the next run of the day) finishes it. Nothing a client was told is lost.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any, Protocol

from parley.billing.calendar import cycle_for, next_billing_date, previous_billing_date
from parley.billing.invoicing import ClientBillingState, PendingPlanChange, draft_cycle_invoice
from parley.billing.lines import InvoiceDraft, InvoiceLine
from parley.billing.metering import billable_seconds
from parley.billing.payments import (
    Payment,
    default_date,
    default_status,
    late_charge_date,
    late_charge_line,
)
from parley.billing.plans import PlanCatalog, PriceChange, upgrade_for_usage
from parley.billing.policy import BillingPolicy
from parley.chat.models import ClientStatus
from parley.clock import Clock
from parley.errors import InvalidRequest, NotFound
from parley.ledger.models import (
    AccountStatus,
    BillingAccount,
    ChatReport,
    HistoryEvent,
    InvoiceStatus,
    LedgerInvoice,
    ProviderConfig,
)
from parley.observability import logger
from parley.repositories.ledger import TRIAL_CYCLE, LedgerRepository, agenda_item
from parley.repositories.tenants import TenantRepository


class PaymentsGateway(Protocol):
    """What the ledger needs from Stripe (`parley.gateways.stripe_gateway.StripeGateway`)."""

    def ensure_customer(self, client_id: str, name: str, email: str) -> str: ...
    def create_invoice(self, ledger_invoice_id: str, customer_id: str, lines: Sequence[Any],
                       due_date: date) -> Any: ...
    def pay_invoice(self, stripe_invoice_id: str, attempt_key: str) -> Any: ...


def invoice_id_for(client_id: str, day: date, kind: str) -> str:
    return f"in_{day:%Y%m%d}_{kind}_{client_id}"


@dataclass
class DayReport:
    """What a daily run did (the scheduled functions log it; tests and the scenario runner read it)."""

    day: date
    billed: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    collected: list[str] = field(default_factory=list)
    declined: list[str] = field(default_factory=list)
    stripe_pending: list[str] = field(default_factory=list)
    late_charges: list[str] = field(default_factory=list)
    defaults: list[str] = field(default_factory=list)


class BillingService:
    def __init__(self, ledger: LedgerRepository, tenants: TenantRepository, payments: PaymentsGateway | None,
                 clock: Clock) -> None:
        self._ledger = ledger
        self._tenants = tenants
        self._payments = payments
        self._clock = clock
        self._config: tuple[BillingPolicy, PlanCatalog, tuple[PriceChange, ...]] | None = None

    @property
    def ledger(self) -> LedgerRepository:
        return self._ledger

    @property
    def clock(self) -> Clock:
        return self._clock

    # --- configuration -----------------------------------------------------------------
    def configure(self, policy: BillingPolicy, catalog: PlanCatalog,
                  price_changes: Sequence[PriceChange] = ()) -> None:
        catalog.require_unit(policy)
        self._ledger.put_provider_config(ProviderConfig(
            policy=policy.model_dump(mode="json"), catalog=catalog.model_dump(mode="json"),
            price_changes=list(price_changes)))
        self._config = None

    def rules(self) -> tuple[BillingPolicy, PlanCatalog, tuple[PriceChange, ...]]:
        if self._config is None:
            stored = self._ledger.provider_config()
            if stored is None:
                raise NotFound("the provider has no billing configuration")
            policy = BillingPolicy.model_validate(stored.policy)
            self._config = (policy, PlanCatalog.model_validate(stored.catalog), tuple(stored.price_changes))
        return self._config

    def announce_price_change(self, change: PriceChange) -> None:
        """CO-12: recorded now, applied from the next billing cycle after the announcement."""
        policy, catalog, changes = self.rules()
        catalog.plan(change.plan_id)
        self.configure(policy, catalog, (*changes, change))

    def today(self) -> date:
        return self.rules()[0].business_date(self._clock.now())

    def _event(self, client_id: str, day: date, kind: str, **detail: Any) -> HistoryEvent:
        return HistoryEvent(client_id=client_id, day=day, at=self._clock.now(), kind=kind, detail=detail)

    # --- accounts ----------------------------------------------------------------------
    def open_account(self, client_id: str, name: str, email: str, *, trial_start: date | None = None) -> BillingAccount:
        customer = self._payments.ensure_customer(client_id, name, email) if self._payments else None
        account = BillingAccount(client_id=client_id, name=name, email=email, trial_start=trial_start,
                                 status=AccountStatus.TRIAL, stripe_customer_id=customer)
        day = trial_start or self.today()
        if customer:  # a card the client saves in the Stripe portal must find its account
            self._ledger.put_payment_refs([customer], client_id, "")
        started = trial_start.isoformat() if trial_start else None
        self._ledger.put_account(account, history=[self._event(client_id, day, "account_opened",
                                                               trial_start=started)])
        return account

    def start_paid_service(self, client_id: str, plan_id: str, paid_start: date,
                           *, setup_fee_charged: bool = False) -> BillingAccount:
        """CO-9: paid service begins on `paid_start`, which is the first Billing Date (anchor day)."""
        _, catalog, _ = self.rules()
        catalog.plan(plan_id)
        account = self._require(client_id)
        updated = account.model_copy(update={
            "status": AccountStatus.ACTIVE, "plan_id": plan_id, "current_plan_id": plan_id,
            "anchor_day": paid_start.day, "paid_start": paid_start, "next_billing_date": paid_start,
            "setup_fee_charged": setup_fee_charged, "version": account.version + 1})
        self._ledger.put_account(
            updated, expected_version=account.version,
            history=[self._event(client_id, paid_start, "paid_service_started", plan_id=plan_id, rule="CO-9")],
            agenda=[agenda_item(paid_start, f"BILL#{client_id}", client_id=client_id)])
        if paid_start <= self.today():  # today's run may be over: the first invoice goes out now
            report = DayReport(day=paid_start)
            self._bill_client(updated, paid_start, Decimal(0), None, report)
            self.collect_pending(paid_start, report)
        return updated

    def request_plan_change(self, client_id: str, plan_id: str, today: date) -> BillingAccount:
        """CH-7: takes effect at the next cycle (no lock-in, no proration)."""
        _, catalog, _ = self.rules()
        if plan_id not in {p.id for p in catalog.plans}:
            raise InvalidRequest(f"plan_id: no plan {plan_id!r}")
        account = self._require(client_id)
        updated = account.model_copy(update={
            "pending_change": PendingPlanChange(plan_id=plan_id, requested_on=today), "plan_id": plan_id,
            "version": account.version + 1})
        self._ledger.put_account(updated, expected_version=account.version,
                                 history=[self._event(client_id, today, "plan_change_requested", plan_id=plan_id,
                                                      rule="CH-7")])
        return updated

    def set_payment_method(self, client_id: str, payment_method: str) -> None:
        account = self._require(client_id)
        self._ledger.put_account(account.model_copy(update={"payment_method": payment_method,
                                                            "version": account.version + 1}),
                                 expected_version=account.version)

    def _require(self, client_id: str) -> BillingAccount:
        account = self._ledger.account(client_id)
        if account is None:
            raise NotFound(f"no billing account for {client_id}")
        return account

    # --- the billing day (CO-9, CH-4, CH-5, CH-7, CO-12, CO-5) ---------------------------
    def run_billing_day(self, day: date) -> DayReport:
        report = DayReport(day=day)
        due = [str(e["client_id"]) for e in self._ledger.agenda(day, "BILL#")]
        accounts = self._ledger.accounts(due)
        policy, _, _ = self.rules()
        usage_keys = [(a.client_id, self._ended_cycle_key(a, day)) for a in accounts.values()]
        usages = self._ledger.usages([k for k in usage_keys if k[1] is not None])  # type: ignore[misc]
        for client_id in due:
            account = accounts.get(client_id)
            if account is None or account.next_billing_date != day or account.status is not AccountStatus.ACTIVE:
                report.skipped.append(client_id)  # already billed (a re-run) or no longer billable
                continue
            key = self._ended_cycle_key(account, day)
            counter = usages.get((client_id, key)) if key else None
            units = Decimal(0) if counter is None else (
                Decimal(counter.engaged_chats) if policy.unit == "engaged_chat"
                else Decimal(counter.agent_seconds) / 60)
            if self._bill_client(account, day, units, counter, report):
                report.billed.append(client_id)
        self.collect_pending(day, report)
        return report

    def bill_final(self, account: BillingAccount, day: date, report: DayReport) -> None:
        """The final invoice on the day after the last day of service (CO-2): what was incurred
        in the last (partial) cycle, no further monthly fee. Idempotent like any billing."""
        policy, _, _ = self.rules()
        key = self._ended_cycle_key(account, day)
        counter = self._ledger.usage(account.client_id, key) if key else None
        units = Decimal(0) if counter is None else (
            Decimal(counter.engaged_chats) if policy.unit == "engaged_chat" else Decimal(counter.agent_seconds) / 60)
        if account.next_billing_date is not None and account.next_billing_date <= day:
            self._bill_client(account, day, units, counter, report)
        self.collect_pending(day, report)

    def issue_invoice(self, client_id: str, day: date, kind: str, draft: InvoiceDraft) -> bool:
        """An invoice outside the billing cycle (trial usage, CO-4): stored, then collected."""
        account = self._require(client_id)
        invoice = self._ledger_invoice(client_id, day, kind, draft)
        stored = self._ledger.commit_invoice(
            account.model_copy(update={"version": account.version + 1}), account.version, invoice,
            self._deadlines(invoice), [self._event(client_id, day, "invoice_issued", invoice_id=invoice.invoice_id,
                                                   total_cents=invoice.total_cents, invoice_kind=kind)])
        self.collect_pending(day, DayReport(day=day))
        return stored

    @staticmethod
    def _ended_cycle_key(account: BillingAccount, day: date) -> str | None:
        if account.paid_start is None or account.anchor_day is None or day <= account.paid_start:
            return None
        return max(previous_billing_date(account.anchor_day, day), account.paid_start).isoformat()

    def _bill_client(self, account: BillingAccount, day: date, units: Decimal, counter: Any,
                     report: DayReport) -> bool:
        policy, catalog, price_changes = self.rules()
        state = ClientBillingState(**account.rule_state(), price_changes=price_changes)
        first = day == account.paid_start
        draft = draft_cycle_invoice(policy, catalog, state, billing_date=day, usage_units=None if first else units)
        final = draft.kind == "final"
        invoice = self._ledger_invoice(account.client_id, day, "final" if final else "cycle", draft)
        if draft.ended_cycle is not None and counter is not None:
            invoice.report = ChatReport(
                cycle_start=draft.ended_cycle.start, cycle_end=draft.ended_cycle.end,
                engaged_chats=counter.engaged_chats,
                first_response_seconds_avg=(counter.first_response_seconds / counter.engaged_chats
                                            if counter.engaged_chats else None))
        following = None if final else next_billing_date(account.anchor_day or day.day, day)
        next_state = account.model_copy(update={
            "next_billing_date": following,
            "current_plan_id": draft.plan_id_next_cycle or account.current_plan_id,
            "upgraded_plan_id": None,
            "pending_change": None if draft.pending_change_applied else account.pending_change,
            "setup_fee_charged": account.setup_fee_charged or draft.setup_fee_charged,
            "final_invoice_issued": final,
            "status": AccountStatus.TERMINATED if final else account.status,
            "version": account.version + 1,
        })
        agenda = self._deadlines(invoice)
        if following is not None:
            agenda.append(agenda_item(following, f"BILL#{account.client_id}", client_id=account.client_id))
        history = [self._event(account.client_id, day, "invoice_issued", invoice_id=invoice.invoice_id,
                               total_cents=invoice.total_cents, invoice_kind=invoice.kind, notes=list(draft.notes))]
        if final:
            history.append(self._event(account.client_id, day, "final_invoice", rule="CO-2"))
        stored = self._ledger.commit_invoice(next_state, account.version, invoice, agenda, history)
        if not stored:
            report.skipped.append(account.client_id)
        return stored

    def _ledger_invoice(self, client_id: str, day: date, kind: str, draft: InvoiceDraft) -> LedgerInvoice:
        return LedgerInvoice(invoice_id=invoice_id_for(client_id, day, kind), client_id=client_id, kind=kind,
                             issue_date=day, due_date=draft.due_date, lines=list(draft.lines),
                             total_cents=draft.total_cents,
                             # Nothing due (a final invoice without overage): settled as issued.
                             status=InvoiceStatus.PAID if draft.total_cents == 0 else InvoiceStatus.OPEN)

    def _deadlines(self, invoice: LedgerInvoice) -> list[dict[str, Any]]:
        """Agenda entries: collect today; check the late charge and the default on their days."""
        policy, _, _ = self.rules()
        ref = {"client_id": invoice.client_id, "invoice_id": invoice.invoice_id}
        entries = [agenda_item(invoice.issue_date, f"COLLECT#{invoice.invoice_id}", **ref)]
        if invoice.kind != "late_charge":
            entries.append(agenda_item(late_charge_date(policy, invoice.due_date), f"LATE#{invoice.invoice_id}", **ref))
            entries.append(agenda_item(default_date(policy, invoice.issue_date, invoice.due_date),
                                       f"DEFAULT#{invoice.invoice_id}", **ref))
        return entries

    # --- Stripe ------------------------------------------------------------------------
    def collect_pending(self, day: date, report: DayReport) -> None:
        """Carry the day's new invoices to Stripe and charge the card on file; what fails
        (Stripe down, timeout) stays on the agenda for the re-run."""
        if self._payments is None:
            return
        entries = self._ledger.agenda(day, "COLLECT#")
        invoices = self._ledger.invoices_by_key([(str(e["client_id"]), str(e["invoice_id"])) for e in entries])
        accounts = self._ledger.accounts(sorted({i.client_id for i in invoices}))
        for invoice in invoices:
            account = accounts.get(invoice.client_id)
            done = invoice.stripe_invoice_id is not None and invoice.status is InvoiceStatus.PAID
            if account is None or invoice.total_cents == 0 or done:
                self._ledger.remove_agenda(day, f"COLLECT#{invoice.invoice_id}")
                continue
            try:
                self._collect(account, invoice, day, report)
            except Exception as exc:  # Stripe unavailable: retried by a re-run, and tomorrow
                logger.warning("collection deferred", invoice_id=invoice.invoice_id, error=type(exc).__name__)
                report.stripe_pending.append(invoice.invoice_id)
                self._ledger.put_agenda([agenda_item(day + timedelta(days=1), f"COLLECT#{invoice.invoice_id}",
                                                     client_id=invoice.client_id, invoice_id=invoice.invoice_id)])
                continue
            self._ledger.remove_agenda(day, f"COLLECT#{invoice.invoice_id}")

    def _collect(self, account: BillingAccount, invoice: LedgerInvoice, day: date, report: DayReport) -> None:
        assert self._payments is not None
        customer = account.stripe_customer_id or self._payments.ensure_customer(
            account.client_id, account.name or account.client_id, account.email)
        stripe_invoice = self._payments.create_invoice(invoice.invoice_id, customer, invoice.lines, invoice.due_date)
        if invoice.stripe_invoice_id != stripe_invoice.id:
            self._ledger.set_invoice_fields(invoice.client_id, invoice.invoice_id,
                                            {"stripe_invoice_id": stripe_invoice.id})
        if account.payment_method and invoice.status is InvoiceStatus.OPEN:
            result = self._payments.pay_invoice(stripe_invoice.id, f"{invoice.invoice_id}:auto")
            if result.paid:
                self._ledger.put_payment_refs([result.payment_intent_id, result.charge_id], invoice.client_id,
                                              invoice.invoice_id)
                self.record_payment(invoice.client_id, invoice.invoice_id, day, source="card_on_file")
                report.collected.append(invoice.invoice_id)
            else:
                self._ledger.add_history([self._event(invoice.client_id, day, "payment_failed",
                                                      invoice_id=invoice.invoice_id, reason=result.declined_reason,
                                                      rule="CO-13")])
                report.declined.append(invoice.invoice_id)

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
        if result.paid:
            self._ledger.put_payment_refs([result.payment_intent_id, result.charge_id], client_id, invoice_id)
            self.record_payment(client_id, invoice_id, day, source="client")
            return True
        self._ledger.add_history([self._event(client_id, day, "payment_failed", invoice_id=invoice_id,
                                              reason=result.declined_reason, rule="CO-13")])
        return False

    def record_payment(self, client_id: str, invoice_id: str, day: date, *, source: str) -> bool:
        """The invoice is paid in full on `day` (idempotent: only an open invoice changes)."""
        invoice = self._ledger.invoice(client_id, invoice_id)
        if invoice is None or invoice.status is not InvoiceStatus.OPEN:
            return False
        payment = Payment(received_on=day, amount_cents=max(invoice.amount_due_cents, 1))
        return self._ledger.set_invoice_fields(
            client_id, invoice_id,
            {"status": "paid", "amount_paid_cents": invoice.total_cents, "paid_at": self._clock.now().isoformat(),
             "payments": [*[p.model_dump(mode="json") for p in invoice.payments], payment.model_dump(mode="json")]},
            condition="#f0 <> :paid", condition_values={":paid": "paid"},
            history=[self._event(client_id, day, "payment_received", invoice_id=invoice_id,
                                 amount_cents=invoice.amount_due_cents, source=source)],
        )

    # --- late charges (CO-11) ------------------------------------------------------------
    def run_late_charges(self, day: date) -> DayReport:
        report = DayReport(day=day)
        policy, _, _ = self.rules()
        entries = self._ledger.agenda(day, "LATE#")
        for invoice in self._ledger.invoices_by_key([(str(e["client_id"]), str(e["invoice_id"])) for e in entries]):
            if self._never_sent(invoice):
                continue
            line = late_charge_line(policy, invoice_date=invoice.issue_date, amount_due_cents=invoice.total_cents,
                                    payments=invoice.payments, today=day, due=invoice.due_date,
                                    late_charge_already_applied=invoice.late_charge_invoice_id is not None)
            if line is None:
                continue
            if self._add_late_charge(invoice, line, day):
                report.late_charges.append(invoice.invoice_id)
        self.collect_pending(day, report)
        return report

    @staticmethod
    def _never_sent(invoice: LedgerInvoice) -> bool:
        """An invoice Stripe never carried (an outage) was never presented to the client: no
        late charge and no default on it until it is (its collection is retried daily)."""
        return invoice.stripe_invoice_id is None and invoice.status is InvoiceStatus.OPEN

    def _add_late_charge(self, invoice: LedgerInvoice, line: InvoiceLine, day: date) -> bool:
        """Its own invoice, linked from the original once (a conditional write: never twice)."""
        late = LedgerInvoice(invoice_id=f"{invoice.invoice_id}-late", client_id=invoice.client_id,
                             kind="late_charge", issue_date=day, due_date=day, lines=[line],
                             total_cents=line.amount_cents, for_invoice_id=invoice.invoice_id)
        account = self._require(invoice.client_id)
        link = self._ledger.late_charge_link(invoice.client_id, invoice.invoice_id, late.invoice_id)
        return self._ledger.commit_invoice(
            account.model_copy(update={"version": account.version + 1}), account.version, late,
            self._deadlines(late),
            [self._event(invoice.client_id, day, "late_charge", invoice_id=late.invoice_id,
                         for_invoice_id=invoice.invoice_id, amount_cents=line.amount_cents, rule="CO-11")],
            extra_updates=[link])

    # --- default (CO-10 / CH-10) ---------------------------------------------------------
    def run_defaults(self, day: date) -> DayReport:
        report = DayReport(day=day)
        policy, _, _ = self.rules()
        entries = self._ledger.agenda(day, "DEFAULT#")
        for invoice in self._ledger.invoices_by_key([(str(e["client_id"]), str(e["invoice_id"])) for e in entries]):
            if self._never_sent(invoice):
                continue
            status = default_status(policy, billing_date=invoice.issue_date, amount_due_cents=invoice.total_cents,
                                    payments=invoice.payments, today=day, due=invoice.due_date)
            if status.in_default and self.deactivate(invoice.client_id, day, status.rule_id, status.explanation):
                report.defaults.append(invoice.client_id)
        return report

    def deactivate(self, client_id: str, day: date, rule: str, why: str) -> bool:
        """Service off: the widget shows the offline form and agents get no new chats; every
        amount owed stays collectable (CO-10)."""
        account = self._require(client_id)
        if account.status in (AccountStatus.DEACTIVATED, AccountStatus.TERMINATED):
            return False
        self._ledger.put_account(
            account.model_copy(update={"status": AccountStatus.DEACTIVATED, "in_default_since": day,
                                       "next_billing_date": None, "version": account.version + 1}),
            expected_version=account.version,
            history=[self._event(client_id, day, "service_deactivated", rule=rule, why=why)])
        client = self._tenants.get_client(client_id)
        if client is not None:
            self._tenants.put_client(client.model_copy(update={"status": ClientStatus.DEACTIVATED}))
        return True

    # --- metering (usage_meter) ----------------------------------------------------------
    def meter(self, engaged: Sequence[tuple[str, str, datetime, datetime]]) -> set[str]:
        """Count engaged chats: (client id, conversation id, first agent reply, created). One
        counter transaction per client and cycle per batch; redelivered chats count once.
        Returns the clients whose trial usage grew (the caller checks the CO-4 limit)."""
        policy, catalog, _ = self.rules()
        groups: dict[tuple[str, str], list[tuple[str, float]]] = {}
        accounts = self._ledger.accounts(sorted({chat[0] for chat in engaged}))
        for client_id, conversation_id, replied, created in engaged:
            account = accounts.get(client_id)
            if account is None:
                continue
            cycle = self._cycle_key(account, policy.business_date(replied))
            groups.setdefault((client_id, cycle), []).append(
                (conversation_id, max((replied - created).total_seconds(), 0.0)))
        for (client_id, cycle), chats in self._chunked(groups):
            remaining = chats
            while remaining:
                counted = self._ledger.count_usage(
                    client_id, cycle, [c for c, _ in remaining], engaged=len(remaining), agent_seconds=0,
                    first_response_seconds=round(sum(s for _, s in remaining)), now=self._clock.now())
                remaining = [c for c in remaining if c[0] not in counted] if counted else []
            account = accounts.get(client_id)
            if account is not None and cycle != TRIAL_CYCLE and account.current_plan_id:
                self._maybe_upgrade(account, cycle, policy, catalog)
        return {client_id for client_id, cycle in groups if cycle == TRIAL_CYCLE}

    def meter_agent_time(self, closed: Sequence[tuple[str, str, datetime, datetime]]) -> None:
        """CO-7: agent handling time of closed chats — (client, conversation, accepted, closed) —
        each rounded up to the policy's increment after the answer grace, added to the cycle of
        the day the chat ended. Same batching and idempotency as engaged chats."""
        policy, _, _ = self.rules()
        groups: dict[tuple[str, str], list[tuple[str, int]]] = {}
        accounts = self._ledger.accounts(sorted({chat[0] for chat in closed}))
        for client_id, conversation_id, accepted, ended in closed:
            account = accounts.get(client_id)
            if account is None:
                continue
            groups.setdefault((client_id, self._cycle_key(account, policy.business_date(ended))), []).append(
                (conversation_id, billable_seconds(policy, answered_at=accepted, ended_at=ended)))
        for (client_id, cycle), chats in self._chunked(groups):
            remaining = chats
            while remaining:
                counted = self._ledger.count_usage(
                    client_id, cycle, [c for c, _ in remaining], engaged=0,
                    agent_seconds=sum(s for _, s in remaining), first_response_seconds=0,
                    now=self._clock.now(), marker="METERED_TIME")
                remaining = [c for c in remaining if c[0] not in counted] if counted else []

    @staticmethod
    def _chunked(groups: dict[tuple[str, str], list[Any]]) -> list[tuple[tuple[str, str], list[Any]]]:
        """A DynamoDB transaction holds at most 100 writes: the counter plus 99 markers."""
        return [(key, chats[i:i + 99]) for key, chats in groups.items() for i in range(0, len(chats), 99)]

    @staticmethod
    def _cycle_key(account: BillingAccount, day: date) -> str:
        if account.paid_start is None or account.anchor_day is None or day < account.paid_start:
            return TRIAL_CYCLE
        return max(cycle_for(account.anchor_day, day).start, account.paid_start).isoformat()

    def _maybe_upgrade(self, account: BillingAccount, cycle: str, policy: BillingPolicy,
                       catalog: PlanCatalog) -> None:
        """CH-5: usage beyond the package upgrades the client at once."""
        if not policy.auto_upgrade or account.current_plan_id is None:
            return
        usage = self._ledger.usage(account.client_id, cycle)
        decision = upgrade_for_usage(policy, catalog, current_plan_id=account.current_plan_id,
                                     cycle_units=usage.engaged_chats, upgraded_plan_id=account.upgraded_plan_id)
        if decision is None:
            return
        day = self.today()
        self._ledger.put_account(
            account.model_copy(update={"upgraded_plan_id": decision.to_plan_id, "version": account.version + 1}),
            expected_version=account.version,
            history=[self._event(account.client_id, day, "package_upgraded", to_plan_id=decision.to_plan_id,
                                 rule="CH-5", why=decision.explanation)])

