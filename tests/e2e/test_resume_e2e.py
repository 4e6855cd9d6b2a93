"""Exact resume, idempotent sends and the heartbeat, in real headless Chromium (issue 11, part 6).

Each test puts a relay between one page and the server (Playwright's WebSocket routing, a test
part only: the apps carry no test hook). The relay forwards frames both ways and can be told to
drop one chosen frame, to close the socket right after (or instead of) forwarding one, or to go
silent (a half-open socket: the TCP connection is there, nothing passes). What the tests show:

- a live frame that arrives past a hole (the agent's own ack for seq n+1 before the relay of the
  visitor's seq n) followed at once by a dropped socket: after the reconnect the console resumes
  from the highest CONTIGUOUS seq, so the gap message is rendered, exactly once (resuming from
  the highest seq seen lost it for good);
- the same hole without a drop is filled by a resume about a second later, on the same socket;
- a send whose ack is lost with the socket is shown "sending" until the reconnect confirms it,
  and appears exactly once on both sides (a lost `startConversation` ack:
  test_idempotent_start_e2e.py);
- a socket that goes silent is found by the widget's heartbeat (ping after 15 s of silence, 5 s
  for its ack), and the widget reconnects and resumes what it missed meanwhile.

Every wait is an expect()-style wait with a timeout; no sleeps.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, WebSocketRoute, expect

from infra.local.stack import LocalStack
from tests.e2e.desk import Desk, Person, T, agent_signs_in, agent_takes
from tests.e2e.test_chat_e2e import agent_says, open_widget, visitor_says

pytestmark = pytest.mark.e2e

WS = re.compile(r"/ws(\?|$)")
# A quiet socket is pinged 15 s after its last frame and dropped 5 s later (widget); the bound
# leaves room for a slow CI machine, it is not a timing assertion.
HEARTBEAT_BOUND_MS = 30_000

Frame = dict[str, Any]
# What the relay does with a frame: "pass", "drop" (never delivered), "close" (not delivered,
# the socket closes), "pass+close" (delivered, then the socket closes).
Rule = Callable[[Frame], str]


@pytest.fixture(scope="module")
def browser(launch_browser: Callable[[tuple[str, ...], str], Browser]) -> Browser:
    built = ("widget/dist/loader.js", "widget/dist/chat-ui.js", "console/dist/app.js")
    return launch_browser(built, "npm ci && npm run build")


@pytest.fixture
def desk(local_stack: LocalStack) -> Desk:
    return Desk(local_stack, agent_name="Casey Resume")


def _parse(message: str | bytes) -> Frame:
    try:
        frame = json.loads(message)
    except ValueError:
        return {}
    return frame if isinstance(frame, dict) else {}


class Relay:
    """The page's WebSocket frames, carried to the server and back, with one-shot rules."""

    def __init__(self, page: Page) -> None:
        self.opened = 0
        self.silent = False
        self.to_page: list[Rule] = []  # server -> page rules, each used until it acts once
        self.to_server: list[Rule] = []
        self.seen_to_server: list[Frame] = []
        page.route_web_socket(WS, self._route)

    def _route(self, ws: WebSocketRoute) -> None:
        self.opened += 1
        if self.silent:
            ws.on_message(lambda _m: None)  # opens, never answers
            return
        server = ws.connect_to_server()

        def close_both() -> None:
            ws.close(code=4000, reason="relay drop")
            server.close(code=1000, reason="relay drop")

        def from_page(message: str | bytes) -> None:
            self.seen_to_server.append(_parse(message))
            self._carry(message, self.to_server, server.send, close_both)

        ws.on_message(from_page)
        server.on_message(lambda message: self._carry(message, self.to_page, ws.send, close_both))

    def _carry(self, message: str | bytes, rules: list[Rule], deliver: Callable[[str | bytes], None],
               close_both: Callable[[], None]) -> None:
        if self.silent:
            return
        frame = _parse(message)
        action = "pass"
        for rule in list(rules):
            action = rule(frame)
            if action != "pass":
                rules.remove(rule)
                break
        if action in ("pass", "pass+close"):
            deliver(message)
        if action in ("close", "pass+close"):
            close_both()


def relayed_message_with(text: str, action: str) -> Rule:
    """Acts on the relayed `message` event whose text contains `text`."""
    return lambda f: action if f.get("type") == "message" and text in str(f.get("message", {}).get("text")) else "pass"


def ack_of(action_name: str, text: str, action: str) -> Rule:
    """Acts on the ack of `action_name` whose stored message contains `text`."""

    def rule(f: Frame) -> str:
        message = (f.get("data") or {}).get("message") or {}
        hit = f.get("type") == "ack" and f.get("action") == action_name and text in str(message.get("text"))
        return action if hit else "pass"

    return rule


def console_messages(page: Page, text: str) -> Any:
    return page.get_by_test_id("console-messages").locator('[data-testid="console-message"][data-seq]').filter(
        has_text=text)


def widget_messages(page: Page, text: str) -> Any:
    return page.locator('[data-testid="parley-message"][data-seq]').filter(has_text=text)


def seqs_in_order(page: Page, selector: str) -> None:
    seqs = page.locator(selector).evaluate_all("els => els.map(e => Number(e.dataset.seq))")
    assert seqs == sorted(set(seqs)), f"messages out of order or duplicated: {seqs}"


