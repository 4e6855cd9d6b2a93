"""What counts as a billable unit: engaged chats, or agent minutes rounded per CO-7.

Pure rules only; ``usage_meter`` applies them to the DynamoDB stream and stores counts
idempotently.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict

from parley.billing.calendar import Cycle, cycle_for, to_business_date
from parley.billing.errors import InvalidBillingInput, NaiveDatetimeError
from parley.billing.money import ceil_to_multiple
from parley.billing.policy import BillingPolicy

Sender = Literal["visitor", "agent", "system"]

_MICROSECONDS = 1_000_000
_SIXTY = Decimal(60)


class ChatEvent(BaseModel):
    """One message of a conversation, as metering sees it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    sender: Sender
    at: datetime


def first_agent_reply_at(events: Iterable[ChatEvent]) -> datetime | None:
    """Engaged-chat Decision: when an agent first replied, or ``None`` if never.

    Events are taken in conversation order (sequence numbers). A reply is an agent message
    *after* at least one visitor message: a proactive invitation the visitor never answered,
    an agent message before the visitor spoke, and system/bot messages are not replies.
    """
    visitor_spoke = False
    for event in events:
        if event.sender == "visitor":
            visitor_spoke = True
        elif event.sender == "agent" and visitor_spoke:
            return event.at
    return None


def is_engaged_chat(events: Iterable[ChatEvent]) -> bool:
    """Engaged-chat Decision: the visitor sent >= 1 message and an agent replied >= 1 time."""
    return first_agent_reply_at(events) is not None


def engaged_chat_day(policy: BillingPolicy, events: Iterable[ChatEvent]) -> date | None:
    """The business day an engaged chat counts on (its first agent reply), else ``None``.

    Counted once, in the cycle containing this day, however long the chat lasts.
    """
    reply = first_agent_reply_at(events)
    return None if reply is None else to_business_date(reply, policy.zone)


def engaged_chat_cycle(policy: BillingPolicy, anchor_day: int, events: Iterable[ChatEvent]) -> Cycle | None:
    """The client's billing cycle an engaged chat is counted in (CO-9 cycles), else ``None``."""
    day = engaged_chat_day(policy, events)
    return None if day is None else cycle_for(anchor_day, day)


def _aware(moment: datetime, name: str) -> None:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise NaiveDatetimeError(f"{name} {moment.isoformat()} has no time zone")


def _micros(delta: timedelta) -> int:
    return (delta.days * 86_400 + delta.seconds) * _MICROSECONDS + delta.microseconds


def billable_seconds(
    policy: BillingPolicy,
    *,
    answered_at: datetime,
    ended_at: datetime,
    holds: Sequence[tuple[datetime, datetime]] = (),
) -> int:
    """CO-7: one chat's billable agent time in seconds, a multiple of the rounding increment.

    Time counts from ``answer_grace_seconds`` (4 s) after ``answered_at`` (when the agent
    took the chat) to ``ended_at``, minus hold intervals (overlaps merged, clipped to that
    window), then rounded *up* to the next ``rounding_increment_seconds`` (30 s): 10 s
    bills 30 s, 30 s bills 30 s, 31 s bills 60 s. Nothing left after the grace bills 0.
    """
    _aware(answered_at, "answered_at")
    _aware(ended_at, "ended_at")
    start = answered_at + timedelta(seconds=policy.answer_grace_seconds)
    if ended_at <= start:
        return 0
    clipped: list[tuple[datetime, datetime]] = []
    for hold_start, hold_end in holds:
        _aware(hold_start, "hold start")
        _aware(hold_end, "hold end")
        if hold_end < hold_start:
            raise InvalidBillingInput("a hold interval ends before it starts")
        low, high = max(hold_start, start), min(hold_end, ended_at)
        if high > low:
            clipped.append((low, high))
    on_hold = 0
    cursor: datetime | None = None
    for low, high in sorted(clipped):
        if cursor is not None and low < cursor:
            low = cursor
        if high > low:
            on_hold += _micros(high - low)
        cursor = high if cursor is None else max(cursor, high)
    worked = _micros(ended_at - start) - on_hold
    increment = policy.rounding_increment_seconds * _MICROSECONDS
    return ceil_to_multiple(max(0, worked), increment) // _MICROSECONDS


def seconds_to_minutes(seconds: int) -> Decimal:
    """Agent seconds as minutes (exact for increments that are multiples of 3 s, e.g. 30 s -> 0.5)."""
    if seconds < 0:
        raise InvalidBillingInput("seconds must be >= 0")
    return Decimal(seconds) / _SIXTY


def billable_units(policy: BillingPolicy, *, engaged_chats: int = 0, agent_seconds: int = 0) -> Decimal:
    """A cycle's usage in the policy's unit: engaged chats, or billable agent minutes (CO-7)."""
    if engaged_chats < 0 or agent_seconds < 0:
        raise InvalidBillingInput("usage counts must be >= 0")
    if policy.unit == "engaged_chat":
        return Decimal(engaged_chats)
    return seconds_to_minutes(agent_seconds)
