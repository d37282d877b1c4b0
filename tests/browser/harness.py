"""The browser tests' harness: Debian's Chromium driven by Playwright, axe-core injected.

Browsers cannot be downloaded here: Playwright drives /usr/bin/chromium (`.ci/run`
installs it when absent). A missing browser or axe-core fails the tests, never skips them.
"""

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = Path("/usr/bin/chromium")
AXE = Path(__file__).parent / "node_modules" / "axe-core" / "axe.min.js"
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 800}
# README's screenshots, rewritten by `make screenshots`; a plain run keeps its own.
SCREENSHOTS = Path(
    os.environ.get("SCREENSHOTS_DIR") or Path(tempfile.gettempdir()) / "acompte-screenshots"
)


def chromium_browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.fail("Debian's chromium is missing: apt-get install chromium (.ci/run does).")
    # Playwright's sync API runs an event loop in this thread; the live server's database
    # work happens in its own threads, and the test's own ORM calls are synchronous.
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        try:
            yield browser
        finally:
            browser.close()


def axe_violations(page: Any, impacts: tuple[str, ...] = ("serious", "critical")) -> list[Any]:
    """axe-core's violations of the page at these impacts, as (rule, impact, targets)."""
    if not AXE.exists():
        pytest.fail("axe-core is missing: `make test` installs it (tests/browser/package.json).")
    # Evaluated by the browser's debugging protocol, not added as an inline <script>: the
    # pages' Content-Security-Policy refuses inline scripts, and it must stay in force.
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.evaluate(AXE.read_text() + "\n;undefined")
    result = page.evaluate("async () => await axe.run(document)")
    return [
        (v["id"], v["impact"], [n["target"] for n in v["nodes"]][:5])
        for v in result["violations"]
        if v["impact"] in impacts
    ]
