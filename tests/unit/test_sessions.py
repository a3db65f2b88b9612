"""The sessions table: hashed ids, rotation, sliding expiry, expired treated as absent."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sessions import service
from sessions.models import Session
from shared.auth import SESSION_COOKIE, Viewer, token_hash

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
