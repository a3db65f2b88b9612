"""Items shaped like the app's, in DynamoDB's low-level form, made up for the labs.

The attribute names and value formats follow the app's model classes (an activity's sort key
is `<fixed-width UTC time>#<16 hex digits>`, a view carries a TTL and no feed key, a session's
key is a SHA-256), so an item here costs what the app's item costs. Every generator is
deterministic for a given seed: two runs write the same bytes.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

from lens.labs.tables import LabTable

Item = dict[str, dict[str, Any]]
START = datetime(2025, 11, 25, tzinfo=UTC)
ACTIVITY_MIX = (("view", 50), ("like", 25), ("comment", 15), ("post", 10))
FEED_SHARDS = 4
POSTS = 500
TIME_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"
PYNAMODB_TIME_FORMAT = "%Y-%m-%dT%H:%M:%S.%f%z"


def _hex(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def activity(
    number: int,
    *,
    user: int,
    kind: str,
    post_id: int,
    expires_at: int | None = None,
) -> Item:
    """The `number`-th activity of the table (later numbers are later in time)."""
    at = START + timedelta(seconds=number)
    suffix = _hex(f"activity-{number}")[:16]
    item: Item = {
        "user_id": {"S": str(user)},
        "timestamp": {"S": f"{at.strftime(TIME_FORMAT)}#{suffix}"},
        "activity_type": {"S": kind},
        "username": {"S": f"user{user}"},
        "post_id": {"N": str(post_id)},
    }
    if kind == "view":
        if expires_at is not None:
            item["expires_at"] = {"N": str(expires_at)}
    else:
        item["feed_key"] = {"S": f"{at:%Y-%m-%d}#{int(suffix[:8], 16) % FEED_SHARDS}"}
    return item


def activities(numbers: Iterable[int], *, users: int, seed: int = 11) -> list[Item]:
    """A mix of views, likes, comments and posts, spread round-robin over `users` users.

    Views carry a TTL a week after their time, as the app's views do.
    """
    kinds = [kind for kind, weight in ACTIVITY_MIX for _ in range(weight)]
    items = []
    for number in numbers:
        rng = random.Random(seed * 1_000_003 + number)
        kind = rng.choice(kinds)
        expiry = int((START + timedelta(days=7, seconds=number)).timestamp())
        items.append(
            activity(
                number,
                user=number % users,
                kind=kind,
                post_id=rng.randrange(1, POSTS + 1),
                expires_at=expiry if kind == "view" else None,
            )
        )
    return items


def session(number: int, *, expires_at: int, now: datetime) -> Item:
    """A signed-in browser: the key is the SHA-256 of a (made-up) cookie token."""
    created = now.strftime(PYNAMODB_TIME_FORMAT)
    return {
        "session_id": {"S": _hex(f"lab-session-token-{number}")},
        "user_id": {"S": str(number)},
        "username": {"S": f"user{number}"},
        "display_name": {"S": f"User {number}"},
        "created_at": {"S": created},
        "absolute_expiry": {"S": (now + timedelta(days=14)).strftime(PYNAMODB_TIME_FORMAT)},
        "expires_at": {"N": str(expires_at)},
    }


def counter(post_id: str, *, count: int = 0, version: int | None = None) -> Item:
    """A like counter item (`LikeCounter`: PK post id, SK "COUNT")."""
    item: Item = {
        "post_id": {"S": post_id},
        "sk": {"S": "COUNT"},
        "like_count": {"N": str(count)},
    }
    if version is not None:
        item["version"] = {"N": str(version)}
    return item


def check_keys(table: LabTable, item: Item) -> None:
    """The made-up items carry the app's attribute names; a changed key design is named here
    instead of failing later as an engine's validation error."""
    missing = [name for name in table.schema.key_attributes if name not in item]
    if missing:
        raise LookupError(
            f"{table.mirrors} now keys on {', '.join(missing)}, which this lab's items do not "
            "carry: update the lab's item shape with the new key design"
        )
