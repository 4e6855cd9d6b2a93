"""Takes the README's screenshot: the demo dealership's widget and the agent console, in one
image, from a real run on the local stack (headless Chromium). `python scripts/screenshots.py`"""

from __future__ import annotations

import base64
from pathlib import Path

from playwright.sync_api import expect, sync_playwright

from infra.local.stack import LocalStack

OUT = Path(__file__).resolve().parents[1] / "docs" / "images"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--no-first-run"]


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    with LocalStack() as stack, sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", headless=True, args=ARGS)
        visitor = browser.new_context(viewport={"width": 1100, "height": 800}).new_page()
        agent = browser.new_context(viewport={"width": 1100, "height": 800}).new_page()
        # The agent is on the desk first (available on connect), so the visitor's chat is routed.
        agent.goto(stack.console_url)
        agent.get_by_test_id("console-username").fill(stack.demo.agent_username)
        agent.get_by_test_id("console-password").fill(stack.demo.agent_password)
        agent.get_by_test_id("console-login").click()
        expect(agent.get_by_test_id("console-status")).to_have_attribute("data-state", "open", timeout=15_000)
        visitor.goto(stack.demo_url)
        visitor.get_by_test_id("parley-launcher").click()
        visitor.get_by_test_id("parley-input").fill("Hi! Is the 2022 RAV4 still available for a test drive?")
        visitor.get_by_test_id("parley-send").click()
        mine = agent.get_by_test_id("console-chats").get_by_test_id("console-chat-item").first
        expect(mine).to_be_visible(timeout=15_000)
        mine.click()
        agent.get_by_test_id("console-input").fill("It is! Would Saturday at 10am work for you?")
        agent.get_by_test_id("console-send").click()
        expect(visitor.locator('[data-testid="parley-message"][data-role="agent"]')).to_have_count(1, timeout=15_000)
        visitor.get_by_test_id("parley-input").fill("Perfect, see you then")
        shots = [base64.b64encode(page.screenshot()).decode() for page in (visitor, agent)]
        board = browser.new_page(viewport={"width": 2220, "height": 820})
        board.set_content("<body style='margin:0;background:#e6e9ef;display:flex;gap:20px;padding:10px'>"
                          + "".join(f"<img style='width:1090px;border-radius:8px' src='data:image/png;base64,{s}'>"
                                    for s in shots) + "</body>")
        board.screenshot(path=str(OUT / "chat.png"))
        browser.close()


if __name__ == "__main__":
    main()
