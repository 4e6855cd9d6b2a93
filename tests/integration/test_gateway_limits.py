"""API Gateway's WebSocket limits on the local stack, and the replies that stay within them
(issue 11, cases 4, 5 and 10): the local gateway closes with 1009 on a frame over 32 KB or a
message over 128 KB, refuses a post over 128 KB (413), closes idle and old connections (1001);
`resume` / `acceptConversation` replies are paged under 128 KB; `subscribeQueue` pages through
a flooded queue; a relay post that fails is retried, and a message whose post finally failed
is delivered by the receiver's resume."""

from __future__ import annotations

import dataclasses
import itertools
import json
import time
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from websockets.exceptions import ConnectionClosed

from infra.local.stack import DemoClient
from parley import services
from parley.chat.models import Client, Conversation, ConversationStatus, Message, Role
from parley.chat.paging import MAX_MESSAGE_BYTES
from tests.integration.chat_client import ChatClient, Harness

pytestmark = pytest.mark.integration

_ids = itertools.count(1)


def raw_request(client: ChatClient, action: str, **fields: Any) -> tuple[int, dict[str, Any]]:
    """Send an action; its reply and the reply's size in bytes as it came over the socket."""
    request_id = f"lim{next(_ids)}"
    client.ws.send(json.dumps({"action": action, "requestId": request_id, **fields}))
    while True:
        raw = client.ws.recv(timeout=10)
        frame = json.loads(raw)
        if frame.get("requestId") == request_id:
            return len(raw.encode() if isinstance(raw, str) else raw), frame
        client.events.append(frame)


def ok_with_size(client: ChatClient, action: str, **fields: Any) -> tuple[int, dict[str, Any]]:
    """As `raw_request`, retrying a `rate_limited` refusal after its `retryAfter`."""
    while True:
        size, frame = raw_request(client, action, **fields)
        if frame.get("code") == "rate_limited":
            time.sleep(float(frame["retryAfter"]))
            continue
        assert frame["type"] == "ack", frame
        return size, frame["data"]


def new_connection(stack: Any, harness: Harness, open_socket: Any) -> tuple[ChatClient, str]:
    """Open a socket (`open_socket()`) and learn its connection id from the gateway."""
    before = stack.gateway.open_connection_ids
    client = open_socket()
    client.ok("ping")
    (connection_id,) = stack.gateway.open_connection_ids - before
    return client, connection_id


@pytest.fixture
def desk(local_stack: Any) -> Iterator[tuple[DemoClient, str]]:
    """A client of its own (so floods stay out of the demo clients' queues) and its agent."""
    suffix = next(_ids)
    client_id = f"cl_limits{suffix}{int(time.time())}"
    demo = DemoClient(client_id, "Limits Test Co", f"wk_{client_id}", local_stack.base_url, f"lim-agent-{client_id}",
                      "Lim Agent")
    local_stack.add_client(Client(client_id=client_id, name=demo.name, widget_key=demo.widget_key,
                                  allowed_origins=[demo.origin]))
    local_stack.demo.agent_subs[demo.agent_username] = local_stack.add_agent(demo.agent_username, demo.agent_name,
                                                                             [client_id])
    yield demo, demo.agent_username


@pytest.fixture
def limits(local_stack: Any) -> Iterator[Any]:
    """Lets a test shorten the gateway's limits; puts them back afterwards."""
    before = local_stack.gateway.limits
    try:
        yield local_stack.gateway
    finally:
        local_stack.gateway.limits = before
        local_stack.gateway.connection_fault = None


# --- the local gateway's own limits ------------------------------------------------------------
def test_a_frame_over_32_kb_closes_the_connection_with_1009(chat: Harness) -> None:
    visitor, _ = chat.visitor()
    visitor.ok("ping")
    visitor.ws.send(json.dumps({"action": "ping", "pad": "x" * (32 * 1024)}))
    with pytest.raises(ConnectionClosed) as closed:
        visitor.ws.recv(timeout=10)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 1009


def test_a_fragmented_message_within_128_kb_passes_and_over_it_closes_with_1009(chat: Harness) -> None:
    visitor, _ = chat.visitor()
    # 50 KB in frames of 30,000 bytes: more than a frame, within a message (and the chat's own bound)
    body = json.dumps({"action": "ping", "requestId": "frag1", "pad": "x" * (50 * 1024)})
    visitor.ws.send([body[i:i + 30_000] for i in range(0, len(body), 30_000)])
    assert json.loads(visitor.ws.recv(timeout=10))["requestId"] == "frag1"
    body = json.dumps({"action": "ping", "pad": "x" * (129 * 1024)})
    visitor.ws.send([body[i:i + 30_000] for i in range(0, len(body), 30_000)])
    with pytest.raises(ConnectionClosed) as closed:
        visitor.ws.recv(timeout=10)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 1009


