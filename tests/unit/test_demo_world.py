"""`manage.py seed` builds a small world whose activity log tells only what happened: every
activity is a post, like, unlike, comment or view that exists; like counts vary and one post is
clearly hot; the first demo user's first click on a heart likes; threads and titles never repeat.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterator

import pytest
from typer.testing import CliRunner

import manage
from activity.models import Activity
from blog.models import Post, User
from engagement.comments.models import Comment
from engagement.likes import service as likes
from engagement.likes.models import UserLike
from tests.conftest import in_process_app


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """One seeded world for the module: every test only reads it, and the one that seeds again
    proves that doing so changes nothing (seeding is the slow part: thousands of writes)."""
    with (
        pytest.MonkeyPatch.context() as monkeypatch,
        in_process_app(monkeypatch, tmp_path_factory.mktemp("demo-world")),
    ):
        result = CliRunner().invoke(manage.cli, ["seed"])
        assert result.exit_code == 0, result.output
        yield


def activities() -> list[Activity]:
    return list(Activity.scan())


def posts() -> dict[int, Post]:
    return {p.id: p for p in Post.select()}


def liked_state() -> dict[tuple[str, int], bool]:
    return {
        (item.user_id, int(item.post_id)): bool(item.liked)
        for item in UserLike.scan()
        if item.sk.startswith("USER#")
    }


def test_every_seeded_activity_matches_something_that_exists(seeded) -> None:
    stored_posts = posts()
    comments = {
        (c.user_id, c.post_id, c.comment_id) for p in stored_posts for c in Comment.query(p)
    }
    state = liked_state()
    history: dict[tuple[str, int], list[tuple[str, str]]] = defaultdict(list)
    logged_comments = set()
    for activity in activities():
        post_id = int(activity.post_id)
        assert post_id in stored_posts, activity.timestamp
        posted = stored_posts[post_id].created_at
        assert activity.occurred_at.replace(tzinfo=None) >= posted.replace(tzinfo=None)
        if activity.activity_type == "post":
            assert stored_posts[post_id].author_id == int(activity.user_id)
        elif activity.activity_type == "comment":
            key = (activity.user_id, post_id, activity.comment_id)
            assert key in comments, f"{activity.username} did not write {key}"
            logged_comments.add(key)
        elif activity.activity_type in ("like", "unlike"):
            pair = (activity.user_id, post_id)
            history[pair].append((activity.timestamp, activity.activity_type))
    assert logged_comments == comments, "every seeded comment is in its author's activity"
    for pair, changes in history.items():
        last = max(changes)[1]
        assert state[pair] is (last == "like"), pair
    assert {p for p, liked in state.items() if liked} <= set(history), "a like without activity"


def test_like_counts_vary_and_one_post_is_clearly_the_hot_one(seeded) -> None:
    counts = likes.like_counts(post_ids=list(posts()))
    state = liked_state()
    for post_id, count in counts.items():
        assert count == sum(1 for (_, p), liked in state.items() if liked and p == post_id)
    ranked = sorted(counts.values(), reverse=True)
    assert len(set(ranked)) >= 4, ranked
    assert ranked[0] > ranked[1], "one post stands out"
    hot = max(counts, key=counts.__getitem__)
    threads = {p: sum(1 for _ in Comment.query(p)) for p in counts}
    assert threads[hot] == max(threads.values()) > min(threads.values())
    views = Counter(int(a.post_id) for a in activities() if a.activity_type == "view")
    assert views.most_common(1)[0][0] == hot


def test_the_first_demo_users_first_click_likes_on_most_posts(seeded) -> None:
    alice = User.get(User.username == "alice")
    liked = [p for (user, p), on in liked_state().items() if on and user == str(alice.id)]
    assert len(liked) < len(posts()) / 4, liked


def test_seeded_threads_never_repeat_a_comment_and_titles_never_repeat(seeded) -> None:
    for post_id in posts():
        bodies = [c.body for c in Comment.query(post_id)]
        assert len(bodies) == len(set(bodies)), post_id
    titles = [p.title for p in posts().values()]
    assert len(titles) == len(set(titles))
    assert not any("#" in title for title in titles)


def test_seeding_again_changes_nothing(seeded) -> None:
    before = ({a.timestamp for a in activities()}, liked_state())
    result = CliRunner().invoke(manage.cli, ["seed"])
    assert result.exit_code == 0, result.output
    assert ({a.timestamp for a in activities()}, liked_state()) == before
