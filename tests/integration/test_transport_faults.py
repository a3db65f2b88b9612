"""Every way a connection to DynamoDB can fail gives the same clear 503, over real sockets.

The app is served by uvicorn with `manage.py run`'s options and talks to the engine through a
TCP proxy on localhost (`fault_proxy.FaultProxy`) that forwards, or closes, resets, stalls or
refuses. Whatever the fault, a page either shows the outage notice (200) or answers the styled
503 page, the API answers a JSON 503, every 503 says when to come back (`Retry-After`), and no
answer is a 500 or a connection dropped without a response.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.app_server import serving
from tests.conftest import configure
from tests.integration.fault_proxy import FaultProxy, Mode

FAULTS: tuple[Mode, ...] = ("close", "reset", "refuse", "stall")
PAGES = ("/", "/activity", "/feed", "/posts/{post}", "/users/reader", "/login")
API = ("/api/v1/posts/{post}/likes", "/api/v1/activities?type=like", "/api/v1/feed")
SIGNED_IN_PAGES = ("/", "/posts/{post}", "/activity")


@dataclass
class Site:
    proxy: FaultProxy
    url: str
    post_id: int


@pytest.fixture(scope="module")
def site(engine_endpoint: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    from app import create_app
    from shared.database import create_rdb_tables, drop_rdb_tables
    from shared.dynamo import create_tables

    tmp: Path = tmp_path_factory.mktemp("faults")
    host, port = engine_endpoint.removeprefix("http://").rsplit(":", 1)
    proxy = FaultProxy((host, int(port)))
    with pytest.MonkeyPatch.context() as monkeypatch:
        settings = configure(
            monkeypatch,
            DYNAMODB_ENDPOINT=proxy.endpoint,
            DATABASE_URL=f"sqlite:///{tmp / 'blog.sqlite3'}",
            TABLE_PREFIX=f"fault{uuid.uuid4().hex[:6]}-",
            DATA_DIR=str(tmp),
            DYNAMODB_TIMEOUT_SECONDS="1",
            DYNAMODB_MAX_RETRIES="0",
        )
        app = create_app(settings)
        create_tables(settings)
        drop_rdb_tables()
        create_rdb_tables()
        stack = contextlib.ExitStack()
        _host, served_port = stack.enter_context(serving(app, settings))
        url = f"http://127.0.0.1:{served_port}"
        with httpx.Client(base_url=url) as reader:
            csrf = reader.get("/api/v1/auth/session").json()["csrf_token"]
            body = {"username": "reader", "password": "password-123"}
            signup = reader.post("/api/v1/auth/signup", json=body, headers={"X-CSRF-Token": csrf})
            assert signup.status_code == 201, signup.text
            csrf = reader.get("/api/v1/auth/session").json()["csrf_token"]
            post = {"title": "Through the proxy", "body": "kept in the RDB"}
            made = reader.post("/api/v1/posts", json=post, headers={"X-CSRF-Token": csrf})
            assert made.status_code == 201, made.text
            site = Site(proxy, url, made.json()["id"])
            site.cookies = dict(reader.cookies)  # type: ignore[attr-defined]
        try:
            yield site
        finally:
            stack.close()
            proxy.stop()


def assert_clear(response: httpx.Response, path: str) -> None:
    where = f"{path}: {response.status_code} {response.text[:300]}"
    assert response.status_code in (200, 503), where
    if response.status_code != 503:
        return
    assert int(response.headers["retry-after"]) > 0, where
    if path.startswith("/api"):
        assert "DynamoDB" in response.json()["detail"], where
    else:
        assert "<h1>DynamoDB is unavailable</h1>" in response.text, where


def requests_for(fault: Mode) -> list[tuple[bool, str]]:
    """(signed in, path) pairs; a stalled engine costs a read timeout per call, so fewer."""
    if fault == "stall":
        return [(False, "/posts/{post}"), (False, "/api/v1/feed"), (True, "/activity")]
    return [(False, path) for path in PAGES + API] + [(True, path) for path in SIGNED_IN_PAGES]


@pytest.mark.parametrize("fault", FAULTS)
def test_every_transport_fault_is_a_clear_503_with_retry_after(site: Site, fault: Mode) -> None:
    with (
        httpx.Client(base_url=site.url, timeout=30) as anonymous,
        httpx.Client(base_url=site.url, timeout=30, cookies=site.cookies) as reader,  # type: ignore[attr-defined]
    ):
        csrf = {"X-CSRF-Token": reader.get("/api/v1/auth/session").json()["csrf_token"]}
        site.proxy.set_mode(fault)
        try:
            statuses = {}
            for signed_in, template in requests_for(fault):
                path = template.format(post=site.post_id)
                response = (reader if signed_in else anonymous).get(path)  # a reset raises here
                assert_clear(response, path)
                statuses[path] = response.status_code
            like = reader.put(f"/api/v1/posts/{site.post_id}/like", headers=csrf)
            assert_clear(like, "/api/v1/posts/{post}/like")
            assert like.status_code == 503
        finally:
            site.proxy.set_mode("forward")
        assert 503 in statuses.values(), statuses
        assert anonymous.get(f"/api/v1/posts/{site.post_id}/likes").status_code == 200
