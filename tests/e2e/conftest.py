"""Real headless Chromium (Debian's, installed by `make test`; never `playwright install`)."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, sync_playwright

from tests.e2e.desk import Person

CHROMIUM = os.environ.get("PARLEY_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def launch_browser() -> Iterator[Callable[[tuple[str, ...], str], Browser]]:
    """Launch Chromium once the front-end files a module needs are built."""
    browsers: list[Browser] = []
    with sync_playwright() as p:

        def launch(built: tuple[str, ...], how_to_build: str) -> Browser:
            if not Path(CHROMIUM).exists():
                pytest.skip(f"no Chromium at {CHROMIUM} (apt-get install chromium, or set PARLEY_CHROMIUM)")
            for path in built:
                assert (REPO / path).exists(), f"{path} is missing: run `{how_to_build}` first"
            browsers.append(p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS))
            return browsers[-1]

        yield launch
        for browser in browsers:
            browser.close()


# One visitor and one agent per test, each in a context of its own; `browser` is the requesting
# module's (it knows which front-end bundles that module needs). Uncaught page errors fail the test.
@pytest.fixture
def visitor(browser: Browser) -> Iterator[Person]:
    person = Person(browser)
    yield person
    assert person.errors == [], f"uncaught errors on the visitor's page: {person.errors}"
    person.close()


@pytest.fixture
def agent(browser: Browser) -> Iterator[Person]:
    person = Person(browser)
    yield person
    assert person.errors == [], f"uncaught errors in the console: {person.errors}"
    person.close()
