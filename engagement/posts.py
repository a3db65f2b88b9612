"""Posts as engagement sees them: whether one exists, who wrote it, and nothing left once it goes.

Posts belong to the blog context and are asked about through its service. Their likes and
comments live in DynamoDB, so a post's deletion (in the RDB) is followed by a clean-up of both
tables: from the PostDeleted event, delivered through the outbox (`engagement.cleanup`), and by
any write that finds its post deleted under it (`require_post_after_write`).
"""

from __future__ import annotations

from typing import Any

from pynamodb.models import Model

from blog import service as blog_service
from engagement.comments.models import Comment
from engagement.likes.models import (
    COUNT_SK,
    MAX_SHARDS,
    LikeCounter,
    UserLike,
    home_key,
    likes_key,
    shard_key,
)
from shared import events
from shared.access_patterns import access_pattern
from shared.auth import Viewer
from shared.dynamo import batch_get, batch_write, bound_client
from shared.errors import NotFound
from shared.i18n import gettext as _


def require_post(*, post_id: int) -> None:
    if not blog_service.post_exists(post_id=post_id):
        raise NotFound(_("There is no post {post_id}.").format(post_id=post_id))


def require_post_after_write(*, post_id: int, event: events.Event | None = None) -> None:
    """A post deleted while a write was in flight would leave the write an orphan: its clean-up
    may already have run. The delete commits in the RDB before its clean-up starts, and this
    check runs after the write has landed, so one side always sees the other: either the
    clean-up finds the new item, or this finds the post gone and cleans up itself.

    `event` is the write's event, published once the post is found. The write is already in
    DynamoDB, so if the RDB fails here (the check or the outbox), the event goes straight to its
    subscribers before the error is answered: a retry would find nothing left to change and
    publish nothing, and the write's activity would be missing (a comment's for good, a like's
    until the replay of its change, which stays pending until its event is recorded)."""
    try:
        exists = blog_service.post_exists(post_id=post_id)
    except Exception:
        if event is not None:
            events.deliver_unrecorded(event)
        raise
    if not exists:
        delete_engagement_of_post(post_id=post_id)
        raise NotFound(_("There is no post {post_id}.").format(post_id=post_id))
    if event is not None:
        events.publish(event)


def is_post_author(*, viewer: Viewer, post_id: int) -> bool:
    return str(blog_service.get_post(post_id=post_id).author_id) == viewer.user_id


def _keys_of(model: type[Model], hash_key: Any) -> list[dict[str, Any]]:
    """The keys of every item in one item collection (a consistent Query reading the keys only)."""
    hash_name = model._hash_key_attribute().attr_name
    range_name = model._range_key_attribute().attr_name
    items = model.query(hash_key, attributes_to_get=[hash_name, range_name], consistent_read=True)
    keys = (hash_name, range_name)
    return [
        {k: v for k, v in item.serialize(null_check=False).items() if k in keys} for item in items
    ]


def _delete(model: type[Model], keys: list[dict[str, Any]]) -> int:
    return batch_write(bound_client(), model.Meta.table_name, deletes=keys)


@access_pattern(
    name="Delete all likes and comments of a deleted post",
    model=UserLike,
    operation="Query + BatchWriteItem",
    key='likes: post_id = "<post>" (and BatchGetItem of "<post>#1".."<post>#31"); '
    "comments: post_id = :post",
    notes="Runs from the PostDeleted event through the outbox: retried until DynamoDB answers. "
    "Reads strongly consistent, so an item written a moment before is deleted too.",
    consistency="strong",
)
def delete_engagement_of_post(*, post_id: int) -> int:
    """Idempotent: a redelivered event finds nothing left. Returns the items deleted."""
    possible_shards = [likes_key(shard_key(post_id, s), COUNT_SK) for s in range(1, MAX_SHARDS)]
    found = batch_get(bound_client(), LikeCounter.Meta.table_name, possible_shards, consistent=True)
    deleted = _delete(LikeCounter, [likes_key(i["post_id"]["S"], COUNT_SK) for i in found])
    deleted += _delete(UserLike, _keys_of(UserLike, home_key(post_id)))
    deleted += _delete(Comment, _keys_of(Comment, post_id))
    return deleted
