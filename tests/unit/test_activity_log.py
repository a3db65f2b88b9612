"""The activity log on moto in-process: recording from events, the three Query patterns, TTL'd
views, exact cursor pagination and refused cursors."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from itsdangerous import URLSafeTimedSerializer

from activity import service
from activity.models import Activity, view_window_start
from shared import cursors, events
from tests.unit.activity_fixtures import ago, happened, keys, person, read_all, viewed


@pytest.fixture
def alice(unit_client, make_user):  # type: ignore[no-untyped-def]
    return person(unit_client, make_user, "alice")


@pytest.fixture
def bob(unit_client, make_user):  # type: ignore[no-untyped-def]
    return person(unit_client, make_user, "bob")


def api_items(client, url: str, **params):  # type: ignore[no-untyped-def]
    response = client.get(url, params=params)
    assert response.status_code == 200, response.text
    return response.json()["items"]


def test_writing_a_post_records_a_post_activity(unit_client, alice) -> None:
    post_id = alice.write_post("Keys first")
    (item,) = api_items(unit_client, "/api/v1/users/alice/activities")
    assert item["activity_type"] == "post"
    assert item["post_id"] == post_id
    assert item["user_id"] == alice.user_id
    assert item["username"] == "alice"
    assert item["expires_at"] is None


def test_latest_activities_of_user_newest_first(unit_client, alice, bob) -> None:
    post_id = bob.write_post()
    happened(events.PostLiked, alice, post_id, ago(minutes=30))
    happened(events.CommentAdded, alice, post_id, ago(minutes=10), comment_id="c1")
    happened(events.PostUnliked, alice, post_id, ago(minutes=20))
    happened(events.PostLiked, bob, post_id, ago(minutes=5))
    items = api_items(unit_client, "/api/v1/users/alice/activities")
    assert [i["activity_type"] for i in items] == ["comment", "unlike", "like"]
    assert items[0]["comment_id"] == "c1"
    assert all(i["user_id"] == alice.user_id for i in items)
    limited = api_items(unit_client, "/api/v1/users/alice/activities", limit=2)
    assert keys(limited) == keys(items[:2])


def test_two_events_in_the_same_microsecond_do_not_overwrite_each_other(unit_client, alice) -> None:
    post_id = alice.write_post()
    same_instant = ago(minutes=1)
    happened(events.PostLiked, alice, post_id, same_instant)
    happened(events.PostLiked, alice, post_id, same_instant)
    likes = api_items(unit_client, "/api/v1/activities", type="like")
    assert len(likes) == 2
    assert likes[0]["occurred_at"] == likes[1]["occurred_at"]
    assert likes[0]["timestamp"] != likes[1]["timestamp"]


def test_a_redelivered_event_writes_the_same_item_once(unit_client, alice) -> None:
    post_id = alice.write_post()
    event = happened(events.PostLiked, alice, post_id, ago(minutes=1))
    assert service.record_activity(event=event) is False  # the outbox delivers at least once
    assert len(api_items(unit_client, "/api/v1/activities", type="like")) == 1


def test_a_run_of_events_is_written_in_batches_and_a_redelivered_run_changes_nothing(
    unit_client, alice, engine_responses
) -> None:
    post_id = alice.write_post()
    rows = [
        events.record(
            events.PostLiked(
                post_id=post_id,
                user_id=alice.user_id,
                username="alice",
                occurred_at=ago(minutes=40 - n).timestamp(),
            )
        )
        for n in range(30)
    ]
    engine_responses.clear()
    assert events.deliver(rows) == 30
    assert [operation for operation, _ in engine_responses] == ["BatchWriteItem"] * 2
    likes = api_items(unit_client, "/api/v1/activities", type="like", limit=50)
    assert len(likes) == 30
    run = [
        events.PostLiked(**json.loads(r.payload))
        for r in events.OutboxEvent.select()
        .where(events.OutboxEvent.id.in_(rows))
        .order_by(events.OutboxEvent.id)
    ]
    service.record_activities(batch=run)  # delivered again: the same 30 items, overwritten
    assert api_items(unit_client, "/api/v1/activities", type="like", limit=50) == likes


def test_latest_activities_of_one_type_across_the_site(unit_client, alice, bob) -> None:
    post_id = alice.write_post()
    happened(events.PostLiked, alice, post_id, ago(minutes=3))
    happened(events.PostLiked, bob, post_id, ago(minutes=1))
    happened(events.CommentAdded, bob, post_id, ago(minutes=2), comment_id="c")
    likes = api_items(unit_client, "/api/v1/activities", type="like")
    assert [(i["username"], i["activity_type"]) for i in likes] == [
        ("bob", "like"),
        ("alice", "like"),
    ]
    comments = api_items(unit_client, "/api/v1/activities", type="comment")
    assert [i["username"] for i in comments] == ["bob"]


def test_the_timeline_of_one_post(unit_client, alice, bob) -> None:
    first, second = alice.write_post("first"), alice.write_post("second")
    happened(events.PostLiked, bob, first, ago(hours=2))
    happened(events.PostLiked, bob, second, ago(hours=1))
    viewed(bob, first, ago(minutes=1))
    timeline = api_items(unit_client, f"/api/v1/posts/{first}/activities")
    assert [i["activity_type"] for i in timeline] == ["post", "view", "like"]
    assert {i["post_id"] for i in timeline} == {first}


BAD_INPUT = [
    ("/api/v1/activities?type=poke", 422, "'post', 'view', 'like', 'unlike' or 'comment'"),
    ("/api/v1/activities", 422, "type"),
    ("/api/v1/users/nobody/activities", 404, "no user 'nobody'"),
    ("/api/v1/posts/999/activities", 404, "no post 999"),
    ("/api/v1/posts/0/activities", 422, "greater than or equal to 1"),
    ("/api/v1/posts/abc/activities", 422, "valid integer"),
    ("/api/v1/activities?type=like&limit=0", 422, "greater than or equal to 1"),
    ("/api/v1/activities?type=like&limit=101", 422, "less than or equal to 100"),
    ("/api/v1/activities?type=like&cursor=" + "x" * 2001, 422, "at most 2000"),
]


def test_bad_input_is_a_clear_4xx(unit_client) -> None:
    for url, status, message in BAD_INPUT:
        response = unit_client.get(url)
        assert response.status_code == status, url
        assert message in str(response.json()["detail"]), url


def test_a_view_is_logged_once_per_user_post_and_window(unit_client, alice, bob) -> None:
    post_id = alice.write_post()
    window = view_window_start(ago(minutes=30))
    for offset in (1, 2, 3):
        viewed(bob, post_id, window + timedelta(seconds=offset))
    viewed(bob, post_id, window + timedelta(minutes=10, seconds=1))
    viewed(alice, post_id, window + timedelta(seconds=4))
    views = api_items(unit_client, "/api/v1/activities", type="view")
    assert sorted(v["username"] for v in views) == ["alice", "bob", "bob"]
    bob_views = [v for v in views if v["username"] == "bob"]
    assert all(v["expires_at"] for v in bob_views)
    assert bob_views[1]["occurred_at"] == window.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def test_expired_views_disappear_from_every_read(unit_client, alice, bob) -> None:
    post_id = alice.write_post()
    viewed(bob, post_id, ago(days=8))  # past its 7-day TTL, still in the table (moto never deletes)
    viewed(bob, post_id, ago(hours=1))
    stored = [a for a in Activity.scan() if a.activity_type == "view"]
    assert len(stored) == 2
    for url, params in [
        ("/api/v1/users/bob/activities", {}),
        ("/api/v1/activities", {"type": "view"}),
        (f"/api/v1/posts/{post_id}/activities", {}),
    ]:
        views = [i for i in api_items(unit_client, url, **params) if i["activity_type"] == "view"]
        assert len(views) == 1, url
        assert views[0]["expires_at"] > datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S")


def test_paging_to_the_end_returns_every_item_exactly_once(unit_client, alice, bob) -> None:
    post_id = alice.write_post()
    for minutes in range(1, 12):
        happened(events.PostLiked, bob, post_id, ago(minutes=minutes))
    for days in (8, 9, 10):  # expired views sprinkled between the likes
        viewed(bob, post_id, ago(days=days))
    happened(events.PostLiked, bob, post_id, ago(days=11))
    expected = api_items(unit_client, "/api/v1/users/bob/activities", limit=100)
    assert len(expected) == 12
    for limit in (1, 3, 5, 12):
        assert keys(read_all(unit_client, "/api/v1/users/bob/activities", limit)) == keys(expected)
    by_type = read_all(unit_client, "/api/v1/activities", 5, type="like")
    assert keys(by_type) == keys(expected)
    timeline = read_all(unit_client, f"/api/v1/posts/{post_id}/activities", 4)
    alice_post = api_items(unit_client, "/api/v1/users/alice/activities")
    assert keys(timeline) == keys(alice_post) + keys(expected)


def test_the_last_page_says_there_is_no_more(unit_client, alice) -> None:
    post_id = alice.write_post()
    happened(events.PostLiked, alice, post_id, ago(minutes=1))
    response = unit_client.get("/api/v1/users/alice/activities", params={"limit": 2}).json()
    assert len(response["items"]) == 2
    assert response["next_cursor"] is None


def test_a_page_of_only_expired_views_is_short_but_keeps_its_cursor(unit_client, alice) -> None:
    post_id = alice.write_post()
    viewed(alice, post_id, ago(days=30))
    happened(events.PostLiked, alice, post_id, ago(days=40))
    for minutes in range(service.MAX_CALLS_PER_READ * 2 + 5):
        viewed(alice, post_id + 1000 + minutes, ago(days=9, minutes=minutes * 10))
    items = read_all(unit_client, "/api/v1/users/alice/activities", 1)
    assert [i["activity_type"] for i in items] == ["post", "like"]


def first_cursor(client, url: str, **params: str) -> str:  # type: ignore[no-untyped-def]
    cursor = client.get(url, params={"limit": 1, **params}).json()["next_cursor"]
    assert cursor
    return str(cursor)


@pytest.fixture
def busy_post(alice, bob) -> int:  # type: ignore[no-untyped-def]
    post_id = alice.write_post()
    for person_ in (alice, bob):
        for minutes in (1, 2, 3):
            happened(events.PostLiked, person_, post_id, ago(minutes=minutes))
    return post_id


def test_a_tampered_expired_or_malformed_cursor_is_400(unit_client, busy_post, monkeypatch) -> None:
    url = "/api/v1/users/alice/activities"
    cursor = first_cursor(unit_client, url)
    tampered = cursor[:-3] + ("AAA" if not cursor.endswith("AAA") else "BBB")
    signer = URLSafeTimedSerializer("test-secret-key", salt="cursor:user")
    user_id = unit_client.get(url).json()["items"][0]["user_id"]
    wrong_shape = signer.dumps({"q": user_id, "k": {"user_id": {"S": user_id}}})
    for bad, message in [
        (tampered, "not valid (tampered"),
        ("garbage", "not valid (tampered"),
        (wrong_shape, "unexpected key"),
    ]:
        response = unit_client.get(url, params={"cursor": bad})
        assert response.status_code == 400, bad
        assert message in response.json()["detail"]
    monkeypatch.setattr(cursors, "CURSOR_MAX_AGE_SECONDS", -1)
    response = unit_client.get(url, params={"cursor": cursor})
    assert response.status_code == 400
    assert "expired" in response.json()["detail"]


def test_a_cursor_from_another_list_is_400(unit_client, busy_post) -> None:
    alices = first_cursor(unit_client, "/api/v1/users/alice/activities")
    response = unit_client.get("/api/v1/users/bob/activities", params={"cursor": alices})
    assert response.status_code == 400
    assert "another list" in response.json()["detail"]
    likes = first_cursor(unit_client, "/api/v1/activities", type="like")
    for url in ("/api/v1/users/alice/activities", f"/api/v1/posts/{busy_post}/activities"):
        response = unit_client.get(url, params={"cursor": likes})
        assert response.status_code == 400, url
    response = unit_client.get("/api/v1/activities", params={"type": "post", "cursor": likes})
    assert response.status_code == 400
    assert "another list" in response.json()["detail"]