def test_a_post_over_128_kb_is_refused_413_and_the_connection_stays(local_stack: Any, chat: Harness) -> None:
    visitor, connection_id = new_connection(local_stack, chat, lambda: chat.visitor()[0])
    api = boto3.client("apigatewaymanagementapi", endpoint_url=local_stack.gateway.management_endpoint,
                       region_name="us-east-1")
    refused_before = local_stack.gateway.traffic.refused_posts
    with pytest.raises(ClientError) as refused:
        api.post_to_connection(ConnectionId=connection_id, Data=b"x" * (MAX_MESSAGE_BYTES + 1))
    assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 413
    assert refused.value.response["Error"]["Code"] == "PayloadTooLargeException"
    assert local_stack.gateway.traffic.refused_posts == refused_before + 1
    api.post_to_connection(ConnectionId=connection_id, Data=b'{"type":"test","n":1}')  # at the limit's side
    assert visitor.next_event("test")["n"] == 1
    visitor.ok("ping")


def test_an_idle_connection_is_closed_with_1001_and_frames_keep_it_open(limits: Any, chat: Harness) -> None:
    limits.limits = dataclasses.replace(limits.limits, idle_seconds=1.0)
    idle, _ = chat.visitor()
    busy, _ = chat.visitor()
    with pytest.raises(ConnectionClosed) as closed:
        for _ in range(30):  # the busy one pings every 0.2 s for as long as the idle one stays open
            busy.ok("ping")
            try:
                idle.ws.recv(timeout=0.2)
            except TimeoutError:
                continue
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 1001
    busy.ok("ping")  # frames reset the idle clock: still open


def test_a_connection_is_closed_with_1001_at_the_end_of_its_lifetime_however_busy(limits: Any,
                                                                                  chat: Harness) -> None:
    limits.limits = dataclasses.replace(limits.limits, lifetime_seconds=1.0)
    visitor, _ = chat.visitor()
    with pytest.raises(ConnectionClosed) as closed:
        for _ in range(50):
            visitor.ok("ping")
            time.sleep(0.1)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 1001


# --- replies paged under 128 KB ----------------------------------------------------------------
def test_a_164_kb_conversation_is_resumed_and_accepted_in_pages_under_128_kb(local_stack: Any, chat: Harness,
                                                                              desk: tuple[DemoClient, str]) -> None:
    demo, agent_name = desk
    visitor, _ = chat.visitor(demo)
    text = "".join(f"{i:04d} lorem ipsum dolor sit amet; " for i in range(200))[:4000]
    _, started = ok_with_size(visitor, "startConversation", text=text)
    cid = started["conversation"]["conversationId"]
    for _ in range(40):
        ok_with_size(visitor, "sendMessage", conversationId=cid, text=text)
    whole = sum(len(json.dumps(m, separators=(",", ":"))) for m in
                (Message.model_validate(i).public() for i in _stored_messages(cid)))
    assert whole > 160_000  # the conversation: 41 messages of 4,000 characters

    agent = chat.agent(agent_name)
    size, accepted = ok_with_size(agent, "acceptConversation", conversationId=cid)
    assert size <= MAX_MESSAGE_BYTES and accepted["hasMore"] is True
    seqs = [m["seq"] for m in accepted["messages"]]
    while True:  # the client's rule: resume from the last seq received until hasMore is false
        size, page = ok_with_size(agent, "resume", conversationId=cid, sinceSeq=seqs[-1])
        assert size <= MAX_MESSAGE_BYTES
        seqs += [m["seq"] for m in page["messages"]]
        if not page["hasMore"]:
            break
    last_seq = page["conversation"]["lastSeq"]
    assert seqs == list(range(1, last_seq + 1))  # 41 messages and the join, each once, in order

    pages = 0
    got: list[int] = []
    more = True
    while more:
        size, page = ok_with_size(visitor, "resume", conversationId=cid, sinceSeq=got[-1] if got else 0)
        assert size <= MAX_MESSAGE_BYTES
        got += [m["seq"] for m in page["messages"]]
        more = page["hasMore"]
        pages += 1
    assert got == list(range(1, last_seq + 1)) and pages >= 2
    assert all(len(m["text"]) == 4000 for m in page["messages"] if m["kind"] == "text")
    assert local_stack.gateway.traffic.refused_responses == 0


def _stored_messages(conversation_id: str) -> list[dict[str, Any]]:
    repo = services.chat_repository()
    found, more = repo.messages_since(conversation_id, 0)
    while more:
        page, more = repo.messages_since(conversation_id, found[-1].seq)
        found += page
    return [m.model_dump() for m in found]


