"""Factories and probes shared by the engagement unit tests (likes and comments)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from pynamodb.connection.base import Connection

from tests.conftest import ApiUser


def new_post(author: ApiUser, title: str = "Counting likes") -> int:
    response = author.call("POST", "/api/v1/posts", json={"title": title, "body": "body"})
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


def htmx(user: ApiUser) -> dict[str, str]:
    return {"HX-Request": "true", "X-CSRF-Token": user.csrf()}


@contextmanager
def dynamodb_calls(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[tuple[str, str]]]:
    """Records (operation, table) of every DynamoDB call PynamoDB makes inside the block."""
    calls: list[tuple[str, str]] = []
    real_dispatch = Connection.dispatch

    def recording(self: Connection, operation_name: str, operation_kwargs: dict) -> dict:  # type: ignore[type-arg]
        tables = operation_kwargs.get("RequestItems") or {operation_kwargs.get("TableName"): 0}
        calls.extend((operation_name, str(table)) for table in tables)
        return real_dispatch(self, operation_name, operation_kwargs)  # type: ignore[no-any-return]

    with monkeypatch.context() as patch:
        patch.setattr(Connection, "dispatch", recording)
        yield calls
