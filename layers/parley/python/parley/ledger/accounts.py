"""Billing accounts: opening one (with its Stripe customer), paid service (CO-9), plan
changes at the next cycle (CH-7), add-on orders (CH-8), the card on file."""

from __future__ import annotations

from datetime import date

from parley.billing.invoicing import AddOnRequest, PendingPlanChange, draft_add_on_invoice
from parley.errors import Conflict, InvalidRequest, NotFound
from parley.ledger.billing_day import BillingDay
from parley.ledger.config import BillingConfig
from parley.ledger.models import AccountStatus, AgendaEntry, AgendaKind, BillingAccount, DayReport
from parley.ledger.ports import LedgerStore, PaymentsGateway


class Accounts:
    def __init__(self, ledger: LedgerStore, config: BillingConfig, billing_day: BillingDay,
                 payments: PaymentsGateway | None) -> None:
        self._ledger = ledger
        self._config = config
        self._billing_day = billing_day
        self._payments = payments

    def require(self, client_id: str) -> BillingAccount:
        account = self._ledger.account(client_id)
        if account is None:
            raise NotFound(f"no billing account for {client_id}")
        return account

    def open_account(self, client_id: str, name: str, email: str, *, trial_start: date | None = None) -> BillingAccount:
        customer = self._payments.ensure_customer(client_id, name, email) if self._payments else None
        account = BillingAccount(client_id=client_id, name=name, email=email, trial_start=trial_start,
                                 status=AccountStatus.TRIAL, stripe_customer_id=customer)
        day = trial_start or self._config.today()
        if customer:  # a card the client saves in the Stripe portal must find its account
            self._ledger.put_payment_refs([customer], client_id, "")
        started = trial_start.isoformat() if trial_start else None
        self._ledger.create_account(account, history=[self._config.event(client_id, day, "account_opened",
                                                                         trial_start=started)])
        reminder = self._billing_day.trial_reminder_entry(client_id, trial_start) if trial_start else None
        if reminder is not None:
            self._ledger.put_agenda([reminder])
        return account

    def start_paid_service(self, client_id: str, plan_id: str, paid_start: date,
                           *, setup_fee_charged: bool = False) -> BillingAccount:
        """CO-9: paid service begins on `paid_start`, which is the first Billing Date (anchor day)."""
        self._config.rules().catalog.plan(plan_id)
        account = self.require(client_id)
        updated = self._ledger.update_account(account, {
            "status": AccountStatus.ACTIVE, "plan_id": plan_id, "current_plan_id": plan_id,
            "anchor_day": paid_start.day, "paid_start": paid_start, "next_billing_date": paid_start,
            "setup_fee_charged": setup_fee_charged},
            history=[self._config.event(client_id, paid_start, "paid_service_started", plan_id=plan_id,
                                        rule="CO-9")],
            agenda=[AgendaEntry(day=paid_start, kind=AgendaKind.BILL, client_id=client_id)])
        if paid_start <= self._config.today():  # today's run may be over: the first invoice goes out now
            self._billing_day.bill_first(updated, paid_start, DayReport(day=paid_start))
        return updated

    def request_plan_change(self, client_id: str, plan_id: str, today: date) -> BillingAccount:
        """CH-7: takes effect at the next cycle (no lock-in, no proration)."""
        if plan_id not in {p.id for p in self._config.rules().catalog.plans}:
            raise InvalidRequest(f"plan_id: no plan {plan_id!r}")
        account = self.require(client_id)
        return self._ledger.update_account(
            account, {"pending_change": PendingPlanChange(plan_id=plan_id, requested_on=today), "plan_id": plan_id},
            history=[self._config.event(client_id, today, "plan_change_requested", plan_id=plan_id, rule="CH-7")])

    def order_add_on(self, client_id: str, add_on_id: str, quantity: int, today: date) -> bool:
        """CH-8: an add-on is charged on request, on its own invoice issued that day and collected
        at once. False when that invoice already exists (one add-on invoice per client and day)."""
        policy, catalog, _ = self._config.rules()
        catalog.add_on(add_on_id)  # UnknownPlan (400) for an id not in the catalog
        account = self.require(client_id)
        if account.status is not AccountStatus.ACTIVE:
            raise Conflict("add-ons are ordered with a paid subscription (CH-8)")
        draft = draft_add_on_invoice(policy, catalog, request=AddOnRequest(
            add_on_id=add_on_id, quantity=quantity, requested_on=today),
            tax_rate_basis_points=account.tax_rate_basis_points)
        return self._billing_day.issue_invoice(client_id, today, "add_on", draft)

    def set_payment_method(self, client_id: str, payment_method: str) -> None:
        self._ledger.update_account(self.require(client_id), {"payment_method": payment_method})