# --- the flooded queue -------------------------------------------------------------------------
def test_with_505_chats_waiting_an_agent_pages_the_queue_newest_first_with_the_total(
        local_stack: Any, chat: Harness, desk: tuple[DemoClient, str]) -> None:
    demo, agent_name = desk
    repo = services.chat_repository()
    start = local_stack.clock.now() - timedelta(hours=2)
    for i in range(504):  # the flood, written as startConversation writes it
        at = start + timedelta(seconds=i)
        conversation = Conversation(conversation_id=f"cv_flood{i:04d}{demo.client_id[-6:]}", client_id=demo.client_id,
                                    status=ConversationStatus.WAITING, visitor_id=f"v_flood{i}", visitor_name="Flood",
                                    last_seq=1, created_at=at, preview="spam " * 20, visitor_messages=1)
        repo.create_conversation(conversation, Message(
            conversation_id=conversation.conversation_id, client_id=demo.client_id, seq=1, role=Role.VISITOR,
            sender_id=conversation.visitor_id, text="spam " * 20, sent_at=at), "no-connection")
    visitor, _ = chat.visitor(demo)
    real = visitor.ok("startConversation", text="I am a real customer")["conversation"]["conversationId"]

    agent = chat.agent(agent_name)
    size, newest = ok_with_size(agent, "subscribeQueue", order="newest", limit=10)
    assert size <= MAX_MESSAGE_BYTES
    assert newest["waiting"][0]["conversationId"] == real
    assert newest["waitingTotal"] == 505 and len(newest["waiting"]) == 10 and newest["nextCursor"]

    seen: list[dict[str, Any]] = []
    cursor: str | None = None
    pages = 0
    while True:
        _, page = ok_with_size(agent, "subscribeQueue", limit=100, **({"cursor": cursor} if cursor else {}))
        assert page["waitingTotal"] == 505
        seen += page["waiting"]
        pages += 1
        cursor = page["nextCursor"]
        if cursor is None:
            break
    ids = [c["conversationId"] for c in seen]
    assert len(ids) == len(set(ids)) == 505 and pages == 6
    assert [c["createdAt"] for c in seen] == sorted(c["createdAt"] for c in seen) and ids[-1] == real

    second = agent.ok("subscribeQueue", order="newest", limit=10, cursor=newest["nextCursor"])
    assert [c["conversationId"] for c in second["waiting"]] == [c["conversationId"] for c in reversed(seen)][10:20]
    refused = agent.request("subscribeQueue", order="oldest", cursor=newest["nextCursor"])
    assert refused["type"] == "error" and refused["code"] == "invalid_request"
    for bad in ({"limit": 0}, {"limit": 101}, {"limit": "5"}, {"order": "random"}, {"cursor": "not a cursor"}):
        assert agent.request("subscribeQueue", **bad)["code"] == "invalid_request", bad


# --- relay posts that fail ---------------------------------------------------------------------
def _active_chat(local_stack: Any, chat: Harness,
                 desk: tuple[DemoClient, str]) -> tuple[ChatClient, str, ChatClient, str]:
    demo, agent_name = desk
    visitor, visitor_connection = new_connection(local_stack, chat, lambda: chat.visitor(demo)[0])
    cid = visitor.ok("startConversation", text="hello")["conversation"]["conversationId"]
    agent = chat.agent(agent_name)
    agent.ok("acceptConversation", conversationId=cid)
    visitor.next_event("conversation.accepted")
    return visitor, visitor_connection, agent, cid


def test_a_throttled_relay_post_is_retried_and_arrives_live(local_stack: Any, chat: Harness, limits: Any,
                                                             desk: tuple[DemoClient, str]) -> None:
    visitor, connection_id, agent, cid = _active_chat(local_stack, chat, desk)
    answers = iter([429, 503])
    calls: list[str] = []

    def fault(method: str, target: str) -> int | None:
        if target != connection_id or method != "POST":
            return None
        calls.append(method)
        return next(answers, None)

    limits.connection_fault = fault
    sent = agent.ok("sendMessage", conversationId=cid, text="are you there?")["message"]
    assert visitor.next_event("message")["message"]["seq"] == sent["seq"]
    assert calls == ["POST", "POST", "POST"]  # 429, 503, then delivered


def test_a_relay_post_that_keeps_failing_is_delivered_by_the_next_resume(local_stack: Any, chat: Harness,
                                                                         limits: Any,
                                                                         desk: tuple[DemoClient, str]) -> None:
    visitor, connection_id, agent, cid = _active_chat(local_stack, chat, desk)
    failed: list[str] = []

    def fault(method: str, target: str) -> int | None:
        if target == connection_id and method == "POST":
            failed.append(method)
            return 500
        return None

    limits.connection_fault = fault
    sent = agent.ok("sendMessage", conversationId=cid, text="the message the network lost")["message"]
    visitor.no_event()
    assert len(failed) == 3  # the whole retry budget
    limits.connection_fault = None
    conversation = services.chat_repository().get_conversation(cid)
    assert conversation is not None and connection_id in conversation.connections  # still open: kept
    resumed = visitor.ok("resume", conversationId=cid, sinceSeq=sent["seq"] - 1)
    assert [m["text"] for m in resumed["messages"]] == ["the message the network lost"]


def test_a_post_failing_on_a_closing_socket_forgets_the_connection(local_stack: Any, chat: Harness, limits: Any,
                                                                   desk: tuple[DemoClient, str]) -> None:
    _, connection_id, agent, cid = _active_chat(local_stack, chat, desk)
    # A socket that is closing: API Gateway answers its posts with 500 and no longer knows it.
    limits.connection_fault = lambda method, target: (
        None if target != connection_id else 500 if method == "POST" else 410 if method == "GET" else None)
    agent.ok("sendMessage", conversationId=cid, text="into the void")
    conversation = services.chat_repository().get_conversation(cid)
    assert conversation is not None and connection_id not in conversation.connections
    assert services.chat_repository().get_connection(connection_id) is None
