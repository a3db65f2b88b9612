"""Fixtures per tier.

unit         moto in-process (`mock_aws`), SQLite in a temp dir: fast, no network.
integration  the project's own engine (`python -m engine`, started by the launcher `make run`
             uses, in memory) and, for the blog, PostgreSQL at 127.0.0.1:5432 as well as SQLite.
             Tests marked `stock_moto` run against stock moto's server too (the fallback);
             LAB_ENGINE=moto runs every integration test against stock moto only.
e2e          uvicorn on a free port, driven by Playwright in Debian's Chromium.

With CI=true a missing PostgreSQL or Chromium fails the run; elsewhere the tier is skipped and
pytest's summary says why.
"""

from __future__ import annotations

import contextlib
import os
import socket
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

os.environ.update(
    APP_ENV="test",
    SECRET_KEY="test-secret-key",
    AWS_DEFAULT_REGION="ap-northeast-1",
    # The whole suite is one client address signing up and in hundreds of times; the tests of
    # the rate limits themselves set small limits.
    SIGN_IN_FAILURES_BEFORE_DELAY="100000",
    SIGN_IN_ATTEMPTS_PER_ADDRESS="100000",
    SIGN_UP_ATTEMPTS_PER_ADDRESS="100000",
    SCAN_FEED_READS_PER_MINUTE="100000",
)
for var in ("DYNAMODB_ENDPOINT", "DATABASE_URL", "TABLE_PREFIX", "AWS_ACCESS_KEY_ID"):
    os.environ.pop(var, None)

import httpx  # noqa: E402
from argon2 import PasswordHasher  # noqa: E402
from botocore.client import BaseClient  # noqa: E402
from fastapi.testclient import TestClient  # noqa: E402

import shared.passwords  # noqa: E402

# The suite signs up and in hundreds of times in process, and the app's argon2id hasher takes
# ~0.1 s of CPU a hash on purpose (0.5 s and more on a busy CI machine): most of the time of the
# tests that sign many people up went there. In process the tests hash with argon2id at its
# smallest cost instead (same algorithm, same encoded hash, verified the same way), as Django's
# docs advise for test suites. What the cost itself proves is tested with the app's own hasher:
# its parameters (tests/unit/test_sessions.py) and that an unknown username takes as long as a
# wrong password (`app_password_hasher`). Servers started as subprocesses keep the app's hasher.
APP_PASSWORD_HASHER = shared.passwords._hasher
CHEAP_PASSWORD_HASHER = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
shared.passwords._hasher = CHEAP_PASSWORD_HASHER

IN_CI = os.environ.get("CI") == "true"
ENGINES = ("engine", "moto")
LAB_ENGINE = os.environ.get("LAB_ENGINE", "engine")
if LAB_ENGINE not in ENGINES:
    raise RuntimeError(f"LAB_ENGINE must be one of {ENGINES}, not {LAB_ENGINE!r}")
POSTGRES_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
# The engine's lag (its --gsi-lag-ms and --replica-lag-ms) in the tiers where the app runs on
# it, integration and e2e: 200 ms makes them run where DynamoDB's eventual consistency bites
# (a page that read a person's own write eventually consistent would fail now and then), and
# costs little time: only tests that read through a GSI or the feeds wait for it.
# TEST_ENGINE_LAG_MS sets it for one run (0 to compare).
APP_TIERS_ENGINE_LAG_MS = float(os.environ.get("TEST_ENGINE_LAG_MS", "200"))
TIERS = ("unit", "integration", "e2e")


def tier_of(item: pytest.Item) -> int:
    for rank, tier in enumerate(TIERS):
        if f"{os.sep}{tier}{os.sep}" in str(item.fspath):
            return rank
    return 0


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark each test with its tier and run the tiers in order: fast failures first, and the
    e2e tier (whose Playwright keeps an event loop on the main thread) last."""
    for item in items:
        item.add_marker(getattr(pytest.mark, TIERS[tier_of(item)]))
    items.sort(key=tier_of)


def require(condition: bool, reason: str) -> None:
    """Skip locally, fail in CI: CI must run every tier."""
    if condition:
        return
    if IN_CI:
        pytest.fail(f"required in CI: {reason}")
    pytest.skip(reason)


def port_open(host: str, port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((host, port)) == 0


def dead_endpoint() -> str:
    """A local port nobody listens on: every call to it is refused at once."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{sock.getsockname()[1]}"


