"""Factories for the activity tests: people, posts, and things that happened at a chosen time."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient

from shared import events


@dataclass(frozen=True)
class Person:
    """A signed-up user and the ids the events carry."""

    api: Any  # tests.conftest.ApiUser
    user_id: str
    username: str

    def write_post(self, title: str = "A post") -> int:
        response = self.api.call("POST", "/api/v1/posts", json={"title": title, "body": "body"})
        assert response.status_code == 201, response.text
        return int(response.json()["id"])


def person(client: TestClient, make_user: Any, username: str | None = None) -> Person:
    api = make_user(client, username)
    me = api.client.get("/api/v1/auth/session").json()["user"]
    return Person(api=api, user_id=me["user_id"], username=me["username"])


def ago(**delta: float) -> datetime:
    return datetime.now(UTC) - timedelta(**delta)


def happened(
    kind: type[events.Event], who: Person, post_id: int, at: datetime | None = None, **extra: Any
) -> events.Event:
    """Publish an event as the engagement context would (through the outbox), at time `at`."""
    when = (at or datetime.now(UTC)).timestamp()
    event = kind(
        post_id=post_id, user_id=who.user_id, username=who.username, occurred_at=when, **extra
    )
    events.publish(event)
    return event


def viewed(who: Person, post_id: int, at: datetime) -> events.PostViewed:
    """A page view, emitted as the blog's post page does (disposable)."""
    event = events.PostViewed(
        post_id=post_id, user_id=who.user_id, username=who.username, occurred_at=at.timestamp()
    )
    events.emit(event)
    return event


def read_all(client: TestClient, url: str, limit: int, **query: str) -> list[dict[str, Any]]:
    """Follow next_cursor to the end; fails if a page is oversized or the walk never ends."""
    items: list[dict[str, Any]] = []
    cursor: str | None = None
    for _ in range(1000):
        params: dict[str, Any] = {"limit": limit, **query}
        if cursor:
            params["cursor"] = cursor
        response = client.get(url, params=params)
        assert response.status_code == 200, response.text
        body = response.json()
        assert len(body["items"]) <= limit
        items += body["items"]
        cursor = body["next_cursor"]
        if cursor is None:
            return items
    raise AssertionError("pagination did not end")


def keys(items: list[dict[str, Any]]) -> list[tuple[str, str]]:
    return [(item["user_id"], item["timestamp"]) for item in items]
