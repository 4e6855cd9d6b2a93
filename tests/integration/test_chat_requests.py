"""DynamoDB requests per relayed message through the whole local stack — the gateway, the
`$connect` authorizer's context on every event, the handlers in their own environments —
counted where they arrive (moto's server), not timed."""

from __future__ import annotations

import time
from collections import Counter

import pytest

from bench.counting import REVOCATION_READ, ServerCounter, classify_revocation
from infra.local.stack import LocalStack
from tests.integration.chat_client import Harness
from tests.integration.test_chat_relay import start_and_accept

pytestmark = pytest.mark.integration


def quiet(counter: ServerCounter, seconds: float = 0.5, limit: float = 30) -> None:
    """Wait until nothing reached moto for `seconds` (earlier tests' disconnects, say)."""
    deadline = time.monotonic() + limit
    time.sleep(seconds)
    while counter.idle_for() < seconds:
        assert time.monotonic() < deadline, "the stack did not go quiet"
        time.sleep(0.05)


def test_a_relayed_message_costs_two_dynamodb_requests_at_10_and_60_open_connections(
        chat: Harness, local_stack: LocalStack) -> None:
    counter = ServerCounter(posts=lambda: int(local_stack.gateway.traffic.posts),
                            classify=classify_revocation).install(local_stack)
    try:
        agent = chat.agent()
        agent.ok("subscribeQueue")
        visitor, cid = start_and_accept(chat, agent)
        per_message: list[dict[tuple[str, str], int]] = []
        for idle in (10, 60):
            while len(chat.opened) - 2 < idle:  # other visitors of another client, connected and silent
                chat.visitor(local_stack.demo.harbor)
            quiet(counter)
            for sender, receiver in ((visitor, agent), (agent, visitor)) * 3:
                before = counter.snapshot()
                sender.ok("sendMessage", conversationId=cid, text=f"{idle} idle")
                receiver.next_event("message")
                per_message.append(dict((counter.snapshot() - before).calls))
        # An action may also refresh the revocation cache (issue 10/11: one GetItem of the agent,
        # or of the visitor's client, per environment per 30 s, not per message); it is named
        # apart and bounded here.
        revocation_reads = [m.pop(("dynamodb", REVOCATION_READ), 0) for m in per_message]
        assert per_message == [{("dynamodb", "UpdateItem"): 1, ("dynamodb", "PutItem"): 1,
                                ("apigw", "PostToConnection"): 1}] * 12
        assert all(n <= 1 for n in revocation_reads)  # at most one read of the sender's status
        # A stranger's message is refused by the same single conditional update: nothing written.
        stranger, _ = chat.visitor()
        quiet(counter)
        before = counter.snapshot()
        assert stranger.request("sendMessage", conversationId=cid, text="let me in")["code"] == "not_found"
        calls = Counter((counter.snapshot() - before).calls)
        assert calls.pop(("dynamodb", REVOCATION_READ), 0) <= 1
        assert calls == Counter({("dynamodb", "UpdateItem"): 1})
    finally:
        counter.close()
