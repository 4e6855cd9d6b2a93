"""Metering (usage_meter) and the package upgrade it can trigger (CH-5).

Engaged chat (CONTRACT_RULES Decision, applied by `parley.billing.metering`): the visitor sent
a message and an agent replied; counted once, in the cycle of the first agent reply. Agent
time (CO-7): each closed chat's billable seconds, in the cycle of the day it ended. One
counter transaction per client and cycle per batch; redelivered chats count once.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from datetime import date, datetime
from typing import Any, NamedTuple

from parley.billing.calendar import cycle_for
from parley.billing.metering import ChatEvent, billable_seconds, first_agent_reply_at
from parley.billing.plans import upgrade_for_usage
from parley.ledger.config import BillingConfig
from parley.ledger.models import TRIAL_CYCLE, BillingAccount, UsageBatch
from parley.ledger.ports import LedgerStore

MAX_CHATS_PER_BATCH = 99  # a DynamoDB transaction holds 100 writes: the counter plus 99 markers


class EngagedChat(NamedTuple):
    client_id: str
    conversation_id: str
    first_reply_at: datetime
    created_at: datetime


class ClosedChat(NamedTuple):
    client_id: str
    conversation_id: str
    accepted_at: datetime
    closed_at: datetime


def _moment(image: Mapping[str, Any], name: str) -> datetime | None:
    value = image.get(name)
    return datetime.fromisoformat(str(value)) if value else None


def first_reply_of(image: Mapping[str, Any]) -> datetime | None:
    """The engaged-chat rule (`first_agent_reply_at`) applied to what a conversation item
    records of its messages: the first visitor message and the first agent message."""
    events = [ChatEvent(sender=sender, at=at) for sender, at in (
        ("visitor", _moment(image, "first_visitor_message_at")), ("agent", _moment(image, "first_agent_reply_at")))
        if at is not None]
    return first_agent_reply_at(sorted(events, key=lambda e: (e.at, e.sender != "visitor")))


def became_engaged(old: Mapping[str, Any], new: Mapping[str, Any]) -> EngagedChat | None:
    """The change of a conversation item (stream images) that made the chat engaged, if it is one."""
    if first_reply_of(old) is not None:
        return None
    replied, created = first_reply_of(new), _moment(new, "created_at")
    if replied is None or created is None:
        return None
    return EngagedChat(str(new["client_id"]), str(new["conversation_id"]), replied, created)


def became_closed(old: Mapping[str, Any], new: Mapping[str, Any]) -> ClosedChat | None:
    """The change that closed a chat an agent had accepted (its agent time counts, CO-7)."""
    accepted, closed = _moment(new, "accepted_at"), _moment(new, "closed_at")
    if new.get("status") != "closed" or old.get("status") == "closed" or accepted is None or closed is None:
        return None
    return ClosedChat(str(new["client_id"]), str(new["conversation_id"]), accepted, closed)


def cycle_key(account: BillingAccount, day: date) -> str:
    """The usage counter a day's usage goes to: the trial's, or the paid cycle's first day."""
    if account.paid_start is None or account.anchor_day is None or day < account.paid_start:
        return TRIAL_CYCLE
    return max(cycle_for(account.anchor_day, day).start, account.paid_start).isoformat()


Chats = list[tuple[str, float]]  # (conversation id, seconds: first-response wait or billable agent time)


def _batches(groups: Mapping[tuple[str, str], Chats]) -> Iterator[tuple[str, str, Chats]]:
    """Each client's and cycle's chats, in batches one transaction can hold."""
    for (client_id, cycle), chats in groups.items():
        for start in range(0, len(chats), MAX_CHATS_PER_BATCH):
            yield client_id, cycle, chats[start:start + MAX_CHATS_PER_BATCH]


