"""Demo likes and comments for `manage.py seed` and the first `make run`: idempotent.

Everything is gathered first and written in full batches (BatchWriteItem, 25 items a call):
400 items for the demo's 40 posts take 17 calls, not one or two per post. Demo comments get
keys that depend only on their post (its time, and random bits drawn from the post id), so
one BatchGetItem tells which posts were seeded before: a post whose like counter or first demo
comment exists is skipped, and a second run adds nothing.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any

from pynamodb.models import Model

from engagement.comments.models import Comment, comment_id_at
from engagement.likes.models import COUNT_SK, LikeCounter, UserLike, home_key, likes_key, user_sk
from shared.access_patterns import access_pattern
from shared.auth import Viewer
from shared.dynamo import batch_get, batch_write, bound_client, chunks, utc_now
from shared.seeding import BATCHES_IN_FLIGHT, Progress, SeedPlan

DEMO_COMMENTS = [
    "Great explanation of why the key design comes first.",
    "Does this still hold when the table has a GSI?",
    "I tried this with a Scan first. Never again.",
    "The random suffix on the sort key saved me last week.",
    "How many WCU did that cost?",
    "Conditional writes are underrated.",
]
ITEMS_PER_ROUND = 5_000
# The time a demo comment counts from when its post's time is unknown (a plan built by hand).
DEMO_EPOCH = datetime(2026, 1, 1, tzinfo=UTC)


def _items_per_post(plan: SeedPlan) -> int:
    """A post's likes, its like counter (when it has likes) and its comments."""
    likes = min(plan.likes_per_post, len(plan.viewers))
    return likes + (1 if likes else 0) + plan.comments_per_post


def seed_size(plan: SeedPlan) -> int:
    """Items, counters included: the progress bar ends at the count the CLI says it wrote."""
    return len(plan.post_ids) * _items_per_post(plan)


@access_pattern(
    name="Seed likes and comments",
    model=Comment,
    operation="BatchWriteItem",
    key="likes: home counters and USER# items; comments: post_id = :post, demo comment ids",
    notes="One BatchGetItem per table finds the posts seeded before (their counter, their first "
    "demo comment); the rest is written 25 items a call.",
)
def seed_demo(plan: SeedPlan, progress: Progress) -> int:
    """Demo likes and comments by the demo viewers, written in batches. Idempotent."""
    if not plan.viewers:
        return 0
    per_post = _items_per_post(plan)
    written = 0
    # A few thousand items at a time: the demo's 40 posts are one round, and 100,000 posts with
    # 1,000 comments each never sit in memory at once.
    for post_ids in chunks(plan.post_ids, max(1, ITEMS_PER_ROUND // max(1, per_post))):
        written += _seed_round(plan, post_ids)
        progress(len(post_ids) * per_post)
    return written


def _seed_round(plan: SeedPlan, post_ids: list[int]) -> int:
    counted, commented = _seeded_before(plan, post_ids)
    like_items: list[Model] = []
    comment_items: list[Model] = []
    for post_id in post_ids:
        likers = plan.rng.sample(plan.viewers, k=min(plan.likes_per_post, len(plan.viewers)))
        if home_key(post_id) not in counted and likers:
            like_items += _demo_likes(post_id, likers)
        comments = _demo_comments(plan, post_id)
        if comments and post_id not in commented:
            comment_items += comments
    return _put(UserLike, like_items) + _put(Comment, comment_items)


def _seeded_before(plan: SeedPlan, post_ids: list[int]) -> tuple[set[str], set[int]]:
    """The posts whose like counter exists (by home key), and those whose first demo comment
    exists."""
    client = bound_client()
    homes = [likes_key(home_key(p), COUNT_SK) for p in post_ids]
    counted = {
        item["post_id"]["S"]
        for item in batch_get(client, LikeCounter.Meta.table_name, homes, consistent=True)
    }
    firsts = [
        {"post_id": {"N": str(p)}, "comment_id": {"S": demo_comment_id(plan, p, 0)}}
        for p in post_ids
    ]
    commented: set[int] = set()
    if plan.comments_per_post:
        found = batch_get(client, Comment.Meta.table_name, firsts, consistent=True)
        commented = {int(item["post_id"]["N"]) for item in found}
    return counted, commented


def _put(model: type[Model], items: list[Any]) -> int:
    puts = [item.serialize() for item in items]
    return batch_write(
        bound_client(), model.Meta.table_name, puts=puts, in_flight=BATCHES_IN_FLIGHT
    )


def _demo_likes(post_id: int, likers: list[Viewer]) -> list[Model]:
    now = utc_now()
    items: list[Model] = [
        UserLike(
            home_key(post_id),
            user_sk(v.user_id),
            user_id=v.user_id,
            liked=True,
            version=1,
            changed_at=now,
        )
        for v in likers
    ]
    items.append(LikeCounter(home_key(post_id), COUNT_SK, like_count=len(likers)))
    return items


def demo_comment_time(plan: SeedPlan, post_id: int, i: int) -> datetime:
    """Comment i of a demo post: a minute apart, starting a minute after the post."""
    posted = plan.post_times.get(post_id, DEMO_EPOCH)
    return posted + timedelta(minutes=i + 1)


def demo_comment_id(plan: SeedPlan, post_id: int, i: int) -> str:
    """The key of comment i of a demo post: the same in every run of the seed."""
    bits = random.Random(f"demo-comment:{post_id}:{i}").getrandbits(48)
    return comment_id_at(demo_comment_time(plan, post_id, i), bits)


def _demo_comments(plan: SeedPlan, post_id: int) -> list[Comment]:
    comments: list[Comment] = []
    for i in range(plan.comments_per_post):
        author = plan.rng.choice(plan.viewers)
        parent = plan.rng.choice(comments) if comments and plan.rng.random() < 0.4 else None
        comments.append(
            Comment(
                post_id,
                demo_comment_id(plan, post_id, i),
                parent_id=parent.comment_id if parent else None,
                user_id=author.user_id,
                username=author.username,
                display_name=author.display_name,
                body=plan.rng.choice(DEMO_COMMENTS),
                created_at=demo_comment_time(plan, post_id, i),
                version=1,
            )
        )
        if parent is not None:
            parent.reply_count = int(parent.reply_count) + 1
    return comments