def configure(monkeypatch: pytest.MonkeyPatch, **env: str | None):  # type: ignore[no-untyped-def]
    """Set settings through the environment, as a user would, and rebuild them."""
    from shared.settings import get_settings

    for key, value in env.items():
        if value is None:
            monkeypatch.delenv(key, raising=False)
        else:
            monkeypatch.setenv(key, value)
    get_settings.cache_clear()
    return get_settings()


def build_app_client(settings) -> TestClient:  # type: ignore[no-untyped-def]
    from app import create_app
    from shared.database import create_rdb_tables, drop_rdb_tables
    from shared.dynamo import create_tables

    app = create_app(settings)
    create_tables(settings)
    drop_rdb_tables()
    create_rdb_tables()
    return TestClient(app)


@contextlib.contextmanager
def in_process_app(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, **env: str
) -> Iterator[TestClient]:
    """The whole app on moto in-process and SQLite; `env` adds or overrides settings."""
    from moto import mock_aws

    with mock_aws():
        settings = configure(
            monkeypatch,
            DYNAMODB_ENDPOINT=None,
            DATABASE_URL=f"sqlite:///{tmp_path / 'blog.sqlite3'}",
            TABLE_PREFIX="unit-",
            DATA_DIR=str(tmp_path),
            **env,
        )
        with build_app_client(settings) as client:
            yield client


