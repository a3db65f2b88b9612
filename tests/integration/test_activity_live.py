"""The activity log over HTTP against the engine: exact pagination with expired views in the way,
on SQLite and PostgreSQL, and an event that survives DynamoDB being down."""

from __future__ import annotations

import json

import pytest

from activity import service
from activity.models import Activity
from blog import service as blog_service
from shared import events
from shared.auth import Viewer
from shared.dynamo import bind_models
from tests.conftest import dead_endpoint, wait_until_caught_up
from tests.unit.activity_fixtures import ago, happened, keys, person, read_all, viewed


@pytest.mark.stock_moto
@pytest.mark.parametrize("live_settings", ["sqlite", "postgresql"], indirect=True)
def test_paging_every_list_to_the_end_returns_every_item_once(
    live_client, make_user, engine_endpoint: str
) -> None:
    alice, bob = person(live_client, make_user), person(live_client, make_user)
    post_id = alice.write_post("Paged")
    for minutes in range(1, 26):
        happened(
            events.PostLiked if minutes % 4 else events.PostUnliked,
            bob,
            post_id,
            ago(minutes=minutes),
        )
    for days in (8, 9):
        viewed(bob, post_id, ago(days=days))
    viewed(bob, post_id, ago(hours=2))
    wait_until_caught_up(engine_endpoint)  # paging is under test here, not the GSIs' lag
    everything = live_client.get(f"/api/v1/users/{bob.username}/activities?limit=100").json()
    assert len(everything["items"]) == 26 and everything["next_cursor"] is None
    assert keys(read_all(live_client, f"/api/v1/users/{bob.username}/activities", 7)) == keys(
        everything["items"]
    )
    timeline = read_all(live_client, f"/api/v1/posts/{post_id}/activities", 6)
    assert len(timeline) == 27 and len(set(keys(timeline))) == 27
    likes = read_all(live_client, "/api/v1/activities", 4, type="like")
    assert keys(likes) == keys([i for i in everything["items"] if i["activity_type"] == "like"])
    page = live_client.get(f"/users/{bob.username}", params={"limit": 5})
    assert page.status_code == 200
    assert page.text.count('class="activity"') == 5


def test_a_post_written_while_dynamodb_is_down_reaches_the_log_once_relayed(
    live_client, live_settings, make_user
) -> None:
    alice = person(live_client, make_user)
    viewer = Viewer(user_id=alice.user_id, username=alice.username, display_name="")
    bind_models(live_settings.model_copy(update={"dynamodb_endpoint": dead_endpoint()}), [Activity])
    try:
        post = blog_service.create_post(viewer=viewer, title="while down", body="kept")
    finally:
        bind_models(live_settings)
    url = f"/api/v1/users/{alice.username}/activities"
    own_log = alice.api.client  # alice reads her own log strongly consistent, as her page does
    assert own_log.get(url).json()["items"] == []
    assert events.pending_count() >= 1

    events.deliver_pending()
    (item,) = own_log.get(url).json()["items"]
    assert (item["activity_type"], item["post_id"]) == ("post", post.id)

    assert service.record_activity(event=_as_the_outbox_redelivers(post.id)) is False
    assert len(own_log.get(url).json()["items"]) == 1


def _as_the_outbox_redelivers(post_id: int) -> events.PostCreated:
    """The event rebuilt from its outbox row, as a second delivery would see it."""
    for row in events.OutboxEvent.select().where(events.OutboxEvent.name == "PostCreated"):
        payload = json.loads(row.payload)
        if payload["post_id"] == post_id:
            return events.PostCreated(**payload)
    raise AssertionError(f"no PostCreated for post {post_id} in the outbox")
