"""End to end in real headless Chromium: the visitor widget on the demo site and the agent console.

Needs the session fixture `local_stack` (tests/conftest.py): the local gateway serving /demo/,
/widget/, /console/, the HTTP API and the WebSocket on one origin. Each chat test has its own
desk (tests/e2e/desk.py: a client of its own with one agent, and a page of its site on the
demo origin), so routing never hands its chat to another test's agent; the agent signs in
first, since a visitor who writes when no agent is online gets the offline form. The
front-ends must be built first (`npm ci && npm run build`).

One browser per module, one context per person (visitor, agent), so each has its own storage.
Every wait is an expect()-style wait with a timeout; no sleeps.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable

import pytest
from playwright.sync_api import Browser, Locator, Page, expect

from tests.e2e.desk import Desk, Person, T, agent_signs_in, agent_takes

pytestmark = pytest.mark.e2e


XSS_PAYLOADS = (
    '<img src=x onerror="window.__pwned=1"><b>bold</b>',
    "<script>window.__pwned=1</script>",
)


# ---------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def browser(launch_browser: Callable[[tuple[str, ...], str], Browser]) -> Browser:
    built = ("widget/dist/loader.js", "widget/dist/chat-ui.js", "console/dist/app.js")
    return launch_browser(built, "npm ci && npm run build")


# ---------------------------------------------------------------- helpers


def tag() -> str:
    """A marker that makes this test's messages unique in a shared stack."""
    return uuid.uuid4().hex[:8]


def open_widget(page: Page, url: str) -> None:
    page.goto(url)
    launcher = page.get_by_test_id("parley-launcher")
    expect(launcher).to_be_visible(timeout=T)
    launcher.click()
    expect(page.get_by_test_id("parley-panel")).to_be_visible(timeout=T)


def visitor_says(page: Page, text: str) -> Locator:
    """Sends from the widget; returns the message once the server acknowledged it (it has a seq)."""
    page.get_by_test_id("parley-input").fill(text)
    page.get_by_test_id("parley-send").click()
    sent = page.locator('[data-testid="parley-message"][data-role="visitor"][data-seq]').filter(has_text=text)
    expect(sent).to_have_count(1, timeout=T)
    expect(sent).to_have_attribute("data-seq", re.compile(r"^[1-9]\d*$"))
    return sent


def agent_says(page: Page, text: str) -> None:
    page.get_by_test_id("console-input").fill(text)
    page.get_by_test_id("console-send").click()
    sent = page.locator('[data-testid="console-message"][data-role="agent"][data-seq]').filter(has_text=text)
    expect(sent).to_have_count(1, timeout=T)


def message_text(message: Locator, testid: str) -> str:
    return message.get_by_test_id(testid).text_content() or ""


# ---------------------------------------------------------------- tests


def test_visitor_and_agent_chat(local_stack, visitor: Person, agent: Person) -> None:
    marker = tag()
    first = f"Hi! Is the 2022 RAV4 still available? [{marker}]"
    vpage, apage = visitor.page, agent.page
    desk = Desk(local_stack)
    desk.serve(visitor.context)
    agent_signs_in(apage, desk)

    # The loader alone runs before a click; the chat UI comes with the first click.
    vpage.goto(desk.url())
    expect(vpage.get_by_test_id("parley-launcher")).to_be_visible(timeout=T)
    expect(vpage.get_by_test_id("parley-launcher")).to_have_attribute("aria-label", re.compile(".+"))
    assert not any("chat-ui.js" in url for url in visitor.requests), "chat UI loaded before any click"
    assert not any("/api/" in url for url in visitor.requests), "API called before any click"
    vpage.get_by_test_id("parley-launcher").click()
    expect(vpage.get_by_test_id("parley-panel")).to_be_visible(timeout=T)
    assert any(url.endswith("/widget/chat-ui.js") for url in visitor.requests)

    visitor_says(vpage, first)

    # The chat reaches the agent (routed, or accepted from the queue); they see the message.
    agent_takes(apage, marker)
    amessages = apage.get_by_test_id("console-messages")
    expect(
        amessages.locator('[data-testid="console-message"][data-role="visitor"]').filter(has_text=first)
    ).to_have_count(1, timeout=T)
    # The visitor is told an agent joined (a system message with its own seq).
    expect(vpage.locator('[data-testid="parley-message"][data-role="system"][data-seq]').first).to_be_visible(timeout=T)

    # Typing, visitor -> agent: shown while the visitor types.
    expect(apage.get_by_test_id("console-typing")).to_be_hidden()
    vpage.get_by_test_id("parley-input").press_sequentially("Also, do you take trade", delay=30)
    expect(apage.get_by_test_id("console-typing")).to_be_visible(timeout=T)
    vpage.get_by_test_id("parley-input").fill("")

    # Typing, agent -> visitor.
    apage.get_by_test_id("console-input").press_sequentially("Yes, it is", delay=30)
    expect(vpage.get_by_test_id("parley-typing")).to_be_visible(timeout=T)

    # The agent replies; the visitor sees it.
    reply = f"Yes, it's on the lot. Want to book a test drive? [{marker}]"
    agent_says(apage, reply)
    got = vpage.locator('[data-testid="parley-message"][data-role="agent"][data-seq]').filter(has_text=reply)
    expect(got).to_have_count(1, timeout=T)
    expect(vpage.get_by_test_id("parley-typing")).to_be_hidden(timeout=T)

    # Markup is text, never HTML, on both sides.
    for payload in XSS_PAYLOADS:
        sent = visitor_says(vpage, payload)
        assert message_text(sent, "parley-message-text") == payload
        seen = amessages.locator('[data-testid="console-message"][data-role="visitor"][data-seq]').filter(
            has_text=payload
        )
        expect(seen).to_have_count(1, timeout=T)
        assert message_text(seen, "console-message-text") == payload
    for page, messages in ((vpage, "parley-messages"), (apage, "console-messages")):
        for element in ("b", "img", "script"):
            expect(page.get_by_test_id(messages).locator(element)).to_have_count(0)
        assert page.evaluate("() => window.__pwned") is None

    # The agent closes the chat; the visitor sees it closed.
    apage.get_by_test_id("console-close").click()
    expect(
        apage.get_by_test_id("console-chats").locator('[data-testid="console-chat-item"][data-status="closed"]')
    ).to_have_count(1, timeout=T)
    expect(apage.get_by_test_id("console-input")).to_be_hidden(timeout=T)
    expect(vpage.get_by_test_id("parley-panel")).to_have_attribute("data-state", "closed", timeout=T)
    expect(vpage.get_by_test_id("parley-status")).to_have_attribute("data-state", "closed")
    expect(vpage.get_by_test_id("parley-status")).not_to_be_empty()
    expect(vpage.get_by_test_id("parley-input")).to_be_hidden()


