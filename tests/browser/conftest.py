"""Browser fixtures: the portal served from a thread, driven by headless Chromium (Playwright).

Chromium is the system's (`make browser` installs Debian's); PIER_CHROMIUM names another
binary. Playwright never downloads a browser here. A failing test leaves a screenshot of
each of its pages in test-results/.
"""

from __future__ import annotations

import os
import re
import shutil
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Playwright, sync_playwright

from sandbox.serving import ThreadedServer

HERE = Path(__file__).resolve().parent
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ACTION_TIMEOUT_MS = 10_000
REPORTS = pytest.StashKey[dict[str, pytest.TestReport]]()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Every test in this folder drives the browser."""
    for item in items:
        if HERE in item.path.resolve().parents:
            item.add_marker(pytest.mark.browser)


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    """Keep each phase's report on the item, so fixtures can tell whether the test failed."""
    report = yield
    item.stash.setdefault(REPORTS, {})[report.when] = report
    return report


def chromium_executable() -> str:
    """The Chromium binary to drive: PIER_CHROMIUM, else chromium on the PATH."""
    wanted = os.environ.get("PIER_CHROMIUM", "chromium")
    found = shutil.which(wanted) or shutil.which("chromium-browser")
    if found is None:
        pytest.fail(
            f"Chromium ({wanted}) is not installed: run `make browser`, or set PIER_CHROMIUM "
            'to a Chromium binary, or deselect these tests with -m "not browser".',
            pytrace=False,
        )
    return found


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="session")
def browser(playwright: Playwright) -> Iterator[Browser]:
    """One headless Chromium for the session; each test gets fresh contexts."""
    chromium = playwright.chromium.launch(
        executable_path=chromium_executable(), headless=True, args=CHROMIUM_ARGS
    )
    yield chromium
    chromium.close()


@pytest.fixture
def live_server(app) -> Iterator[ThreadedServer]:
    """The test's app (on its database backend) served on a free loopback port.

    No SERVER_NAME is set: external URLs (the invitation link) are built from the host the
    browser asked for, which is this server's address; PIER_BASE_URL says the same.
    """
    server = ThreadedServer(app)
    app.config["PIER_BASE_URL"] = server.url
    server.start()
    yield server
    server.stop()


@pytest.fixture
def new_page(
    request: pytest.FixtureRequest,
    browser: Browser,
    live_server: ThreadedServer,
    csp_violations: list[str],
) -> Iterator[Callable[[], Page]]:
    """Open a page in a new browser context (own cookies), as a different person would."""
    contexts: list[BrowserContext] = []

    def open_page() -> Page:
        context = browser.new_context(base_url=live_server.url)
        context.set_default_timeout(ACTION_TIMEOUT_MS)
        contexts.append(context)
        opened = context.new_page()
        opened.on("console", lambda message: _note_csp_violation(opened, message, csp_violations))
        return opened

    yield open_page
    reports = request.node.stash.get(REPORTS, {})
    if any(report.failed for report in reports.values()):
        _save_screenshots(request, contexts)
    for context in contexts:
        context.close()
    if csp_violations:
        pytest.fail("Content-Security-Policy violations:\n" + "\n".join(csp_violations))


@pytest.fixture
def csp_violations() -> list[str]:
    """Chromium's Content-Security-Policy errors on the test's pages (each one fails the test)."""
    return []


def _note_csp_violation(page: Page, message, found: list[str]) -> None:
    if "Content Security Policy" in message.text:
        found.append(f"{page.url}: {message.text}")


@pytest.fixture
def page(new_page: Callable[[], Page]) -> Page:
    """A page in a fresh browser context, with relative URLs going to the live server."""
    return new_page()


def _save_screenshots(request: pytest.FixtureRequest, contexts: list[BrowserContext]) -> None:
    folder = request.config.rootpath / "test-results"
    folder.mkdir(exist_ok=True)
    stem = re.sub(r"[^\w.-]+", "_", request.node.nodeid).strip("_")
    pages = [p for context in contexts for p in context.pages]
    for number, open_page in enumerate(pages, start=1):
        suffix = f"-{number}" if len(pages) > 1 else ""
        try:
            open_page.screenshot(path=str(folder / f"{stem}{suffix}.png"), full_page=True)
        except Exception as exc:  # a crashed page must not hide the test's own failure
            print(f"no screenshot of {open_page.url}: {exc}", file=sys.stderr)
