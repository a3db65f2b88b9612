"""The JSON API's bodies for likes: what a request sends, what a response holds.

Used as the routes' response models, so `/openapi.json` documents every body. Times are
ISO 8601 with the UTC offset ("2026-11-25T13:45:01.123456+00:00").
"""

from __future__ import annotations

from dataclasses import asdict

from pydantic import BaseModel, Field

from engagement.likes.models import MAX_SHARDS
from engagement.likes.service import LikeChange, LikeSummary


class ShardsIn(BaseModel):
    shards: int = Field(ge=2, le=MAX_SHARDS, description="Counter shards, 2 to 32.")


class LikesOut(BaseModel):
    """A post's like count (summed over its counter shards) and the caller's own like."""

    count: int
    liked_by_me: bool
    shards: int

    @classmethod
    def of(cls, summary: LikeSummary) -> LikesOut:
        return cls(**asdict(summary))


class LikeChangeOut(LikesOut):
    """After a like or unlike: `changed` is false when the state already was so."""

    changed: bool

    @classmethod
    def of_change(cls, change: LikeChange) -> LikeChangeOut:
        return cls(**asdict(change.summary), changed=change.changed)