def chat_between(visitor: Person, agent: Person, desk: Desk, marker: str) -> tuple[Page, Page]:
    vpage, apage = visitor.page, agent.page
    desk.serve(visitor.context)
    agent_signs_in(apage, desk)
    open_widget(vpage, desk.url())
    visitor_says(vpage, f"Is the Outback still for sale? [{marker}]")
    agent_takes(apage, marker)
    return vpage, apage


def test_out_of_order_frame_then_a_drop_resumes_from_the_contiguous_seq(
        visitor: Person, agent: Person, desk: Desk) -> None:
    marker = uuid.uuid4().hex[:8]
    relay = Relay(agent.page)
    vpage, apage = chat_between(visitor, agent, desk, marker)
    opened = relay.opened

    # The visitor's message (seq n) never reaches the console live; the agent's reply (seq n+1)
    # is acknowledged, so the console has seen n+1 but not n, and the socket drops at once
    # (well within the second the console would wait for the hole to fill).
    gap = f"Gap message: does it have AWD? [{marker}]"
    reply = f"Reply after the gap [{marker}]"
    relay.to_page += [relayed_message_with(gap, "drop"), ack_of("sendMessage", reply, "pass+close")]
    visitor_says(vpage, gap)
    apage.get_by_test_id("console-input").fill(reply)
    apage.get_by_test_id("console-send").click()

    expect(apage.get_by_test_id("console-status")).to_have_attribute("data-state", "open", timeout=T)
    expect(console_messages(apage, gap)).to_have_count(1, timeout=T)
    assert relay.opened > opened, "the console did not reconnect"
    expect(console_messages(apage, reply)).to_have_count(1)
    seqs_in_order(apage, '[data-testid="console-messages"] [data-testid="console-message"][data-seq]')
    resumes = [f for f in relay.seen_to_server if f.get("action") == "resume"]
    assert resumes, "the console never resumed"
    gap_seq = int(console_messages(apage, gap).get_attribute("data-seq") or 0)
    assert resumes[-1]["sinceSeq"] == gap_seq - 1, "the resume did not start at the highest contiguous seq"
    expect(widget_messages(vpage, reply)).to_have_count(1, timeout=T)


def test_a_live_gap_is_filled_by_a_resume_on_the_same_socket(visitor: Person, agent: Person, desk: Desk) -> None:
    marker = uuid.uuid4().hex[:8]
    relay = Relay(agent.page)
    vpage, apage = chat_between(visitor, agent, desk, marker)
    opened = relay.opened

    lost = f"This relay is lost [{marker}]"
    relay.to_page.append(relayed_message_with(lost, "drop"))
    visitor_says(vpage, lost)
    agent_says(apage, f"Next message, past the hole [{marker}]")

    expect(console_messages(apage, lost)).to_have_count(1, timeout=T)
    assert relay.opened == opened, "the hole was filled by a reconnect, not by a resume on the open socket"
    seqs_in_order(apage, '[data-testid="console-messages"] [data-testid="console-message"][data-seq]')


def test_a_send_whose_ack_is_lost_appears_once_on_both_sides(visitor: Person, agent: Person, desk: Desk) -> None:
    marker = uuid.uuid4().hex[:8]
    relay = Relay(visitor.page)
    vpage, apage = chat_between(visitor, agent, desk, marker)

    # Stored by the server, but its ack and the socket are gone: the widget cannot tell.
    text = f"Can I test drive it Saturday? [{marker}]"
    relay.to_page.append(ack_of("sendMessage", text, "close"))
    vpage.get_by_test_id("parley-input").fill(text)
    vpage.get_by_test_id("parley-send").click()

    expect(widget_messages(vpage, text)).to_have_count(1, timeout=T)
    expect(vpage.locator('[data-testid="parley-message"][data-status="pending"]')).to_have_count(0)
    expect(console_messages(apage, text)).to_have_count(1, timeout=T)
    sent = [f for f in relay.seen_to_server if f.get("action") == "sendMessage" and f.get("text") == text]
    assert sent and all(f.get("clientMessageId") == sent[0]["clientMessageId"] for f in sent), \
        "a retry must carry the first try's clientMessageId"
    assert re.fullmatch(r"[A-Za-z0-9_\-]{1,64}", str(sent[0]["clientMessageId"]))
    # Still once after a reload (the transcript comes back from the server).
    vpage.reload()
    expect(widget_messages(vpage, text)).to_have_count(1, timeout=T)
    expect(console_messages(apage, text)).to_have_count(1)


def test_the_widget_heartbeat_finds_a_silent_socket_and_resumes(visitor: Person, agent: Person, desk: Desk) -> None:
    marker = uuid.uuid4().hex[:8]
    relay = Relay(visitor.page)
    vpage, apage = chat_between(visitor, agent, desk, marker)
    status = vpage.get_by_test_id("parley-status")
    expect(status).not_to_have_attribute("data-state", "reconnecting")

    # Half-open: no close event, no frame either way. Only the heartbeat can tell.
    relay.silent = True
    expect(status).to_have_attribute("data-state", "reconnecting", timeout=HEARTBEAT_BOUND_MS)
    pings = [f for f in relay.seen_to_server if f.get("action") == "ping"]
    assert pings, "the widget never pinged"
    missed = f"Sent while the visitor's socket was silent [{marker}]"
    agent_says(apage, missed)

    relay.silent = False
    expect(widget_messages(vpage, missed)).to_have_count(1, timeout=45_000)
    expect(status).not_to_have_attribute("data-state", "reconnecting")
    seqs_in_order(vpage, '[data-testid="parley-message"][data-seq]')
