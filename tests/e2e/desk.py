"""A client of one test, with its own agent and a page of its website on the demo origin.

Chats are routed to the online agents of a client (docs/protocol.md, "Routing and presence"),
and a visitor who writes when no agent of the client is online gets the offline form. A test
that shares the demo dealership with other tests would race their agents for its chats, so
each chat test gets its own desk: a client (its own widget key, the demo origin allowed) and an
agent serving it, and a page of its website on the demo origin loading the real widget loader.
"""

from __future__ import annotations

import contextlib
import json
import uuid
from typing import Any

from playwright.sync_api import Browser, BrowserContext, Page, expect
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

from infra.local.stack import LocalStack
from parley import services
from parley.chat.models import Agent, Client, Team

T = 15_000  # ms, for every expect()


class Desk:
    def __init__(self, stack: LocalStack, *, hours: Any = None, agent_name: str = "Casey Desk",
                 colleagues: tuple[str, ...] = ()) -> None:
        marker = uuid.uuid4().hex[:8]
        self.stack = stack
        self.client_id = f"cl_e2e_{marker}"
        self.widget_key = f"wk_e2e_{marker}"
        self.team_id = f"tm_e2e_{marker}"
        self.name = f"Desk Motors {marker}"
        self.agent_name = agent_name
        self.agent_username = f"e2e-{marker}"
        self.agent_password = stack.demo.agent_password
        # Agents serve the clients of their teams: the client, its team, the agents in it.
        stack.add_client(Client(client_id=self.client_id, name=self.name, widget_key=self.widget_key,
                                allowed_origins=[stack.base_url], hours=hours, team_ids=[self.team_id],
                                greeting="Hi! Questions? We're here."))
        self.colleagues: list[tuple[str, str]] = []  # (username, agent id) of the other agents
        subs = [self._agent(self.agent_username, agent_name)]
        for n, name in enumerate(colleagues, start=1):
            username = f"{self.agent_username}-{n}"
            subs.append(self._agent(username, name))
            self.colleagues.append((username, subs[-1]))
        services.tenant_repository().put_team(Team(team_id=self.team_id, name=f"{self.name} desk", agent_ids=subs,
                                                   client_ids=[self.client_id]))

    def _agent(self, username: str, name: str) -> str:
        sub = self.stack.create_user(username, self.agent_password, "agents")
        services.tenant_repository().put_agent(Agent(agent_id=sub, name=name, username=username,
                                                     email=f"{username}@parley.local", client_ids=[self.client_id],
                                                     team_ids=[self.team_id]))
        return sub

    def url(self, lang: str = "en") -> str:
        return f"{self.stack.demo_url}desk-{self.widget_key}-{lang}.html"

    def serve(self, context: BrowserContext) -> None:
        """Every page of `context` can open this desk's site (both languages), on every load.

        The page is the local gateway's own answer for that address, made into the client's
        page by an init script: a page fulfilled by `route()` would get the public address space
        in Chromium, whose Local Network Access checks then block the widget's WebSocket to
        127.0.0.1 (net::ERR_BLOCKED_BY_LOCAL_NETWORK_ACCESS_CHECKS)."""
        pages = {self.url(lang): lang for lang in ("en", "es")}
        context.add_init_script(script=SITE_SCRIPT % (json.dumps(pages), json.dumps(self.widget_key),
                                                      json.dumps(self.name)))


# The client's page: its name and the loader, in the page's language (before the loader runs).
SITE_SCRIPT = """(() => {
  const lang = (%s)[location.href];
  if (!lang) return;
  const [key, name] = [%s, %s];
  document.addEventListener("DOMContentLoaded", () => {
    document.documentElement.lang = lang;
    document.title = name;
    document.body.replaceChildren(Object.assign(document.createElement("h1"), { textContent: name }));
    const loader = Object.assign(document.createElement("script"), { src: "/widget/loader.js", async: true });
    loader.dataset.widgetKey = key;
    document.body.append(loader);
  });
})();"""


class Person:
    """A browser context with its page, collecting uncaught page errors."""

    def __init__(self, browser: Browser) -> None:
        self.context: BrowserContext = browser.new_context(viewport={"width": 1280, "height": 860})
        self.errors: list[str] = []
        self.requests: list[str] = []
        self.page = self.new_page()

    def new_page(self) -> Page:
        page = self.context.new_page()
        page.on("pageerror", lambda exc: self.errors.append(str(exc)))
        page.on("request", lambda req: self.requests.append(req.url))
        return page

    def close(self) -> None:
        self.context.close()


def agent_signs_in(page: Page, desk: Desk, username: str = "") -> None:
    """The desk's agent (or `username`) signs in and is connected (the console then says it is available)."""
    page.goto(desk.stack.console_url)
    page.get_by_test_id("console-username").fill(username or desk.agent_username)
    page.get_by_test_id("console-password").fill(desk.agent_password)
    page.get_by_test_id("console-login").click()
    expect(page.get_by_test_id("console-status")).to_have_attribute("data-state", "open", timeout=T)


def agent_takes(page: Page, marker: str) -> str:
    """The chat whose first message has `marker` becomes the agent's open chat: routed to them
    (it appears in My chats) or, from a server without routing, accepted from the queue."""
    queued = page.get_by_test_id("console-queue").get_by_test_id("console-queue-item").filter(has_text=marker)
    mine = page.get_by_test_id("console-chats").get_by_test_id("console-chat-item").filter(has_text=marker)
    expect(queued.or_(mine).first).to_be_visible(timeout=T)
    if not mine.count():
        # Waiting in the queue. A router may still assign it a moment later (the item then
        # leaves the queue under the click): either way it ends up in My chats.
        with contextlib.suppress(PlaywrightTimeoutError):
            queued.get_by_test_id("console-accept").click(timeout=5_000)
    expect(mine).to_have_count(1, timeout=T)
    if mine.get_attribute("aria-current") != "true":
        mine.click()
    expect(mine).to_have_attribute("aria-current", "true", timeout=T)
    conversation_id = mine.get_attribute("data-conversation-id")
    assert conversation_id
    return conversation_id
