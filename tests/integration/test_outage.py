"""DynamoDB stops under the running app, and comes back.

The engine is an embedded one of this module's own (the session engine is shared with other
tests), with a data directory as `make run` gives it: stopped, then started again on the same
port, where it brings its tables and items back from that directory. While it is down, every
page answers 200 with the outage notice or a styled 503 that names DynamoDB, the API answers
JSON 503, and nothing answers 500. Once it is back, the same app (no restart) serves everything
again.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from engine.launcher import LocalEngine
from shared.outage import NOTICE
from tests.conftest import build_app_client, configure

HTMX = {"HX-Request": "true"}
NAV = ("/", "/activity", "/feed", "/design", "/login", "/signup")
"""The links of the site's navigation bar; a signed-in reader also has "Write"."""
SIGNED_IN_NAV = (*NAV, "/posts/new")
SLOW_PAGE_SECONDS = 5.0


@dataclass
class Site:
    app: TestClient
    engine: LocalEngine
    data_dir: Path
    settings: object
    reader: TestClient
    anonymous: TestClient
    post_id: int
    username: str

    def stop_engine(self) -> None:
        self.engine.stop()

    def start_engine(self) -> None:
        port = int(self.engine.endpoint.rsplit(":", 1)[1])
        self.engine = engine_at(self.data_dir, port)
        self.engine.start()


def engine_at(data_dir: Path, port: int | None = None) -> LocalEngine:
    return LocalEngine(data_dir / "engine.log", data_dir=data_dir / "dynamodb", port=port)


def csrf(client: TestClient) -> str:
    return str(client.get("/api/v1/auth/session").json()["csrf_token"])


def new_client(app: TestClient) -> TestClient:
    return TestClient(app.app, raise_server_exceptions=False)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    tmp = tmp_path_factory.mktemp("outage")
    engine = engine_at(tmp)
    endpoint = engine.start()
    with pytest.MonkeyPatch.context() as monkeypatch:
        settings = configure(
            monkeypatch,
            DYNAMODB_ENDPOINT=endpoint,
            DATABASE_URL=f"sqlite:///{tmp / 'blog.sqlite3'}",
            TABLE_PREFIX="outage-",
            DATA_DIR=str(tmp),
            DYNAMODB_TIMEOUT_SECONDS="1",
            DYNAMODB_MAX_RETRIES="1",
        )
        with build_app_client(settings) as app:
            reader = new_client(app)
            credentials = {"username": "reader", "password": "password-123"}
            headers = {"X-CSRF-Token": csrf(reader)}
            assert reader.post("/api/v1/auth/signup", json=credentials, headers=headers).is_success
            headers = {"X-CSRF-Token": csrf(reader)}  # a new session, a new token
            post = {"title": "Survives outages", "body": "kept in the RDB"}
            post_id = reader.post("/api/v1/posts", json=post, headers=headers).json()["id"]
            assert reader.put(f"/api/v1/posts/{post_id}/like", headers=headers).is_success
            site = Site(app, engine, tmp, settings, reader, new_client(app), post_id, "reader")
            try:
                yield site
            finally:
                site.engine.stop()


def pages(site: Site, client: TestClient | None = None) -> list[str]:
    nav = NAV if client is site.anonymous else SIGNED_IN_NAV
    return [*nav, f"/posts/{site.post_id}", f"/users/{site.username}"]


def assert_served_or_styled_503(response, path: str) -> None:  # type: ignore[no-untyped-def]
    assert response.status_code in (200, 503), (path, response.status_code, response.text[:300])
    if response.status_code == 503:
        assert response.text.startswith("<!doctype html>"), path
        assert "<h1>DynamoDB is unavailable</h1>" in response.text, path


def test_pages_answer_200_with_the_notice_or_a_styled_503_and_recover(site: Site) -> None:
    for path in pages(site):
        assert site.reader.get(path).status_code == 200, path
    site.stop_engine()
    try:
        for client in (site.reader, site.anonymous):
            for path in pages(site, client):
                started = time.monotonic()
                response = client.get(path)
                assert time.monotonic() - started < SLOW_PAGE_SECONDS, path
                assert_served_or_styled_503(response, path)
        post_page = site.reader.get(f"/posts/{site.post_id}")
        assert post_page.status_code == 200 and "Survives outages" in post_page.text
        assert "the comments are not shown" in post_page.text
        post_list = site.anonymous.get("/")
        assert post_list.status_code == 200 and "Survives outages" in post_list.text
        assert NOTICE in post_list.text and "like-badge" not in post_list.text
        assert "cannot be checked" in site.reader.get("/").text
    finally:
        site.start_engine()
    for path in pages(site):
        response = site.reader.get(path)
        assert response.status_code == 200, path
        assert NOTICE not in response.text, path
    assert "@reader" in site.reader.get("/").text, "the session survived the outage"
    assert "like-badge" in site.anonymous.get("/").text


def test_actions_and_the_api_answer_503_while_down_and_work_after(site: Site) -> None:
    token = csrf(site.reader)
    like_url = f"/posts/{site.post_id}/like"
    api_reads = ("/api/v1/auth/session", f"/api/v1/posts/{site.post_id}/likes", "/api/v1/feed")
    site.stop_engine()
    try:
        for url in api_reads:
            response = site.reader.get(url)
            assert response.status_code == 503, url
            assert "DynamoDB" in response.json()["detail"], url
        assert site.anonymous.get("/api/v1/posts").status_code == 200, "posts need no DynamoDB"
        liked = site.reader.put(
            f"/api/v1/posts/{site.post_id}/like", headers={"X-CSRF-Token": token}
        )
        assert liked.status_code == 503
        fragment = site.reader.post(
            like_url, data={"csrf_token": token, "action": "unlike"}, headers=HTMX
        )
        assert fragment.status_code == 503 and "DynamoDB is unavailable" in fragment.text
        assert not fragment.text.startswith("<!doctype")
        sign_in = site.anonymous.post(
            "/login",
            data={"csrf_token": csrf(site.anonymous), "username": "reader", "password": "x"},
        )
        assert sign_in.status_code == 503
    finally:
        site.start_engine()
    for url in api_reads:
        assert site.reader.get(url).status_code == 200, url
    assert site.reader.put(
        f"/api/v1/posts/{site.post_id}/like", headers={"X-CSRF-Token": token}
    ).is_success
