"""A visitor and an agent talk through the local stack: the real handlers, moto, the local
gateway's WebSocket and @connections implementations."""

from __future__ import annotations

import time
from typing import Any

import pytest

from infra.local.stack import LocalStack
from tests.integration.chat_client import ChatClient, Harness

pytestmark = pytest.mark.integration


def start_and_accept(chat: Harness, agent: ChatClient, text: str = "Hi, is the red pickup still for sale?",
                     client: Any = None) -> tuple[ChatClient, str]:
    visitor, _ = chat.visitor(client)
    started = visitor.ok("startConversation", text=text, name="Dana")
    conversation_id = started["conversation"]["conversationId"]
    waiting = agent.next_event("conversation.waiting")
    while waiting["conversation"]["conversationId"] != conversation_id:
        waiting = agent.next_event("conversation.waiting")
    accepted = agent.ok("acceptConversation", conversationId=conversation_id)
    assert accepted["messages"][0]["text"] == text
    joined = visitor.next_event("conversation.accepted")
    assert joined["conversation"]["status"] == "active"
    return visitor, conversation_id


def test_visitor_and_agent_exchange_messages_in_order_both_ways(chat: Harness) -> None:
    agent = chat.agent()
    agent.ok("subscribeQueue")
    visitor, cid = start_and_accept(chat, agent)
    for i in range(5):
        sent = visitor.ok("sendMessage", conversationId=cid, text=f"visitor {i}")["message"]
        relayed = agent.next_event("message")["message"]
        assert relayed == sent
        reply = agent.ok("sendMessage", conversationId=cid, text=f"agent {i}")["message"]
        assert visitor.next_event("message")["message"] == reply
        assert reply["seq"] == sent["seq"] + 1
    history = visitor.ok("resume", conversationId=cid, sinceSeq=0)["messages"]
    seqs = [m["seq"] for m in history]
    assert seqs == list(range(1, len(history) + 1))  # 1..n, no gaps, oldest first
    texts = [m["text"] for m in history if m["kind"] == "text"]
    assert texts[1:] == [t for i in range(5) for t in (f"visitor {i}", f"agent {i}")]


def test_agents_of_the_client_see_the_queue_live_and_only_one_accepts(chat: Harness,
                                                                      local_stack: LocalStack) -> None:
    first = chat.agent()
    second = chat.agent(chat.ensure_agent("carmen", "Carmen Diaz", local_stack.demo.sierra.client_id))
    first.ok("subscribeQueue")
    second.ok("subscribeQueue")
    visitor, _ = chat.visitor()
    cid = visitor.ok("startConversation", text="Do you take trade-ins?")["conversation"]["conversationId"]
    for agent in (first, second):
        while agent.next_event("conversation.waiting")["conversation"]["conversationId"] != cid:
            pass
    assert cid in [c["conversationId"] for c in second.ok("subscribeQueue")["waiting"]]
    first.ok("acceptConversation", conversationId=cid)
    taken = second.next_event("conversation.accepted")
    assert taken["conversation"]["conversationId"] == cid
    refused = second.request("acceptConversation", conversationId=cid)
    assert refused["code"] == "already_taken"
    assert cid not in [c["conversationId"] for c in second.ok("subscribeQueue")["waiting"]]
    assert cid in [c["conversationId"] for c in first.ok("subscribeQueue")["mine"]]


def test_an_agent_holds_several_chats_and_each_visitor_hears_only_its_own(chat: Harness) -> None:
    agent = chat.agent()
    agent.ok("subscribeQueue")
    pairs = [start_and_accept(chat, agent, text=f"question {i}") for i in range(3)]
    for i, (_, cid) in enumerate(pairs):
        agent.ok("sendMessage", conversationId=cid, text=f"answer {i}")
    for i, (visitor, _) in enumerate(pairs):
        assert visitor.next_event("message")["message"]["text"] == f"answer {i}"
        visitor.no_event()


def test_two_tenants_are_isolated(chat: Harness, local_stack: LocalStack) -> None:
    sierra_agent, harbor_agent = chat.agent(), chat.agent(local_stack.demo.harbor.agent_username)
    sierra_agent.ok("subscribeQueue")
    harbor_agent.ok("subscribeQueue")
    visitor, cid = start_and_accept(chat, sierra_agent)
    harbor_visitor, _ = chat.visitor(local_stack.demo.harbor)
    harbor_cid = harbor_visitor.ok("startConversation", text="I need a cleaning")["conversation"]["conversationId"]

    # The other tenant's agent never hears of the conversation and cannot touch it.
    assert harbor_agent.next_event("conversation.waiting")["conversation"]["conversationId"] == harbor_cid
    assert cid not in str(harbor_agent.ok("subscribeQueue"))
    for action, fields in [("acceptConversation", {}), ("sendMessage", {"text": "hello"}),
                           ("resume", {"sinceSeq": 0}), ("typing", {"isTyping": True}),
                           ("closeConversation", {})]:
        assert harbor_agent.request(action, conversationId=cid, **fields)["code"] == "not_found"
    # Nor can a visitor of another tenant, nor another visitor of the same tenant.
    other_visitor, _ = chat.visitor()
    for intruder in (harbor_visitor, other_visitor):
        assert intruder.request("sendMessage", conversationId=cid, text="hi")["code"] == "not_found"
        assert intruder.request("resume", conversationId=cid, sinceSeq=0)["code"] == "not_found"
    # …and nothing was stored: the conversation still holds exactly its 2 events.
    assert [m["seq"] for m in visitor.ok("resume", conversationId=cid, sinceSeq=0)["messages"]] == [1, 2]
    visitor.no_event()


