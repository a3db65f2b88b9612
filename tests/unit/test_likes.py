"""Likes on moto in-process: idempotent, exact, sharded when hot, read in batches."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from peewee import OperationalError
from pynamodb.exceptions import UpdateError

import app as composition_root
from activity.models import Activity, time_key
from blog import service as blog_service
from engagement import cleanup, posts
from engagement.likes import service as likes
from engagement.likes.models import MAX_SHARDS, LikeCounter, UserLike, shard_key
from shared import dynamo, events
from shared.auth import Viewer
from shared.dynamo import bound_client
from tests.unit.engagement_fixtures import dynamodb_calls, htmx, new_post


def like(user, post_id: int):  # type: ignore[no-untyped-def]
    return user.call("PUT", f"/api/v1/posts/{post_id}/like")


def unlike(user, post_id: int):  # type: ignore[no-untyped-def]
    return user.call("DELETE", f"/api/v1/posts/{post_id}/like")


def likes_of(client, post_id: int) -> dict:  # type: ignore[no-untyped-def,type-arg]
    response = client.get(f"/api/v1/posts/{post_id}/likes")
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def counter_items(post_id: int) -> dict[str, int]:
    keys = [(shard_key(post_id, s), "COUNT") for s in range(MAX_SHARDS)]
    return {c.post_id: int(c.like_count) for c in LikeCounter.batch_get(keys)}


def test_like_twice_counts_once_and_second_like_changes_nothing(unit_client, make_user) -> None:
    author, fan = make_user(unit_client), make_user(unit_client)
    post_id = new_post(author)
    first, second = like(fan, post_id), like(fan, post_id)
    assert first.json() == {"count": 1, "liked_by_me": True, "shards": 1, "changed": True}
    assert second.json() == {"count": 1, "liked_by_me": True, "shards": 1, "changed": False}
    assert likes_of(fan.client, post_id)["liked_by_me"] is True
    assert likes_of(author.client, post_id) == {"count": 1, "liked_by_me": False, "shards": 1}
    assert likes_of(unit_client, post_id)["liked_by_me"] is False


def test_unlike_mirrors_like_and_never_counts_below_zero(unit_client, make_user) -> None:
    author, fan = make_user(unit_client), make_user(unit_client)
    post_id = new_post(author)
    assert unlike(fan, post_id).json()["changed"] is False
    like(fan, post_id)
    assert unlike(fan, post_id).json() == {
        "count": 0,
        "liked_by_me": False,
        "shards": 1,
        "changed": True,
    }
    assert unlike(fan, post_id).json()["count"] == 0
    like(fan, post_id)
    assert likes_of(unit_client, post_id)["count"] == 1


def test_count_is_the_number_of_distinct_users_who_like(unit_client, make_user) -> None:
    author = make_user(unit_client)
    post_id = new_post(author)
    users = [make_user(unit_client) for _ in range(5)]
    for user in users:
        like(user, post_id)
        like(user, post_id)
    unlike(users[0], post_id)
    assert likes_of(unit_client, post_id)["count"] == 4
    liked = [u for u in UserLike.query(str(post_id), UserLike.sk.startswith("USER#")) if u.liked]
    assert len(liked) == 4


def test_only_a_real_state_change_publishes_an_event(unit_client, make_user) -> None:
    seen: list[events.Event] = []
    events.subscribe(events.PostLiked, seen.append)
    events.subscribe(events.PostUnliked, seen.append)
    try:
        author, fan = make_user(unit_client), make_user(unit_client)
        post_id = new_post(author)
        like(fan, post_id)
        like(fan, post_id)
        unlike(fan, post_id)
        unlike(fan, post_id)
    finally:
        events.unsubscribe(events.PostLiked, seen.append)
        events.unsubscribe(events.PostUnliked, seen.append)
    assert [type(e).__name__ for e in seen] == ["PostLiked", "PostUnliked"]
    assert all(e.post_id == post_id for e in seen)


def test_liking_needs_a_signed_in_user_and_an_existing_post(unit_client, make_user) -> None:
    fan = make_user(unit_client)
    token = unit_client.get("/api/v1/auth/session").json()["csrf_token"]
    anonymous = unit_client.put("/api/v1/posts/1/like", headers={"X-CSRF-Token": token})
    assert anonymous.status_code == 401
    missing = like(fan, 999)
    assert missing.status_code == 404 and "no post 999" in missing.json()["detail"]
    assert fan.call("PUT", "/api/v1/posts/0/like").status_code == 422
    assert unit_client.get("/api/v1/posts/abc/likes").status_code == 422
    assert unit_client.get("/api/v1/posts/999/likes").status_code == 404


def test_a_bump_whose_response_was_lost_is_not_counted_again(
    unit_client, make_user, monkeypatch
) -> None:
    """The ADD lands, the answer is lost: the retry's condition says 'already counted'."""
    author, fan = make_user(unit_client), make_user(unit_client)
    post_id = new_post(author)
    real_update = LikeCounter.update
    lost = []

    def update_then_lose_the_answer(self, actions, condition=None, **kwargs):  # type: ignore[no-untyped-def]
        result = real_update(self, actions, condition=condition, **kwargs)
        if not lost:
            lost.append(True)
            raise UpdateError("read timeout: the answer never came back")
        return result

    monkeypatch.setattr(LikeCounter, "update", update_then_lose_the_answer)
    assert like(fan, post_id).status_code == 503
    monkeypatch.setattr(LikeCounter, "update", real_update)
    pending = UserLike.get(
        str(post_id), f"USER#{fan.client.get('/api/v1/auth/session').json()['user']['user_id']}"
    )
    assert pending.liked and pending.pending_shard == 0

    assert like(fan, post_id).json()["changed"] is False  # still in flight: not replayed yet
    monkeypatch.setattr(likes, "in_flight_limit", lambda: timedelta(0))
    assert like(fan, post_id).json() == {
        "count": 1,
        "liked_by_me": True,
        "shards": 1,
        "changed": False,
    }
    assert UserLike.get(pending.post_id, pending.sk).pending_shard is None
    assert LikeCounter.get(str(post_id), "COUNT").inflight is None


