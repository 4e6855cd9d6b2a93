"""Agent attention and honest connection state, in real headless Chromium (issue 10, part 7).

- A socket that goes quiet (the TCP connection is there, nothing comes back: a dead Wi-Fi, a
  proxy that lost the connection) is found by the console's heartbeat: the pill turns red
  ("Reconnecting…"), a reply typed meanwhile says it waits for the connection instead of
  "Sending…", and it is delivered once the connection is back.
- The widget, when the browser goes offline, says it is reconnecting; a message typed offline
  waits and is delivered when the browser is back online.
- A desktop notification (permission granted in Playwright; the page's Notification wrapped by
  an init script to observe it) for a new waiting chat and for a visitor message in a chat the
  agent is not looking at, with the unread count on the chat and in the tab title.

The quiet socket is made with Playwright's WebSocket routing: every connection of the console
goes through a relay in the test, which forwards frames both ways until it is told to drop
them. Every wait is an expect()-style wait; no sleeps.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, WebSocketRoute, expect

from infra.local.stack import LocalStack
from tests.e2e.desk import Desk, Person, T, agent_signs_in, agent_takes
from tests.e2e.test_chat_e2e import agent_says, open_widget, visitor_says

pytestmark = pytest.mark.e2e

# Observes notifications and tones without changing what the page does with them.
SPY = """
(() => {
  window.__notes = [];
  window.__tones = 0;
  const Real = window.Notification;
  if (Real) {
    function Spy(title, options) {
      window.__notes.push({ title: String(title), body: String((options && options.body) || "") });
      return new Real(title, options);
    }
    Object.defineProperty(Spy, "permission", { get: () => Real.permission });
    Spy.requestPermission = (...args) => Real.requestPermission(...args);
    window.Notification = Spy;
  }
  const Ctx = window.AudioContext;
  if (Ctx) {
    const create = Ctx.prototype.createOscillator;
    Ctx.prototype.createOscillator = function () {
      window.__tones += 1;
      return create.call(this);
    };
  }
})();
"""


@pytest.fixture(scope="module")
def browser(launch_browser: Callable[[tuple[str, ...], str], Browser]) -> Browser:
    built = ("widget/dist/loader.js", "widget/dist/chat-ui.js", "console/dist/app.js")
    return launch_browser(built, "npm ci && npm run build")


@pytest.fixture
def desk(local_stack: LocalStack) -> Desk:
    """A client of this test alone, with its agent (tests/e2e/desk.py)."""
    return Desk(local_stack, agent_name="Casey Attention")


class Relay:
    """Carries the page's WebSocket frames to the server and back until `cut()`; then drops them."""

    def __init__(self) -> None:
        self.cut_off = False
        self.opened = 0

    def __call__(self, ws: WebSocketRoute) -> None:
        self.opened += 1
        if self.cut_off:
            ws.on_message(lambda _frame: None)  # a socket that opens and never answers
            return
        server = ws.connect_to_server()
        ws.on_message(lambda frame: None if self.cut_off else server.send(frame))
        server.on_message(lambda frame: None if self.cut_off else ws.send(frame))

    def cut(self) -> None:
        self.cut_off = True

    def restore(self) -> None:
        self.cut_off = False


def test_console_heartbeat_shows_a_quiet_socket_and_recovers(visitor: Person, agent: Person, desk: Desk) -> None:
    marker = uuid.uuid4().hex[:8]
    relay = Relay()
    agent.page.route_web_socket(re.compile(r"/ws(\?|$)"), relay)
    vpage, apage = visitor.page, agent.page
    status = apage.get_by_test_id("console-status")

    desk.serve(visitor.context)
    agent_signs_in(apage, desk)
    assert relay.opened >= 1, "the console's socket did not go through the relay"
    open_widget(vpage, desk.url())
    visitor_says(vpage, f"Is the Tacoma still there? [{marker}]")
    agent_takes(apage, marker)
    expect(status).to_have_text("Online")

    # The connection goes quiet: no close event reaches the page, only the heartbeat can tell.
    relay.cut()
    expect(status).to_have_attribute("data-state", "reconnecting", timeout=T)
    expect(status).to_have_text("Reconnecting…")

    # A reply typed now says plainly that it is waiting, not "Sending…".
    reply = f"Yes, come by any time [{marker}]"
    apage.get_by_test_id("console-input").fill(reply)
    apage.get_by_test_id("console-send").click()
    pending = apage.locator('[data-testid="console-message"][data-status="pending"]').filter(has_text=reply)
    expect(pending).to_contain_text("waiting for the connection", timeout=T)

    # Back: the console reconnects by itself, resumes, and the reply is delivered once.
    relay.restore()
    expect(status).to_have_attribute("data-state", "open", timeout=45_000)
    delivered = apage.locator('[data-testid="console-message"][data-role="agent"][data-seq]').filter(has_text=reply)
    expect(delivered).to_have_count(1, timeout=T)
    expect(vpage.locator('[data-testid="parley-message"][data-role="agent"]').filter(has_text=reply)).to_have_count(
        1, timeout=T
    )


