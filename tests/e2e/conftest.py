"""The e2e tier: the app started exactly as `make run` starts it, driven by Chromium.

`manage.py run` is launched as a subprocess with its data directory in a temp folder, so it
starts its own embedded engine, restores snapshots, creates tables and seeds, as on a
newcomer's machine. Playwright drives Debian's Chromium (`playwright install` cannot download
browsers here).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import require

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


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class AppServer:
    """`manage.py run` in a subprocess, on its own port and data directory."""

    def __init__(self, data_dir: Path, *, seed: bool = True) -> None:
        self.data_dir = data_dir
        self.seed = seed
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None
        self.log = data_dir / "server.log"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 90.0) -> AppServer:
        env = {
            **os.environ,
            "DATA_DIR": str(self.data_dir),
            "DATABASE_URL": f"sqlite:///{self.data_dir / 'blog.sqlite3'}",
            "APP_ENV": "dev",
            "PYTHONUNBUFFERED": "1",
        }
        env.pop("DYNAMODB_ENDPOINT", None)
        command = [
            sys.executable,
            "manage.py",
            "run",
            "--port",
            str(self.port),
            "--admin-gui-port",
            "0",
        ]
        if not self.seed:
            command.append("--no-seed-if-empty")
        self.data_dir.mkdir(parents=True, exist_ok=True)
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                command,
                cwd=PROJECT_ROOT,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group, like a terminal's foreground job
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"manage.py run exited early:\n{self.log.read_text()[-3000:]}")
            try:
                if httpx.get(self.url + "/", timeout=2).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.3)
        self.stop()
        raise RuntimeError(f"manage.py run did not answer in {timeout}s:\n{self.log.read_text()}")

    def stop(self) -> None:
        """Ctrl-C, as a terminal sends it: SIGINT to the whole process group. The server must
        still snapshot the engine (which must not have died of the same Ctrl-C) and stop it."""
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGINT)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


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
    server = AppServer(tmp_path_factory.mktemp("e2e-app")).start()
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
