"""The lesson of the feed, measured over HTTP against the engine: the Scan's cost grows with the
table, the FeedIndex's does not.

Table sizes stay modest (1,000 then 4,000 activities): the local engine's Scan and Query latency
grows with the whole table, so bigger sizes only make the suite slow without changing the ratio.
The figures compared are items scanned and read units computed from item sizes (the engine's
own capacity figure is a constant 1.0 per request), never latency.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

from activity import seed
from activity.models import FEED_SHARDS
from shared.auth import Viewer

LIMIT = 20
USERS = [Viewer(user_id=str(i), username=f"user{i}", display_name=f"User {i}") for i in range(1, 9)]
POST_IDS = list(range(1, 41))


def _now_clear_of_midnight() -> datetime:
    """Now, unless midnight UTC is under a minute away: then just after it, so that every item
    written and read by the test falls into the same day bucket."""
    now = datetime.now(UTC)
    midnight = (now + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    if midnight - now < timedelta(minutes=1):
        time.sleep((midnight - now).total_seconds() + 1)
        now = datetime.now(UTC)
    return now


def _grow_table_to(count: int, newest: datetime) -> None:
    """Items 0..count-1 of the synthetic set: growing rewrites the first ones and adds the rest."""
    start_of_day = newest.replace(hour=0, minute=0, second=0, microsecond=0)
    seed.write_synthetic_activities(
        users=USERS,
        post_ids=POST_IDS,
        count=count,
        newest=newest,
        span=min(timedelta(hours=1), newest - start_of_day),
        progress=lambda n: None,
    )


def _feed_stats(client, mode: str) -> dict:  # type: ignore[no-untyped-def,type-arg]
    response = client.get("/api/v1/feed", params={"mode": mode, "limit": LIMIT})
    assert response.status_code == 200, response.text
    body = response.json()
    assert len(body["items"]) == LIMIT
    return {"keys": [(i["user_id"], i["timestamp"]) for i in body["items"]], **body["stats"]}


def test_scan_cost_grows_with_the_table_while_the_index_feed_stays_flat(live_client) -> None:
    newest = _now_clear_of_midnight()
    _grow_table_to(1_000, newest)
    small = {mode: _feed_stats(live_client, mode) for mode in ("scan", "index")}
    _grow_table_to(4_000, newest)
    large = {mode: _feed_stats(live_client, mode) for mode in ("scan", "index")}

    for sizes in (small, large):
        assert sizes["scan"]["keys"] == sizes["index"]["keys"]

    assert small["scan"]["items_scanned"] == 1_000
    assert large["scan"]["items_scanned"] == 4_000
    growth = large["scan"]["computed_rcu"] / small["scan"]["computed_rcu"]
    assert 3.5 <= growth <= 4.5, growth
    assert large["scan"]["calls"] > small["scan"]["calls"]  # 1,000 items per request

    for sizes in (small, large):
        assert sizes["index"]["calls"] == FEED_SHARDS  # one Query per shard of today's bucket
        assert sizes["index"]["items_scanned"] == FEED_SHARDS * LIMIT
    assert large["index"]["computed_rcu"] == small["index"]["computed_rcu"] <= FEED_SHARDS * 1.0
    assert large["scan"]["computed_rcu"] > 20 * large["index"]["computed_rcu"]
