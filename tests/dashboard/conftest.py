"""Browser tests of the dashboard: a real server + SDK app, driven by Debian's Chromium.

Playwright for Python drives /usr/bin/chromium (never `playwright install`); `make test`
installs Chromium with apt-get when it is missing. Every test may save screenshots into
tests/dashboard/artifacts/ (git-ignored); the best are copied to docs/screenshots/ by hand.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from integration.browser import CHROMIUM, CHROMIUM_ARGS
from integration.harness import Stack, running_stack

ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
DASHBOARD_SLUGS = ("core-chain", "core-exhausted", "core-fails", "core-parallel", "core-sleeper")

try:
    from playwright.sync_api import Browser, Page, sync_playwright
except ImportError:  # pragma: no cover - the test extra installs it
    sync_playwright = None


def _unavailable() -> str | None:
    if sync_playwright is None:
        return "playwright is not installed (pip install -e '.[test]')"
    if not Path(CHROMIUM).exists():
        return f"{CHROMIUM} is missing (make test installs Debian's chromium)"
    return None


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Per module: Playwright's sync API runs its own event loop while it is open, which
    pytest-asyncio's tests (collected after these) must not find running."""
    reason = _unavailable()
    if reason is not None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    assert sync_playwright is not None
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    env = {"MAINSPRING_ROLLUP_INTERVAL": "300ms"}  # charts and the 24 h panel fill in at once
    workdir = tmp_path_factory.mktemp("dash")
    with running_stack(workdir, "core_app", DASHBOARD_SLUGS, server_env=env) as found:
        yield found


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1366, "height": 900})
    opened = context.new_page()
    opened.set_default_timeout(20_000)
    yield opened
    context.close()


def shot(page: Page, name: str) -> Path:
    """Save a full-page screenshot as artifacts/<name>.png."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
