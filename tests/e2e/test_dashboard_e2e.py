"""The client dashboard end to end in real headless Chromium, against the local stack.

A business signs up in the UI, sees its trial, chooses Business Starter, saves the Visa test
card, moves the local clock 14 days (twice 7 days, as `make clock DAYS=7` does through the
stack's control server; the dashboard shows the clock read-only), refreshes and sees paid service start with the
first invoice: the monthly fee (CO-9) and the one-time setup fee (CO-5). It gives notice (within
the first 30 days of paid service: effective at the end of the cycle, CO-2), sees the end date
and the explanation, withdraws the notice, and downloads its data.

Needs the session fixture `local_stack` (preset call_on_me) and the built dashboard
(`node scripts/build_dashboard.mjs`). Every wait is an expect()-style wait; no sleeps.
Set PARLEY_DASHBOARD_SCREENSHOT=docs/images/dashboard.png to save the README screenshot.
"""

from __future__ import annotations

import json
import os
import re
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Locator, Page, expect

from infra.local.stack import LocalStack

pytestmark = pytest.mark.e2e

T = 15_000  # ms, for every expect()
CLOCK_T = 60_000  # moving the clock runs every scheduled job and workflow on the way
REPO = Path(__file__).resolve().parents[2]
PASSWORD = "E2e-dashboard-2026"
DATE = r"\d{4}-\d{2}-\d{2}"


@pytest.fixture(scope="module")
def browser(launch_browser: Callable[[tuple[str, ...], str], Browser]) -> Browser:
    built = ("dashboard/dist/index.html", "dashboard/dist/app.js", "dashboard/dist/app.css")
    return launch_browser(built, "node scripts/build_dashboard.mjs")


@pytest.fixture
def page(browser: Browser, local_stack: LocalStack) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True)
    errors: list[str] = []
    pg = context.new_page()
    pg.on("pageerror", lambda exc: errors.append(str(exc)))
    pg.goto(f"{local_stack.base_url}/dashboard/")
    yield pg
    context.close()
    assert errors == [], f"uncaught errors on the dashboard: {errors}"


def sign_up(page: Page, company: str, stack: LocalStack) -> str:
    email = f"owner-{uuid.uuid4().hex[:10]}@e2e.parley.test"
    page.get_by_test_id("dash-signup-tab").click()
    page.get_by_test_id("dash-company").fill(company)
    page.get_by_test_id("dash-website").fill(f"https://{uuid.uuid4().hex[:8]}.e2e.test")
    page.get_by_test_id("dash-email").fill(email)
    page.get_by_test_id("dash-password").fill(PASSWORD)
    page.get_by_test_id("dash-signup").click()
    enter_the_mailed_code(page, stack, email)
    return email


def mailed_code(stack: LocalStack, email: str) -> str:
    """The signup code, as the person reads it in their mailbox (the local SMTP server's; the
    email path runs when the stream is drained, as the background poller of `make dev` does)."""
    stack.drain_streams()
    codes = [m.group(1) for mail in stack.smtp.to(email) if mail.subject == "Your Parley verification code"
             for m in [re.search(r"^\s+(\d{6})$", mail.text, re.MULTILINE)] if m]
    assert codes, f"no verification code reached {email}"
    return codes[-1]  # the newest


def enter_the_mailed_code(page: Page, stack: LocalStack, email: str) -> None:
    expect(page.get_by_test_id("dash-code-step")).to_be_visible(timeout=T)
    page.get_by_test_id("dash-code").fill(mailed_code(stack, email))
    page.get_by_test_id("dash-code-submit").click()


