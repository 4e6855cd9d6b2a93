"""The billing domain on in-memory fakes (parley.ledger.memory) with a frozen clock: a whole
billing month runs in milliseconds. The fakes pass the same contract tests (tests/contract)
as the DynamoDB, Stripe and Step Functions adapters."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

from parley.billing.plans import PlanCatalog
from parley.billing.policy import BillingPolicy
from parley.chat.models import Client
from parley.clock import ControlledClock
from parley.ledger.lifecycle import AccountLifecycle
from parley.ledger.memory import InMemoryLedger, InMemoryPayments, InMemoryTenants, InMemoryWorkflows
from parley.ledger.models import BillingAccount, HistoryEvent, LedgerInvoice
from parley.ledger.service import Billing, build_billing

PLANS = Path(__file__).resolve().parents[3] / "config" / "plans"
START = date(2026, 3, 10)


class NoChats:
    """The chat repository as lifecycle needs it, for clients without conversations."""

    def conversations_of_client(self, client_id: str) -> list[object]:
        return []


class World:
    def __init__(self, preset: str = "call_on_me", **overrides: object) -> None:
        self.clock = ControlledClock()
        self.ledger = InMemoryLedger()
        self.tenants = InMemoryTenants()
        self.payments = InMemoryPayments()
        self.workflows = InMemoryWorkflows()
        self.billing: Billing = build_billing(self.ledger, self.tenants, self.payments, self.clock)
        self.policy = BillingPolicy.from_preset(preset, **overrides)  # type: ignore[arg-type]
        self.billing.config.configure(self.policy, PlanCatalog.model_validate_json(
            (PLANS / f"{preset}.json").read_text()))
        self.lifecycle = AccountLifecycle(self.ledger, self.billing, self.tenants, NoChats(),  # type: ignore[arg-type]
                                          self.workflows)
        self.on(START)

    def on(self, day: date, at: time = time(12)) -> date:
        """Move the clock to `at` on the business day `day` (the policy's zone)."""
        self.clock.set(datetime.combine(day, at, self.policy.zone).astimezone(UTC))
        return day

    def client(self, client_id: str = "cl_a", *, card: bool | None = True) -> str:
        """A chat tenant with a billing account (in its trial unless started) and a card on
        file that pays (True), declines (False), or none (None)."""
        self.tenants.put_client(Client(client_id=client_id, name=client_id, widget_key=f"wk_{client_id}"))
        account = self.billing.accounts.open_account(client_id, client_id, f"{client_id}@example.test")
        if card is not None:
            self.billing.accounts.set_payment_method(client_id, "pm_card_visa" if card else "pm_card_declining")
        if card is False:
            self.payments.declining.add(account.stripe_customer_id or "")
        return client_id

    def paying(self, client_id: str = "cl_a", *, card: bool | None = True, plan: str = "business_starter",
               start: date = START) -> str:
        self.client(client_id, card=card)
        self.billing.accounts.start_paid_service(client_id, plan, start)
        return client_id

    def account(self, client_id: str = "cl_a") -> BillingAccount:
        found = self.ledger.account(client_id)
        assert found is not None
        return found

    def invoices(self, client_id: str = "cl_a") -> list[LedgerInvoice]:
        return sorted(self.ledger.invoices(client_id), key=lambda i: (i.issue_date, i.invoice_id))

    def history(self, client_id: str = "cl_a", kind: str | None = None) -> list[HistoryEvent]:
        return [h for h in self.ledger.history(client_id) if kind is None or h.kind == kind]

    def next_billing_day(self, client_id: str = "cl_a") -> date:
        day = self.account(client_id).next_billing_date
        assert day is not None
        return day

    def moment(self, day: date, hour: int = 12) -> datetime:
        return datetime.combine(day, time(hour), self.policy.zone)


def days(n: int) -> timedelta:
    return timedelta(days=n)
