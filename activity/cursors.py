"""Opaque, signed pagination cursors that wrap DynamoDB's LastEvaluatedKey.

A LastEvaluatedKey handed to the client as plain JSON is an invitation: edit `user_id` in it and
the next page starts in someone else's partition; send garbage and the engine may accept it
silently or crash (moto does both). So the key travels signed (itsdangerous, SECRET_KEY, one
salt per kind of query), bound to the query it came from (a cursor of alice's timeline is
refused on bob's), with a maximum age, and its shape is checked again after the signature.
Every failure is a BadCursor: a 400 with a readable message, never a 500 or another list.
"""

from __future__ import annotations

from typing import Any

from itsdangerous import BadData, SignatureExpired, URLSafeTimedSerializer

from shared.errors import BadCursor
from shared.settings import get_settings

Key = dict[str, dict[str, str]]
CURSOR_MAX_AGE_SECONDS = 3600
SCALAR_TYPES = ("S", "N")


def _serializer(kind: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(
        get_settings().resolved_secret_key(), salt=f"activity-cursor:{kind}"
    )


def encode_cursor(*, kind: str, bound_to: str, key: Key | None) -> str | None:
    """The cursor for the page after `key` of the query `kind` on partition `bound_to`."""
    if key is None:
        return None
    return _serializer(kind).dumps({"q": bound_to, "k": key})


def decode_cursor(
    *, kind: str, bound_to: str, cursor: str | None, key_names: tuple[str, ...]
) -> Key | None:
    """The ExclusiveStartKey inside a cursor of this very query, or BadCursor."""
    if not cursor:
        return None
    try:
        payload = _serializer(kind).loads(cursor, max_age=CURSOR_MAX_AGE_SECONDS)
    except SignatureExpired:
        raise BadCursor("This page link has expired. Start again from the newest page.") from None
    except BadData:
        raise BadCursor("This cursor is not valid (tampered with or truncated).") from None
    if not isinstance(payload, dict) or payload.get("q") != bound_to:
        raise BadCursor("This cursor belongs to another list. Start from the newest page.")
    key = payload.get("k")
    if not _well_formed(key, key_names):
        raise BadCursor("This cursor is not valid (unexpected key).")
    return key  # type: ignore[no-any-return]


def _well_formed(key: Any, key_names: tuple[str, ...]) -> bool:
    if not isinstance(key, dict) or set(key) != set(key_names):
        return False
    return all(
        isinstance(value, dict)
        and len(value) == 1
        and next(iter(value)) in SCALAR_TYPES
        and isinstance(next(iter(value.values())), str)
        for value in key.values()
    )
