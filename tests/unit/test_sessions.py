"""The sessions table: hashed ids, rotation, sliding expiry, expired treated as absent."""

from __future__ import annotations

import io
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

from botocore.awsrequest import AWSResponse
from fastapi.testclient import TestClient

from sessions import service
from sessions.models import Session
from shared.auth import SESSION_COOKIE, Viewer, token_hash
from shared.dynamo import bind_models, bound_settings
from tests.conftest import ApiUser, dead_endpoint, in_process_app

VIEWER = Viewer(user_id="7", username="zoe", display_name="Zoe")


def test_session_item_stores_a_hash_not_the_token(unit_client) -> None:
    token = service.start_session(viewer=VIEWER)
    assert Session.get(token_hash(token)).username == "zoe"
    assert Session.count(token) == 0


def test_expired_session_is_absent_before_ttl_deletes_it(unit_client) -> None:
    token = service.start_session(viewer=VIEWER)
    item = Session.get(token_hash(token))
    item.update(actions=[Session.expires_at.set(datetime.now(UTC) - timedelta(seconds=1))])
    assert Session.get(token_hash(token))  # still stored: TTL has not run
    assert service.viewer_for_token(token=token) is None


def test_sliding_expiry_writes_only_when_half_the_window_is_gone(unit_client) -> None:
    token = service.start_session(viewer=VIEWER)
    before = Session.get(token_hash(token)).expires_at
    service.viewer_for_token(token=token)
    assert Session.get(token_hash(token)).expires_at == before
    soon = datetime.now(UTC) + timedelta(minutes=5)
    Session.get(token_hash(token)).update(actions=[Session.expires_at.set(soon)])
    service.viewer_for_token(token=token)
    assert Session.get(token_hash(token)).expires_at > soon + timedelta(hours=1)


def test_sign_in_rotates_the_session_and_deletes_the_old_one(unit_client) -> None:
    old = service.start_session(viewer=VIEWER)
    new = service.start_session(viewer=VIEWER, replacing=old)
    assert new != old
    assert service.viewer_for_token(token=old) is None
    assert service.viewer_for_token(token=new) == VIEWER


def test_sign_out_deletes_the_item(unit_client, make_user) -> None:
    user = make_user(unit_client)
    token = user.client.cookies.get(SESSION_COOKIE)
    assert Session.count(token_hash(token)) == 1
    user.call("POST", "/api/v1/auth/logout")
    assert Session.count(token_hash(token)) == 0


def test_session_cookie_flags(unit_client, make_user) -> None:
    user = make_user(unit_client)
    response = user.call("POST", "/api/v1/auth/login", json=user.credentials())
    cookie = response.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie


class _Body(io.BytesIO):
    """The raw body botocore reads an answer from."""

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self.getvalue()


@contextmanager
def throttled_puts() -> Iterator[list[str]]:
    """Every PutItem on the sessions table is answered with DynamoDB's ThrottlingException.

    Injected through botocore's `before-send` event, below the SDK's retry handler, so the SDK
    retries the throttle as it would against AWS. Yields the URL of every attempt.
    """
    attempts: list[str] = []
    body = b'{"__type":"com.amazonaws.dynamodb.v20120810#ThrottlingException","message":"slow"}'

    def throttle(request: Any, **_: Any) -> AWSResponse:
        attempts.append(request.url)
        return AWSResponse(request.url, 400, {"x-amzn-requestid": "throttled"}, _Body(body))

    events = Session._get_connection().connection.client.meta.events
    events.register_first("before-send.dynamodb.PutItem", throttle)
    try:
        yield attempts
    finally:
        events.unregister("before-send.dynamodb.PutItem", throttle)


def stranger(client: TestClient, username: str) -> ApiUser:
    """A user with a cookie jar of their own and no session yet."""
    return ApiUser(TestClient(client.app), username)


def test_a_throttled_sign_up_or_sign_in_is_a_503_and_works_once_the_throttle_ends(
    monkeypatch, tmp_path
) -> None:
    with in_process_app(monkeypatch, tmp_path, DYNAMODB_MAX_RETRIES="1") as client:
        ada = stranger(client, "ada_l").signup()
        newcomer = stranger(client, "newcomer")
        with throttled_puts() as attempts:
            signup = newcomer.call("POST", "/api/v1/auth/signup", json=newcomer.credentials())
            login = stranger(client, "ada_l").call(
                "POST", "/api/v1/auth/login", json=ada.credentials()
            )
            form = newcomer.client.post(
                "/signup", data={**newcomer.credentials(), "csrf_token": newcomer.csrf()}
            )
        assert signup.status_code == login.status_code == form.status_code == 503
        assert "slow down" in signup.json()["detail"] and "<html" in form.text
        assert len(attempts) == 3 * 2  # each PutItem retried once by the SDK, then given up
        assert (
            newcomer.call("POST", "/api/v1/auth/signup", json=newcomer.credentials()).status_code
            == 201
        )


def test_sign_up_and_sign_in_with_dynamodb_unreachable_are_503_not_409(unit_client) -> None:
    ada = stranger(unit_client, "ada_l").signup()
    settings = bound_settings()
    down = {"dynamodb_endpoint": dead_endpoint(), "dynamodb_max_retries": 0}
    bind_models(settings.model_copy(update=down), [Session])
    try:
        newcomer = stranger(unit_client, "newcomer")
        signup = newcomer.call("POST", "/api/v1/auth/signup", json=newcomer.credentials())
        again = newcomer.call("POST", "/api/v1/auth/signup", json=newcomer.credentials())
        login = stranger(unit_client, "ada_l").call(
            "POST", "/api/v1/auth/login", json=ada.credentials()
        )
    finally:
        bind_models(settings)
    assert signup.status_code == again.status_code == login.status_code == 503
    assert (
        newcomer.call("POST", "/api/v1/auth/signup", json=newcomer.credentials()).status_code == 201
    )


def test_a_password_is_stored_as_argon2id_at_the_recommended_cost(
    unit_client, app_password_hasher
) -> None:
    """The app's hasher is argon2id at RFC 9106's second recommended option (64 MiB, 3 passes,
    4 lanes: argon2-cffi's default), and a sign-up stores a hash made with it that signs in.
    (The rest of the suite hashes at the smallest cost to run fast; see tests/conftest.py.)"""
    from argon2 import Type
    from argon2.profiles import RFC_9106_LOW_MEMORY

    from blog import service as blog_service

    params = app_password_hasher
    assert params.type is Type.ID
    assert (params.time_cost, params.memory_cost, params.parallelism) == (
        RFC_9106_LOW_MEMORY.time_cost,
        RFC_9106_LOW_MEMORY.memory_cost,
        RFC_9106_LOW_MEMORY.parallelism,
    )
    user = ApiUser(unit_client, "strong_hash").signup()
    stored = blog_service.stored_password(username=user.username)
    assert stored is not None
    assert stored.password_hash.startswith("$argon2id$v=19$m=65536,t=3,p=4$")
    assert user.call("POST", "/api/v1/auth/logout").status_code == 204
    assert user.call("POST", "/api/v1/auth/login", json=user.credentials()).status_code == 200