def test_reload_and_return_resume_the_conversation(local_stack, visitor: Person, agent: Person) -> None:
    marker = tag()
    first = f"Do you have the F-150 in blue? [{marker}]"
    vpage, apage = visitor.page, agent.page
    desk = Desk(local_stack)
    desk.serve(visitor.context)
    agent_signs_in(apage, desk)

    open_widget(vpage, desk.url())
    visitor_says(vpage, first)
    agent_takes(apage, marker)
    reply = f"We do, a 2021 XLT. [{marker}]"
    agent_says(apage, reply)
    expect(vpage.locator('[data-testid="parley-message"][data-role="agent"]').filter(has_text=reply)).to_have_count(
        1, timeout=T
    )

    def transcript_is_back(page: Page, *texts: str) -> None:
        # The UI comes back by itself (an open conversation is remembered) and shows each
        # message exactly once (deduplicated by seq).
        expect(page.get_by_test_id("parley-panel")).to_be_visible(timeout=T)
        for text in texts:
            expect(page.get_by_test_id("parley-message").filter(has_text=text)).to_have_count(1, timeout=T)
        seqs = page.locator('[data-testid="parley-message"][data-seq]').evaluate_all(
            "els => els.map(e => Number(e.dataset.seq))"
        )
        assert seqs == sorted(set(seqs)), f"messages out of order or duplicated: {seqs}"

    # 1. Reload: same conversation, whole transcript.
    vpage.reload()
    transcript_is_back(vpage, first, reply)

    # 2. Leave, miss a message, come back in a new tab (same browser storage): it is caught up.
    vpage.close()
    missed = f"It has the tow package too. [{marker}]"
    agent_says(apage, missed)
    vpage = visitor.new_page()
    vpage.goto(desk.url())
    transcript_is_back(vpage, first, reply, missed)

    # 3. It is still the same conversation: a new message reaches the agent's open chat,
    #    and no new chat appears in the queue.
    again = f"Great, can I come by at 5? [{marker}]"
    visitor_says(vpage, again)
    expect(
        apage.get_by_test_id("console-messages").get_by_test_id("console-message").filter(has_text=again)
    ).to_have_count(1, timeout=T)
    expect(apage.get_by_test_id("console-queue-item").filter(has_text=marker)).to_have_count(0)


def test_console_rejects_wrong_password(local_stack, agent: Person) -> None:
    page = agent.page
    page.goto(local_stack.console_url)
    page.get_by_test_id("console-username").fill(local_stack.demo.agent_username)
    page.get_by_test_id("console-password").fill("not-the-password")
    page.get_by_test_id("console-login").click()
    expect(page.get_by_role("alert")).to_contain_text("Wrong username or password", timeout=T)
    expect(page.get_by_test_id("console-queue")).to_be_hidden()


def test_spanish_page_gets_spanish_widget(local_stack, visitor: Person) -> None:
    page = visitor.page
    page.goto(local_stack.demo_url + "es.html")
    launcher = page.get_by_test_id("parley-launcher")
    expect(launcher).to_have_attribute("aria-label", "Abrir el chat", timeout=T)
    launcher.click()
    expect(page.get_by_test_id("parley-input")).to_have_attribute("placeholder", "Escribe tu mensaje…", timeout=T)


def test_spanish_widget_translates_system_messages(local_stack, visitor: Person, agent: Person) -> None:
    """System messages travel as codes (docs/protocol.md, "Objects"): the Spanish widget says
    "<name> se unió al chat", never the server's English fallback."""
    marker = tag()
    vpage, apage = visitor.page, agent.page
    desk = Desk(local_stack, agent_name="Alex Prueba")
    desk.serve(visitor.context)
    agent_signs_in(apage, desk)
    open_widget(vpage, desk.url("es"))
    visitor_says(vpage, f"Hola, ¿tienen el Civic? [{marker}]")
    agent_takes(apage, marker)

    system = vpage.locator('[data-testid="parley-message"][data-role="system"][data-seq]')
    expect(system.first).to_have_text("Alex Prueba se unió al chat", timeout=T)
    apage.get_by_test_id("console-close").click()
    expect(system.last).to_have_text("Alex Prueba cerró el chat", timeout=T)
    for text in system.all_text_contents():
        assert "joined" not in text and "closed" not in text, text
    # The console shows the same events in English.
    expect(apage.get_by_test_id("console-messages").locator('[data-role="system"]').first).to_have_text(
        "Alex Prueba joined the chat"
    )
