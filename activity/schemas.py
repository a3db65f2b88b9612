"""What the activity API returns: the contract `/openapi.json` publishes.

Times are the table's own sort-key format (fixed-width UTC with microseconds), so a client can
compare them as strings, exactly as DynamoDB orders them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import BaseModel, Field

from activity.models import ACTIVITY_TYPES, time_key
from activity.service import FeedMode

if TYPE_CHECKING:
    from activity.feed_cost import ReadStats
    from activity.models import Activity
    from activity.service import ActivityPage, Feed

CURSOR_NOTE = "Pass it back as `cursor` for the next (older) page; null at the end."


class ActivityOut(BaseModel):
    user_id: str
    username: str
    timestamp: str = Field(description="The sort key: event time, then a unique suffix.")
    occurred_at: str
    activity_type: str = Field(description=f"One of: {', '.join(ACTIVITY_TYPES)}.")
    post_id: int | None
    comment_id: str | None
    expires_at: str | None = Field(description="Views only: when the TTL removes the item.")

    @classmethod
    def of(cls, activity: Activity) -> ActivityOut:
        return cls(
            user_id=activity.user_id,
            username=activity.username,
            timestamp=activity.timestamp,
            occurred_at=time_key(activity.occurred_at),
            activity_type=activity.activity_type,
            post_id=None if activity.post_id is None else int(activity.post_id),
            comment_id=activity.comment_id,
            expires_at=time_key(activity.expires_at) if activity.expires_at else None,
        )


class ActivityPageOut(BaseModel):
    """One page of a newest-first list."""

    items: list[ActivityOut]
    next_cursor: str | None = Field(description=CURSOR_NOTE)

    @classmethod
    def of(cls, page: ActivityPage) -> ActivityPageOut:
        return cls(items=[ActivityOut.of(a) for a in page.items], next_cursor=page.next_cursor)


class ReadStatsOut(BaseModel):
    """What the read cost, computed from DynamoDB's rules beside what the engine reported."""

    operation: str
    target: str
    calls: int
    items_returned: int
    items_scanned: int
    hidden_expired: int
    bytes_read: int
    computed_rcu: float
    reported_rcu: float | None

    @classmethod
    def of(cls, stats: ReadStats) -> ReadStatsOut:
        return cls(
            operation=stats.operation,
            target=stats.target,
            calls=stats.calls,
            items_returned=stats.returned,
            items_scanned=stats.scanned,
            hidden_expired=stats.hidden_expired,
            bytes_read=stats.bytes_read,
            computed_rcu=stats.computed_rcu,
            reported_rcu=stats.reported_rcu,
        )


class FeedOut(BaseModel):
    mode: FeedMode
    items: list[ActivityOut]
    next_cursor: None = Field(default=None, description="Always null: the feed is one page.")
    stats: ReadStatsOut

    @classmethod
    def of(cls, feed: Feed) -> FeedOut:
        items = [ActivityOut.of(a) for a in feed.items]
        return cls(mode=feed.mode, items=items, stats=ReadStatsOut.of(feed.stats))
