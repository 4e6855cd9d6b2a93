"""Metering rules: the engaged-chat Decision and CO-7 agent-minute rounding."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from parley.billing import (
    BillingPolicy,
    ChatEvent,
    Cycle,
    NaiveDatetimeError,
    billable_seconds,
    billable_units,
    engaged_chat_cycle,
    engaged_chat_day,
    first_agent_reply_at,
    is_engaged_chat,
    seconds_to_minutes,
)

from .support import d

T0 = datetime(2025, 4, 15, 6, 0, tzinfo=UTC)  # 2025-04-14 23:00 in UTC-7


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def ev(sender: str, seconds: float) -> ChatEvent:
    return ChatEvent.model_validate({"sender": sender, "at": at(seconds)})


# ---- engaged chat Decision


def test_engaged_chat_decision_visitor_message_and_agent_reply() -> None:
    events = [ev("visitor", 0), ev("agent", 20), ev("agent", 40)]
    assert is_engaged_chat(events)
    assert first_agent_reply_at(events) == at(20)


@pytest.mark.parametrize(
    "events",
    [
        [],
        [ev("visitor", 0)],  # nobody answered
        [ev("agent", 0)],  # proactive invitation nobody answered
        [ev("agent", 0), ev("system", 5)],
        [ev("visitor", 0), ev("system", 5)],  # bot greeting is no agent reply
    ],
)
def test_engaged_chat_decision_not_billable(events: list[ChatEvent]) -> None:
    assert not is_engaged_chat(events)


def test_engaged_chat_decision_proactive_invitation_then_dialogue() -> None:
    events = [ev("agent", 0), ev("visitor", 30), ev("agent", 45)]
    assert first_agent_reply_at(events) == at(45)  # the invitation is not a reply


def test_engaged_chat_decision_counted_in_cycle_of_first_agent_reply(com: BillingPolicy) -> None:
    # first reply at 06:59:59 UTC on Apr 15 = Apr 14 23:59:59 MST: counts in the cycle ending Apr 14
    events = [ev("visitor", 0), ev("agent", 3599), ev("agent", 3700)]
    assert engaged_chat_day(com, events) == d("2025-04-14")
    assert engaged_chat_cycle(com, 15, events) == Cycle(start=d("2025-03-15"), end=d("2025-04-14"))
    later = [ev("visitor", 0), ev("agent", 3600)]  # 07:00 UTC = Apr 15 00:00 MST: the new cycle
    assert engaged_chat_cycle(com, 15, later) == Cycle(start=d("2025-04-15"), end=d("2025-05-14"))
    assert engaged_chat_cycle(com, 15, [ev("visitor", 0)]) is None


# ---- CO-7 agent minutes


@pytest.mark.parametrize(
    ("duration", "expected"),
    [
        (3, 0),  # ends within the 4 s grace
        (4, 0),
        (14, 30),  # 10 s -> 30 s (the seed's example)
        (34, 30),  # exactly 30 s
        (34.001, 60),  # just over -> next increment
        (35, 60),  # 31 s -> 60 s
        (64, 60),
        (65, 90),
    ],
)
def test_co7_rounded_up_to_30s_after_4s_grace(com: BillingPolicy, duration: float, expected: int) -> None:
    assert billable_seconds(com, answered_at=at(0), ended_at=at(duration)) == expected


def test_co7_hold_time_excluded(com: BillingPolicy) -> None:
    # window 4..124 = 120 s, hold 20..50 (30 s) -> 90 s
    assert billable_seconds(com, answered_at=at(0), ended_at=at(124), holds=[(at(20), at(50))]) == 90


def test_co7_overlapping_and_out_of_window_holds(com: BillingPolicy) -> None:
    holds = [(at(20), at(50)), (at(40), at(60)), (at(0), at(10)), (at(200), at(300))]
    # window 4..124; holds merged inside it: 4..10 (6 s) + 20..60 (40 s) -> 74 s worked -> 90 s
    assert billable_seconds(com, answered_at=at(0), ended_at=at(124), holds=holds) == 90


def test_co7_hold_covering_everything_bills_zero(com: BillingPolicy) -> None:
    assert billable_seconds(com, answered_at=at(0), ended_at=at(100), holds=[(at(0), at(100))]) == 0


def test_co7_naive_datetimes_refused(com: BillingPolicy) -> None:
    with pytest.raises(NaiveDatetimeError):
        billable_seconds(com, answered_at=datetime(2025, 1, 1), ended_at=at(10))


def test_co7_units_in_policy_unit(com: BillingPolicy) -> None:
    minutes = BillingPolicy.from_preset("call_on_me", unit="agent_minutes")
    assert billable_units(com, engaged_chats=7, agent_seconds=999) == 7
    assert billable_units(minutes, engaged_chats=7, agent_seconds=90) == Decimal("1.5")
    assert seconds_to_minutes(30) == Decimal("0.5")
