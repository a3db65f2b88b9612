"""The app shows a person their own write at once, on an engine that lags as DynamoDB can.

The engine runs with 1,000 ms of GSI and replica lag (`--gsi-lag-ms 1000 --replica-lag-ms
1000`): about one eventually consistent read in three, made right after a write, misses it. So
a page that read the person's own write eventually consistent would fail one of 30 tries in a
row all but surely ((2/3)^30 < 1 in 100,000 to pass by luck). Each loop does what a person
does, over the app's HTTP pages: sign in then open a page, like then open the post, comment
(and edit it) then open the post.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from engine.launcher import LocalEngine
from tests.conftest import build_app_client, configure

LAG_MS = 1000
TRIES = 30
PASSWORD = "password-123"


@pytest.fixture(scope="module")
def lagging_endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    log = tmp_path_factory.mktemp("read-your-writes") / "engine.log"
    with LocalEngine(log, gsi_lag_ms=LAG_MS, replica_lag_ms=LAG_MS) as engine:
        yield engine.endpoint


@pytest.fixture
def client(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Any, lagging_endpoint: str
) -> Iterator[TestClient]:
    settings = configure(
        monkeypatch,
        DYNAMODB_ENDPOINT=lagging_endpoint,
        DATABASE_URL=f"sqlite:///{tmp_path / 'blog.sqlite3'}",
        TABLE_PREFIX=f"ryw{uuid.uuid4().hex[:8]}-",
        DATA_DIR=str(tmp_path),
        # 30 sign-ins of one person from one address: above the default limits on purpose.
        SIGN_IN_ATTEMPTS_PER_USERNAME="100",
        SIGN_IN_ATTEMPTS_PER_ADDRESS="100",
    )
    with build_app_client(settings) as app_client:
        yield app_client


def csrf(client: TestClient) -> str:
    return str(client.get("/api/v1/auth/session").json()["csrf_token"])


def signed_up(client: TestClient) -> str:
    username = f"u{uuid.uuid4().hex[:10]}"
    response = client.post(
        "/api/v1/auth/signup",
        json={"username": username, "password": PASSWORD},
        headers={"X-CSRF-Token": csrf(client)},
    )
    assert response.status_code == 201, response.text
    return username


def new_post(client: TestClient) -> int:
    response = client.post(
        "/api/v1/posts",
        json={"title": "Read your writes", "body": "..."},
        headers={"X-CSRF-Token": csrf(client)},
    )
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


def form(client: TestClient, url: str, **data: str) -> str:
    """POST a form as a browser without htmx does; returns where it redirects to."""
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").text)
    assert token is not None
    response = client.post(url, data={**data, "csrf_token": token[1]}, follow_redirects=False)
    assert response.status_code in (302, 303), response.text
    return str(response.headers["location"])


def test_the_page_after_each_sign_in_is_signed_in(client: TestClient) -> None:
    username = signed_up(client)
    for attempt in range(TRIES):
        form(client, "/login", username=username, password=PASSWORD)
        page = client.get("/").text
        assert f"@{username}" in page, f"signed out on the page after sign-in #{attempt + 1}"


def test_the_post_after_each_like_and_unlike_shows_it(client: TestClient) -> None:
    signed_up(client)
    post_id = new_post(client)
    for attempt in range(TRIES):
        for action, pressed, count in (("like", "true", "1"), ("unlike", "false", "0")):
            form(client, f"/posts/{post_id}/like", action=action)
            page = client.get(f"/posts/{post_id}").text
            assert f'aria-pressed="{pressed}"' in page, f"{action} #{attempt + 1} not shown"
            assert f'data-testid="like-count">{count}<' in page, f"{action} #{attempt + 1}"


def test_the_post_after_each_comment_and_edit_shows_it(client: TestClient) -> None:
    signed_up(client)
    post_id = new_post(client)
    for attempt in range(TRIES):
        if attempt and attempt % 15 == 0:
            post_id = new_post(client)  # a thread's first page holds 20 comments
        body = f"comment {attempt} {uuid.uuid4().hex[:6]}"
        location = form(client, f"/posts/{post_id}/comments", body=body)
        comment_id = location.rsplit("#c-", 1)[1]
        assert body in client.get(f"/posts/{post_id}").text, f"comment #{attempt + 1} missing"
        edited = f"{body} (edited)"
        url = f"/posts/{post_id}/comments/{comment_id}/edit"
        form(client, url, body=edited, version="1")
        assert edited in client.get(f"/posts/{post_id}").text, f"edit #{attempt + 1} missing"
        assert edited in client.get(f"/posts/{post_id}/comments/{comment_id}").text