def logged_likes(user, post_id: int) -> list[Activity]:  # type: ignore[no-untyped-def]
    """The activity log's likes of `user` on the post, read strongly consistent."""
    user_id = user.client.get("/api/v1/auth/session").json()["user"]["user_id"]
    return [
        a
        for a in Activity.query(user_id, consistent_read=True)
        if a.activity_type == "like" and int(a.post_id) == post_id
    ]


def a_like_that_failed_midway(unit_client, make_user, monkeypatch):  # type: ignore[no-untyped-def]
    """A post liked once, then `fan`'s like whose counter step met a DynamoDB that stopped
    answering: (post_id, fan), with the fan's like pending and the count still 1. The app's own
    relay is stopped: its 5 s round would otherwise race the test's steps on a slow machine."""
    monkeypatch.setattr(composition_root, "_relay_round", lambda: None)
    author, fan, other = make_user(unit_client), make_user(unit_client), make_user(unit_client)
    post_id = new_post(author)
    like(other, post_id)

    def dynamodb_down(self, actions, condition=None, **kwargs):  # type: ignore[no-untyped-def]
        raise UpdateError("connection refused")

    with monkeypatch.context() as down:
        down.setattr(LikeCounter, "update", dynamodb_down)
        assert like(fan, post_id).status_code == 503
    assert likes_of(unit_client, post_id)["count"] == 1  # the bump never happened
    return post_id, fan


def test_a_change_whose_bump_never_happened_is_counted_by_settle_pending_likes(
    unit_client, make_user, monkeypatch
) -> None:
    post_id, fan = a_like_that_failed_midway(unit_client, make_user, monkeypatch)
    assert likes_of(fan.client, post_id)["liked_by_me"] is True

    assert cleanup.settle_pending_likes(post_id=post_id) == 0  # too recent to be dead
    monkeypatch.setattr(likes, "in_flight_limit", lambda: timedelta(0))
    assert logged_likes(fan, post_id) == []  # the request died before its event
    assert cleanup.settle_pending_likes(post_id=post_id) == 1
    assert cleanup.settle_pending_likes(post_id=post_id) == 0
    assert likes_of(unit_client, post_id)["count"] == 2
    (logged,) = logged_likes(fan, post_id)  # the replay published it, once
    (item,) = [i for i in UserLike.query(str(post_id)) if i.user_id == logged.user_id]
    assert logged.timestamp[:23] == time_key(item.changed_at)[:23]  # the click's time, to the ms


