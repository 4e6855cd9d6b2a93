"""The billing engine, one service per job, wired over the same ports: applies the billing
rules (`parley.billing`) to the ledger and carries the result out through Stripe. The ledger
decides; Stripe collects.

  config       the provider's policy, plans and price changes; the business day
  accounts     opening accounts, paid service, plan changes, the card on file
  billing_day  the daily cycle invoices (and the final and trial-usage invoices)
  collection   carrying invoices to Stripe, charging, recording payments
  dunning      late charges (CO-11), default warnings, defaults = termination (CO-10 / CH-10)
  settlement   what is owed, Pay now, reinstatement after default (reinstate_on_full_payment)
  metering     engaged chats and agent time per cycle, package upgrades (CH-5)
"""

from __future__ import annotations

from dataclasses import dataclass

from parley.clock import Clock
from parley.ledger.accounts import Accounts
from parley.ledger.billing_day import BillingDay, invoice_id_for
from parley.ledger.collection import Collection
from parley.ledger.config import BillingConfig
from parley.ledger.dunning import Dunning
from parley.ledger.models import DayReport
from parley.ledger.ports import BillingTenants, CollectionQueue, LedgerStore, PaymentsGateway
from parley.ledger.settlement import Settlement
from parley.ledger.usage import Metering

__all__ = ["Billing", "DayReport", "build_billing", "invoice_id_for"]


@dataclass(frozen=True)
class Billing:
    ledger: LedgerStore  # reads for the dashboard, exports and tests; writes go through the services
    config: BillingConfig
    accounts: Accounts
    billing_day: BillingDay
    collection: Collection
    dunning: Dunning
    settlement: Settlement
    metering: Metering

    @property
    def clock(self) -> Clock:
        return self.config.clock


def build_billing(ledger: LedgerStore, tenants: BillingTenants, payments: PaymentsGateway | None,
                  clock: Clock, collection_queue: CollectionQueue | None = None) -> Billing:
    """The services over these ports; with a `collection_queue` the billing day hands its
    invoices to the collection workers instead of charging them itself."""
    config = BillingConfig(ledger, clock)
    collection = Collection(ledger, config, payments, collection_queue)
    billing_day = BillingDay(ledger, config, collection)
    settlement = Settlement(ledger, config, collection, billing_day, tenants)
    collection.after_payment = settlement.reinstate_if_settled
    return Billing(ledger=ledger, config=config, collection=collection, billing_day=billing_day,
                   accounts=Accounts(ledger, config, billing_day, payments),
                   dunning=Dunning(ledger, config, billing_day, collection, tenants, payments),
                   settlement=settlement, metering=Metering(ledger, config))
