"""The provider's billing configuration (policy, plan catalog, announced price changes) and
the business day it implies. Every ledger service reads its rules from here."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any, NamedTuple

from parley.billing.plans import PlanCatalog, PriceChange
from parley.billing.policy import BillingPolicy
from parley.clock import Clock
from parley.email.models import OutboxEmail
from parley.errors import NotFound
from parley.ledger.models import HistoryEvent, ProviderConfig
from parley.ledger.ports import LedgerStore


class Rules(NamedTuple):
    policy: BillingPolicy
    catalog: PlanCatalog
    price_changes: tuple[PriceChange, ...]


class BillingConfig:
    def __init__(self, ledger: LedgerStore, clock: Clock) -> None:
        self._ledger = ledger
        self._clock = clock
        self._rules: Rules | None = None

    @property
    def clock(self) -> Clock:
        return self._clock

    def configure(self, policy: BillingPolicy, catalog: PlanCatalog,
                  price_changes: Sequence[PriceChange] = ()) -> None:
        catalog.require_unit(policy)
        self._ledger.put_provider_config(ProviderConfig(
            policy=policy.model_dump(mode="json"), catalog=catalog.model_dump(mode="json"),
            price_changes=list(price_changes)))
        self._rules = None

    def rules(self) -> Rules:
        if self._rules is None:
            stored = self._ledger.provider_config()
            if stored is None:
                raise NotFound("the provider has no billing configuration")
            self._rules = Rules(BillingPolicy.model_validate(stored.policy),
                                PlanCatalog.model_validate(stored.catalog), tuple(stored.price_changes))
        return self._rules

    @property
    def policy(self) -> BillingPolicy:
        return self.rules().policy

    def announce_price_change(self, change: PriceChange) -> None:
        """CO-12: recorded now, applied from the next billing cycle after the announcement."""
        policy, catalog, changes = self.rules()
        catalog.plan(change.plan_id)
        self.configure(policy, catalog, (*changes, change))

    def today(self) -> date:
        return self.policy.business_date(self._clock.now())

    def event(self, client_id: str, day: date, kind: str, *, email: OutboxEmail | None = None,
              **detail: Any) -> HistoryEvent:
        """A history event stamped with the clock's time, with the email it sends (if any)."""
        return HistoryEvent(client_id=client_id, day=day, at=self._clock.now(), kind=kind, detail=detail,
                            email=email)
