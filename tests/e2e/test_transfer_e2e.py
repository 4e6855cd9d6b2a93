"""Transfer in real headless Chromium (issue 10, part 2): an agent hands a chat to a colleague
with a note only agents see; the colleague gets it with the note, the visitor is told they are
being connected with another agent and who joined, and never sees the note.

The desk (tests/e2e/desk.py) has two agents in one team. Every wait is an expect()-style wait.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator

import pytest
from playwright.sync_api import Browser, expect

from infra.local.stack import LocalStack
from tests.e2e.desk import Desk, Person, T, agent_signs_in, agent_takes
from tests.e2e.test_chat_e2e import open_widget, visitor_says

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def browser(launch_browser: Callable[[tuple[str, ...], str], Browser]) -> Browser:
    return launch_browser(("widget/dist/chat-ui.js", "console/dist/app.js"), "npm ci && npm run build")


@pytest.fixture
def people(browser: Browser) -> Iterator[tuple[Person, Person, Person]]:
    trio = (Person(browser), Person(browser), Person(browser))
    yield trio
    for person in trio:
        assert person.errors == [], f"uncaught page errors: {person.errors}"
        person.close()


def test_agent_transfers_a_chat_to_a_colleague_with_a_note(
    local_stack: LocalStack, people: tuple[Person, Person, Person]
) -> None:
    visitor, first, second = people
    marker = uuid.uuid4().hex[:8]
    desk = Desk(local_stack, agent_name="Robin First", colleagues=("Kim Second",))
    colleague, colleague_id = desk.colleagues[0]
    desk.serve(visitor.context)

    agent_signs_in(first.page, desk)
    open_widget(visitor.page, desk.url())
    visitor_says(visitor.page, f"I'd like a trade-in quote [{marker}]")
    agent_takes(first.page, marker)
    agent_signs_in(second.page, desk, colleague)

    # Robin transfers to Kim, typing Kim's id, with a note.
    note = f"Wants a quote on a 2019 Civic [{marker}]"
    apage = first.page
    apage.get_by_test_id("console-transfer").click()
    dialog = apage.get_by_test_id("console-transfer-dialog")
    expect(dialog).to_be_visible(timeout=T)
    dialog.get_by_test_id("console-transfer-target").select_option("manual")
    dialog.get_by_test_id("console-transfer-id").fill(colleague_id)
    dialog.get_by_test_id("console-transfer-note").fill(note)
    dialog.get_by_test_id("console-transfer-send").click()
    expect(dialog).to_be_hidden(timeout=T)
    expect(apage.get_by_test_id("console-chat-item").filter(has_text=marker)).to_have_count(0, timeout=T)

    # Kim has the chat, opened, with the note.
    kim = second.page
    chat = kim.get_by_test_id("console-chats").get_by_test_id("console-chat-item").filter(has_text=marker)
    expect(chat).to_have_count(1, timeout=T)
    if chat.get_attribute("aria-current") != "true":
        chat.click()
    expect(kim.get_by_test_id("console-messages")).to_contain_text(note, timeout=T)

    # The visitor is told, and never sees the note.
    messages = visitor.page.get_by_test_id("parley-messages")
    expect(messages).to_contain_text("You are being connected with another agent.", timeout=T)
    expect(messages).to_contain_text("Kim Second joined the chat", timeout=T)
    expect(messages).not_to_contain_text(note)
