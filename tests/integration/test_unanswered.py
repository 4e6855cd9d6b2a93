"""Nobody takes a queued chat in time, on the local stack with real WebSocket clients and the
local clock moved: every agent is full, so the visitor waits; the routing sweep tells them
(`conversation.unanswered`) only once the client's no-answer timeout has passed; their offline
message then becomes a lead with reason no_answer for that conversation, and its email reaches
the local SMTP server."""

from __future__ import annotations

import secrets
from datetime import timedelta
from typing import Any

import pytest

from parley.chat.models import Agent, Client
from parley.composition import chat as chat_services
from tests.integration.chat_client import Harness
from tests.integration.test_offline_leads import call, login
from tests.integration.test_routing import Site, collect, conversation, of

pytestmark = pytest.mark.integration

NO_ANSWER = 60


def _desk(chat: Harness) -> tuple[Site, str, str]:
    """A client with a 60 s no-answer timeout, served by one agent of cap 1 (online).
    Returns the site, the agent's username and the client's notification address."""
    tag = secrets.token_hex(4)
    stack = chat.stack
    site = Site(f"cl_un_{tag}", f"tm_un_{tag}", f"wk_un_{tag}", stack.base_url)
    inbox = f"leads-{tag}@client.test"
    stack.add_client(Client(client_id=site.client_id, name=f"Unanswered {tag}", widget_key=site.widget_key,
                            allowed_origins=[site.origin], team_ids=[site.team_id], notification_email=inbox,
                            no_answer_timeout_seconds=NO_ANSWER, idle_timeout_seconds=3600))
    username = f"un{tag}"
    sub = stack.add_agent(username, f"Agent {tag}", [site.client_id])
    chat_services.tenant_repository().put_agent(Agent(
        agent_id=sub, name="Agent", email=f"{username}@parley.local", client_ids=[site.client_id],
        team_ids=[site.team_id], max_concurrent_chats=1))
    return site, username, inbox


def _to_second(stack: Any, second: int) -> None:
    """Move the clock to the next `second` past a minute boundary (the sweep runs on boundaries)."""
    now = stack.clock.now()
    ahead = (second - now.second) % 60 or 60
    stack.advance(timedelta(seconds=ahead) - timedelta(microseconds=now.microsecond))


def test_a_queued_visitor_is_told_after_the_timeout_and_their_message_becomes_a_no_answer_lead(
        chat: Harness) -> None:
    stack = chat.stack
    site, username, inbox = _desk(chat)
    agent = chat.agent(username)
    assert agent.ok("setStatus", status="online")["agent"]["status"] == "online"
    busy, _ = chat.visitor(site)
    first = busy.ok("startConversation", text="first!")["conversation"]["conversationId"]
    agent.ok("sendMessage", conversationId=first, text="Hello, how can I help?")  # answered: the agent keeps it

    _to_second(stack, 10)  # the waiting chat starts 50 s before a sweep, so that sweep is early
    visitor, session = chat.visitor(site)
    started = visitor.ok("startConversation", text="anyone there?")
    cid = started["conversation"]["conversationId"]
    assert started["conversation"]["status"] == "waiting" and started["queue"]["position"] == 1

    early = stack.advance(timedelta(seconds=NO_ANSWER - 5))
    assert [when for name, when in early if name == "routing-sweep"] == [
        conversation(cid).created_at.replace(second=0, microsecond=0) + timedelta(minutes=1)]  # ~10 s before
    assert of(collect(visitor), "conversation.unanswered") == []
    stack.advance(timedelta(seconds=60))  # the next sweep is past the timeout
    told = of(collect(visitor), "conversation.unanswered")
    assert told == [{"type": "conversation.unanswered", "conversationId": cid, "reason": "no_answer"}]
    assert of(collect(agent), "conversation.unanswered") == []  # the visitor's frame only
    stack.advance(timedelta(seconds=120))
    assert of(collect(visitor), "conversation.unanswered") == []  # once
    assert conversation(cid).status.value == "waiting"  # still queued: an agent can still take it

    status, ack, _ = call(stack, "POST", "/api/visitor/offline-message", {
        "widgetKey": site.widget_key, "visitorToken": session["visitorToken"], "name": "Ana Díaz",
        "email": "ana@example.com", "text": "Nobody answered, please call me back.", "reason": "no_answer",
        "conversationId": cid}, origin=site.origin)
    assert status == 201, ack
    stack.drain_streams()
    (mail,) = stack.smtp.to(inbox)
    assert "Nobody answered, please call me back." in mail.text and ack["leadId"] in mail.text
    assert "offline form (no answer)" in mail.text
    status, body, _ = call(stack, "GET", f"/api/clients/{site.client_id}/leads", token=login(stack, username))
    assert status == 200, body
    (lead,) = body["leads"]
    assert (lead["leadId"], lead["offlineReason"], lead["conversationId"]) == (ack["leadId"], "no_answer", cid)
