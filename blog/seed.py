"""Demo users and posts for `manage.py seed` and the first `make run`: idempotent.

Demo users share the password `demo-password`; their posts spread over the last 30 days, in
transactions of 500 with their events, so the activity log gets them as runs.
"""

from __future__ import annotations

from datetime import UTC, timedelta

import peewee

from blog.models import Post, User, utcnow
from blog.service import _insert_post, add_user, prepare_user, viewer_of
from shared import events
from shared.database import database
from shared.passwords import hash_password
from shared.seeding import Progress, SeedPlan

DEMO_PASSWORD = "demo-password"
POSTS_PER_ROUND = 500  # demo posts per transaction, their events delivered together
DEMO_NAMES = [
    "alice",
    "bob",
    "carol",
    "dave",
    "erin",
    "frank",
    "grace",
    "heidi",
    "ivan",
    "judy",
    "mallory",
    "niaj",
    "olivia",
    "peggy",
    "rupert",
    "sybil",
]
DEMO_TOPICS = [
    "Access patterns first",
    "Why my sort key has a random suffix",
    "GSIs are extra doors",
    "Counting likes without losing any",
    "Hot partitions, cool heads",
    "TTL as a garbage collector",
    "Scan is a full-table walk",
    "What stays in the RDB",
    "Single-table or not",
    "Pagination that never repeats",
    "Conditional writes explained",
    "Sessions that expire",
    "Reading the capacity bill",
    "Strongly consistent reads, and when to pay for them",
    "Sparse indexes on purpose",
    "Projections: ALL, KEYS_ONLY or INCLUDE",
    "Idempotent retries",
    "Optimistic locking with a version number",
    "Transactions cost twice",
    "BatchWriteItem and its unprocessed items",
    "Item collections and their size",
    "The 400 KB item limit",
    "Write sharding a counter",
    "Time-bucketed feeds",
    "Filter expressions do not save reads",
    "Designing for one query at a time",
    "Moving a table to on-demand",
    "Streams for side effects",
    "Keys that sort by time",
    "Deleting a post and everything under it",
    "Outbox before events",
    "Local engine, real AWS",
    "Query with a Limit",
    "Counting without a COUNT(*)",
    "Composite sort keys",
    "Where GSIs lag behind",
    "Lessons from a hot key",
    "ProjectionExpression trims the payload, not the bill",
    "Throttling and how to see it",
    "Modelling comments as one item collection",
]


def seed_size(plan: SeedPlan) -> int:
    return plan.users + plan.posts


def seed_demo(plan: SeedPlan, progress: Progress) -> int:
    """Demo users (password `demo-password`) and posts spread over the last 30 days. Idempotent:
    existing demo users are reused and only the missing number of posts is written.

    The password is hashed once for all demo users (argon2 takes ~0.1 s on purpose; they share
    the password, so a salt each buys nothing), and the posts go in transactions of 500 with
    their events, delivered as runs: 2 BatchWriteItems for 40 "post" activities, not 40 PutItems.
    """
    names = [DEMO_NAMES[i] if i < len(DEMO_NAMES) else f"demo_{i}" for i in range(plan.users)]
    created = 0
    demo_hash: str | None = None
    for name in names:
        user = User.get_or_none(User.username == name)
        if user is None:
            demo_hash = demo_hash or hash_password(DEMO_PASSWORD)
            user = add_user(
                new_user=prepare_user(username=name, display_name=name.title()),
                password_hash=demo_hash,
            )
            created += 1
        plan.viewers.append(viewer_of(user))
        progress(1)
    author_ids = [int(v.user_id) for v in plan.viewers]
    existing = Post.select().where(Post.author.in_(author_ids)).count()
    progress(min(existing, plan.posts))
    for numbers in peewee.chunked(range(existing, plan.posts), POSTS_PER_ROUND):
        with database.atomic():
            rows = [_demo_post(plan, i) for i in numbers]
        events.deliver(rows)
        created += len(rows)
        progress(len(rows))
    demo_posts = Post.select(Post.id, Post.created_at).where(Post.author.in_(author_ids))
    plan.post_times = {p.id: p.created_at.replace(tzinfo=UTC) for p in demo_posts.order_by(Post.id)}
    plan.post_ids = list(plan.post_times)
    return created


def _demo_title(i: int) -> str:
    """Distinct titles: the topics in order, then the same topics as numbered sequels."""
    topic = DEMO_TOPICS[i % len(DEMO_TOPICS)]
    sequel = i // len(DEMO_TOPICS)
    return f"{topic}, part {sequel + 1}" if sequel else topic


def _demo_post(plan: SeedPlan, i: int) -> int:
    """Demo post number i (with its outbox event, in the caller's transaction); the event row."""
    viewer = plan.viewers[i % len(plan.viewers)]
    topic = DEMO_TOPICS[i % len(DEMO_TOPICS)]
    when = utcnow() - timedelta(minutes=(plan.posts - i) * 30 * 24 * 60 // max(plan.posts, 1))
    body = f"{topic}: demo post {i + 1} by {viewer.display_name}.\n\n" + (
        "DynamoDB rewards knowing your access patterns before you pick your keys. " * 3
    )
    _, row = _insert_post(viewer, _demo_title(i), body, when)
    return row