def _usage_of(batch: UsageBatch, chats: Chats) -> UsageBatch:
    """`batch` (client, cycle, measure) with these chats' usage."""
    ids, seconds = tuple(c for c, _ in chats), sum(s for _, s in chats)
    if batch.measure == "agent_time":
        return batch.model_copy(update={"conversation_ids": ids, "agent_seconds": int(seconds)})
    return batch.model_copy(update={"conversation_ids": ids, "engaged_chats": len(chats),
                                    "first_response_seconds": round(seconds)})


class Metering:
    def __init__(self, ledger: LedgerStore, config: BillingConfig) -> None:
        self._ledger = ledger
        self._config = config

    def meter(self, engaged: Sequence[EngagedChat]) -> set[str]:
        """Count engaged chats (with their first-response time, for the CH-4 report). Returns
        the clients whose trial usage grew (the caller checks the CO-4 limit)."""
        policy = self._config.policy
        accounts = self._ledger.accounts(sorted({chat.client_id for chat in engaged}))
        groups: dict[tuple[str, str], Chats] = {}
        for chat in engaged:
            account = accounts.get(chat.client_id)
            if account is not None:
                waited = max((chat.first_reply_at - chat.created_at).total_seconds(), 0.0)
                groups.setdefault((chat.client_id, cycle_key(account, policy.business_date(chat.first_reply_at))),
                                  []).append((chat.conversation_id, waited))
        for client_id, cycle, chats in _batches(groups):
            self._count(UsageBatch(client_id=client_id, cycle=cycle, conversation_ids=()), chats)
            account = accounts.get(client_id)
            if account is not None and cycle != TRIAL_CYCLE and account.current_plan_id:
                # the upgraded account for the client's next batch (> 99 chats): a stale version
                # would fail the next upgrade with ConcurrentUpdate and the whole stream batch with it
                accounts[client_id] = self._maybe_upgrade(account, cycle)
        return {client_id for client_id, cycle in groups if cycle == TRIAL_CYCLE}

    def meter_agent_time(self, closed: Sequence[ClosedChat]) -> None:
        """CO-7: each closed chat's handling time, rounded up to the policy's increment after
        the answer grace, added to the cycle of the day the chat ended."""
        policy = self._config.policy
        accounts = self._ledger.accounts(sorted({chat.client_id for chat in closed}))
        groups: dict[tuple[str, str], Chats] = {}
        for chat in closed:
            account = accounts.get(chat.client_id)
            if account is not None:
                seconds = billable_seconds(policy, answered_at=chat.accepted_at, ended_at=chat.closed_at)
                groups.setdefault((chat.client_id, cycle_key(account, policy.business_date(chat.closed_at))),
                                  []).append((chat.conversation_id, seconds))
        for client_id, cycle, chats in _batches(groups):
            self._count(UsageBatch(client_id=client_id, cycle=cycle, conversation_ids=(), measure="agent_time"),
                        chats)

    def _count(self, batch: UsageBatch, chats: Chats) -> None:
        """Count the chats; those already counted (a redelivery) are left out and the rest retried."""
        remaining = chats
        while remaining:
            counted = self._ledger.count_usage(_usage_of(batch, remaining), self._config.clock.now())
            remaining = [c for c in remaining if c[0] not in counted] if counted else []

    def _maybe_upgrade(self, account: BillingAccount, cycle: str) -> BillingAccount:
        """CH-5: usage beyond the package upgrades the client at once. Returns the account as it
        is now."""
        policy, catalog, _ = self._config.rules()
        if not policy.auto_upgrade or account.current_plan_id is None:
            return account
        usage = self._ledger.usage(account.client_id, cycle)
        decision = upgrade_for_usage(policy, catalog, current_plan_id=account.current_plan_id,
                                     cycle_units=usage.engaged_chats, upgraded_plan_id=account.upgraded_plan_id)
        if decision is None:
            return account
        return self._ledger.update_account(account, {"upgraded_plan_id": decision.to_plan_id}, history=[
            self._config.event(account.client_id, self._config.today(), "package_upgraded",
                               to_plan_id=decision.to_plan_id, rule="CH-5", why=decision.explanation)])
