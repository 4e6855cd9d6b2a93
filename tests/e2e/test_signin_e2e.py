"""Signup and sign-in steps in real headless Chromium, against the local stack: the dashboard's
password hint comes from the API's policy, a weak password is refused before anything is sent,
a wrong emailed code is refused and the right one starts the trial; in the console a supervisor
is made to set up TOTP at the first sign-in and then signs in with the authenticator's code.

Needs the session fixture `local_stack` and the built console and dashboard. Codes come from the
local SMTP mailbox (/_local/mail.json) and from pyotp, as a person's mailbox and authenticator
app would give them.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator

import pyotp
import pytest
from playwright.sync_api import Browser, Page, expect

from infra.local.stack import LocalStack
from parley import services
from parley.auth.passwords import PASSWORD_POLICY
from parley.auth.roles import Group, StaffRole
from parley.chat.models import Agent
from tests.e2e.desk import T
from tests.e2e.test_dashboard_e2e import mailed_code

pytestmark = pytest.mark.e2e
PASSWORD = "E2e-signin-2026!"


@pytest.fixture(scope="module")
def browser(launch_browser: Callable[[tuple[str, ...], str], Browser]) -> Browser:
    return launch_browser(("console/dist/app.js", "dashboard/dist/app.js"), "make frontend")


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    errors: list[str] = []
    pg = context.new_page()
    pg.on("pageerror", lambda exc: errors.append(str(exc)))
    yield pg
    context.close()
    assert errors == [], f"uncaught errors: {errors}"


def test_dashboard_signup_checks_the_policy_and_the_emailed_code(page: Page, local_stack: LocalStack) -> None:
    email = f"owner-{uuid.uuid4().hex[:10]}@signin.e2e.test"
    page.goto(f"{local_stack.base_url}/dashboard/")
    page.get_by_test_id("dash-signup-tab").click()
    expect(page.get_by_test_id("dash-password-hint")).to_contain_text(f"at least {PASSWORD_POLICY.min_length}",
                                                                      timeout=T)
    page.get_by_test_id("dash-company").fill("Signin Garden Supplies")
    page.get_by_test_id("dash-website").fill("https://garden.e2e.test")
    page.get_by_test_id("dash-email").fill(email)
    page.get_by_test_id("dash-password").fill("Short-p4ss!")  # 11 characters
    page.get_by_test_id("dash-signup").click()
    expect(page.get_by_test_id("dash-error")).to_contain_text("at least 12 characters", timeout=T)
    assert local_stack.boto("cognito-idp").list_users(UserPoolId=local_stack.user_pool_id,
                                                      Filter=f'email = "{email}"')["Users"] == []

    page.get_by_test_id("dash-password").fill(PASSWORD)
    page.get_by_test_id("dash-signup").click()
    expect(page.get_by_test_id("dash-code-step")).to_be_visible(timeout=T)
    code = mailed_code(local_stack, email)
    page.get_by_test_id("dash-code").fill(f"{(int(code) + 1) % 1_000_000:06d}")
    page.get_by_test_id("dash-code-submit").click()
    expect(page.get_by_test_id("dash-error")).to_contain_text("That code is not right", timeout=T)
    page.get_by_test_id("dash-code").fill(code)
    page.get_by_test_id("dash-code-submit").click()
    expect(page.get_by_test_id("dash-status")).to_have_attribute("data-status", "trial", timeout=T)


def test_a_supervisor_sets_up_totp_at_the_first_sign_in_then_signs_in_with_a_code(page: Page,
                                                                                 local_stack: LocalStack) -> None:
    username = f"sup-{uuid.uuid4().hex[:8]}"
    email = f"{username}@signin.e2e.test"
    sub = local_stack.create_user(username, PASSWORD, Group.SUPERVISORS.value, email=email)
    services.tenant_repository().put_agent(Agent(
        agent_id=sub, username=username, name="Sia Okafor", email=email, role=StaffRole.SUPERVISOR,
        client_ids=[local_stack.demo.sierra.client_id]))

    def password_step() -> None:
        page.goto(local_stack.console_url)
        page.get_by_test_id("console-username").fill(username)
        page.get_by_test_id("console-password").fill(PASSWORD)
        page.get_by_test_id("console-login").click()

    password_step()
    secret = page.get_by_test_id("console-totp-secret")
    expect(secret).to_be_visible(timeout=T)  # no way in without it
    totp = pyotp.TOTP(secret.inner_text())
    page.get_by_test_id("console-mfa-code").fill(f"{(int(totp.now()) + 1) % 1_000_000:06d}")
    page.get_by_test_id("console-login").click()
    expect(page.locator("#login-error")).to_contain_text("That code is not right", timeout=T)
    page.get_by_test_id("console-mfa-code").fill(totp.now())
    page.get_by_test_id("console-login").click()
    expect(page.get_by_test_id("console-nav-chats")).to_be_visible(timeout=T)

    page.context.clear_cookies()
    page.evaluate("sessionStorage.clear(); localStorage.clear()")
    password_step()
    expect(page.get_by_test_id("console-mfa-step")).to_be_visible(timeout=T)
    expect(secret).to_be_hidden()  # set up already: only the code is asked for
    page.get_by_test_id("console-mfa-code").fill(totp.now())
    page.get_by_test_id("console-login").click()
    expect(page.get_by_test_id("console-nav-chats")).to_be_visible(timeout=T)
