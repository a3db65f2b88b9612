"""Demo likes and comments for `manage.py seed` and the first `make run`: idempotent.

A small, believable world: like counts vary from post to post, one post (the plan's hot post)
is liked by nearly everyone and has the longest thread, the first demo user has liked few posts,
now and then someone liked a post and took it back, and no two comments of a thread say the
same thing. Each post's share is drawn from a generator seeded with its id, so every run draws
the same likes and comments.

Everything is gathered first and written in full batches (BatchWriteItem, 25 items a call),
not one or two calls per post. Demo comments get
keys that depend only on their post (its time, and random bits drawn from the post id), so
one BatchGetItem tells which posts were seeded before: a post whose like counter or first demo
comment exists is skipped, and a second run adds nothing.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from pynamodb.models import Model

from engagement.comments.models import Comment, comment_id_at
from engagement.likes.models import COUNT_SK, LikeCounter, UserLike, home_key, likes_key, user_sk
from shared.access_patterns import access_pattern
from shared.auth import Viewer
from shared.dynamo import batch_get, batch_write, bound_client, chunks
from shared.seeding import BATCHES_IN_FLIGHT, Progress, SeededComment, SeededLike, SeedPlan

QUESTIONS = [
    "Does this still hold when the table has a GSI?",
    "How many WCU did that cost?",
    "Would a composite sort key work here too?",
    "What happens when two requests do this at the same moment?",
    "Is a Scan ever the right answer for this?",
    "How would you page through this on a big table?",
]
REMARKS = [
    "Great explanation of why the key design comes first.",
    "I tried this with a Scan first. Never again.",
    "The random suffix on the sort key saved me last week.",
    "Conditional writes are underrated.",
    "Bookmarked: this is the access-pattern table I needed.",
    "We moved our counters to DynamoDB after reading this.",
]
REPLIES = [
    "Same question here.",
    "Good point, thanks.",
    "I measured it: the inspector on the post page shows the capacity.",
    "It depends on the access pattern, as always.",
    "The model's docstring answers this one.",
    "Try it in the explorer and see.",
]
ITEMS_PER_ROUND = 5_000
REPLY_CHANCE = 0.4
FIRST_USER_LIKES = 0.15  # the first demo user (alice) has liked few posts: her click likes
UNLIKE_CHANCE = 0.2  # a post where someone liked and then took it back
HOT_COMMENTS = 3  # the hot post's thread is this many times longer
# The time a demo comment counts from when its post's time is unknown (a plan built by hand).
DEMO_EPOCH = datetime(2026, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class DemoEngagement:
    """What one post gets from the seed: a pure function of the plan and the post id."""

    likes: list[SeededLike]
    comments: list[Comment]

    def item_count(self) -> int:
        """Like items, the counter (when anyone touched the like button), comments."""
        return len(self.likes) + (1 if self.likes else 0) + len(self.comments)


def seed_size(plan: SeedPlan) -> int:
    """Items, counters included: the progress bar ends at the count the CLI says it wrote."""
    if not plan.viewers:
        return 0
    return sum(demo_engagement(plan, p).item_count() for p in plan.post_ids)


@access_pattern(
    name="Seed likes and comments",
    model=Comment,
    operation="BatchWriteItem",
    key="likes: home counters and USER# items; comments: post_id = :post, demo comment ids",
    notes="One BatchGetItem per table finds the posts seeded before (their counter, their first "
    "demo comment); the rest is written 25 items a call.",
)
def seed_demo(plan: SeedPlan, progress: Progress) -> int:
    """Demo likes and comments by the demo viewers, written in batches. Idempotent.

    Every like and comment is added to the plan, written now or in an earlier run, so the
    activity seeder logs exactly these."""
    if not plan.viewers:
        return 0
    written = 0
    # A few thousand items at a time: the demo's 40 posts are one round, and 100,000 posts with
    # 1,000 comments each never sit in memory at once.
    per_round = max(1, ITEMS_PER_ROUND // max(1, plan.likes_per_post + plan.comments_per_post))
    for post_ids in chunks(plan.post_ids, per_round):
        demo = {p: demo_engagement(plan, p) for p in post_ids}
        written += _seed_round(plan, demo)
        progress(sum(d.item_count() for d in demo.values()))
    return written


def _seed_round(plan: SeedPlan, demo: dict[int, DemoEngagement]) -> int:
    counted, commented = _seeded_before(plan, list(demo))
    like_items: list[Model] = []
    comment_items: list[Model] = []
    for post_id, engagement in demo.items():
        if engagement.likes and home_key(post_id) not in counted:
            like_items += _like_items(post_id, engagement.likes)
        if engagement.comments and post_id not in commented:
            comment_items += engagement.comments
        plan.likes += engagement.likes
        plan.comments += [
            SeededComment(_viewer(plan, c.user_id), post_id, c.comment_id, c.created_at)
            for c in engagement.comments
        ]
    return _put(UserLike, like_items) + _put(Comment, comment_items)


def _viewer(plan: SeedPlan, user_id: str) -> Viewer:
    return next(v for v in plan.viewers if v.user_id == user_id)


def demo_engagement(plan: SeedPlan, post_id: int) -> DemoEngagement:
    """The likes and comments of one demo post, drawn from a generator seeded with the post id:
    the same in every run, whatever else the seed drew before."""
    rng = random.Random(f"demo-engagement:{post_id}")
    return DemoEngagement(_demo_likes(plan, post_id, rng), _demo_comments(plan, post_id, rng))


def _demo_likes(plan: SeedPlan, post_id: int, rng: random.Random) -> list[SeededLike]:
    """Varied counts: the hot post is liked by every demo user but the first; the others by up
    to about half of them, so the hot one stands out. The first user (the one a learner signs in
    as) has liked few posts, so her first click on a heart likes."""
    if not plan.likes_per_post or not plan.viewers:
        return []
    first, others = plan.viewers[0], list(plan.viewers[1:])
    if post_id == plan.hot_post_id():
        likers = others
    else:
        most = min(plan.likes_per_post, len(others) // 2 + 1)
        likers = rng.sample(others, k=rng.randint(0, most))
        if rng.random() < FIRST_USER_LIKES:
            likers.append(first)
    posted = _posted(plan, post_id)
    span = max(_newest(plan) - posted, timedelta(minutes=len(likers) + 1))
    likes = [SeededLike(v, post_id, posted + rng.random() * span) for v in likers]
    undecided = [v for v in others if v not in likers]
    if undecided and rng.random() < UNLIKE_CHANCE:
        liked_at = posted + rng.random() * span / 2
        later = liked_at + rng.random() * span / 2 + timedelta(seconds=1)
        likes.append(SeededLike(rng.choice(undecided), post_id, liked_at, later))
    return likes


def _like_items(post_id: int, likes: list[SeededLike]) -> list[Model]:
    items: list[Model] = [
        UserLike(
            home_key(post_id),
            user_sk(like.user.user_id),
            user_id=like.user.user_id,
            liked=like.unliked_at is None,
            version=1 if like.unliked_at is None else 2,
            changed_at=like.unliked_at or like.liked_at,
        )
        for like in likes
    ]
    count = sum(1 for like in likes if like.unliked_at is None)
    items.append(LikeCounter(home_key(post_id), COUNT_SK, like_count=count))
    return items


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


def demo_comment_time(plan: SeedPlan, post_id: int, i: int) -> datetime:
    """Comment i of a demo post: a minute apart, starting a minute after the post."""
    posted = plan.post_times.get(post_id, DEMO_EPOCH)
    return posted + timedelta(minutes=i + 1)


def demo_comment_id(plan: SeedPlan, post_id: int, i: int) -> str:
    """The key of comment i of a demo post: the same in every run of the seed."""
    bits = random.Random(f"demo-comment:{post_id}:{i}").getrandbits(48)
    return comment_id_at(demo_comment_time(plan, post_id, i), bits)


def _posted(plan: SeedPlan, post_id: int) -> datetime:
    return plan.post_times.get(post_id, DEMO_EPOCH)


def _newest(plan: SeedPlan) -> datetime:
    """The seed's "now": the newest post's time, fixed across runs (the clock is not)."""
    return max(plan.post_times.values(), default=DEMO_EPOCH)


def _comment_count(plan: SeedPlan, post_id: int) -> int:
    hot = post_id == plan.hot_post_id()
    return plan.comments_per_post * (HOT_COMMENTS if hot else 1)


def _demo_comments(plan: SeedPlan, post_id: int, rng: random.Random) -> list[Comment]:
    """A thread of distinct comments: questions and remarks, some answered by replies."""
    comments: list[Comment] = []
    openers = rng.sample(QUESTIONS + REMARKS, k=len(QUESTIONS + REMARKS))
    replies = rng.sample(REPLIES, k=len(REPLIES))
    for i in range(_comment_count(plan, post_id)):
        author = rng.choice(plan.viewers)
        parent = rng.choice(comments) if comments and rng.random() < REPLY_CHANCE else None
        pool = replies if parent is not None else openers
        comments.append(
            Comment(
                post_id,
                demo_comment_id(plan, post_id, i),
                parent_id=parent.comment_id if parent else None,
                user_id=author.user_id,
                username=author.username,
                display_name=author.display_name,
                body=_distinct(pool, i),
                created_at=demo_comment_time(plan, post_id, i),
                version=1,
            )
        )
        if parent is not None:
            parent.reply_count = int(parent.reply_count) + 1
    return comments


def _distinct(pool: list[str], i: int) -> str:
    """The next text of a shuffled pool; past its end, numbered, so no two bodies of a thread
    are the same even in a thread of a thousand."""
    text = pool.pop() if pool else None
    return text if text is not None else f"Comment {i + 1}: still following this thread."
