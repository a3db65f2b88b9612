"""The architect's desk on the real engine: a burst of likes puts its post on top of /insights,
sharding spreads it; `manage.py cost` and `manage.py lint` measure the app's own pages."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from lens.insights import recorder

ROOT = Path(__file__).resolve().parents[2]


def top_likes_keys(client: TestClient) -> list[dict]:
    response = client.get("/api/v1/insights", params={"table": "likes", "window": 5})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["table"] == "likes"
    return body["keys"]


def test_a_burst_of_likes_puts_the_post_on_top_and_sharding_spreads_it(
    live_client: TestClient, make_user: Callable
) -> None:
    recorder.clear()
    author = make_user(live_client)
    post_id = author.call("POST", "/api/v1/posts", json={"title": "Hot", "body": "x"}).json()["id"]
    other = author.call("POST", "/api/v1/posts", json={"title": "Calm", "body": "y"}).json()["id"]
    fans = [make_user(live_client) for _ in range(3)]
    for _round in range(4):
        for fan in fans:
            assert fan.call("PUT", f"/api/v1/posts/{post_id}/like").status_code == 200
            assert fan.call("DELETE", f"/api/v1/posts/{post_id}/like").status_code == 200
    assert fans[0].call("PUT", f"/api/v1/posts/{other}/like").status_code == 200
    keys = top_likes_keys(live_client)
    assert keys[0]["partition_key"] == str(post_id)
    assert keys[0]["writes"] > 10 * next(
        k["writes"] for k in keys if k["partition_key"] == str(other)
    )

    shards = author.call("POST", f"/api/v1/posts/{post_id}/likes/shards", json={"shards": 8})
    assert shards.status_code == 200, shards.text
    recorder.clear()
    for _round in range(4):
        for fan in fans:
            fan.call("PUT", f"/api/v1/posts/{post_id}/like")
            fan.call("DELETE", f"/api/v1/posts/{post_id}/like")
    spread = [k["partition_key"] for k in top_likes_keys(live_client)]
    assert len([key for key in spread if key.startswith(f"{post_id}#")]) >= 3


def test_the_insights_api_refuses_an_unknown_table_or_window(live_client: TestClient) -> None:
    unknown = live_client.get("/api/v1/insights", params={"table": "nope"})
    assert unknown.status_code == 404 and "nope" in unknown.json()["detail"]
    window = live_client.get("/api/v1/insights", params={"table": "likes", "window": 7})
    assert window.status_code == 422


def manage(*args: str, data_dir: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DATA_DIR": str(data_dir), "APP_ENV": "dev"}
    env.pop("DYNAMODB_ENDPOINT", None)
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


@pytest.fixture(scope="module")
def desk_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("desk")


def test_manage_cost_prices_the_measured_pages(desk_data: Path) -> None:
    done = manage("cost", "--users", "100000", "--format", "json", data_dir=desk_data)
    assert done.returncode == 0, done.stderr[-2000:]
    doc = json.loads(done.stdout)
    assert (doc["users"], doc["region"], doc["mode"]) == (100000, "us-east-1", "on-demand")
    parts = sum(
        t["read_usd"] + t["write_usd"] + t["gsi_write_usd"] + t["storage_usd"]
        for t in doc["tables"]
    )
    assert doc["monthly_usd"] == pytest.approx(parts, abs=0.05)
    by_name = {p["name"]: p for p in doc["access_patterns"]}
    scan = by_name["Global feed by Scan (the anti-pattern, kept on purpose)"]
    assert scan["operation"] == "Scan" and scan["grows_with_table"] and scan["source"] == "measured"
    session = by_name["Find the session of a request (and slide its expiry now and then)"]
    # read strongly, so the page right after sign-in sees the session: one unit, not half
    assert session["rcu_per_call"] == 1.0 and session["wcu_per_call"] == 0
    assert {"feed-by-index", "strong-reads", "without-ActivityTypeIndex", "provisioned"} <= {
        w["name"] for w in doc["what_if"]
    }


def test_manage_lint_finds_the_scan_feed_and_the_type_index(desk_data: Path) -> None:
    done = manage("lint", "--format", "json", data_dir=desk_data)
    assert done.returncode == 0, done.stderr[-2000:]  # the one error is deliberate
    findings = json.loads(done.stdout)["findings"]
    scan = next(
        f for f in findings if f["rule"] == "scan-on-request-path" and f["severity"] == "error"
    )
    assert scan["where"] == "activity.service.feed_by_scan" and scan["deliberate"]
    low = [f for f in findings if f["rule"] == "low-cardinality-key"]
    assert [f["where"] for f in low] == ["activity.models.Activity"]
    assert "ActivityTypeIndex" in low[0]["message"] and "5 distinct" in low[0]["message"]
