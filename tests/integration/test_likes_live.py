"""Likes against moto's server over HTTP: exact under concurrency, even through a promotion."""

from __future__ import annotations

import random
import threading

import pytest

from engagement.likes.models import LikeCounter, UserLike
from tests.conftest import wait_until_caught_up
from tests.integration.engagement_fixtures import new_post

THREADS = 10
USERS_PER_THREAD = 5  # 50 users liking one post at once
ROUNDS = 4


def test_count_equals_distinct_likers_under_concurrent_likes_and_unlikes(
    live_client, make_user
) -> None:
    """Threads hammer one post; each thread owns its users, every user repeats likes and unlikes
    (double clicks included); halfway through, the author shards the counter.

    A user never races against themself here: moto's server does not serialise conditional
    writes to one item (measured: 301 winners for 300 contested conditional updates), so such a
    race would test the emulator, not the app. Same-user retries are exercised in sequence.
    """
    author = make_user(live_client)
    post_id = new_post(author)
    author.call("PUT", f"/api/v1/posts/{post_id}/like")  # the home counter exists before the rush
    author.call("DELETE", f"/api/v1/posts/{post_id}/like")
    groups = [[make_user(live_client) for _ in range(USERS_PER_THREAD)] for _ in range(THREADS)]
    errors: list[str] = []
    halfway = threading.Barrier(THREADS + 1)

    def hammer(users: list, seed: int) -> None:  # type: ignore[type-arg]
        rng = random.Random(seed)
        for round_no in range(ROUNDS):
            if round_no == ROUNDS // 2:
                halfway.wait(timeout=60)
            for user in users:
                method = rng.choice(["PUT", "PUT", "DELETE"])
                for _ in range(rng.choice([1, 2])):
                    response = user.call(method, f"/api/v1/posts/{post_id}/like")
                    if response.status_code != 200:
                        errors.append(f"{method} {response.status_code} {response.text}")

    threads = [threading.Thread(target=hammer, args=(g, i)) for i, g in enumerate(groups)]
    for thread in threads:
        thread.start()
    halfway.wait(timeout=60)
    promoted = author.call("POST", f"/api/v1/posts/{post_id}/likes/shards", json={"shards": 4})
    assert promoted.status_code == 200, promoted.text
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors[:5]

    final_states = [
        user.client.get(f"/api/v1/posts/{post_id}/likes").json()["liked_by_me"]
        for group in groups
        for user in group
    ]
    liked_items = [
        item
        for item in UserLike.query(
            str(post_id), UserLike.sk.startswith("USER#"), consistent_read=True
        )
        if item.liked
    ]
    summary = live_client.get(f"/api/v1/posts/{post_id}/likes").json()
    assert summary["shards"] == 4
    assert summary["count"] == sum(final_states) == len(liked_items)
    leftovers = [
        i for i in UserLike.query(str(post_id), consistent_read=True) if i.pending_shard is not None
    ]
    assert leftovers == []
    shards = [LikeCounter.get(f"{post_id}#{s}" if s else str(post_id), "COUNT") for s in range(4)]
    assert all(shard.inflight is None for shard in shards)
    assert sum(int(shard.like_count) for shard in shards) == summary["count"]


@pytest.mark.stock_moto
def test_like_is_idempotent_over_http_and_counts_show_on_the_post_list(
    live_client, make_user, engine_endpoint: str
) -> None:
    author, fan = make_user(live_client), make_user(live_client)
    post_id = new_post(author)
    assert fan.call("PUT", f"/api/v1/posts/{post_id}/like").json()["changed"] is True
    assert fan.call("PUT", f"/api/v1/posts/{post_id}/like").json()["changed"] is False
    assert author.call("PUT", f"/api/v1/posts/{post_id}/like").json()["count"] == 2
    # the post list reads its counts eventually consistent (it may lag a moment, and says so)
    wait_until_caught_up(engine_endpoint)
    assert 'data-testid="like-badge">♥ 2<' in live_client.get("/").text
