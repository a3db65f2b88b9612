"""Engagement's work outside requests: after a post is deleted, and after a like died midway.

`on_post_deleted` handles the PostDeleted event, delivered through the outbox (retried until
DynamoDB answers). `settle_pending_likes` is the operators' repair (`manage.py settle-likes`) of
like changes whose request died between its writes; the same user's next click also finishes
their own. `settle_all_pending_likes` does it for every post, as `make run` does after a restart.
"""

from __future__ import annotations

from engagement import likes, posts
from engagement.models import USER_SK_PREFIX, UserLike, home_key
from lens.access_patterns import access_pattern
from shared import events
from shared.dynamo import utc_now


def on_post_deleted(event: events.PostDeleted) -> None:
    posts.delete_engagement_of_post(post_id=event.post_id)
    likes.forget_hot_post(event.post_id)


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
