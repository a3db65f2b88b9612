"""Dual writes: when DynamoDB is down, the RDB side commits and its events wait in the outbox."""

from __future__ import annotations

from shared import events
from shared.dynamo import bind_models
from tests.conftest import dead_endpoint

received: list[events.Event] = []


def test_events_wait_in_the_outbox_while_dynamodb_is_down(live_client, live_settings, make_user):  # type: ignore[no-untyped-def]
    from sessions.models import Session

    def handler(event: events.PostCreated) -> None:
        Session.count("probe")  # any DynamoDB call: fails while the endpoint is dead
        received.append(event)

    events.subscribe(events.PostCreated, handler)
    user = make_user(live_client)
    me = user.client.get("/api/v1/auth/session").json()["user"]
    before = events.pending_count()
    down = live_settings.model_copy(update={"dynamodb_endpoint": dead_endpoint()})
    bind_models(down, [Session])
    try:
        from blog import service as blog_service
        from shared.auth import Viewer

        viewer = Viewer(user_id=me["user_id"], username=me["username"], display_name="")
        post = blog_service.create_post(viewer=viewer, title="while down", body="kept")
    finally:
        bind_models(live_settings)
    assert blog_service.get_post(post_id=post.id).title == "while down"
    assert events.pending_count() == before + 1
    assert not any(e.post_id == post.id for e in received)

    delivered, still_pending = events.deliver_pending()
    assert delivered >= 1 and still_pending == 0
    assert any(e.post_id == post.id for e in received)
    assert events.pending_count() == 0
    events.unsubscribe(events.PostCreated, handler)
