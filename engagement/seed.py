"""Demo likes and comments for `manage.py seed` and the first `make run`: idempotent.

Written in batches (BatchWriteItem, 25 items a call) straight into both tables; a post that
already has a like counter or a comment is skipped, so a second run adds nothing.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from pynamodb.models import Model

from engagement.models import (
    COUNT_SK,
    REQUEST_PREFIX,
    Comment,
    LikeCounter,
    UserLike,
    comment_id_at,
    home_key,
    likes_key,
    user_sk,
)
from lens.access_patterns import access_pattern
from shared.auth import Viewer
from shared.dynamo import batch_get, batch_write, bound_client, utc_now
from shared.seeding import Progress, SeedPlan

DEMO_COMMENTS = [
    "Great explanation of why the key design comes first.",
    "Does this still hold when the table has a GSI?",
    "I tried this with a Scan first. Never again.",
    "The random suffix on the sort key saved me last week.",
    "How many WCU did that cost?",
    "Conditional writes are underrated.",
]


def seed_size(plan: SeedPlan) -> int:
    likes = min(plan.likes_per_post, len(plan.viewers))
    return len(plan.post_ids) * (likes + plan.comments_per_post)


@access_pattern(
    name="Seed likes and comments",
    model=Comment,
    operation="BatchWriteItem",
    key="likes: home counters and USER# items; comments: post_id = :post",
    notes="Posts that already have a counter or a comment are skipped, so a rerun adds nothing.",
)
def seed_engagement(plan: SeedPlan, progress: Progress) -> int:
    """Demo likes and comments by the demo viewers, written in batches. Idempotent."""
    if not plan.viewers:
        return 0
    homes = [likes_key(home_key(p), COUNT_SK) for p in plan.post_ids]
    counted = {
        item["post_id"]["S"]
        for item in batch_get(bound_client(), LikeCounter.Meta.table_name, homes, consistent=True)
    }
    written = 0
    for post_id in plan.post_ids:
        likers = plan.rng.sample(plan.viewers, k=min(plan.likes_per_post, len(plan.viewers)))
        if home_key(post_id) not in counted and likers:
            written += _put(UserLike, _demo_likes(post_id, likers))
        progress(len(likers))
        comments = _demo_comments(plan, post_id)
        if comments and not _has_comments(post_id):
            written += _put(Comment, comments)
        progress(plan.comments_per_post)
    return written


def _put(model: type[Model], items: list[Any]) -> int:
    puts = [item.serialize() for item in items]
    return batch_write(bound_client(), model.Meta.table_name, puts=puts)


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


def _demo_comments(plan: SeedPlan, post_id: int) -> list[Comment]:
    start = utc_now() - timedelta(minutes=plan.comments_per_post)
    comments: list[Comment] = []
    for i in range(plan.comments_per_post):
        author = plan.rng.choice(plan.viewers)
        parent = plan.rng.choice(comments) if comments and plan.rng.random() < 0.4 else None
        when = start + timedelta(minutes=i)
        comments.append(
            Comment(
                post_id,
                comment_id_at(when, plan.rng.getrandbits(48)),
                parent_id=parent.comment_id if parent else None,
                user_id=author.user_id,
                username=author.username,
                display_name=author.display_name,
                body=plan.rng.choice(DEMO_COMMENTS),
                created_at=when,
                version=1,
            )
        )
        if parent is not None:
            parent.reply_count = int(parent.reply_count) + 1
    return comments


def _has_comments(post_id: int) -> bool:
    return any(Comment.query(post_id, Comment.comment_id < REQUEST_PREFIX, limit=1))
