"""The e2e tier: the app started exactly as `make run` starts it, driven by Chromium.

`manage.py run` is launched as a subprocess with its data directory in a temp folder, so it
starts its own embedded engine, restores snapshots, creates tables and seeds, as on a
newcomer's machine. Playwright drives Debian's Chromium (`playwright install` cannot download
browsers here).
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.app_server import AppServer
from tests.conftest import APP_TIERS_ENGINE_LAG_MS, require

PROJECT_ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = PROJECT_ROOT / "test-artifacts"


def playwright_chromium() -> str | None:
    """Playwright's own Chromium, installed on first use where the machine can download it."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        path = playwright.chromium.executable_path
    if Path(path).exists():
        return path
    install = [sys.executable, "-m", "playwright", "install", "chromium"]
    try:
        done = subprocess.run(install, capture_output=True, timeout=600, check=False)
    except subprocess.TimeoutExpired:
        return None
    return path if done.returncode == 0 and Path(path).exists() else None


@pytest.fixture(scope="session")
def chromium_path() -> str:
    """Debian's Chromium when installed, else Playwright's (downloaded once); skipped with one
    line only when neither can be had, and a failure in CI."""
    if Path(CHROMIUM).exists():
        return CHROMIUM
    found = playwright_chromium()
    require(
        found is not None,
        f"no browser: {CHROMIUM} is absent and `playwright install chromium` could not fetch one",
    )
    assert found is not None
    return found


@pytest.fixture(scope="session")
def app_server(tmp_path_factory: pytest.TempPathFactory, chromium_path: str) -> Iterator[AppServer]:
    server = AppServer(tmp_path_factory.mktemp("e2e-app"), lag_ms=APP_TIERS_ENGINE_LAG_MS).start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def browser(chromium_path: str):  # type: ignore[no-untyped-def]
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser, app_server: AppServer, request: pytest.FixtureRequest):  # type: ignore[no-untyped-def]
    context = browser.new_context(
        base_url=app_server.url, locale="en-US", viewport={"width": 1280, "height": 900}
    )
    page = context.new_page()
    page.set_default_timeout(15_000)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    yield page
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{request.node.name}.png"), full_page=True)
    context.close()
    assert not errors, f"JavaScript errors on the page: {errors}"
