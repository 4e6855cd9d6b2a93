"""The admin's hours editor in real headless Chromium (issue 10): the admin opens a client,
picks custom hours in UTC, gives every day a one-hour window that the clock is not in, adds a
closed date and a short day; an overlapping range first comes back with the server's message next to the form
and nothing saved; once fixed, the saved state says "Closed · opens at <the window>" and the
reopened client shows the stored hours.

Needs the session fixture `local_stack` and the built console. Every wait is an expect()-style
wait; no sleeps.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterator
from datetime import timedelta

import pytest
from playwright.sync_api import Browser, Locator, Page, expect

from infra.local.stack import LocalStack
from tests.e2e.desk import T
from tests.e2e.test_admin_e2e import sign_in

pytestmark = pytest.mark.e2e

PASSWORD = "E2e-admin-2026!"
DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


@pytest.fixture(scope="module")
def browser(launch_browser: Callable[[tuple[str, ...], str], Browser]) -> Browser:
    return launch_browser(("console/dist/app.js", "console/dist/index.html"), "npm ci && npm run build")


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1360, "height": 1000})
    errors: list[str] = []
    pg = context.new_page()
    pg.on("pageerror", lambda exc: errors.append(str(exc)))
    yield pg
    context.close()
    assert errors == [], f"uncaught errors in the console: {errors}"


def onboard_a_client(local_stack: LocalStack, page: Page) -> Locator:
    """A fresh admin signs in and onboards a client without hours; returns its table row."""
    marker = uuid.uuid4().hex[:6]
    username = f"hours-admin-{marker}"
    local_stack.create_user(username, PASSWORD, "admins", email=f"{username}@parley.local")
    sign_in(page, local_stack, username, PASSWORD)
    page.get_by_test_id("console-nav-admin").click()
    page.get_by_test_id("admin-tab-clients").click()
    client = f"Quayside Books {marker}"
    onboard = page.get_by_test_id("admin-client-new")
    expect(onboard).to_be_visible(timeout=T)
    onboard.get_by_label("Company name").fill(client)
    onboard.get_by_label("Allowed origins", exact=False).fill(f"https://quayside-{marker}.example")
    onboard.get_by_test_id("admin-client-save").click()
    row = page.get_by_test_id("admin-client").filter(has_text=client)
    expect(row).to_have_count(1, timeout=T)
    return row


def test_admin_sets_a_closed_window_and_the_saved_state_says_closed(local_stack: LocalStack, page: Page) -> None:
    row = onboard_a_client(local_stack, page)
    row.get_by_test_id("admin-client-open").click()

    editor = page.get_by_test_id("admin-client-hours")
    status = editor.get_by_test_id("hours-status")
    expect(status).to_have_text("Open now · no hours set: always open", timeout=T)  # loaded from the server
    expect(editor.get_by_test_id("hours-custom")).to_be_hidden()
    editor.get_by_test_id("hours-preset").select_option("")
    editor.get_by_test_id("hours-zone").fill("UTC")

    # A one-hour window six hours from the stack's clock, every day: the clock is never in it.
    start = (local_stack.clock.now() + timedelta(hours=6)).hour
    window = (f"{start:02d}:00", "24:00" if start == 23 else f"{start + 1:02d}:00")
    for day in DAYS:
        editor.get_by_test_id(f"hours-add-{day.lower()}").click()
        editor.get_by_label(f"{day} range 1 start").fill(window[0])
        editor.get_by_label(f"{day} range 1 end").fill(window[1])
    editor.get_by_test_id("hours-add-closed").click()
    editor.get_by_test_id("hours-add-short").click()
    closed, short = editor.get_by_test_id("hours-holiday").nth(0), editor.get_by_test_id("hours-holiday").nth(1)
    closed.get_by_label("Holiday label").fill("Stocktaking")
    closed.get_by_label("Date of holiday").fill("2030-01-15")
    short.get_by_label("Holiday label").fill("Inventory eve")
    short.get_by_label("Date of holiday").fill("2030-01-14")
    short.get_by_label("Short day range 1 end").fill("12:30")

    # An overlapping second range on Monday: the server's message under the form, nothing saved.
    editor.get_by_test_id("hours-add-monday").click()
    editor.get_by_label("Monday range 2 start").fill(window[0])
    editor.get_by_label("Monday range 2 end").fill(window[1])
    editor.get_by_test_id("hours-save").click()
    error = editor.get_by_test_id("hours-error")
    expect(error).to_be_visible(timeout=T)
    expect(error).to_contain_text("weekly.monday")
    expect(error).to_contain_text("overlap")
    expect(status).to_have_text("Open now · no hours set: always open")

    editor.get_by_label("Remove Monday range 2").click()
    editor.get_by_test_id("hours-save").click()
    saved = page.get_by_test_id("admin-client-hours")
    expect(saved.get_by_test_id("hours-status")).to_have_text(
        re.compile(rf"^Closed · opens at .*{window[0]} \(UTC\)$"), timeout=T)
    expect(saved.get_by_test_id("hours-error")).to_be_hidden()

    # Reopened from the table: the stored hours, loaded afresh.
    row.get_by_test_id("admin-client-open").click()
    reopened = page.get_by_test_id("admin-client-hours")
    expect(reopened.get_by_test_id("hours-status")).to_have_text(re.compile(r"^Closed · opens at "), timeout=T)
    expect(reopened.get_by_test_id("hours-zone")).to_have_value("UTC")
    expect(reopened.get_by_label("Friday range 1 start")).to_have_value(window[0])
    expect(reopened.get_by_label("Monday range 2 start")).to_have_count(0)
    lines = reopened.get_by_test_id("hours-holiday")
    expect(lines).to_have_count(2)
    expect(lines.nth(0).get_by_label("Holiday label")).to_have_value("Stocktaking")
    expect(lines.nth(0).get_by_label("Date of Stocktaking")).to_have_value("2030-01-15")
    expect(lines.nth(1)).to_contain_text("Short day")
    expect(lines.nth(1).get_by_label("Date of Inventory eve")).to_have_value("2030-01-14")
    expect(lines.nth(1).get_by_label("Inventory eve range 1 start")).to_have_value("09:00")
    expect(lines.nth(1).get_by_label("Inventory eve range 1 end")).to_have_value("12:30")


def test_admin_picks_the_co8_preset_with_coverage_then_removes_the_hours(local_stack: LocalStack, page: Page) -> None:
    row = onboard_a_client(local_stack, page)
    row.get_by_test_id("admin-client-open").click()
    editor = page.get_by_test_id("admin-client-hours")
    expect(editor.get_by_test_id("hours-status")).to_have_text(re.compile(r"^Open now"), timeout=T)
    editor.get_by_test_id("hours-preset").select_option("call_on_me")
    editor.get_by_test_id("hours-coverage").check()
    editor.get_by_test_id("hours-save").click()
    # With after-hours coverage (PR-2) chats are answered at any hour: open whatever the clock says.
    saved = page.get_by_test_id("admin-client-hours")
    expect(saved.get_by_test_id("hours-status")).to_have_text(re.compile(r"^Open now"), timeout=T)
    expect(saved.get_by_test_id("hours-preset")).to_have_value("call_on_me")
    expect(saved.get_by_test_id("hours-coverage")).to_be_checked()

    # "Custom" shows what the preset stored: CO-8's zone, weekday ranges, its named holidays.
    saved.get_by_test_id("hours-preset").select_option("")
    expect(saved.get_by_test_id("hours-zone")).to_have_value("Etc/GMT+7")
    expect(saved.get_by_label("Wednesday range 1 start")).to_have_value("08:00")
    expect(saved.get_by_label("Saturday range 1 start")).to_have_count(0)
    expect(saved.get_by_test_id("hours-holiday")).to_have_count(10)  # 7 closed days, 3 short days
    black_friday = saved.get_by_test_id("hours-holiday").filter(has_text="Thanksgiving Day +1 d (US)")
    expect(black_friday).to_have_count(1)
    expect(black_friday.get_by_label("Holiday label")).to_have_value("Black Friday")

    saved.get_by_test_id("hours-preset").select_option("none")
    saved.get_by_test_id("hours-save").click()
    removed = page.get_by_test_id("admin-client-hours")
    expect(removed.get_by_test_id("hours-status")).to_have_text("Open now · no hours set: always open", timeout=T)
    expect(removed.get_by_test_id("hours-preset")).to_have_value("none")
