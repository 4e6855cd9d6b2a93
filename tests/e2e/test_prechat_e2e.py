"""The pre-chat form in real headless Chromium: the visitor fills the client's form in the
widget (checked in the browser, then on the server), and the agent's console shows the answers.

The client is this module's own (its form, its agent, a page of its site on the demo origin),
so the demo clients that other tests chat with keep no form. The page is a real response of the
local gateway with the client's loader added: Chromium 156 gives a page fulfilled by
`route()` the public address space, and its Local Network Access checks then block the
widget's WebSocket to 127.0.0.1 (net::ERR_BLOCKED_BY_LOCAL_NETWORK_ACCESS_CHECKS, seen in
this module's first version). The agent signs in first: a visitor who writes when no agent is
online gets the offline form. Every wait is an expect()-style wait with a timeout; no sleeps.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from infra.local.stack import LocalStack
from parley.chat.models import Client, PreChatField
from parley.composition import chat as chat_services

pytestmark = pytest.mark.e2e

T = 15_000  # ms, for every expect()
FORM = [PreChatField(key="name", label="Your name", required=True),
        PreChatField(key="email", label="Email", type="email", required=True),
        PreChatField(key="vehicle", label="Vehicle", type="select", options=["F-150", "Mustang"]),
        PreChatField(key="consent", label="Consent", type="consent", consent_text="You may contact me")]


@pytest.fixture(scope="module")
def browser(launch_browser: Callable[[tuple[str, ...], str], Browser]) -> Browser:
    return launch_browser(("widget/dist/loader.js", "widget/dist/chat-ui.js", "console/dist/app.js"),
                          "npm ci && npm run build")


# The site's page: the client's loader on a page of the demo origin, in the page's language.
SITE_PAGE = """([key, lang]) => {
  document.documentElement.lang = lang;
  document.body.replaceChildren(Object.assign(document.createElement("h1"), {textContent: "Dealer"}));
  const loader = Object.assign(document.createElement("script"), {src: "/widget/loader.js", async: true});
  loader.dataset.widgetKey = key;
  document.body.append(loader);
}"""


@dataclass
class Site:
    stack: LocalStack
    client_id: str
    widget_key: str
    agent_username: str

    def open(self, page: Page, lang: str) -> None:
        """The visitor opens the site and the widget."""
        page.goto(f"{self.stack.demo_url}prechat-{self.widget_key}.html")  # any answer of the gateway
        page.evaluate(SITE_PAGE, [self.widget_key, lang])
        page.get_by_test_id("parley-launcher").click()
        expect(page.get_by_test_id("parley-panel")).to_be_visible(timeout=T)

    def set_form(self, fields: list[PreChatField]) -> None:
        tenants = chat_services.tenant_repository()
        client = tenants.get_client(self.client_id)
        assert client is not None
        tenants.put_client(client.model_copy(update={"pre_chat_fields": fields}))


@pytest.fixture
def site(local_stack: LocalStack) -> Site:
    marker = uuid.uuid4().hex[:8]
    found = Site(local_stack, f"cl_pce2e_{marker}", f"wk_pce2e_{marker}", f"pce2e-{marker}")
    local_stack.add_client(Client(client_id=found.client_id, name=f"Pre-chat Motors {marker}",
                                  widget_key=found.widget_key, allowed_origins=[local_stack.base_url],
                                  pre_chat_fields=FORM))
    local_stack.add_agent(found.agent_username, "Casey Form", [found.client_id])
    return found


@pytest.fixture
def pages(browser: Browser) -> Iterator[tuple[BrowserContext, Page, Page]]:
    visitor = browser.new_context(viewport={"width": 1280, "height": 860})
    agent = browser.new_context(viewport={"width": 1280, "height": 860})
    errors: list[str] = []
    vpage, apage = visitor.new_page(), agent.new_page()
    for page in (vpage, apage):
        page.on("pageerror", lambda exc: errors.append(str(exc)))
    yield visitor, vpage, apage
    assert errors == [], f"uncaught page errors: {errors}"
    visitor.close()
    agent.close()


def agent_signs_in(page: Page, site: Site) -> None:
    page.goto(site.stack.console_url)
    page.get_by_test_id("console-username").fill(site.agent_username)
    page.get_by_test_id("console-password").fill(site.stack.demo.agent_password)
    page.get_by_test_id("console-login").click()
    expect(page.get_by_test_id("console-status")).to_have_attribute("data-state", "open", timeout=T)


def test_the_visitor_fills_the_form_and_the_agent_sees_the_answers(local_stack: LocalStack, site: Site,
                                                                   pages: tuple[BrowserContext, Page, Page]) -> None:
    _, vpage, apage = pages
    agent_signs_in(apage, site)
    site.open(vpage, "en")

    # Before the first message: the form, not the composer; labels are the client's own.
    form = vpage.get_by_test_id("parley-prechat")
    expect(form).to_be_visible(timeout=T)
    expect(vpage.get_by_test_id("parley-input")).to_be_hidden()
    expect(form).to_contain_text("Your name")
    expect(form).to_contain_text("You may contact me")

    # Checked in the browser: required fields, the email, the consent.
    vpage.get_by_test_id("parley-prechat-start").click()
    expect(vpage.get_by_test_id("parley-prechat-error-name")).to_have_text("Please fill in this field.")
    expect(vpage.get_by_test_id("parley-prechat-error-consent")).to_have_text("Please accept to continue.")
    vpage.get_by_test_id("parley-prechat-name").fill("Ana Ruiz")
    vpage.get_by_test_id("parley-prechat-email").fill("ana@example")
    vpage.get_by_test_id("parley-prechat-consent").check()
    vpage.get_by_test_id("parley-prechat-vehicle").select_option("Mustang")
    vpage.get_by_test_id("parley-prechat-start").click()
    expect(vpage.get_by_test_id("parley-prechat-error-email")).to_have_text("Please enter a valid email.")
    expect(vpage.get_by_test_id("parley-prechat-error-name")).to_be_hidden()
    vpage.get_by_test_id("parley-prechat-email").fill("ana@example.com")
    vpage.get_by_test_id("parley-prechat-start").click()
    expect(form).to_be_hidden(timeout=T)

    # The server has the last word: the client dropped the Mustang meanwhile, so the first
    # message is refused (invalid_prechat on `vehicle`) and the form comes back with that error.
    site.set_form([FORM[0], FORM[1], FORM[2].model_copy(update={"options": ["F-150"]}), FORM[3]])
    marker = uuid.uuid4().hex[:8]
    vpage.get_by_test_id("parley-input").fill(f"Is the Mustang still there? [{marker}]")
    vpage.get_by_test_id("parley-send").click()
    expect(form).to_be_visible(timeout=T)
    expect(vpage.get_by_test_id("parley-prechat-error-vehicle")).to_have_text("Please choose one of the options.")
    assert chat_services.chat_repository().conversations_of_client(site.client_id) == []
    vpage.get_by_test_id("parley-prechat-vehicle").select_option("F-150")
    vpage.get_by_test_id("parley-prechat-start").click()
    sent = vpage.locator('[data-testid="parley-message"][data-role="visitor"][data-seq]').filter(has_text=marker)
    expect(sent).to_have_count(1, timeout=T)  # the waiting message went with the corrected answers

    # The chat is routed to the agent; the visitor panel shows the answers.
    mine = apage.get_by_test_id("console-chats").get_by_test_id("console-chat-item").filter(has_text=marker)
    expect(mine).to_have_count(1, timeout=T)
    mine.click()
    info = apage.locator("#info-list")
    for text in ("Ana Ruiz", "ana@example.com", "F-150", "accepted"):
        expect(info).to_contain_text(text, timeout=T)


def test_the_spanish_page_gets_the_form_in_spanish(local_stack: LocalStack, site: Site,
                                                   pages: tuple[BrowserContext, Page, Page]) -> None:
    _, vpage, apage = pages
    agent_signs_in(apage, site)
    site.open(vpage, "es")
    expect(vpage.get_by_test_id("parley-prechat-start")).to_have_text("Iniciar chat", timeout=T)
    vpage.get_by_test_id("parley-prechat-name").fill("Ana")
    vpage.get_by_test_id("parley-prechat-email").fill("ana@")
    vpage.get_by_test_id("parley-prechat-start").click()
    expect(vpage.get_by_test_id("parley-prechat-error-email")).to_have_text("Escribe un correo electrónico válido.")
    expect(vpage.get_by_test_id("parley-prechat-error-consent")).to_have_text("Acepta para continuar.")


def test_without_a_form_the_visitor_writes_at_once(local_stack: LocalStack, site: Site,
                                                   pages: tuple[BrowserContext, Page, Page]) -> None:
    site.set_form([])
    _, vpage, apage = pages
    agent_signs_in(apage, site)
    site.open(vpage, "en")
    marker = uuid.uuid4().hex[:8]
    vpage.get_by_test_id("parley-input").fill(f"Any trucks? [{marker}]")
    vpage.get_by_test_id("parley-send").click()
    sent = vpage.locator('[data-testid="parley-message"][data-role="visitor"][data-seq]').filter(has_text=marker)
    expect(sent).to_have_count(1, timeout=T)
    expect(vpage.get_by_test_id("parley-prechat")).to_be_hidden()
    [stored] = chat_services.chat_repository().conversations_of_client(site.client_id)
    assert stored.pre_chat == {}
