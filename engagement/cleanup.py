"""Engagement's work outside requests: after a post is deleted, and after a like died midway.

`on_post_deleted` handles the PostDeleted event, delivered through the outbox (retried until
DynamoDB answers). A like whose request failed between its writes leaves a LikeChangeUnfinished
event, and `on_like_change_unfinished` finishes it from the relay once it cannot be in flight
any more; the same user's next click also finishes their own. A request that died with its
process leaves no event: `settle_all_pending_likes` finds those, as `make run` does after a
restart, and `settle_pending_likes` is the operators' repair for one post
(`manage.py settle-likes`).
"""

from __future__ import annotations

from engagement import posts
from engagement.likes import service as likes
from engagement.likes.models import USER_SK_PREFIX, UserLike, home_key
from shared import events
from shared.access_patterns import access_pattern
from shared.dynamo import utc_now


def on_post_deleted(event: events.PostDeleted) -> None:
    posts.delete_engagement_of_post(post_id=event.post_id)
    likes.forget_hot_post(event.post_id)


@access_pattern(
    name="Finish a like change its request left midway (outbox relay)",
    model=UserLike,
    operation="GetItem",
    key='post_id = "<post>", sk = "USER#<user>", consistent read',
    notes="Only for a request that failed between its writes; pending and old enough to be "
    "dead, the change is replayed (claimed first, counted once).",
)
def on_like_change_unfinished(event: events.LikeChangeUnfinished) -> None:
    """The relay's half of a like that failed midway. Nothing pending: it finished after all
    (or was never started). Pending but recent: its request's last DynamoDB call may still
    land, so not yet (the relay asks again every few seconds). Older than any request can keep
    it in flight: replay it, as the user's next click would."""
    item = likes.user_like(event.post_id, event.user_id)
    if item is None or item.pending_shard is None:
        return
    if utc_now() - item.pending_since <= likes.in_flight_limit():
        raise events.RetryLater("the like change may still be in flight")
    if not likes.settle_stale(item):
        raise events.RetryLater("another process claimed the replay; checking it finished")


@access_pattern(
    name="Finish like changes whose request died midway",
    model=UserLike,
    operation="Query",
    key='post_id = "<post>", sk BEGINS_WITH "USER#"; filter attribute_exists(pending_shard)',
    notes="Operators' repair; the same user's next click also finishes their own.",
)
def settle_pending_likes(*, post_id: int) -> int:
    """Replays every stale pending change of a post; returns how many it finished."""
    pending = UserLike.query(
        home_key(post_id),
        UserLike.sk.startswith(USER_SK_PREFIX),
        filter_condition=UserLike.pending_shard.exists(),
        consistent_read=True,
    )
    limit = likes.in_flight_limit()
    return sum(
        likes.settle_stale(item) for item in pending if utc_now() - item.pending_since > limit
    )


@access_pattern(
    name="Finish every post's like changes whose request died midway",
    model=UserLike,
    operation="Scan",
    key="filter attribute_exists(pending_shard)",
    notes="Run by `make run` after a restart, when any request of the last run may have died "
    "midway. A Scan reads the whole table: fine for a start-up repair, never per request.",
)
def settle_all_pending_likes() -> int:
    """Replays every stale pending change of every post; returns how many it finished."""
    pending = UserLike.scan(filter_condition=UserLike.pending_shard.exists(), consistent_read=True)
    limit = likes.in_flight_limit()
    return sum(
        likes.settle_stale(item) for item in pending if utc_now() - item.pending_since > limit
    )
