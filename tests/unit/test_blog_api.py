"""Blog and auth through the JSON API, on moto in-process: happy paths and bad input."""

from __future__ import annotations

import pytest


def test_signup_login_session_and_logout(unit_client, make_user) -> None:
    user = make_user(unit_client, "alice")
    me = user.client.get("/api/v1/auth/session").json()
    assert me["user"]["username"] == "alice"
    assert user.call("POST", "/api/v1/auth/logout").status_code == 204
    assert user.client.get("/api/v1/auth/session").json()["user"] is None
    response = user.call("POST", "/api/v1/auth/login", json=user.credentials())
    assert response.status_code == 200
    assert user.client.get("/api/v1/auth/session").json()["user"]["username"] == "alice"


def test_create_read_update_delete_post(unit_client, make_user) -> None:
    user = make_user(unit_client)
    created = user.call("POST", "/api/v1/posts", json={"title": "Keys", "body": "PK first"})
    assert created.status_code == 201
    post_id = created.json()["id"]
    assert unit_client.get(f"/api/v1/posts/{post_id}").json()["title"] == "Keys"
    patched = user.call("PATCH", f"/api/v1/posts/{post_id}", json={"title": "Sort keys"})
    assert patched.json()["title"] == "Sort keys"
    assert patched.json()["body"] == "PK first"
    assert user.call("DELETE", f"/api/v1/posts/{post_id}").status_code == 204
    assert unit_client.get(f"/api/v1/posts/{post_id}").status_code == 404


def test_post_list_is_newest_first_and_paginated(unit_client, make_user) -> None:
    user = make_user(unit_client)
    for i in range(12):
        user.call("POST", "/api/v1/posts", json={"title": f"post {i}", "body": "b"})
    first = unit_client.get("/api/v1/posts").json()
    second = unit_client.get("/api/v1/posts?page=2").json()
    assert [p["title"] for p in first["items"]][:2] == ["post 11", "post 10"]
    assert first["total"] == 12 and first["pages"] == 2
    titles = [p["title"] for p in first["items"] + second["items"]]
    assert sorted(titles) == sorted(f"post {i}" for i in range(12))


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ({"title": "", "body": "b"}, "title is empty"),
        ({"title": "   ", "body": "b"}, "title is empty"),
        ({"title": "t" * 201, "body": "b"}, "at most 200 characters"),
        ({"title": "t", "body": ""}, "body is empty"),
        ({"title": "t", "body": "b" * 20_001}, "at most 20000 characters"),
    ],
)
def test_bad_post_input_is_422_and_writes_nothing(unit_client, make_user, payload, message) -> None:
    user = make_user(unit_client)
    response = user.call("POST", "/api/v1/posts", json=payload)
    assert response.status_code == 422
    assert message in str(response.json()["detail"])
    assert unit_client.get("/api/v1/posts").json()["total"] == 0


def test_missing_fields_are_422_json(unit_client, make_user) -> None:
    user = make_user(unit_client)
    response = user.call("POST", "/api/v1/posts", json={"title": "t"})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"][-1] == "body"


def test_oversized_request_body_is_413(unit_client, make_user) -> None:
    user = make_user(unit_client)
    response = user.call("POST", "/api/v1/posts", json={"title": "t", "body": "b" * 300_000})
    assert response.status_code == 413
    assert "too large" in response.json()["detail"]


def test_duplicate_username_is_409(unit_client, make_user) -> None:
    make_user(unit_client, "bob")
    other = make_user(unit_client)
    response = other.call(
        "POST", "/api/v1/auth/signup", json={"username": "bob", "password": "x" * 9}
    )
    assert response.status_code == 409
    assert "taken" in response.json()["detail"]


@pytest.mark.parametrize(
    ("username", "password"),
    [("ab", "password-1"), ("UPPER CASE", "password-1"), ("okname", "short")],
)
def test_invalid_signup_is_422(unit_client, make_user, username, password) -> None:
    user = make_user(unit_client)
    response = user.call(
        "POST", "/api/v1/auth/signup", json={"username": username, "password": password}
    )
    assert response.status_code == 422


def test_wrong_password_is_401_and_not_signed_in(unit_client, make_user) -> None:
    user = make_user(unit_client, "carol")
    user.call("POST", "/api/v1/auth/logout")
    response = user.call(
        "POST", "/api/v1/auth/login", json={"username": "carol", "password": "nope-nope"}
    )
    assert response.status_code == 401
    assert response.json()["detail"] == "Wrong username or password."
    assert user.client.get("/api/v1/auth/session").json()["user"] is None


def test_missing_or_wrong_csrf_token_is_403_and_changes_nothing(unit_client, make_user) -> None:
    user = make_user(unit_client)
    missing = user.client.post("/api/v1/posts", json={"title": "t", "body": "b"})
    wrong = user.client.post(
        "/api/v1/posts", json={"title": "t", "body": "b"}, headers={"X-CSRF-Token": "0" * 64}
    )
    assert missing.status_code == 403 and "missing" in missing.json()["detail"]
    assert wrong.status_code == 403 and "wrong" in wrong.json()["detail"]
    assert unit_client.get("/api/v1/posts").json()["total"] == 0


def test_someone_elses_post_is_403_and_unchanged(unit_client, make_user) -> None:
    author, other = make_user(unit_client), make_user(unit_client)
    post_id = author.call("POST", "/api/v1/posts", json={"title": "mine", "body": "b"}).json()["id"]
    assert other.call("PATCH", f"/api/v1/posts/{post_id}", json={"title": "x"}).status_code == 403
    assert other.call("DELETE", f"/api/v1/posts/{post_id}").status_code == 403
    assert unit_client.get(f"/api/v1/posts/{post_id}").json()["title"] == "mine"


def test_writing_requires_sign_in(unit_client) -> None:
    token = unit_client.get("/api/v1/auth/session").json()["csrf_token"]
    response = unit_client.post(
        "/api/v1/posts", json={"title": "t", "body": "b"}, headers={"X-CSRF-Token": token}
    )
    assert response.status_code == 401
