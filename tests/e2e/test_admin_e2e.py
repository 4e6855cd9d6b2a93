"""The console's admin area in real headless Chromium (issue 10, part 1): the provider's admin
signs in, creates a team, invites an agent into it with a cap, and onboards a client answered
by that team; an agent (not an admin) sees no admin area.

Needs the session fixture `local_stack` with the admin API (`/api/admin/...`) and the built
console. Every wait is an expect()-style wait; no sleeps.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator

import pyotp
import pytest
from playwright.sync_api import Browser, Page, expect

from infra.local.stack import LocalStack
from tests.e2e.desk import T

pytestmark = pytest.mark.e2e

PASSWORD = "E2e-admin-2026!"


@pytest.fixture(scope="module")
def browser(launch_browser: Callable[[tuple[str, ...], str], Browser]) -> Browser:
    return launch_browser(("console/dist/app.js", "console/dist/index.html"), "npm ci && npm run build")


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1360, "height": 900})
    errors: list[str] = []
    pg = context.new_page()
    pg.on("pageerror", lambda exc: errors.append(str(exc)))
    yield pg
    context.close()
    assert errors == [], f"uncaught errors in the console: {errors}"


def sign_in(page: Page, local_stack: LocalStack, username: str, password: str) -> None:
    page.goto(local_stack.console_url)
    page.get_by_test_id("console-username").fill(username)
    page.get_by_test_id("console-password").fill(password)
    page.get_by_test_id("console-login").click()
    secret = page.get_by_test_id("console-totp-secret")
    either = "[data-testid=console-totp-secret]:visible, [data-testid=console-nav-chats]:visible"
    expect(page.locator(either).first).to_be_visible(timeout=T)
    if secret.is_visible():  # an admin's first sign-in sets up TOTP (parley.auth.login)
        page.get_by_test_id("console-mfa-code").fill(pyotp.TOTP(secret.inner_text()).now())
        page.get_by_test_id("console-login").click()
    expect(page.get_by_test_id("console-nav-chats")).to_be_visible(timeout=T)


def test_admin_creates_a_team_invites_an_agent_and_onboards_a_client(local_stack: LocalStack, page: Page) -> None:
    marker = uuid.uuid4().hex[:6]
    username = f"admin-{marker}"
    local_stack.create_user(username, PASSWORD, "admins", email=f"{username}@parley.local")
    sign_in(page, local_stack, username, PASSWORD)

    page.get_by_test_id("console-nav-admin").click()
    view = page.get_by_test_id("admin-view")
    expect(view).to_be_visible(timeout=T)

    # A team.
    team = f"Night shift {marker}"
    page.get_by_test_id("admin-tab-teams").click()
    new_team = page.get_by_test_id("admin-team-new")
    expect(new_team).to_be_visible(timeout=T)
    new_team.get_by_test_id("admin-team-name").fill(team)
    new_team.get_by_test_id("admin-team-save").click()
    expect(page.get_by_test_id("admin-team").filter(has_text=team)).to_have_count(1, timeout=T)

    # An agent in that team, with a cap of 2.
    agent = f"Robin {marker}"
    page.get_by_test_id("admin-tab-agents").click()
    invite = page.get_by_test_id("admin-agent-new")
    expect(invite).to_be_visible(timeout=T)
    invite.get_by_test_id("admin-agent-name").fill(agent)
    invite.get_by_test_id("admin-agent-email").fill(f"robin-{marker}@e2e.parley.test")
    invite.get_by_test_id("admin-agent-cap").fill("2")
    invite.get_by_label(team).check()
    invite.get_by_test_id("admin-agent-save").click()
    row = page.get_by_test_id("admin-agent").filter(has_text=agent)
    expect(row).to_have_count(1, timeout=T)
    expect(row).to_contain_text(team)
    expect(row.locator("td").nth(2)).to_have_text("2")

    # Bad input is refused with the server's message and changes nothing.
    invite = page.get_by_test_id("admin-agent-new")
    invite.get_by_test_id("admin-agent-name").fill(f"Nobody {marker}")
    invite.get_by_test_id("admin-agent-email").fill("not-an-email")
    invite.get_by_test_id("admin-agent-save").click()
    expect(page.get_by_test_id("admin-error")).to_be_visible(timeout=T)
    expect(page.get_by_test_id("admin-agent").filter(has_text=f"Nobody {marker}")).to_have_count(0)

    # A client answered by the team.
    client = f"Lakeside Auto {marker}"
    page.get_by_test_id("admin-tab-clients").click()
    onboard = page.get_by_test_id("admin-client-new")
    expect(onboard).to_be_visible(timeout=T)
    onboard.get_by_label("Company name").fill(client)
    onboard.get_by_label("Allowed origins", exact=False).fill(f"https://lakeside-{marker}.example")
    onboard.get_by_label(team).check()
    onboard.get_by_test_id("admin-client-save").click()
    client_row = page.get_by_test_id("admin-client").filter(has_text=client)
    expect(client_row).to_have_count(1, timeout=T)
    expect(client_row).to_contain_text(team)


def test_an_agent_sees_no_admin_area(local_stack: LocalStack, page: Page) -> None:
    sign_in(page, local_stack, local_stack.demo.agent_username, local_stack.demo.agent_password)
    expect(page.get_by_test_id("console-status")).to_have_attribute("data-state", "open", timeout=T)
    expect(page.get_by_test_id("console-nav-admin")).to_be_hidden()
    expect(page.get_by_test_id("admin-view")).to_be_hidden()
