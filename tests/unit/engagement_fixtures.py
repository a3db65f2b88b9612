"""Factories and probes shared by the engagement unit tests (likes and comments)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from botocore.client import BaseClient

from tests.conftest import ApiUser


def new_post(author: ApiUser, title: str = "Counting likes") -> int:
    response = author.call("POST", "/api/v1/posts", json={"title": title, "body": "body"})
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


def htmx(user: ApiUser) -> dict[str, str]:
    return {"HX-Request": "true", "X-CSRF-Token": user.csrf()}


@contextmanager
def dynamodb_calls(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[tuple[str, str]]]:
    """Records (operation, table) of every DynamoDB call made inside the block, through PynamoDB
    or a plain boto3 client alike (both end in botocore's `_make_api_call`)."""
    calls: list[tuple[str, str]] = []
    real_call = BaseClient._make_api_call

    def recording(self: BaseClient, operation_name: str, params: dict[str, Any]) -> Any:
        tables = params.get("RequestItems") or {params.get("TableName"): 0}
        calls.extend((operation_name, str(table)) for table in tables)
        return real_call(self, operation_name, params)

    with monkeypatch.context() as patch:
        patch.setattr(BaseClient, "_make_api_call", recording)
        yield calls
