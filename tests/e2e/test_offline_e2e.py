"""Outside hours, in real headless Chromium (issue 10, part 4): a visitor of a client that is
closed now gets the offline form (in Spanish on a Spanish page, with when the client opens
again), leaves a message, and the agent finds it in the console's Leads inbox, takes it and
adds a note.

The client is this test's own desk (tests/e2e/desk.py), open one hour a week on a day that is
not today.
Every wait is an expect()-style wait; no sleeps.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import timedelta

import pytest
from playwright.sync_api import Browser, expect

from infra.local.stack import LocalStack
from parley.hours import parse_hours
from tests.e2e.desk import Desk, Person, T, agent_signs_in

pytestmark = pytest.mark.e2e

DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


@pytest.fixture(scope="module")
def browser(launch_browser: Callable[[tuple[str, ...], str], Browser]) -> Browser:
    built = ("widget/dist/loader.js", "widget/dist/chat-ui.js", "console/dist/app.js")
    return launch_browser(built, "npm ci && npm run build")


@pytest.fixture
def closed(local_stack: LocalStack) -> Desk:
    """A desk open one hour a week, on a day two days from the stack's today: closed now."""
    day = DAYS[(local_stack.clock.now() + timedelta(days=2)).weekday()]
    hours = parse_hours({"time_zone": "UTC", "weekly": {day: [{"start": "09:00", "end": "10:00"}]}})
    return Desk(local_stack, hours=hours, agent_name="Jordan Leads")


def test_outside_hours_the_offline_form_makes_a_lead_in_the_inbox(
    visitor: Person, agent: Person, closed: Desk
) -> None:
    marker = uuid.uuid4().hex[:8]
    vpage = visitor.page
    closed.serve(visitor.context)
    vpage.goto(closed.url("es"))
    vpage.get_by_test_id("parley-launcher").click()

    form = vpage.get_by_test_id("parley-offline")
    expect(form).to_be_visible(timeout=T)
    expect(vpage.get_by_test_id("parley-input")).to_be_hidden()
    status = vpage.get_by_test_id("parley-status")
    expect(status).to_have_attribute("data-state", "offline")
    expect(status).to_contain_text("Volvemos el")  # when it opens again, in Spanish

    # A bad email is caught before anything is sent.
    vpage.get_by_test_id("parley-offline-name").fill("Lucía Gómez")
    vpage.get_by_test_id("parley-offline-email").fill("lucia-at-example")
    vpage.get_by_test_id("parley-offline-text").fill(f"¿Tienen el Corolla 2023? [{marker}]")
    vpage.get_by_test_id("parley-offline-send").click()
    expect(vpage.get_by_test_id("parley-offline-error")).to_be_visible(timeout=T)

    vpage.get_by_test_id("parley-offline-email").fill(f"lucia-{marker}@example.com")
    vpage.get_by_test_id("parley-offline-phone").fill("+1 555 0100")
    vpage.get_by_test_id("parley-offline-send").click()
    expect(vpage.get_by_test_id("parley-offline-thanks")).to_be_visible(timeout=T)

    # The agent of that client finds it in the Leads inbox, new, with the visitor's words.
    apage = agent.page
    agent_signs_in(apage, closed)
    apage.get_by_test_id("console-nav-leads").click()
    apage.get_by_test_id("leads-client").fill(closed.client_id)
    apage.get_by_test_id("leads-client").press("Enter")
    lead = apage.get_by_test_id("console-lead").filter(has_text=marker)
    expect(lead).to_have_count(1, timeout=T)
    expect(lead).to_have_attribute("data-status", "new")
    lead.click()
    detail = apage.get_by_test_id("console-lead-detail")
    expect(detail.get_by_test_id("console-lead-message")).to_have_text(f"¿Tienen el Corolla 2023? [{marker}]")
    expect(detail).to_contain_text(f"lucia-{marker}@example.com")
    expect(detail).to_contain_text("Outside hours")

    # Taking it: in progress, assigned, with a note.
    detail.get_by_test_id("console-lead-status").select_option("in_progress")
    expect(apage.get_by_test_id("console-lead").filter(has_text=marker)).to_have_count(0, timeout=T)  # left "New"
    apage.get_by_test_id("leads-tab-in_progress").click()
    lead = apage.get_by_test_id("console-lead").filter(has_text=marker)
    expect(lead).to_have_attribute("data-status", "in_progress", timeout=T)
    lead.click()
    detail.get_by_test_id("console-lead-assign").click()
    expect(detail.get_by_test_id("console-lead-assign")).to_have_text("Unassign", timeout=T)
    detail.get_by_test_id("console-lead-note").fill(f"Called back, test drive Friday [{marker}]")
    detail.get_by_test_id("console-lead-add-note").click()
    expect(detail.get_by_test_id("console-lead-notes")).to_contain_text("Called back, test drive Friday", timeout=T)