def move_clock(page: Page, stack: LocalStack, days: int) -> None:
    """What `make clock DAYS=n` does (the control server, with the run's token), then Refresh."""
    clock = f"{stack.control.url}/_local/clock"
    request = urllib.request.Request(clock, data=json.dumps({"days": days}).encode(), method="POST",
                                     headers={**stack.control.access.headers, "Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=CLOCK_T / 1000) as answer:
        assert answer.status == 200
    page.get_by_test_id("dash-refresh").click()
    expect(page.get_by_test_id("dash-refresh")).to_have_text("Refresh", timeout=T)


def test_trial_to_paid_notice_and_withdrawal(page: Page, local_stack: LocalStack) -> None:
    sign_up(page, "Acme Widgets Inc.", local_stack)
    status = page.get_by_test_id("dash-status")
    see_the_trial(page, status)
    starter = choose_business_starter(page)
    add_the_visa_test_card(page, status)
    see_paid_service_start(page, local_stack, status, starter)
    notice = give_notice(page, status)
    withdraw_the_notice(page, status, notice)
    download_all_my_data(page)

    page.get_by_test_id("dash-logout").click()
    expect(page.get_by_test_id("dash-login")).to_be_visible()
    assert page.evaluate("sessionStorage.getItem('parley.dashboard.idToken')") is None


def see_the_trial(page: Page, status: Locator) -> None:
    """Signed in at once: the trial banner (call_on_me: 14 days, 500 chats, CO-4 / CO-9)."""
    expect(status).to_have_attribute("data-status", "trial", timeout=T)
    expect(status).to_contain_text(
        re.compile(rf"14 days and 500 of 500 chats left in your trial — paid service starts on {DATE}"))
    expect(page.locator("#company-name")).to_have_text("Acme Widgets Inc.")
    snippet = page.get_by_test_id("dash-snippet")
    expect(snippet).to_contain_text(re.compile(r'/widget/loader\.js" data-widget-key="wk_[^"]+" async></script>$'))
    page.get_by_test_id("dash-copy-snippet").click()
    expect(page.get_by_test_id("dash-copy-snippet")).to_have_text("Copied")
    expect(page.get_by_test_id("dash-clock-now")).to_contain_text("UTC")
    expect(page.locator("#clock button")).to_have_count(0)  # read-only: a page holds no control token
    expect(page.get_by_test_id("dash-invoices").get_by_test_id("dash-invoice")).to_have_count(0)
    expect(page.get_by_test_id("dash-give-notice")).to_be_hidden()  # nothing to cancel in a trial


def choose_business_starter(page: Page) -> Locator:
    """Choose Business Starter (the plan paid service starts with); returns its card."""
    starter = page.locator('[data-testid="dash-plan"][data-plan-id="business_starter"]')
    expect(starter).to_contain_text("$350.00")
    starter.get_by_test_id("dash-choose-plan").click()
    expect(starter).to_have_attribute("data-state", "chosen", timeout=T)
    expect(starter.get_by_test_id("dash-choose-plan")).to_be_disabled()
    other = page.locator('[data-testid="dash-plan"][data-plan-id="business_development"]')
    expect(other.get_by_test_id("dash-choose-plan")).to_have_text("Choose")
    return starter


def add_the_visa_test_card(page: Page, status: Locator) -> None:
    payment = page.get_by_test_id("dash-payment-method")
    expect(payment).to_contain_text("No card on file")
    page.get_by_test_id("dash-card-visa").click()
    expect(payment).to_contain_text("Card on file", timeout=T)
    expect(status).to_contain_text("You're all set: Business Starter starts on")


def see_paid_service_start(page: Page, stack: LocalStack, status: Locator, starter: Locator) -> None:
    """14 days later: paid service (CO-9) and the first invoice, setup fee included (CO-5)."""
    move_clock(page, stack, 7)
    expect(status).to_contain_text("7 days and 500 of 500 chats left in your trial", timeout=T)
    move_clock(page, stack, 7)
    expect(status).to_have_attribute("data-status", "active", timeout=T)
    expect(status).to_contain_text("Your subscription is active — Business Starter")
    expect(starter).to_have_attribute("data-state", "current")
    invoice = page.get_by_test_id("dash-invoices").get_by_test_id("dash-invoice")
    expect(invoice).to_have_count(1, timeout=T)
    expect(invoice).to_contain_text("$445.00")
    expect(invoice).to_contain_text("Monthly")
    lines = invoice.get_by_test_id("dash-invoice-line")
    expect(lines.first).to_be_hidden()
    invoice.locator(".inv-row").click()
    monthly = invoice.locator('[data-testid="dash-invoice-line"][data-kind="monthly_fee_in_advance"]')
    setup = invoice.locator('[data-testid="dash-invoice-line"][data-kind="setup_fee"]')
    expect(monthly).to_be_visible()
    expect(monthly).to_contain_text("$350.00")
    expect(monthly).to_contain_text("CO-9")
    expect(setup).to_contain_text("$95.00")
    expect(setup).to_contain_text("CO-5")
    usage = page.get_by_test_id("dash-usage")
    expect(usage).to_contain_text("of 200 engaged chats included")
    expect(page.get_by_test_id("dash-history")).to_contain_text("Paid service started on Business Starter")


def give_notice(page: Page, status: Locator) -> Locator:
    """Notice within the first 30 days of paid service: the end of the current cycle (CO-2)."""
    page.get_by_test_id("dash-notice-reason").fill("Moving to an in-house team")
    page.get_by_test_id("dash-give-notice").click()
    notice = page.get_by_test_id("dash-notice")
    expect(notice).to_be_visible(timeout=T)
    expect(notice).to_have_attribute("data-status", "pending")
    expect(page.get_by_test_id("dash-notice-effective")).to_have_text(re.compile(rf"^Your service ends after {DATE}$"))
    effective = page.get_by_test_id("dash-notice-effective").inner_text().rsplit(" ", 1)[1]
    explanation = page.get_by_test_id("dash-notice-explanation")
    expect(explanation).to_contain_text("CO-2")
    expect(explanation).to_contain_text("within the first 30 days")
    expect(explanation).to_contain_text(effective)
    expect(notice).to_contain_text("Moving to an in-house team")
    expect(page.get_by_test_id("dash-give-notice")).to_be_hidden()
    expect(status).to_contain_text(f"active until {effective}")
    if path := os.environ.get("PARLEY_DASHBOARD_SCREENSHOT"):
        page.evaluate("window.scrollTo(0, 0); document.getElementById('toast').hidden = true")
        page.screenshot(path=str(REPO / path))
    return notice


def withdraw_the_notice(page: Page, status: Locator, notice: Locator) -> None:
    """Withdraw it: the subscription continues and the cancellation form is back."""
    page.get_by_test_id("dash-withdraw-notice").click()
    expect(notice).to_have_attribute("data-status", "withdrawn", timeout=T)
    expect(notice).to_contain_text("withdrawn")
    expect(page.get_by_test_id("dash-withdraw-notice")).to_be_hidden()
    expect(page.get_by_test_id("dash-give-notice")).to_be_enabled()
    expect(page.get_by_test_id("dash-notice-reason")).to_be_editable()
    expect(page.get_by_test_id("dash-notice-reason")).to_have_value("")
    expect(status).to_contain_text("Your subscription is active — Business Starter")
    expect(page.get_by_test_id("dash-history")).to_contain_text("Notice withdrawn")


def download_all_my_data(page: Page) -> None:
    """Asked for with the bearer token, downloaded from the presigned S3 link it returns."""
    with page.expect_download() as download_info:
        page.get_by_test_id("dash-export").click()
    download = download_info.value
    assert re.fullmatch(r"parley-export-cl_[A-Za-z0-9_-]+\.json", download.suggested_filename)
    exported = json.loads(Path(download.path()).read_text())
    assert exported["format"] == "parley-export/1"
    assert [line["kind"] for inv in exported["invoices"] for line in inv["lines"]] == [
        "monthly_fee_in_advance", "setup_fee"]


def test_errors_are_shown_and_data_is_text(page: Page, local_stack: LocalStack) -> None:
    page.get_by_test_id("dash-username").fill("nobody@e2e.parley.test")
    page.get_by_test_id("dash-password").fill("not-the-password")
    page.get_by_test_id("dash-login").click()
    expect(page.get_by_test_id("dash-error")).to_have_text("Wrong email or password.", timeout=T)

    company = 'Dup <img src=x onerror="window.__pwned=1"> Ltd'
    email = sign_up(page, company, local_stack)
    expect(page.get_by_test_id("dash-status")).to_have_attribute("data-status", "trial", timeout=T)
    expect(page.locator("#company-name")).to_have_text(company)  # data is text, never HTML
    assert page.evaluate("window.__pwned") is None
    page.get_by_test_id("dash-logout").click()
    page.get_by_test_id("dash-signup-tab").click()
    page.get_by_test_id("dash-company").fill("Duplicate Check Ltd")
    page.get_by_test_id("dash-website").fill("https://duplicate.e2e.test")
    page.get_by_test_id("dash-email").fill(email)
    page.get_by_test_id("dash-password").fill(PASSWORD)
    page.get_by_test_id("dash-signup").click()
    expect(page.get_by_test_id("dash-error")).to_have_text("an account with this email exists; log in instead",
                                                           timeout=T)
