"""The widget's "are we open" answer on the local stack, driven by the controllable clock.

A client on the call_on_me hours (CO-8: 8am-5pm MST on weekdays) is open at 16:59 MST and
closed at 17:00, as a person moving the local clock would see it; with after-hours coverage
(PR-2) it stays open; a client without hours is always open.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from parley.chat.models import Client
from parley.clock import iso
from parley.hours.client_hours import with_hours
from tests.integration.chat_client import Harness

pytestmark = pytest.mark.integration

MST = timezone(timedelta(hours=-7))
ORIGIN = "http://hours-test.example"


# Month -> days on which a CO-8 closed day or short day can fall (or the day after one).
CO8_WINDOWS = {1: range(1, 2), 5: range(25, 32), 7: range(3, 6), 9: range(1, 9), 11: range(21, 30),
               12: range(23, 32)}


def next_plain_weekday_at(now: datetime, hour: int, minute: int) -> datetime:
    """hour:minute MST on the first Tuesday, Wednesday or Thursday after `now` that is a normal
    working day followed by another one (no CO-8 holiday near)."""
    day = now.astimezone(MST).date() + timedelta(days=1)
    while day.weekday() not in (1, 2, 3) or day.day in CO8_WINDOWS.get(day.month, ()):
        day += timedelta(days=1)
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=MST)


@pytest.fixture
def frozen(local_stack: Any) -> Iterator[Any]:
    local_stack.clock.set(local_stack.clock.now())  # exact instants for the test; real speed after
    try:
        yield local_stack
    finally:
        local_stack.clock.unfreeze()


def add_client(stack: Any, client_id: str, hours: dict[str, Any] | None) -> str:
    widget_key = f"wk_{client_id}"
    client = Client(client_id=client_id, name=client_id, widget_key=widget_key, allowed_origins=[ORIGIN])
    stack.add_client(with_hours(client, hours))
    return widget_key


def test_a_call_on_me_client_closes_at_5_pm_mst(chat: Harness, frozen: Any) -> None:
    plain = add_client(frozen, "cl_hours_plain", {"preset": "call_on_me"})
    covered = add_client(frozen, "cl_hours_covered", {"preset": "call_on_me", "after_hours_coverage": True})
    always = chat.stack.demo.sierra
    before = next_plain_weekday_at(frozen.clock.now(), 16, 59)
    frozen.advance(before - frozen.clock.now())

    session = chat.visitor_session(plain, ORIGIN)
    assert session["open"] is True
    assert session["nextChange"] == iso(before + timedelta(minutes=1))  # 17:00 MST = 00:00Z

    frozen.advance(timedelta(minutes=1))
    session = chat.visitor_session(plain, ORIGIN)
    assert session["open"] is False
    next_morning = (before + timedelta(days=1)).replace(hour=8, minute=0)
    assert session["nextChange"] == iso(next_morning)
    assert datetime.fromisoformat(session["nextChange"]) == next_morning.astimezone(UTC)

    session = chat.visitor_session(covered, ORIGIN)
    assert (session["open"], session["nextChange"]) == (True, None)
    session = chat.visitor_session(always.widget_key, always.origin)
    assert (session["open"], session["nextChange"]) == (True, None)
