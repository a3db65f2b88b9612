"""Demo activities for `manage.py seed` and the first `make run`: idempotent.

Deterministic keys (item i depends only on i), written 25 a BatchWriteItem with two calls in
flight: a second run overwrites the same items instead of adding new ones.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

from activity.models import Activity, event_suffix, feed_key, sort_key, view_expiry
from blog import service as blog_service
from shared.access_patterns import access_pattern
from shared.auth import Viewer
from shared.dynamo import batch_write, bound_client
from shared.seeding import BATCHES_IN_FLIGHT, Progress, SeedPlan

SEED_DAYS = 7
SEED_TYPE_WEIGHTS = {"view": 45, "like": 25, "comment": 20, "unlike": 10}


def seed_size(plan: SeedPlan) -> int:
    return plan.activities


def seed_demo(plan: SeedPlan, progress: Progress) -> int:
    """`plan.activities` synthetic activities over the demo users and posts. Idempotent.

    Item i is drawn from its own generator seeded with i, not from the shared `plan.rng`:
    its draws would depend on what the seeders before this one consumed. The times are spread
    over the SEED_DAYS before the newest demo post, a fixed instant, so a second run rebuilds
    the same keys and overwrites the same items instead of adding new ones (seeding 10,000
    after the default 2,000 keeps the first 2,000 and adds 8,000). Returns how many items were
    written: BatchWriteItem does not tell a new item from an overwritten one.
    """
    if not plan.post_ids or not plan.viewers:
        return 0
    newest = plan.post_times.get(max(plan.post_ids)) or blog_service.get_post(
        post_id=max(plan.post_ids)
    ).created_at.replace(tzinfo=UTC)
    return write_synthetic_activities(
        users=plan.viewers,
        post_ids=plan.post_ids,
        count=plan.activities,
        newest=newest,
        progress=progress,
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
