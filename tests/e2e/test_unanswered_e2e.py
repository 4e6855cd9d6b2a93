"""Nobody answered in time, in real headless Chromium: the desk's only agent (cap 1) is busy, so
the widget's chat waits; once the client's no-answer timeout has passed (the local clock moved,
the routing sweep ran) the widget offers the offline form with the no-answer text beside the
conversation; the message left there becomes a no_answer lead of that conversation; when the
agent frees their slot and takes the chat, the form goes away and the chat goes on.

Every wait is an expect()-style wait; no sleeps.
"""

from __future__ import annotations

import json
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest
from playwright.sync_api import Browser, expect

from infra.local.stack import LocalStack
from parley import services
from parley.composition import routing as routing_services
from tests.e2e.desk import Desk, Person, T
from tests.e2e.test_chat_e2e import visitor_says
from tests.integration.chat_client import Harness
from tests.integration.test_routing import Site

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def browser(launch_browser: Callable[[tuple[str, ...], str], Browser]) -> Browser:
    return launch_browser(("widget/dist/loader.js", "widget/dist/chat-ui.js"), "npm ci && npm run build")


@pytest.fixture
def chat(local_stack: LocalStack) -> Iterator[Harness]:
    harness = Harness(local_stack)
    try:
        yield harness
    finally:
        harness.close_all()


def _leads(stack: LocalStack, chat: Harness, desk: Desk) -> list[dict[str, Any]]:
    request = urllib.request.Request(f"{stack.base_url}/api/clients/{desk.client_id}/leads",
                                     headers={"Authorization": f"Bearer {chat.agent_token(desk.agent_username)}"})
    with urllib.request.urlopen(request, timeout=30) as response:
        return list(json.loads(response.read())["leads"])


def test_the_widget_offers_the_form_when_nobody_answers_and_the_chat_goes_on(
        local_stack: LocalStack, visitor: Person, chat: Harness) -> None:
    desk = Desk(local_stack, agent_name="Robin Busy")  # the client's no-answer timeout: the default 60 s
    agent = chat.agent(desk.agent_username)
    agent_id = agent.ok("setStatus", status="online")["agent"]["agentId"]
    tenants = services.tenant_repository()
    profile = tenants.get_agent(agent_id)
    assert profile is not None
    tenants.put_agent(profile.model_copy(update={"max_concurrent_chats": 1}))
    assert agent.ok("setStatus", status="online")["agent"]["cap"] == 1
    busy, _ = chat.visitor(Site(desk.client_id, desk.team_id, desk.widget_key, local_stack.base_url))
    first = busy.ok("startConversation", text="first in line")["conversation"]["conversationId"]
    agent.ok("sendMessage", conversationId=first, text="Hi! With you in a moment.")  # answered: kept

    marker = uuid.uuid4().hex[:8]
    vpage = visitor.page
    desk.serve(visitor.context)
    vpage.goto(desk.url("en"))
    vpage.get_by_test_id("parley-launcher").click()
    visitor_says(vpage, f"Is anyone there? [{marker}]")
    expect(vpage.get_by_test_id("parley-panel")).to_have_attribute("data-state", "waiting", timeout=T)
    form = vpage.get_by_test_id("parley-offline")
    expect(form).to_be_hidden()

    local_stack.advance(timedelta(seconds=150))  # the sweeps pass the 60 s timeout
    expect(form).to_be_visible(timeout=T)
    expect(vpage.get_by_test_id("parley-no-answer")).to_have_text(
        "Sorry, nobody could answer in time. Leave us a message and we'll get back to you. "
        "You're still in line if you'd rather wait.")
    expect(vpage.get_by_test_id("parley-keep-waiting")).to_be_visible()
    expect(vpage.get_by_test_id("parley-messages")).to_contain_text(marker)  # the conversation stays
    expect(vpage.get_by_test_id("parley-input")).to_be_hidden()

    vpage.get_by_test_id("parley-offline-name").fill("Sam Patel")
    vpage.get_by_test_id("parley-offline-email").fill("sam@example.com")
    vpage.get_by_test_id("parley-offline-text").fill(f"Please call me back [{marker}]")
    vpage.get_by_test_id("parley-offline-send").click()
    expect(vpage.get_by_test_id("parley-offline-thanks")).to_be_visible(timeout=T)
    (lead,) = [lead for lead in _leads(local_stack, chat, desk) if marker in lead["message"]]
    stored = routing_services.routing_repository().open_conversations(agent_id)
    assert lead["offlineReason"] == "no_answer" and lead["conversationId"] not in (None, first)
    assert [c.conversation_id for c in stored] == [first]  # the widget's chat still waits

    # The agent frees their slot: the waiting chat is theirs, the form gives way to the chat.
    agent.ok("closeConversation", conversationId=first)
    expect(vpage.get_by_test_id("parley-panel")).to_have_attribute("data-state", "active", timeout=T)
    expect(form).to_be_hidden()
    expect(vpage.get_by_test_id("parley-input")).to_be_visible()
    mine = routing_services.routing_repository().open_conversations(agent_id)
    assert [c.conversation_id for c in mine] == [lead["conversationId"]]
