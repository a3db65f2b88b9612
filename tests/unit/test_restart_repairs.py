"""What `make run` does by itself after a restart, on moto in-process: it delivers the events the
last run left pending, settles the likes whose request died midway on every post, and imports
once a snapshot written before the engine kept its own data."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from pynamodb.exceptions import UpdateError

import app as composition_root
import manage
from activity import service as activity_service
from engagement import cleanup
from engagement.likes import service as likes
from engagement.likes.models import LikeCounter
from engine.export_format import MANIFEST_NAME, read_manifest
from engine.snapshots import export_tables
from shared import events
from shared.dynamo import boto3_client, bound_settings, create_tables
from tests.unit.engagement_fixtures import new_post


def like(user, post_id: int):  # type: ignore[no-untyped-def]
    return user.call("PUT", f"/api/v1/posts/{post_id}/like")


def post_activities(client, post_id: int) -> list[str]:  # type: ignore[no-untyped-def]
    page = client.get(f"/api/v1/posts/{post_id}/activities").json()
    return [item["activity_type"] for item in page["items"]]


def test_pending_events_are_delivered_and_every_posts_half_done_likes_settled(
    unit_client, make_user, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The running app's own relay would deliver the event on its 5 s round on a slow machine,
    # before the restart's delivery is measured: this test is about the restart's.
    monkeypatch.setattr(composition_root, "_relay_round", lambda: None)
    author, fan = make_user(unit_client), make_user(unit_client)
    first, second = new_post(author), new_post(author)

    def dynamodb_down(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise UpdateError("connection refused")

    with monkeypatch.context() as down:
        down.setattr(activity_service, "record_activity", dynamodb_down)
        unlogged = new_post(author)  # committed in the RDB; its event stays in the outbox
        down.setattr(LikeCounter, "update", dynamodb_down)
        # The app died between the like's steps: a dead process leaves no event for the relay.
        down.setattr(likes, "_leave_to_the_relay", lambda post_id, user_id: None)
        assert like(fan, first).status_code == 503
        assert like(fan, second).status_code == 503
    assert events.pending_count() == 1
    assert "post" not in post_activities(unit_client, unlogged)
    monkeypatch.setattr(likes, "in_flight_limit", lambda: timedelta(0))

    delivered = manage._deliver_pending_events()
    manage._settle_pending_likes(delays=(0.0,))

    assert delivered == 1 and events.pending_count() == 0
    assert "post" in post_activities(unit_client, unlogged)
    for post_id in (first, second):
        assert unit_client.get(f"/api/v1/posts/{post_id}/likes").json()["count"] == 1
    assert cleanup.settle_all_pending_likes() == 0  # nothing left to finish


def test_a_snapshot_from_before_the_engine_journal_is_imported_once(
    unit_client, make_user, tmp_path: Path
) -> None:
    author = make_user(unit_client)
    post_id = new_post(author)
    before = post_activities(unit_client, post_id)
    settings = bound_settings()
    names = [f"{settings.table_prefix}{base}" for base in ("activities", "likes", "comments")]
    export_tables(boto3_client(settings), names, tmp_path)  # the old 30 s snapshot's format
    create_tables(settings, recreate=True)  # the engine starts empty: it cannot read that one
    assert post_activities(unit_client, post_id) == []

    manage._import_legacy_snapshot(settings, tmp_path)

    assert post_activities(unit_client, post_id) == before
    assert read_manifest(tmp_path) is None
    assert (tmp_path / manage.LEGACY_MANIFEST_NAME).exists()
    assert not (tmp_path / MANIFEST_NAME).exists()
    manage._import_legacy_snapshot(settings, tmp_path)  # a second start imports nothing