def unfinished_likes() -> list[events.OutboxEvent]:
    return list(
        events.OutboxEvent.select().where(
            events.OutboxEvent.name == "LikeChangeUnfinished",
            events.OutboxEvent.delivered_at.is_null(),
        )
    )


def test_a_like_that_failed_midway_is_finished_by_the_relay_without_another_click(
    unit_client, make_user, monkeypatch
) -> None:
    """The request leaves an outbox event; the relay waits while the change may still be in
    flight, then replays it once, and the count is right without the user clicking again."""
    post_id, _fan = a_like_that_failed_midway(unit_client, make_user, monkeypatch)
    (left,) = unfinished_likes()

    assert events.deliver_pending() == (0, 1)  # too recent: it may still be in flight
    assert (
        events.OutboxEvent.get_by_id(left.id).last_error == "the like change may still be in flight"
    )
    monkeypatch.setattr(likes, "in_flight_limit", lambda: timedelta(0))
    assert events.deliver_pending() == (1, 0)
    assert likes_of(unit_client, post_id)["count"] == 2
    assert len(logged_likes(_fan, post_id)) == 1
    assert unfinished_likes() == []
    assert cleanup.settle_pending_likes(post_id=post_id) == 0  # nothing left to repair


class ProcessDied(BaseException):
    """Stands for `kill -9`: none of the app's error handling runs after it."""


@pytest.mark.parametrize("dies", ["before its event is recorded", "after its event is recorded"])
def test_a_like_whose_process_died_after_counting_it_reaches_the_activity_log_once(
    unit_client, make_user, monkeypatch, dies
) -> None:
    """The like is counted, then its process dies: before its event reached the outbox, or
    after it (and before the like was settled). The like stays pending either way, and the
    start-up repair's replay leaves exactly one like activity, one outbox row, and no token."""
    monkeypatch.setattr(composition_root, "_relay_round", lambda: None)
    author, fan = make_user(unit_client), make_user(unit_client)
    post_id = new_post(author)
    me = fan.client.get("/api/v1/auth/session").json()["user"]
    viewer = Viewer(user_id=me["user_id"], username=me["username"], display_name=me["username"])

    def process_dies(*args: object, **kwargs: object) -> None:
        raise ProcessDied

    before = dies == "before its event is recorded"
    with monkeypatch.context() as crash:
        crash.setattr(
            *(posts, "require_post_after_write") if before else (likes, "_finish"), process_dies
        )
        with pytest.raises(ProcessDied):
            likes.like_post(post_id=post_id, viewer=viewer)
    assert likes_of(unit_client, post_id)["count"] == 1  # counted before the process died
    assert len(logged_likes(fan, post_id)) == (0 if before else 1)

    monkeypatch.setattr(likes, "in_flight_limit", lambda: timedelta(0))
    assert cleanup.settle_pending_likes(post_id=post_id) == 1
    assert cleanup.settle_pending_likes(post_id=post_id) == 0
    assert likes_of(unit_client, post_id)["count"] == 1
    (logged,) = logged_likes(fan, post_id)
    (item,) = [i for i in UserLike.query(str(post_id)) if i.user_id == viewer.user_id]
    assert item.pending_shard is None and logged.timestamp[:23] == time_key(item.changed_at)[:23]
    rows = events.OutboxEvent.select().where(events.OutboxEvent.name == "PostLiked")
    assert [row.event_id for row in rows] == [likes.change_event_id(item)]
    assert LikeCounter.get(str(post_id), "COUNT").inflight is None


