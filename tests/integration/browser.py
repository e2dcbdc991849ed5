"""Debian's Chromium for the browser tests, driven by Playwright (never `playwright install`;
`make test` installs the `chromium` package when it is missing)."""

from __future__ import annotations

import os

CHROMIUM = os.environ.get("MAINSPRING_TEST_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
