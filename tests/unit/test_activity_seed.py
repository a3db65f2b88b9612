"""The activity seeder: the planned number of items, spread over users, posts, types and days, and
idempotent (deterministic keys: a second run overwrites, a bigger run only adds the difference)."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

from activity import seed
from activity.models import ACTIVITY_TYPES, Activity
from blog import seed as blog_seed
from shared.seeding import SeedPlan, seeders


def stored() -> list[Activity]:
    return list(Activity.scan())


def test_seeder_is_registered_after_users_and_posts(unit_client) -> None:
    (ours,) = [s for s in seeders() if s.label == "activities"]
    assert ours.order == 30
    assert all(s.order < 30 for s in seeders() if s.label == "users and posts")


def test_seeding_writes_the_plan_and_a_second_run_adds_nothing(unit_client) -> None:
    plan = SeedPlan(users=3, posts=4, activities=120)
    blog_seed.seed_demo(plan, lambda n: None)
    progress: list[int] = []
    assert seed.seed_size(plan) == 120
    assert seed.seed_demo(plan, progress.append) == 120
    assert sum(progress) == 120 and max(progress) <= 25
    first = {(a.user_id, a.timestamp) for a in stored()}
    assert len(first) == 120 + 4  # plus the four `post` activities of the blog's seeder

    again = SeedPlan(users=3, posts=4, activities=120)
    blog_seed.seed_demo(again, lambda n: None)
    seed.seed_demo(again, lambda n: None)
    assert {(a.user_id, a.timestamp) for a in stored()} == first

    bigger = SeedPlan(users=3, posts=4, activities=150)
    blog_seed.seed_demo(bigger, lambda n: None)
    seed.seed_demo(bigger, lambda n: None)
    assert len(stored()) == 150 + 4


def test_seeded_activities_spread_over_users_posts_types_and_days(unit_client) -> None:
    plan = SeedPlan(users=3, posts=4, activities=200)
    for seeder in seeders():
        seeder.run(plan, lambda n: None)
    items = stored()
    assert set(Counter(a.activity_type for a in items)) == set(ACTIVITY_TYPES)
    assert {a.user_id for a in items} == {v.user_id for v in plan.viewers}
    assert {int(a.post_id) for a in items} == set(plan.post_ids)
    times = sorted(a.occurred_at for a in items if a.activity_type != "post")
    assert times[-1] - times[0] > timedelta(days=seed.SEED_DAYS - 1)
    views = [a for a in items if a.activity_type == "view"]
    assert views and all(a.expires_at and a.feed_key is None for a in views)
    assert all(a.feed_key for a in items if a.activity_type != "view")


def test_the_seeded_posts_activities_are_written_in_batches(unit_client, engine_responses) -> None:
    plan = SeedPlan(users=8, posts=40, activities=0)
    blog_seed.seed_demo(plan, lambda n: None)
    calls = [operation for operation, _ in engine_responses]
    assert calls == ["BatchWriteItem"] * 2, "40 post activities, 25 a call"
    posts = [a for a in stored() if a.activity_type == "post"]
    assert sorted(int(a.post_id) for a in posts) == plan.post_ids
    assert all(a.feed_key for a in posts)