def test_a_like_that_succeeds_leaves_nothing_to_the_relay_and_a_late_event_changes_nothing(
    unit_client, make_user, monkeypatch
) -> None:
    monkeypatch.setattr(composition_root, "_relay_round", lambda: None)  # the test relays
    author, fan = make_user(unit_client), make_user(unit_client)
    post_id = new_post(author)
    like(fan, post_id)
    unlike(fan, post_id)
    like(fan, post_id)
    assert unfinished_likes() == []
    # An event for a change that did finish (its error came after the last write) is closed
    # by the relay at once, counting nothing twice.
    user_id = fan.client.get("/api/v1/auth/session").json()["user"]["user_id"]
    events.record_alone(events.LikeChangeUnfinished(post_id=post_id, user_id=user_id))
    assert events.deliver_pending() == (1, 0)
    assert likes_of(unit_client, post_id)["count"] == 1


def test_author_shards_a_hot_post_and_the_sum_stays_exact(unit_client, make_user) -> None:
    author = make_user(unit_client)
    post_id = new_post(author)
    early = [make_user(unit_client) for _ in range(3)]
    for user in early:
        like(user, post_id)
    promoted = author.call("POST", f"/api/v1/posts/{post_id}/likes/shards", json={"shards": 4})
    assert promoted.json() == {"count": 3, "liked_by_me": False, "shards": 4}
    assert set(counter_items(post_id)) == {
        str(post_id),
        f"{post_id}#1",
        f"{post_id}#2",
        f"{post_id}#3",
    }

    late = [make_user(unit_client) for _ in range(12)]
    for user in late:
        like(user, post_id)
        like(user, post_id)
    unlike(early[0], post_id)
    shards = counter_items(post_id)
    assert sum(shards.values()) == likes_of(unit_client, post_id)["count"] == 14
    assert sum(1 for count in shards.values() if count) > 1, "writes should spread over shards"
    assert likes_of(late[0].client, post_id) == {"count": 14, "liked_by_me": True, "shards": 4}


def test_a_hot_posts_count_and_my_like_come_back_in_one_batch_get(
    unit_client, make_user, monkeypatch
) -> None:
    author = make_user(unit_client)
    post_id = new_post(author)
    author.call("POST", f"/api/v1/posts/{post_id}/likes/shards", json={"shards": 4})
    like(author, post_id)
    with dynamodb_calls(monkeypatch) as calls:
        assert likes_of(author.client, post_id) == {"count": 1, "liked_by_me": True, "shards": 4}
    assert [op for op, table in calls if table.endswith("likes")] == ["BatchGetItem"]


def test_a_like_answers_with_the_count_its_last_update_returned_and_reads_only_when_it_must(
    unit_client, make_user, monkeypatch
) -> None:
    author, fan, other = make_user(unit_client), make_user(unit_client), make_user(unit_client)
    post_id = new_post(author)
    like(other, post_id)

    def likes_ops(do):  # type: ignore[no-untyped-def]
        with dynamodb_calls(monkeypatch) as calls:
            body = do().json()
        return body, [op for op, table in calls if table.endswith("likes")]

    # Counted on the home counter of a post with one counter: the reply is the whole count.
    body, ops = likes_ops(lambda: like(fan, post_id))
    assert body == {"count": 2, "liked_by_me": True, "shards": 1, "changed": True}
    assert ops == ["UpdateItem"] * 4, "the four steps of the protocol, and no read after them"
    body, ops = likes_ops(lambda: unlike(fan, post_id))
    assert body == {"count": 1, "liked_by_me": False, "shards": 1, "changed": True}
    assert ops == ["UpdateItem"] * 4
    # Nothing changed, so nothing was written that could answer: read.
    body, ops = likes_ops(lambda: unlike(fan, post_id))
    assert body == {"count": 1, "liked_by_me": False, "shards": 1, "changed": False}
    assert ops[-1] == "BatchGetItem"
    # A hot post's count is spread over shards: one shard's reply is not the count.
    author.call("POST", f"/api/v1/posts/{post_id}/likes/shards", json={"shards": 4})
    body, ops = likes_ops(lambda: like(fan, post_id))
    assert body == {"count": 2, "liked_by_me": True, "shards": 4, "changed": True}
    assert ops[-1] == "BatchGetItem"


