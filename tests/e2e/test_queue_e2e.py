"""The console's queue, a page at a time, in real headless Chromium (issue 11, case 4).

55 chats wait for the desk's client (stored as `startConversation` stores them). The agent is
away, so the router hands none of them out. The console shows the server's total, the first page
of 50 with "Showing 50 of 55", loads the rest with "Load more", and the order toggle puts the
newest waiting chat first. Every wait is an expect()-style wait; no sleeps.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import timedelta

import pytest
from playwright.sync_api import Browser, expect

from infra.local.stack import LocalStack
from parley.chat.models import Conversation, ConversationStatus, Message, Role
from parley.clock import utcnow
from parley.composition import chat as chat_services
from parley.composition import routing as routing_services
from tests.e2e.desk import Desk, Person, T, agent_signs_in

pytestmark = pytest.mark.e2e

WAITING = 55


@pytest.fixture(scope="module")
def browser(launch_browser: Callable[[tuple[str, ...], str], Browser]) -> Browser:
    return launch_browser(("console/dist/app.js",), "npm ci && npm run build")


def seed_waiting(desk: Desk, count: int, marker: str) -> list[str]:
    """`count` waiting chats of the desk's client, a minute apart (oldest first); their previews."""
    chat, routing = chat_services.chat_repository(), routing_services.routing_repository()
    start = utcnow() - timedelta(hours=2)
    previews = []
    for i in range(count):
        at = start + timedelta(minutes=i)
        text = f"waiting {i:02d} [{marker}]"
        conversation = Conversation(conversation_id=f"cv_q_{marker}_{i:02d}", client_id=desk.client_id,
                                    status=ConversationStatus.WAITING, visitor_id=f"v_q_{marker}_{i}", last_seq=1,
                                    created_at=at, team_ids=[desk.team_id], preview=text)
        first = Message(conversation_id=conversation.conversation_id, client_id=desk.client_id, seq=1,
                        role=Role.VISITOR, sender_id=conversation.visitor_id, text=text, sent_at=at)
        chat.create_conversation(conversation, first, f"seed-{marker}-{i}")
        routing.enqueue(conversation)
        previews.append(text)
    return previews


def test_the_queue_shows_the_total_loads_more_and_puts_the_newest_first(local_stack: LocalStack,
                                                                        agent: Person) -> None:
    marker = uuid.uuid4().hex[:8]
    desk = Desk(local_stack, agent_name="Casey Queue")
    previews = seed_waiting(desk, WAITING, marker)
    page = agent.page
    # Away: the router gives this agent none of the waiting chats (the console sends the choice).
    agent.context.add_init_script("localStorage.setItem('parley.console.agentStatus', 'away')")
    agent_signs_in(page, desk)

    items = page.get_by_test_id("console-queue").get_by_test_id("console-queue-item")
    count = page.get_by_test_id("console-queue-count")
    shown = page.get_by_test_id("console-queue-shown")
    more = page.get_by_test_id("console-queue-more")
    expect(count).to_have_text(str(WAITING), timeout=T)
    expect(items).to_have_count(50)
    expect(shown).to_have_text(f"Showing 50 of {WAITING} waiting")
    expect(items.first).to_contain_text(previews[0])  # oldest first

    more.click()
    expect(items).to_have_count(WAITING, timeout=T)
    expect(more).to_be_hidden()
    expect(shown).to_be_hidden()
    expect(items.last).to_contain_text(previews[-1])

    # Newest first: the latest visitor is at the top at once, from a fresh first page.
    page.get_by_test_id("console-queue-order").click()
    expect(page.get_by_test_id("console-queue-order")).to_have_text("Newest first")
    expect(items).to_have_count(50, timeout=T)
    expect(items.first).to_contain_text(previews[-1])
    expect(count).to_have_text(str(WAITING))
    more.click()
    expect(items).to_have_count(WAITING, timeout=T)
    expect(items.last).to_contain_text(previews[0])
