"""Real headless Chromium (Debian's, installed by `make test`; never `playwright install`)."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, sync_playwright

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