def test_shards_only_grow_and_only_the_author_may_shard(unit_client, make_user) -> None:
    author, stranger = make_user(unit_client), make_user(unit_client)
    post_id = new_post(author)
    url = f"/api/v1/posts/{post_id}/likes/shards"
    assert stranger.call("POST", url, json={"shards": 4}).status_code == 403
    assert author.call("POST", url, json={"shards": 1}).status_code == 422
    assert author.call("POST", url, json={"shards": 99}).status_code == 422
    assert author.call("POST", url, json={"shards": 8}).json()["shards"] == 8
    assert author.call("POST", url, json={"shards": 2}).json()["shards"] == 8


def test_a_post_is_promoted_automatically_when_its_count_passes_the_threshold(
    unit_client, make_user, monkeypatch
) -> None:
    monkeypatch.setattr(likes, "AUTO_SHARD_AT", 3)
    author = make_user(unit_client)
    post_id = new_post(author)
    users = [make_user(unit_client) for _ in range(5)]
    like(users[0], post_id)
    like(users[1], post_id)
    assert likes_of(unit_client, post_id)["shards"] == 1
    like(users[2], post_id)
    assert likes_of(unit_client, post_id)["shards"] == likes.AUTO_SHARDS
    like(users[3], post_id)
    like(users[4], post_id)
    assert likes_of(unit_client, post_id)["count"] == 5


def test_post_list_reads_every_like_count_with_one_batch_get(
    unit_client, make_user, monkeypatch
) -> None:
    author, fan = make_user(unit_client), make_user(unit_client)
    post_ids = [new_post(author, f"post {i}") for i in range(6)]
    for post_id in post_ids[:3]:
        like(fan, post_id)
    with dynamodb_calls(monkeypatch) as calls:
        page = unit_client.get("/")
    likes_calls = [op for op, table in calls if table.endswith("likes")]
    assert likes_calls == ["BatchGetItem"]
    badges = re.findall(r'data-testid="like-badge">♥ (\d+)<', page.text)
    assert sorted(badges) == ["0", "0", "0", "1", "1", "1"]


def test_like_button_swaps_in_place_with_htmx_and_works_as_a_plain_form(
    unit_client, make_user
) -> None:
    author, fan = make_user(unit_client), make_user(unit_client)
    post_id = new_post(author)
    page = fan.client.get(f"/posts/{post_id}")
    assert 'data-testid="like-button"' in page.text and ">0</strong>" in page.text

    swapped = fan.client.post(f"/posts/{post_id}/like", data={"action": "like"}, headers=htmx(fan))
    assert swapped.status_code == 200
    assert swapped.text.lstrip().startswith(f'<div id="likes-{post_id}"')
    assert "<html" not in swapped.text and ">1</strong>" in swapped.text
    assert 'value="unlike"' in swapped.text

    plain = fan.client.post(
        f"/posts/{post_id}/like",
        data={"action": "unlike", "csrf_token": fan.csrf()},
        follow_redirects=False,
    )
    assert plain.status_code == 303 and plain.headers["location"] == f"/posts/{post_id}"
    assert likes_of(unit_client, post_id)["count"] == 0
    bad = fan.client.post(f"/posts/{post_id}/like", data={"action": "love"}, headers=htmx(fan))
    assert bad.status_code == 422


@pytest.mark.parametrize("shards", [1, 4])
def test_post_deletion_removes_every_like_item_of_the_post(unit_client, make_user, shards) -> None:
    author, fan = make_user(unit_client), make_user(unit_client)
    post_id, kept = new_post(author), new_post(author, "kept")
    if shards > 1:
        author.call("POST", f"/api/v1/posts/{post_id}/likes/shards", json={"shards": shards})
    like(fan, post_id)
    like(fan, kept)
    assert author.call("DELETE", f"/api/v1/posts/{post_id}").status_code == 204
    assert counter_items(post_id) == {}
    assert list(UserLike.query(str(post_id))) == []
    assert likes_of(unit_client, kept)["count"] == 1


