"""Opaque, signed pagination cursors.

A LastEvaluatedKey handed to the client as plain JSON is an invitation: edit `user_id` in it and
the next page starts in someone else's partition; send garbage and the engine may accept it
silently or crash (moto does both). So a cursor travels signed (itsdangerous, SECRET_KEY, one
salt per kind of query), bound to the query it came from (a cursor of alice's timeline is
refused on bob's), with a maximum age, and its content is checked again after the signature.
Every failure is a BadCursor: a 400 with a readable message, never a 500 or another list.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from itsdangerous import BadData, SignatureExpired, URLSafeTimedSerializer

from shared.errors import BadCursor
from shared.i18n import gettext as _
from shared.settings import active_settings

Key = dict[str, dict[str, str]]
CURSOR_MAX_AGE_SECONDS = 3600
SCALAR_TYPES = ("S", "N")


def _serializer(kind: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(active_settings().resolved_secret_key(), salt=f"cursor:{kind}")


CURSOR_PATTERN = r"^[A-Za-z0-9_.\-]*$"
"""What a cursor looks like (signed, URL-safe base64 parts joined by dots). Only a cursor the API
issued, for the same query and not expired, is accepted: any other is a 400."""


def encode_cursor(*, kind: str, bound_to: str, position: Any) -> str | None:
    """The cursor for the page after `position` (e.g. a LastEvaluatedKey) of query `kind` on
    `bound_to` (the partition or list it belongs to); None when there is no next page."""
    if position is None:
        return None
    return _serializer(kind).dumps({"q": bound_to, "k": position})


def decode_cursor(
    *,
    kind: str,
    bound_to: str,
    cursor: str | None,
    is_valid: Callable[[Any], bool],
    max_age: int | None = None,
) -> Any:
    """The position inside a cursor of this very query, or BadCursor.

    `max_age` defaults to CURSOR_MAX_AGE_SECONDS (read at call time).
    """
    if not cursor:
        return None
    try:
        payload = _serializer(kind).loads(cursor, max_age=max_age or CURSOR_MAX_AGE_SECONDS)
    except SignatureExpired:
        raise BadCursor(_("This page link has expired. Start again from the first page.")) from None
    except BadData:
        raise BadCursor(_("This cursor is not valid (tampered with or truncated).")) from None
    if not isinstance(payload, dict) or payload.get("q") != bound_to:
        raise BadCursor(_("This cursor belongs to another list. Start from the first page."))
    position = payload.get("k")
    if not is_valid(position):
        raise BadCursor(_("This cursor is not valid (unexpected key)."))
    return position


def dynamodb_key_check(key_names: tuple[str, ...]) -> Callable[[Any], bool]:
    """A validator for a LastEvaluatedKey of exactly these attributes, scalar-typed."""

    def is_valid(key: Any) -> bool:
        if not isinstance(key, dict) or set(key) != set(key_names):
            return False
        return all(
            isinstance(value, dict)
            and len(value) == 1
            and next(iter(value)) in SCALAR_TYPES
            and isinstance(next(iter(value.values())), str)
            for value in key.values()
        )

    return is_valid
