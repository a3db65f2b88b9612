"""Demo activities for `manage.py seed` and the first `make run`: the activity log of the demo
world, and synthetic activities for the benchmarks. Idempotent: every key is built from what it
describes, so a second run overwrites instead of adding.
"""

from __future__ import annotations

import bisect
import itertools
import math
import random
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

from activity.models import (
    Activity,
    event_suffix,
    feed_key,
    sort_key,
    view_expiry,
    view_sort_key,
    view_window_start,
)
from shared.access_patterns import access_pattern
from shared.auth import Viewer
from shared.dynamo import batch_write, bound_client
from shared.seeding import BATCHES_IN_FLIGHT, Progress, SeedPlan

SEED_DAYS = 7
SEED_TYPE_WEIGHTS = {"view": 45, "like": 25, "comment": 20, "unlike": 10}


HOT_VIEWS = 0.3  # the share of demo views that go to the hot post


def _logged_events(plan: SeedPlan) -> int:
    return len(plan.likes) + sum(1 for like in plan.likes if like.unliked_at) + len(plan.comments)


def seed_size(plan: SeedPlan) -> int:
    """The activities the seeder writes: one per seeded like, unlike and comment, and views to
    make up `plan.activities` (the posts' own activities came with the posts)."""
    return max(_logged_events(plan), plan.activities)


def seed_demo(plan: SeedPlan, progress: Progress) -> int:
    """The activity log of the demo world. Idempotent.

    Every activity matches something that exists: a like, unlike or comment the engagement
    seeder made (same user, post and time; a comment activity carries the comment's id), or a
    view of a post that existed by then. Views fill the log up to `plan.activities`, a third of
    them on the hot post. View i is drawn from its own generator seeded with i, and the times
    are spread over the SEED_DAYS before the newest demo post, a fixed instant, so a second run
    rebuilds the same keys and overwrites the same items instead of adding new ones. Returns
    how many items were written: BatchWriteItem does not tell a new item from an overwritten one.
    """
    if not plan.post_ids or not plan.viewers:
        return 0
    views = max(0, plan.activities - _logged_events(plan))

    def items() -> Iterator[dict[str, Any]]:
        for activity in _engagement_activities(plan):
            yield activity.serialize()
        for activity in _demo_views(plan, views):
            yield activity.serialize()

    table = Activity.Meta.table_name
    return batch_write(
        bound_client(), table, puts=items(), in_flight=BATCHES_IN_FLIGHT, progress=progress
    )


def _logged(user: Viewer, kind: str, post_id: int, at: datetime, event: str) -> Activity:
    suffix = event_suffix(event)
    return Activity(
        user.user_id,
        sort_key(at, suffix),
        activity_type=kind,
        username=user.username,
        post_id=post_id,
        feed_key=feed_key(at, suffix),
    )


def _engagement_activities(plan: SeedPlan) -> Iterator[Activity]:
    for like in plan.likes:
        event = f"seed-like:{like.post_id}:{like.user.user_id}"
        yield _logged(like.user, "like", like.post_id, like.liked_at, event)
        if like.unliked_at is not None:
            yield _logged(like.user, "unlike", like.post_id, like.unliked_at, f"{event}:unlike")
    for comment in plan.comments:
        event = f"seed-comment:{comment.post_id}:{comment.comment_id}"
        activity = _logged(comment.user, "comment", comment.post_id, comment.created_at, event)
        activity.comment_id = comment.comment_id
        yield activity


def _demo_views(plan: SeedPlan, count: int) -> Iterator[Activity]:
    """`count` views by the demo users of posts that existed at the time, each key once (a
    view's key is its user, post and dedup window, as for a real view)."""
    posts = sorted((plan.post_times[p], p) for p in plan.post_ids if p in plan.post_times)
    if not posts:
        return
    newest, hot = posts[-1][0], plan.hot_post_id()
    seen: set[tuple[str, str]] = set()
    for i in itertools.count():
        if len(seen) >= count or i >= count * 4:
            return
        rng = random.Random(f"seed-view:{i}")
        at = newest - rng.random() * timedelta(days=SEED_DAYS)
        existing = posts[: bisect.bisect_right(posts, (at, math.inf))]
        if not existing:
            continue
        post_id = rng.choice(existing)[1]
        if hot is not None and plan.post_times.get(hot, at) <= at and rng.random() < HOT_VIEWS:
            post_id = hot
        user = rng.choice(plan.viewers)
        key = (user.user_id, view_sort_key(at, post_id))
        if key not in seen:
            seen.add(key)
            yield Activity(
                *key,
                activity_type="view",
                username=user.username,
                post_id=post_id,
                expires_at=view_expiry(view_window_start(at)),
            )


def _synthetic_activity(
    i: int, users: list[Viewer], post_ids: list[int], newest: datetime, span: timedelta
) -> Activity:
    rng = random.Random(f"activity-seed:{i}")
    user = users[rng.randrange(len(users))]
    post_id = post_ids[rng.randrange(len(post_ids))]
    (activity_type,) = rng.choices(list(SEED_TYPE_WEIGHTS), list(SEED_TYPE_WEIGHTS.values()))
    at = newest - rng.random() * span
    suffix = event_suffix(f"seed-activity-{i}")
    activity = Activity(
        user.user_id,
        sort_key(at, suffix),
        activity_type=activity_type,
        username=user.username,
        post_id=post_id,
    )
    if activity_type == "view":
        activity.expires_at = view_expiry(at)
    else:
        activity.feed_key = feed_key(at, suffix)
    if activity_type == "comment":
        activity.comment_id = sort_key(at, suffix)
    return activity


@access_pattern(
    name="Seed demo activities",
    model=Activity,
    operation="BatchWriteItem",
    key="25 PutRequests per call, two calls in flight, UnprocessedItems retried with backoff",
    notes="Deterministic keys: a second run overwrites instead of adding.",
)
def write_synthetic_activities(
    *,
    users: list[Viewer],
    post_ids: list[int],
    count: int,
    newest: datetime,
    progress: Progress,
    span: timedelta = timedelta(days=SEED_DAYS),
) -> int:
    """Write `count` demo activities over the `span` before `newest`, 25 per BatchWriteItem.

    Item i depends only on i (and the users, posts and times given), so writing 4,000 after
    1,000 rewrites the first 1,000 and adds 3,000.
    """

    def items() -> Iterator[dict[str, Any]]:
        for i in range(count):
            yield _synthetic_activity(i, users, post_ids, newest, span).serialize()

    table = Activity.Meta.table_name
    batch_write(bound_client(), table, puts=items(), in_flight=BATCHES_IN_FLIGHT, progress=progress)
    return count