def test_widget_says_it_is_reconnecting_when_the_browser_goes_offline(
    visitor: Person, agent: Person, desk: Desk
) -> None:
    marker = uuid.uuid4().hex[:8]
    vpage, apage = visitor.page, agent.page
    desk.serve(visitor.context)
    agent_signs_in(apage, desk)
    open_widget(vpage, desk.url())
    visitor_says(vpage, f"Do you finance? [{marker}]")
    status = vpage.get_by_test_id("parley-status")

    visitor.context.set_offline(True)
    expect(status).to_have_attribute("data-state", "reconnecting", timeout=T)
    expect(status).to_have_text("Connection lost. Reconnecting…")
    later = f"Also, any trade-in offers? [{marker}]"
    vpage.get_by_test_id("parley-input").fill(later)
    vpage.get_by_test_id("parley-send").click()
    waiting = vpage.locator('[data-testid="parley-message"][data-status="pending"]').filter(has_text=later)
    expect(waiting).to_contain_text("Waiting for the connection", timeout=T)

    visitor.context.set_offline(False)
    sent = vpage.locator('[data-testid="parley-message"][data-role="visitor"][data-seq]').filter(has_text=later)
    expect(sent).to_have_count(1, timeout=45_000)
    expect(status).not_to_have_attribute("data-state", "reconnecting")

    # The agent gets both messages, once each.
    agent_takes(apage, marker)
    expect(
        apage.get_by_test_id("console-messages").get_by_test_id("console-message").filter(has_text=later)
    ).to_have_count(1, timeout=T)


def _notes(page: Page) -> list[dict[str, str]]:
    notes: list[dict[str, str]] = page.evaluate("() => window.__notes")
    return notes


def _title_count(page: Page) -> int:
    match = re.match(r"^\((\d+)\) ", page.title())
    return int(match.group(1)) if match else 0


def _notified(page: Page, title: str, body_part: str) -> bool:
    return any(n["title"].startswith(title) and body_part in n["body"] for n in _notes(page))


def test_desktop_notifications_and_unread_counts(local_stack: LocalStack, browser: Browser, desk: Desk) -> None:
    context: BrowserContext = browser.new_context(viewport={"width": 1280, "height": 860})
    context.grant_permissions(["notifications"], origin=local_stack.base_url)
    context.add_init_script(SPY)
    errors: list[str] = []
    apage = context.new_page()
    apage.on("pageerror", lambda exc: errors.append(str(exc)))
    first, second = Person(browser), Person(browser)
    try:
        marker_a, marker_b = uuid.uuid4().hex[:8], uuid.uuid4().hex[:8]
        for person in (first, second):
            desk.serve(person.context)
        agent_signs_in(apage, desk)
        apage.get_by_test_id("console-status").click()  # a user gesture: unlocks sound

        # A new chat (waiting, or routed to this agent): a desktop notification with its first
        # words, and a tone.
        open_widget(first.page, desk.url())
        visitor_says(first.page, f"Looking for a family SUV [{marker_a}]")
        apage.wait_for_function(
            "m => window.__notes.some(n => n.title.startsWith('New chat') && n.body.includes(m))",
            arg=marker_a,
            timeout=T,
        )
        assert apage.evaluate("() => window.__tones") > 0, "no tone for the new chat"
        agent_takes(apage, marker_a)

        # A second chat, open: the first one is now out of sight.
        open_widget(second.page, desk.url())
        visitor_says(second.page, f"Hi, quick question [{marker_b}]")
        agent_takes(apage, marker_b)
        agent_says(apage, f"Sure, go ahead [{marker_b}]")
        before = _title_count(apage)

        news = f"Can I test drive it Saturday? [{marker_a}]"
        visitor_says(first.page, news)
        apage.wait_for_function("m => window.__notes.some(n => n.body === m)", arg=news, timeout=T)
        chat_a = apage.get_by_test_id("console-chat-item").filter(has_text=marker_a)
        expect(chat_a.get_by_test_id("console-unread")).to_have_text("1", timeout=T)
        expect(apage).to_have_title(re.compile(rf"^\({before + 1}\) "), timeout=T)

        # A message in the chat the agent is looking at is not a notification.
        shown = len(_notes(apage))
        visible = f"Thanks! [{marker_b}]"
        visitor_says(second.page, visible)
        expect(
            apage.get_by_test_id("console-messages").get_by_test_id("console-message").filter(has_text=visible)
        ).to_have_count(1, timeout=T)
        assert not _notified(apage, "", visible)
        assert len(_notes(apage)) == shown

        # Opening the first chat reads it: the badge and the title count go.
        chat_a.click()
        expect(chat_a.get_by_test_id("console-unread")).to_have_count(0, timeout=T)
        expect(apage).to_have_title(re.compile(rf"^\({before}\) Parley" if before else r"^Parley"), timeout=T)
    finally:
        first.close()
        second.close()
        context.close()
    assert errors == [], f"uncaught errors in the console: {errors}"
    assert first.errors == [] and second.errors == []
