"""Metering on the fakes: the engaged-chat rule of parley.billing.metering applied to stream
images, counted once per conversation, in the right cycle; agent time (CO-7); CH-5 upgrades."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from parley.ledger.models import TRIAL_CYCLE
from parley.ledger.usage import ClosedChat, EngagedChat, became_closed, became_engaged
from tests.unit.ledger.world import START, World

T0 = datetime(2026, 3, 10, 18, 0, tzinfo=UTC)


def image(**fields: Any) -> dict[str, Any]:
    base: dict[str, Any] = {"pk": "CONV#cv_1", "sk": "META", "client_id": "cl_a", "conversation_id": "cv_1",
                            "created_at": T0.isoformat(), "first_visitor_message_at": T0.isoformat(),
                            "visitor_messages": 1, "status": "active"}
    return {k: v for k, v in {**base, **fields}.items() if v is not None}


def test_the_first_agent_reply_after_the_visitor_spoke_makes_the_chat_engaged() -> None:
    replied = T0 + timedelta(seconds=40)
    chat = became_engaged(image(), image(first_agent_reply_at=replied.isoformat()))
    assert chat == EngagedChat("cl_a", "cv_1", replied, T0)


@pytest.mark.parametrize(("old", "new"), [
    (image(), image()),  # no reply yet
    (image(first_agent_reply_at=T0.isoformat()), image(first_agent_reply_at=T0.isoformat())),  # replied earlier
    (image(first_visitor_message_at=None, visitor_messages=0),  # an agent wrote, no visitor ever did
     image(first_visitor_message_at=None, visitor_messages=0, first_agent_reply_at=T0.isoformat())),
    (image(first_visitor_message_at=(T0 + timedelta(minutes=5)).isoformat()),  # an invitation before the visitor
     image(first_visitor_message_at=(T0 + timedelta(minutes=5)).isoformat(), first_agent_reply_at=T0.isoformat())),
])
def test_changes_that_do_not_make_a_chat_engaged(old: dict[str, Any], new: dict[str, Any]) -> None:
    assert became_engaged(old, new) is None


def test_closing_an_accepted_chat_counts_its_agent_time_once() -> None:
    accepted, closed = T0.isoformat(), (T0 + timedelta(minutes=3)).isoformat()
    before = image(accepted_at=accepted)
    after = image(accepted_at=accepted, status="closed", closed_at=closed)
    assert became_closed(before, after) == ClosedChat("cl_a", "cv_1", T0, T0 + timedelta(minutes=3))
    assert became_closed(after, after) is None  # already closed
    assert became_closed(image(), image(status="closed", closed_at=closed)) is None  # never accepted


def test_engaged_chats_count_once_in_the_trial_or_the_paid_cycle() -> None:
    world = World()
    world.client("cl_trial")
    world.paying("cl_paid")
    now = world.clock.now()
    chats = [EngagedChat("cl_trial", "cv_t1", now, now - timedelta(seconds=20)),
             EngagedChat("cl_paid", "cv_p1", now, now - timedelta(seconds=10)),
             EngagedChat("cl_paid", "cv_p2", now, now - timedelta(seconds=30)),
             EngagedChat("cl_unknown", "cv_u1", now, now)]
    assert world.billing.metering.meter(chats) == {"cl_trial"}  # trial usage grew: CO-4 check follows
    assert world.billing.metering.meter(chats[1:2]) == set()  # a redelivered record
    assert world.ledger.usage("cl_trial", TRIAL_CYCLE).engaged_chats == 1
    paid = world.ledger.usage("cl_paid", START.isoformat())
    assert (paid.engaged_chats, paid.first_response_seconds) == (2, 40)


def test_a_batch_larger_than_one_transaction_is_counted_whole() -> None:
    world = World()
    world.paying()
    now = world.clock.now()
    world.billing.metering.meter([EngagedChat("cl_a", f"cv_{i}", now, now) for i in range(250)])
    world.billing.metering.meter([EngagedChat("cl_a", f"cv_{i}", now, now) for i in range(240, 260)])
    assert world.ledger.usage("cl_a", START.isoformat()).engaged_chats == 260


def test_agent_time_is_rounded_up_per_chat_after_the_grace_co_7() -> None:
    world = World()
    world.paying()
    now = world.clock.now()
    grace = world.policy.answer_grace_seconds
    increment = world.policy.rounding_increment_seconds
    chats = [ClosedChat("cl_a", "cv_1", now - timedelta(seconds=grace + 1), now),  # 1 s -> one increment
             ClosedChat("cl_a", "cv_2", now - timedelta(seconds=grace + increment + 1), now),  # -> two
             ClosedChat("cl_a", "cv_3", now - timedelta(seconds=grace), now)]  # nothing after the grace
    world.billing.metering.meter_agent_time(chats)
    world.billing.metering.meter_agent_time(chats)  # redelivered
    assert world.ledger.usage("cl_a", START.isoformat()).agent_seconds == 3 * increment


def test_usage_beyond_the_package_upgrades_at_once_ch_5() -> None:
    world = World("chat_outsource")
    plans = world.billing.config.rules().catalog.plans
    smallest = plans[0]
    world.paying(plan=smallest.id)
    now = world.clock.now()
    world.billing.metering.meter([EngagedChat("cl_a", f"cv_{i}", now, now)
                                  for i in range(smallest.included_units)])
    assert world.account().upgraded_plan_id is None  # at the limit: not beyond it
    world.billing.metering.meter([EngagedChat("cl_a", "cv_over", now, now)])
    account = world.account()
    assert account.upgraded_plan_id == plans[1].id
    assert [h.detail["rule"] for h in world.history(kind="package_upgraded")] == ["CH-5"]


def test_one_delivery_of_many_chats_upgrades_through_each_package_it_passes_ch_5() -> None:
    """300 chats in one call are counted in transactions of 99: the second passes the starter's
    100, the fourth growth's 250; each upgrade works on the account the previous one left
    (a stale version failed the whole stream batch with ConcurrentUpdate)."""
    world = World("chat_outsource")
    plans = world.billing.config.rules().catalog.plans
    world.paying(plan=plans[0].id)
    now = world.clock.now()
    world.billing.metering.meter([EngagedChat("cl_a", f"cv_{i}", now, now) for i in range(300)])
    assert world.account().upgraded_plan_id == plans[2].id  # business: the smallest covering 300
    assert [h.detail["to_plan_id"] for h in world.history(kind="package_upgraded")] == [plans[1].id, plans[2].id]
