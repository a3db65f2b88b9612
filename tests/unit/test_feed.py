"""The global feed on moto in-process: the Scan and the FeedIndex agree, and each says what it
cost. (How the costs grow with the table is measured in tests/integration/test_feed_cost.py.)"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest

from activity import service
from activity.feed_cost import scan_cost
from activity.models import FEED_SHARDS, Activity
from shared import events
from shared.capacity_rules import read_units
from tests.unit.activity_fixtures import ago, happened, keys, person, viewed

KINDS = (events.PostLiked, events.PostUnliked, events.PostLiked, events.CommentAdded)


@pytest.fixture
def site(unit_client, make_user):  # type: ignore[no-untyped-def]
    """Two people, a post, and 24 activities a few minutes apart today, with fixed event ids."""
    alice, bob = person(unit_client, make_user, "alice"), person(unit_client, make_user, "bob")
    post_id = alice.write_post()
    start = datetime.now(UTC).replace(hour=0, minute=5)
    for i in range(24):
        kind = KINDS[i % len(KINDS)]
        extra = {"comment_id": f"c{i}"} if kind is events.CommentAdded else {}
        who = alice if i % 3 else bob
        happened(kind, who, post_id, start + timedelta(seconds=i), event_id=f"today-{i}", **extra)
    return alice, bob, post_id


def feed(client, mode: str, limit: int = 20):  # type: ignore[no-untyped-def]
    response = client.get("/api/v1/feed", params={"mode": mode, "limit": limit})
    assert response.status_code == 200, response.text
    return response.json()


def test_scan_and_index_feeds_return_the_same_latest_items(unit_client, site) -> None:
    alice, bob, post_id = site
    happened(events.PostLiked, bob, post_id, ago(days=2), event_id="two-days-ago")
    viewed(bob, post_id, ago(minutes=1))
    for limit in (1, 5, 20, 30):
        scan, index = feed(unit_client, "scan", limit), feed(unit_client, "index", limit)
        assert keys(scan["items"]) == keys(index["items"]), limit
        assert len(scan["items"]) == min(limit, 26)
        stamps = [i["timestamp"] for i in index["items"]]
        assert stamps == sorted(stamps, reverse=True)
    assert feed(unit_client, "index", 30)["items"][-1]["timestamp"] < ago(days=1).isoformat()
    assert all(i["activity_type"] != "view" for i in feed(unit_client, "index", 100)["items"])


def test_index_feed_is_one_query_per_shard_when_today_holds_enough(unit_client, site) -> None:
    stats = feed(unit_client, "index", limit=2)["stats"]
    assert stats["calls"] == FEED_SHARDS
    assert stats["items_scanned"] <= FEED_SHARDS * 2


def test_index_feed_walks_back_through_day_buckets(unit_client, make_user) -> None:
    alice = person(unit_client, make_user, "alice")
    post_id = alice.write_post()  # today
    happened(events.PostLiked, alice, post_id, ago(days=3), event_id="three-days-ago")
    result = feed(unit_client, "index", limit=2)
    assert [i["activity_type"] for i in result["items"]] == ["post", "like"]
    assert result["stats"]["calls"] == FEED_SHARDS * 4  # today, then 1, 2 and 3 days back


def test_feed_leaves_out_views_and_activity_older_than_the_look_back(
    unit_client, make_user
) -> None:
    alice = person(unit_client, make_user, "alice")
    post_id = alice.write_post()
    viewed(alice, post_id, ago(minutes=5))
    too_old = ago(days=service.FEED_LOOKBACK_DAYS, hours=1)
    happened(events.PostLiked, alice, post_id, too_old, event_id="too-old")
    for mode in ("scan", "index"):
        assert [i["activity_type"] for i in feed(unit_client, mode)["items"]] == ["post"], mode


def test_scan_feed_reads_every_item_of_the_table(unit_client, site) -> None:
    alice, _, post_id = site
    viewed(alice, post_id, ago(days=9))  # expired: still read, never shown
    in_table = sum(1 for _ in Activity.scan())
    stats = feed(unit_client, "scan", limit=1)["stats"]
    assert stats["items_scanned"] == in_table == 26
    assert stats["computed_rcu"] == read_units(stats["bytes_read"], consistent=False)


def test_feed_page_shows_both_modes_side_by_side_with_their_cost(unit_client, site) -> None:
    page = unit_client.get("/feed", params={"limit": 5})
    assert page.status_code == 200
    for mode in ("scan", "index"):
        column = page.text.split(f'data-testid="feed-{mode}"')[1].split("</section>")[0]
        assert len(re.findall(r"data-timestamp=", column)) == 5
        assert re.search(r'data-testid="scanned">\d+<', column)
        assert re.search(r'data-testid="rcu">[\d.]+ RCU<', column)
    assert "Both modes returned the same 5 items" in page.text
    assert "Why Scan does not scale" in page.text


def test_bad_feed_input_is_422(unit_client) -> None:
    for query in ("mode=table", "mode=scan&limit=0", "mode=index&limit=101", "limit=abc"):
        response = unit_client.get(f"/api/v1/feed?{query}")
        assert response.status_code == 422, query
        assert response.json()["detail"]


def test_full_scan_cost_is_one_read_unit_per_4_kb_in_1_mb_pages() -> None:
    """The item-size and read-unit rules themselves are tested in test_capacity.py."""
    assert scan_cost(items=1_000_000, average_item_bytes=150) == (18_311.0, 144)
