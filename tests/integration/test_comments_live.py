"""Comments over HTTP against moto's server, and a post deleted while DynamoDB is down."""

from __future__ import annotations

import pytest

from shared import events
from shared.dynamo import bind_models
from tests.conftest import dead_endpoint
from tests.integration.engagement_fixtures import ENGAGEMENT_MODELS, engagement_items, new_post

BOTH_DATABASES = pytest.mark.parametrize("live_settings", ["sqlite", "postgresql"], indirect=True)


@pytest.mark.stock_moto
def test_thread_pages_retries_and_edits_over_http(live_client, make_user) -> None:
    author, other = make_user(live_client), make_user(live_client)
    post_id = new_post(author)
    url = f"/api/v1/posts/{post_id}/comments"
    first = author.call(
        "POST", url, json={"body": "first"}, headers={"Idempotency-Key": "k-00000001"}
    )
    retry = author.call(
        "POST", url, json={"body": "first"}, headers={"Idempotency-Key": "k-00000001"}
    )
    assert first.status_code == retry.status_code == 201
    assert retry.json()["comment_id"] == first.json()["comment_id"]
    parent = first.json()["comment_id"]
    expected = [parent]
    for i in range(7):
        body = {"body": f"reply {i}", "parent_id": parent} if i % 2 else {"body": f"top {i}"}
        expected.append(other.call("POST", url, json=body).json()["comment_id"])

    seen, cursor = [], None
    while True:
        page = live_client.get(url, params={"limit": 3, **({"cursor": cursor} if cursor else {})})
        seen += [c["comment_id"] for c in page.json()["items"]]
        cursor = page.json()["next_cursor"]
        if cursor is None:
            break
    assert seen == expected

    edit = author.call("PATCH", f"{url}/{parent}", json={"body": "first, edited", "version": 1})
    assert edit.status_code == 200
    stale = author.call("PATCH", f"{url}/{parent}", json={"body": "overwrite?", "version": 1})
    assert stale.status_code == 409
    assert live_client.get(f"{url}/{parent}").json()["body"] == "first, edited"


@BOTH_DATABASES
def test_a_post_deleted_while_dynamodb_is_down_loses_its_likes_and_comments_later(
    live_client, live_settings, make_user
) -> None:
    author, fan = make_user(live_client), make_user(live_client)
    post_id, kept = new_post(author), new_post(author, "kept")
    author.call("POST", f"/api/v1/posts/{post_id}/likes/shards", json={"shards": 3})
    for target in (post_id, kept):
        fan.call("PUT", f"/api/v1/posts/{target}/like")
        author.call("PUT", f"/api/v1/posts/{target}/like")
    url = f"/api/v1/posts/{post_id}/comments"
    parent = fan.call("POST", url, json={"body": "p"}, headers={"Idempotency-Key": "down-0001"})
    fan.call("POST", url, json={"body": "r", "parent_id": parent.json()["comment_id"]})
    fan.call("POST", f"/api/v1/posts/{kept}/comments", json={"body": "stays"})
    assert len(engagement_items(post_id)) >= 7

    bind_models(
        live_settings.model_copy(update={"dynamodb_endpoint": dead_endpoint()}), ENGAGEMENT_MODELS
    )
    try:
        assert author.call("DELETE", f"/api/v1/posts/{post_id}").status_code == 204
        assert live_client.get(f"/api/v1/posts/{post_id}").status_code == 404
        pending = events.OutboxEvent.select().where(
            events.OutboxEvent.name == "PostDeleted", events.OutboxEvent.delivered_at.is_null()
        )
        assert [events._to_event(row).post_id for row in pending] == [post_id]
    finally:
        bind_models(live_settings)
    assert len(engagement_items(post_id)) >= 7  # nothing was deleted while the engine was away

    events.deliver_pending()
    assert events.pending_count() == 0
    assert engagement_items(post_id) == []
    assert len(engagement_items(kept)) == 4  # 2 user likes, home counter, 1 comment
    assert live_client.get(f"/api/v1/posts/{kept}/likes").json()["count"] == 2
