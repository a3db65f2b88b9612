"""The blog and sign-in against the real parts: moto's server over HTTP, SQLite and PostgreSQL."""

from __future__ import annotations

import pytest

from sessions.models import Session
from shared.auth import SESSION_COOKIE, token_hash

BOTH_DATABASES = pytest.mark.parametrize("live_settings", ["sqlite", "postgresql"], indirect=True)


@BOTH_DATABASES
@pytest.mark.stock_moto
def test_post_lifecycle_and_session_in_the_engine(live_client, make_user) -> None:
    user = make_user(live_client, "pat")
    token = user.client.cookies.get(SESSION_COOKIE)
    assert Session.get(token_hash(token), consistent_read=True).username == "pat"

    created = user.call("POST", "/api/v1/posts", json={"title": "Live", "body": "over HTTP"})
    assert created.status_code == 201
    post_id = created.json()["id"]
    edited = user.call("PATCH", f"/api/v1/posts/{post_id}", json={"body": "edited"})
    assert edited.json()["body"] == "edited"
    assert user.call("DELETE", f"/api/v1/posts/{post_id}").status_code == 204
    assert live_client.get(f"/api/v1/posts/{post_id}").status_code == 404

    assert user.call("POST", "/api/v1/auth/logout").status_code == 204
    assert Session.count(token_hash(token), consistent_read=True) == 0


@BOTH_DATABASES
def test_bad_input_changes_nothing(live_client, make_user) -> None:
    author, other = make_user(live_client), make_user(live_client)
    post_id = author.call("POST", "/api/v1/posts", json={"title": "t", "body": "b"}).json()["id"]
    assert author.call("POST", "/api/v1/posts", json={"title": "", "body": "b"}).status_code == 422
    assert (
        author.call("POST", "/api/v1/posts", json={"title": "t", "body": "x" * 20_001}).status_code
        == 422
    )
    assert other.call("PATCH", f"/api/v1/posts/{post_id}", json={"title": "x"}).status_code == 403
    assert other.client.delete(f"/api/v1/posts/{post_id}").status_code == 403
    duplicate = other.call("POST", "/api/v1/auth/signup", json=author.credentials())
    assert duplicate.status_code == 409
    listing = live_client.get("/api/v1/posts").json()
    assert listing["total"] == 1 and listing["items"][0]["title"] == "t"


@BOTH_DATABASES
def test_post_pages_render(live_client, make_user) -> None:
    user = make_user(live_client)
    post_id = user.call("POST", "/api/v1/posts", json={"title": "Rendered", "body": "b"}).json()[
        "id"
    ]
    assert "Rendered" in live_client.get("/").text
    assert user.client.get(f"/posts/{post_id}").status_code == 200
    assert user.client.get(f"/posts/{post_id}/edit").status_code == 200


@BOTH_DATABASES
def test_multiline_bodies_are_kept_and_nul_bytes_refused(live_client, make_user) -> None:
    """PostgreSQL refuses NUL in text: the request model refuses it first, with a 422 naming
    the field."""
    user = make_user(live_client)
    kept = user.call("POST", "/api/v1/posts", json={"title": "t", "body": "a\n\tb\r\nc"})
    assert kept.status_code == 201 and kept.json()["body"] == "a\n\tb\r\nc"
    refused = user.call("POST", "/api/v1/posts", json={"title": "t", "body": "a\x00b"})
    assert refused.status_code == 422
    assert [(e["loc"], e["type"]) for e in refused.json()["detail"]] == [
        (["body", "body"], "text_refused")
    ]