def test_batch_deletes_retry_unprocessed_items_with_backoff(
    unit_client, make_user, monkeypatch
) -> None:
    """DynamoDB may leave part of a BatchWriteItem unprocessed under load: it is sent again."""
    author = make_user(unit_client)
    post_id = new_post(author)
    for user in [make_user(unit_client) for _ in range(4)]:
        like(user, post_id)
    client = bound_client()
    real_write = client.batch_write_item
    sent: list[int] = []
    waits: list[float] = []

    def throttled(RequestItems):  # type: ignore[no-untyped-def]  # noqa: N803 - boto3's name
        ((table, requests),) = RequestItems.items()
        sent.append(len(requests))
        if len(sent) > 1:
            return real_write(RequestItems=RequestItems)
        real_write(RequestItems={table: requests[:2]})
        return {"UnprocessedItems": {table: requests[2:]}}

    monkeypatch.setattr(client, "batch_write_item", throttled)
    monkeypatch.setattr(dynamo.time, "sleep", waits.append)
    assert posts.delete_engagement_of_post(post_id=post_id) == 5
    assert sent == [5, 3] and len(waits) == 1 and waits[0] > 0
    assert list(UserLike.query(str(post_id))) == []


def test_a_like_landing_while_its_post_is_deleted_leaves_no_orphan(
    unit_client, make_user, monkeypatch
) -> None:
    """The race: the like passed its existence check, then the post was deleted and its
    clean-up ran, then the like's writes landed. The like notices and cleans up after itself."""
    author, fan = make_user(unit_client), make_user(unit_client)
    post_id = new_post(author)
    assert author.call("DELETE", f"/api/v1/posts/{post_id}").status_code == 204
    monkeypatch.setattr(posts, "require_post", lambda *, post_id: None)
    response = like(fan, post_id)
    assert response.status_code == 404
    assert list(UserLike.query(str(post_id))) == []


def test_a_like_waiting_on_dynamodb_holds_no_rdb_connection(
    monkeypatch, tmp_path, make_user
) -> None:  # type: ignore[no-untyped-def]
    """With one pooled connection and a DynamoDB that takes a second per like, four concurrent
    likes all succeed: each holds the connection only for its SQL, not while DynamoDB works
    (held throughout, the others would wait past the pool's 1 s and answer 503)."""
    import time
    from concurrent.futures import ThreadPoolExecutor

    from tests.conftest import in_process_app

    env = {"DATABASE_POOL_SIZE": "1", "DATABASE_POOL_WAIT_SECONDS": "1"}
    with in_process_app(monkeypatch, tmp_path, **env) as client:
        author = make_user(client)
        fans = [make_user(client) for _ in range(4)]
        post_id = new_post(author)
        real_change_state = likes._change_state

        def slow_dynamodb(*args, **kwargs):  # type: ignore[no-untyped-def]
            time.sleep(1.0)
            return real_change_state(*args, **kwargs)

        monkeypatch.setattr(likes, "_change_state", slow_dynamodb)
        with ThreadPoolExecutor(len(fans)) as pool:
            answers = list(pool.map(lambda fan: like(fan, post_id), fans))
        assert [answer.status_code for answer in answers] == [200] * 4, answers[-1].text
        assert likes_of(client, post_id)["count"] == 4


@pytest.mark.parametrize("fails", ["the post check", "the outbox"])
def test_a_like_whose_rdb_fails_after_its_write_still_reaches_the_activity_log(
    unit_client, make_user, monkeypatch, fails
) -> None:
    """The like landed in DynamoDB, then the RDB failed (the check that the post still exists,
    or the outbox INSERT): the request answers 503, and its event went straight to the activity
    log, since a retry finds the like done, changes nothing and publishes nothing."""
    author, fan = make_user(unit_client), make_user(unit_client)
    post_id = new_post(author)
    rdb_down = OperationalError("could not connect to server")
    if fails == "the post check":
        real_exists, calls = blog_service.post_exists, []

        def exists_once(*, post_id: int) -> bool:  # the check before the write passes
            calls.append(post_id)
            if len(calls) > 1:
                raise rdb_down
            return real_exists(post_id=post_id)

        monkeypatch.setattr(blog_service, "post_exists", exists_once)
    else:

        def outbox_down(event: events.Event) -> int:
            raise rdb_down

        monkeypatch.setattr(events, "record_alone", outbox_down)
    assert like(fan, post_id).status_code == 503
    monkeypatch.undo()
    retried = like(fan, post_id)
    assert retried.status_code == 200 and retried.json()["changed"] is False
    assert likes_of(unit_client, post_id)["count"] == 1
    assert len(logged_likes(fan, post_id)) == 1