def test_reconnecting_visitor_resumes_what_it_missed(chat: Harness) -> None:
    agent = chat.agent()
    agent.ok("subscribeQueue")
    visitor, session = chat.visitor()
    cid = visitor.ok("startConversation", text="hello")["conversation"]["conversationId"]
    agent.ok("acceptConversation", conversationId=cid)
    last_seen = visitor.next_event("conversation.accepted")["message"]["seq"]
    visitor.close()

    missed = [agent.ok("sendMessage", conversationId=cid, text=f"while away {i}")["message"] for i in range(3)]
    back, again = chat.visitor(token=session["visitorToken"])
    assert again["visitorId"] == session["visitorId"]  # the same visitor keeps its history
    resumed = back.ok("resume", conversationId=cid, sinceSeq=last_seen)
    assert resumed["messages"] == missed
    live = agent.ok("sendMessage", conversationId=cid, text="welcome back")["message"]
    assert back.next_event("message")["message"] == live


def test_reconnecting_agent_resumes_its_open_chats(chat: Harness) -> None:
    agent = chat.agent()
    agent.ok("subscribeQueue")
    visitor, cid = start_and_accept(chat, agent)
    agent.close()
    sent = visitor.ok("sendMessage", conversationId=cid, text="are you there?")["message"]
    agent = chat.agent()
    mine = agent.ok("subscribeQueue")["mine"]
    assert cid in [c["conversationId"] for c in mine]
    assert agent.ok("resume", conversationId=cid, sinceSeq=sent["seq"] - 1)["messages"] == [sent]
    visitor.ok("sendMessage", conversationId=cid, text="still here")
    assert agent.next_event("message")["message"]["text"] == "still here"


def test_typing_indicator_and_close_reach_the_other_side(chat: Harness) -> None:
    agent = chat.agent()
    agent.ok("subscribeQueue")
    visitor, cid = start_and_accept(chat, agent)
    visitor.ok("typing", conversationId=cid, isTyping=True)
    typing = agent.next_event("typing")
    assert (typing["conversationId"], typing["role"], typing["isTyping"]) == (cid, "visitor", True)
    agent.ok("typing", conversationId=cid, isTyping=False)
    assert visitor.next_event("typing")["isTyping"] is False
    closed = agent.ok("closeConversation", conversationId=cid)["conversation"]
    assert closed["status"] == "closed"
    assert visitor.next_event("conversation.closed")["conversation"]["status"] == "closed"
    assert visitor.request("sendMessage", conversationId=cid, text="wait!")["code"] == "conversation_closed"
    assert agent.request("sendMessage", conversationId=cid, text="bye")["code"] == "conversation_closed"
    assert cid not in [c["conversationId"] for c in agent.ok("subscribeQueue")["mine"]]


def test_a_visitor_closing_a_waiting_chat_removes_it_from_the_queue(chat: Harness) -> None:
    agent = chat.agent()
    agent.ok("subscribeQueue")
    visitor, _ = chat.visitor()
    cid = visitor.ok("startConversation", text="never mind")["conversation"]["conversationId"]
    visitor.ok("closeConversation", conversationId=cid)
    while True:
        event = agent.next_event("conversation.closed")
        if event["conversation"]["conversationId"] == cid:
            break
    assert cid not in [c["conversationId"] for c in agent.ok("subscribeQueue")["waiting"]]
    assert agent.request("acceptConversation", conversationId=cid)["code"] == "conversation_closed"


def test_a_stale_connection_is_removed_when_the_gateway_answers_410(chat: Harness,
                                                                  local_stack: LocalStack) -> None:
    agent = chat.agent()
    agent.ok("subscribeQueue")
    visitor, cid = start_and_accept(chat, agent)
    # A connection whose $disconnect never arrived (it happens on AWS): still attached.
    ddb = local_stack.boto("dynamodb")
    table = "parley-local-data"
    key = {"pk": {"S": f"CONV#{cid}"}, "sk": {"S": "META"}}
    ddb.update_item(TableName=table, Key=key, UpdateExpression="SET connections.#c = :r",
                    ExpressionAttributeNames={"#c": "ghost000000="}, ExpressionAttributeValues={":r": {"S": "visitor"}})
    agent.ok("sendMessage", conversationId=cid, text="anyone?")
    assert visitor.next_event("message")["message"]["text"] == "anyone?"
    connections = ddb.get_item(TableName=table, Key=key)["Item"]["connections"]["M"]
    assert "ghost000000=" not in connections
    assert len(connections) == 2  # the visitor's and the agent's live connections remain


def test_disconnect_detaches_the_connection(chat: Harness, local_stack: LocalStack) -> None:
    agent = chat.agent()
    agent.ok("subscribeQueue")
    visitor, cid = start_and_accept(chat, agent)
    visitor.close()
    ddb = local_stack.boto("dynamodb")
    key = {"pk": {"S": f"CONV#{cid}"}, "sk": {"S": "META"}}
    for _ in range(100):  # $disconnect runs asynchronously after the socket closes
        connections = ddb.get_item(TableName="parley-local-data", Key=key)["Item"]["connections"]["M"]
        if len(connections) == 1:
            break
        time.sleep(0.05)
    assert [v["S"] for v in connections.values()] == ["agent"]
