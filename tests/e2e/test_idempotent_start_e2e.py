"""A `startConversation` whose ack is lost opens one conversation, not two (issue 11, case 9), in
real headless Chromium: the widget sends the start again after the reconnect with the same
clientMessageId, and the server answers with the original conversation (`duplicate: true`).
The relay between the page and the server is test_resume_e2e.py's (Playwright WebSocket routing).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable

import pytest
from playwright.sync_api import Browser, expect

from infra.local.stack import LocalStack
from tests.e2e.desk import Desk, Person, T, agent_signs_in, agent_takes
from tests.e2e.test_chat_e2e import agent_says, open_widget
from tests.e2e.test_resume_e2e import Relay, ack_of, console_messages, widget_messages

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def browser(launch_browser: Callable[[tuple[str, ...], str], Browser]) -> Browser:
    built = ("widget/dist/loader.js", "widget/dist/chat-ui.js", "console/dist/app.js")
    return launch_browser(built, "npm ci && npm run build")


@pytest.fixture
def desk(local_stack: LocalStack) -> Desk:
    return Desk(local_stack, agent_name="Casey Start")


def test_a_start_whose_ack_is_lost_opens_one_conversation(visitor: Person, agent: Person, desk: Desk) -> None:
    marker = uuid.uuid4().hex[:8]
    relay = Relay(visitor.page)
    vpage, apage = visitor.page, agent.page
    desk.serve(visitor.context)
    agent_signs_in(apage, desk)
    open_widget(vpage, desk.url())

    first = f"Hello, is anyone there? [{marker}]"
    relay.to_page.append(ack_of("startConversation", first, "close"))
    vpage.get_by_test_id("parley-input").fill(first)
    vpage.get_by_test_id("parley-send").click()

    # The widget sends the start again after the reconnect, with the same clientMessageId, and
    # the server answers with the original conversation.
    expect(widget_messages(vpage, first)).to_have_count(1, timeout=T)
    starts = [f for f in relay.seen_to_server if f.get("action") == "startConversation"]
    assert len(starts) >= 2, "the lost start was not sent again"
    assert len({f.get("clientMessageId") for f in starts}) == 1
    agent_takes(apage, marker)
    chats = apage.get_by_test_id("console-chats").get_by_test_id("console-chat-item").filter(has_text=marker)
    queued = apage.get_by_test_id("console-queue").get_by_test_id("console-queue-item").filter(has_text=marker)
    expect(chats).to_have_count(1)
    expect(queued).to_have_count(0)
    expect(console_messages(apage, first)).to_have_count(1, timeout=T)
    # The conversation goes on: the visitor hears the agent.
    answer = f"Yes, how can I help? [{marker}]"
    agent_says(apage, answer)
    expect(widget_messages(vpage, answer)).to_have_count(1, timeout=T)
