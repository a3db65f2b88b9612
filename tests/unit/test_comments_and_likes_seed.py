"""The demo seeder: likes and comments for the seeded posts, exact and idempotent."""

from __future__ import annotations

from blog import seed as blog_seed
from blog import service as blog_service
from engagement import seed
from engagement.comments import service as comments
from engagement.comments.models import Comment
from engagement.likes import service as likes
from engagement.likes.models import UserLike
from shared.seeding import SeedPlan


def test_seeding_twice_writes_exact_likes_and_threads_once(unit_client) -> None:
    progress: list[int] = []
    plan = SeedPlan(users=3, posts=4, likes_per_post=2, comments_per_post=3)
    blog_seed.seed_demo(plan, lambda n: None)
    written = seed.seed_demo(plan, progress.append)
    assert written == sum(progress) == seed.seed_size(plan)

    counts = likes.like_counts(post_ids=plan.post_ids)
    for post_id in plan.post_ids:
        likers = [
            u for u in UserLike.query(str(post_id), UserLike.sk.startswith("USER#")) if u.liked
        ]
        assert counts[post_id] == len(likers)
        page = comments.list_comments(post_id=post_id)
        hot = post_id == plan.hot_post_id()
        assert len(page.comments) == 3 * (seed.HOT_COMMENTS if hot else 1)
        for comment in page.comments:
            replies = [c for c in page.comments if c.parent_id == comment.comment_id]
            assert comment.reply_count == len(replies)
    threads = sum(1 for p in plan.post_ids for _ in Comment.query(p))

    again = SeedPlan(users=3, posts=4, likes_per_post=2, comments_per_post=3)
    blog_seed.seed_demo(again, lambda n: None)
    assert seed.seed_demo(again, lambda n: None) == 0
    assert likes.like_counts(post_ids=plan.post_ids) == counts
    assert sum(1 for p in plan.post_ids for _ in Comment.query(p)) == threads
    assert (again.likes, again.comments) == (plan.likes, plan.comments), "told again, the same"


def test_seeding_writes_full_batches_and_finds_earlier_seeds_in_one_read_per_table(
    unit_client, engine_responses
) -> None:
    plan = SeedPlan(users=8, posts=40, likes_per_post=5, comments_per_post=4)
    blog_seed.seed_demo(plan, lambda n: None)
    engine_responses.clear()
    assert seed.seed_demo(plan, lambda n: None) == seed.seed_size(plan)
    calls = [operation for operation, _ in engine_responses]
    like_items = len(plan.likes) + sum(
        1 for p in plan.post_ids if seed.demo_engagement(plan, p).likes
    )
    writes = -(-like_items // 25) + -(-len(plan.comments) // 25)
    assert calls == ["BatchGetItem"] * 2 + ["BatchWriteItem"] * writes, "full batches"

    engine_responses.clear()
    again = SeedPlan(users=8, posts=40, likes_per_post=5, comments_per_post=4)
    blog_seed.seed_demo(again, lambda n: None)
    assert seed.seed_demo(again, lambda n: None) == 0
    assert [operation for operation, _ in engine_responses] == ["BatchGetItem"] * 2


def test_demo_comments_come_after_their_post(unit_client) -> None:
    plan = SeedPlan(users=2, posts=3, likes_per_post=1, comments_per_post=2)
    blog_seed.seed_demo(plan, lambda n: None)
    seed.seed_demo(plan, lambda n: None)
    for post_id in plan.post_ids:
        posted = blog_service.get_post(post_id=post_id).created_at
        for comment in comments.list_comments(post_id=post_id).comments:
            assert comment.created_at.replace(tzinfo=None) > posted.replace(tzinfo=None)


def test_a_seed_larger_than_a_round_is_written_round_by_round_exactly_once(
    unit_client, monkeypatch
) -> None:
    monkeypatch.setattr(blog_seed, "POSTS_PER_ROUND", 3)
    monkeypatch.setattr(seed, "ITEMS_PER_ROUND", 6)  # two posts (1 like, 2 comments) a round
    plan = SeedPlan(users=2, posts=7, likes_per_post=1, comments_per_post=2)
    blog_seed.seed_demo(plan, lambda n: None)
    assert len(plan.post_ids) == 7
    progress: list[int] = []
    assert seed.seed_demo(plan, progress.append) == seed.seed_size(plan)
    assert len(progress) == 4 and sum(progress) == seed.seed_size(plan)
    expected = {
        p: sum(1 for like in plan.likes if like.post_id == p and like.unliked_at is None)
        for p in plan.post_ids
    }
    assert likes.like_counts(post_ids=plan.post_ids) == expected
    again = SeedPlan(users=2, posts=7, likes_per_post=1, comments_per_post=2)
    blog_seed.seed_demo(again, lambda n: None)
    assert again.post_ids == plan.post_ids
    assert seed.seed_demo(again, lambda n: None) == 0