@pytest.fixture
def unit_client(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[TestClient]:
    """The whole app on moto in-process and SQLite."""
    with in_process_app(monkeypatch, tmp_path) as client:
        yield client


@pytest.fixture
def app_password_hasher(monkeypatch: pytest.MonkeyPatch) -> Iterator[PasswordHasher]:
    """The app's own argon2id hasher for one test (its cost is what the test is about)."""
    from sessions.service import _unknown_user_hash

    monkeypatch.setattr(shared.passwords, "_hasher", APP_PASSWORD_HASHER)
    _unknown_user_hash.cache_clear()  # made with the cheap hasher by an earlier test
    yield APP_PASSWORD_HASHER
    _unknown_user_hash.cache_clear()


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Every test that talks to the engine runs against the project's engine; those marked
    `stock_moto` also against stock moto's server, a representative subset that keeps the
    fallback working without running the whole tier twice."""
    if "engine_endpoint" not in metafunc.fixturenames:
        return
    if LAB_ENGINE == "moto":
        kinds = ["moto"]
    elif metafunc.definition.get_closest_marker("stock_moto"):
        kinds = list(ENGINES)
    else:
        kinds = ["engine"]
    metafunc.parametrize("engine_kind", kinds, indirect=True, scope="session")


@pytest.fixture(scope="session")
def engine_kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(scope="session")
def engine_endpoint(engine_kind: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The engine (in memory, lagging by APP_TIERS_ENGINE_LAG_MS), started by the same launcher
    `make run` uses, or stock moto (which cannot lag)."""
    from engine.launcher import LocalEngine

    log = tmp_path_factory.mktemp(f"engine-{engine_kind}") / "engine.log"
    if engine_kind == "moto":
        engine = LocalEngine(log, stock_moto=True)
    else:
        lag = APP_TIERS_ENGINE_LAG_MS
        engine = LocalEngine(log, gsi_lag_ms=lag, replica_lag_ms=lag)
    endpoint = engine.start()
    yield endpoint
    engine.stop()


@pytest.fixture(scope="session")
def postgres_url() -> str:
    require(port_open("127.0.0.1", 5432), "PostgreSQL is not listening on 127.0.0.1:5432")
    return POSTGRES_URL


def database_url_for(kind: str, tmp_path: Path, request: pytest.FixtureRequest) -> str:
    if kind == "postgresql":
        return str(request.getfixturevalue("postgres_url"))
    return f"sqlite:///{tmp_path / 'blog.sqlite3'}"


@pytest.fixture
def live_settings(
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    engine_endpoint: str,
    request: pytest.FixtureRequest,
):  # type: ignore[no-untyped-def]
    """Settings for the engine over HTTP, fresh tables (unique prefix), SQLite by default.

    Parametrise indirectly with "postgresql" to run against PostgreSQL instead.
    """
    kind = getattr(request, "param", "sqlite")
    return configure(
        monkeypatch,
        DYNAMODB_ENDPOINT=engine_endpoint,
        DATABASE_URL=database_url_for(kind, tmp_path, request),
        TABLE_PREFIX=f"it{uuid.uuid4().hex[:8]}-",
        DATA_DIR=str(tmp_path),
    )


@pytest.fixture
def live_client(live_settings) -> Iterator[TestClient]:  # type: ignore[no-untyped-def]
    with build_app_client(live_settings) as client:
        yield client


class ApiUser:
    """A signed-in API client: a factory instead of copy-pasted sign-up code."""

    def __init__(self, client: TestClient, username: str, password: str = "password-123") -> None:
        self.client = client
        self.username = username
        self.password = password

    def csrf(self) -> str:
        return str(self.client.get("/api/v1/auth/session").json()["csrf_token"])

    def signup(self) -> ApiUser:
        response = self.call("POST", "/api/v1/auth/signup", json=self.credentials())
        assert response.status_code == 201, response.text
        return self

    def credentials(self) -> dict[str, str]:
        return {"username": self.username, "password": self.password}

    def call(self, method: str, url: str, **kwargs):  # type: ignore[no-untyped-def]
        headers = {"X-CSRF-Token": self.csrf(), **kwargs.pop("headers", {})}
        return self.client.request(method, url, headers=headers, **kwargs)


@pytest.fixture
def make_user() -> Callable[..., ApiUser]:
    """Each user gets their own cookie jar (their own TestClient over the same app)."""

    def factory(client: TestClient, username: str | None = None) -> ApiUser:
        own = TestClient(client.app)
        return ApiUser(own, username or f"u{uuid.uuid4().hex[:10]}").signup()

    return factory


@pytest.fixture
def engine_responses(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, dict[str, Any]]]:
    """What the engine returned, seen below botocore's event system (independent of it)."""
    seen: list[tuple[str, dict[str, Any]]] = []
    original = BaseClient._make_api_call

    def spy(self: BaseClient, operation: str, params: dict[str, Any]) -> dict[str, Any]:
        response = original(self, operation, params)
        if self.meta.service_model.service_name == "dynamodb":
            seen.append((operation, response))
        return response  # type: ignore[no-any-return]

    monkeypatch.setattr(BaseClient, "_make_api_call", spy)
    return seen


def wait_until_caught_up(endpoint: str, timeout: float = 15.0) -> None:
    """Wait until the engine's lagging GSIs and replicas have applied every write (its health
    report's `lag_backlog` is empty). For a test that checks a table or index as it stands after
    its writes; what a reader sees before that is the eventual consistency under test elsewhere.
    Stock moto has no health report and never lags: nothing to wait for."""
    deadline = time.monotonic() + timeout
    while True:
        health = httpx.get(f"{endpoint}/_engine/health", timeout=5)
        if health.status_code != 200:
            return
        backlog = health.json()["lag_backlog"]
        if not any(backlog.values()) or time.monotonic() > deadline:
            assert not any(backlog.values()), f"the engine is still behind: {backlog}"
            return
        time.sleep(0.05)


def capacity_header(response: httpx.Response) -> dict[str, str]:
    """The X-DynamoDB-Capacity summary header as a dict."""
    parts = (part.split("=", 1) for part in response.headers["x-dynamodb-capacity"].split("; "))
    return dict(parts)
