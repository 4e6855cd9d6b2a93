"""A hypothesis fuzz of WebSocket frames through the frame guard and the chat service (against
in-process moto DynamoDB): every bad frame gets an error frame with a documented code (never
`internal_error`), a refused frame stores and relays nothing, and the connection stays usable."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from moto import mock_aws

from parley.chat.identity import from_context
from parley.ws import guarded_action
from tests.unit.chat.test_chat_service import World, start

# The error codes docs/protocol.md documents for chat actions.
DOCUMENTED = {"invalid_json", "invalid_request", "unknown_action", "empty_message", "message_too_long",
              "invalid_prechat", "not_found", "forbidden", "conversation_closed", "not_accepted", "already_taken",
              "rate_limited", "send_in_progress", "service_unavailable", "not_serving_client", "agent_unavailable",
              "account_disabled"}
ACTIONS = ["ping", "startConversation", "sendMessage", "typing", "closeConversation", "resume", "subscribeQueue",
           "acceptConversation", "setStatus", "transferConversation"]
FUZZ = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-2**70, 2**70) | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)
lone_surrogates = st.sampled_from(["\ud800", "a\udbff", "\udc00b", "x\udfffy"])


class Desk:
    def __init__(self, world: World) -> None:
        self.world = world
        self.visitor, self.agent = world.visitor("V1"), world.agent("A1")
        self.cid = start(world, self.visitor, self.agent)

    def valid(self, action: str) -> dict[str, Any]:
        fields: dict[str, dict[str, Any]] = {
            "startConversation": {"text": "hi"}, "sendMessage": {"conversationId": self.cid, "text": "hi"},
            "typing": {"conversationId": self.cid, "isTyping": True},
            "closeConversation": {"conversationId": self.cid}, "resume": {"conversationId": self.cid, "sinceSeq": 0},
            "acceptConversation": {"conversationId": self.cid}, "setStatus": {"status": "online"},
            "transferConversation": {"conversationId": self.cid, "toTeamId": "tm_x"},
        }
        return {"action": action, "requestId": "fz", **fields.get(action, {})}

    def state(self) -> tuple[Any, ...]:
        conversation = self.world.chat.get_conversation(self.cid)
        messages, _ = self.world.chat.messages_since(self.cid, 0)
        return (conversation.last_seq if conversation else None, len(messages),
                len(self.world.chat.conversations_of_client("cl_a")))

    def send(self, conn: str, body: str) -> dict[str, Any]:
        identity = from_context(self.world.contexts[conn])
        reply = guarded_action(body, lambda action: {
            "type": "ack", "data": self.world.service.handle(conn, identity, action)})
        assert reply["statusCode"] == 200
        frame: dict[str, Any] = json.loads(reply["body"])
        return frame

    def check(self, body: str, conn: str | None = None) -> None:
        conn = conn or self.visitor
        before, posts = self.state(), len(self.world.relay.posts)
        frame = self.send(conn, body)
        if frame["type"] == "error":
            assert frame["code"] in DOCUMENTED, frame
            assert self.state() == before, frame
            assert len(self.world.relay.posts) == posts, frame
        assert self.send(conn, '{"action": "ping"}') == {"type": "ack", "data": {}}  # still usable


@pytest.fixture
def desk() -> Iterator[Desk]:
    with mock_aws():
        yield Desk(World())


@FUZZ
@given(body=st.text(max_size=200) | json_values.map(json.dumps))
def test_arbitrary_text_and_json(desk: Desk, body: str) -> None:
    desk.check(body)


@FUZZ
@given(action=st.sampled_from(ACTIONS), field=st.sampled_from(
    ["action", "conversationId", "text", "isTyping", "sinceSeq", "status", "clientMessageId", "requestId",
     "preChat", "toAgentId", "note"]), value=json_values, agent=st.booleans())
def test_a_valid_frame_with_one_field_of_any_value(desk: Desk, action: str, field: str, value: Any,
                                                   agent: bool) -> None:
    desk.check(json.dumps({**desk.valid(action), field: value}), desk.agent if agent else desk.visitor)


@FUZZ
@given(action=st.sampled_from(ACTIONS), field=st.sampled_from(["text", "conversationId", "clientMessageId",
                                                               "requestId", "name"]),
       bad=lone_surrogates, depth=st.integers(0, 3000))
def test_surrogates_and_depth(desk: Desk, action: str, field: str, bad: str, depth: int) -> None:
    frame = json.dumps({**desk.valid(action), field: bad})  # json.dumps escapes the surrogate
    assert desk.send(desk.visitor, frame)["code"] in {"invalid_request", "unknown_action"}
    nested = json.dumps({**desk.valid(action), "extra": 0}).replace("0}", "[" * depth + "]" * depth + "}")
    desk.check(nested)
