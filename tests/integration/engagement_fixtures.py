"""Helpers shared by the engagement integration tests (likes and comments over HTTP)."""

from __future__ import annotations

from engagement.comments.models import Comment, CommentRequest
from engagement.likes.models import MAX_SHARDS, LikeCounter, UserLike, shard_key
from tests.conftest import ApiUser

ENGAGEMENT_MODELS = [LikeCounter, UserLike, Comment, CommentRequest]


def new_post(author: ApiUser, title: str = "Live engagement") -> int:
    response = author.call("POST", "/api/v1/posts", json={"title": title, "body": "body"})
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


def engagement_items(post_id: int) -> list[object]:
    """Every likes and comments item that belongs to the post, read straight from the tables."""
    shard_keys = [(shard_key(post_id, s), "COUNT") for s in range(1, MAX_SHARDS)]
    return [
        *UserLike.query(str(post_id)),
        *LikeCounter.batch_get(shard_keys),
        *Comment.query(post_id),
    ]
