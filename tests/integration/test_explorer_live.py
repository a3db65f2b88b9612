"""The explorer against the engine over HTTP: a Query built in the builder, then its generated
boto3 and PynamoDB code pasted into a fresh Python process, returning the same items."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from shared.seeding import SeedPlan, seeders
from tests.conftest import wait_until_caught_up

PROJECT_ROOT = Path(__file__).resolve().parents[2]
PRINT_BOTO3 = '\nimport json\nprint(json.dumps(response["Items"]))\n'
PRINT_PYNAMODB = "\nimport json\nprint(json.dumps([item.serialize() for item in items]))\n"


def seed_small() -> None:
    plan = SeedPlan(users=3, posts=4, likes_per_post=2, comments_per_post=2, activities=80)
    for seeder in seeders():
        seeder.run(plan, lambda n: None)


def run_in_a_fresh_python(code: str, settings: Any) -> list[dict[str, Any]]:
    """The snippet as a learner pastes it: a new interpreter in the project's folder, with only
    the environment the snippet's comment names."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("AWS_", "DYNAMODB_", "TABLE_", "DATABASE_", "DATA_"))
    }
    env.update(
        DYNAMODB_ENDPOINT=settings.dynamodb_endpoint,
        AWS_REGION=settings.aws_region,
        AWS_ACCESS_KEY_ID="local",
        AWS_SECRET_ACCESS_KEY="local",
        TABLE_PREFIX=settings.table_prefix,
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def test_a_built_query_and_its_generated_code_return_the_same_items(
    live_client: TestClient, live_settings: Any
) -> None:
    seed_small()
    # The query runs three times (the explorer, then each generated snippet) through a GSI, and
    # the engine lags GSIs: all three must read the index after it has taken every seeded write.
    wait_until_caught_up(live_settings.dynamodb_endpoint)
    tables = live_client.get("/api/v1/tables").json()["tables"]
    activities = next(t for t in tables if t["base_name"] == "activities")
    assert activities["item_count"] > 0
    collections = live_client.get(
        f"/api/v1/tables/{activities['name']}/collections", params={"index": "PostActivityIndex"}
    ).json()
    post_id = collections["collections"][0]["partition_key"]
    csrf = live_client.get("/api/v1/auth/session").json()["csrf_token"]
    built = live_client.post(
        f"/api/v1/tables/{activities['name']}/operations",
        json={
            "operation": "Query",
            "index": "PostActivityIndex",
            "partition_key": post_id,
            "sort_key": {"op": ">=", "value": "2000-01-01"},
            "limit": 5,
            "forward": False,
        },
        headers={"X-CSRF-Token": csrf},
    )
    assert built.status_code == 200, built.text
    body = built.json()
    assert 0 < body["count"] <= 5 and len(body["items"]) == body["count"]
    assert body["request"]["IndexName"] == "PostActivityIndex"

    assert (
        run_in_a_fresh_python(body["code"]["boto3"] + PRINT_BOTO3, live_settings) == body["items"]
    )
    from_pynamodb = run_in_a_fresh_python(body["code"]["pynamodb"] + PRINT_PYNAMODB, live_settings)
    assert from_pynamodb == body["items"]


def test_the_pages_read_the_engine_and_show_what_they_cost(live_client: TestClient) -> None:
    seed_small()
    page = live_client.get("/tables/activities", params={"index": "FeedIndex"})
    assert page.status_code == 200
    assert 'data-testid="collection"' in page.text and 'data-testid="index-coverage"' in page.text
    assert "reported-rcu=" in page.headers["x-dynamodb-capacity"]
    likes = live_client.get("/api/v1/tables/likes/collections").json()
    first = likes["collections"][0]
    one = live_client.get(f"/tables/likes/partitions/{first['partition_key']}")
    assert one.status_code == 200
    assert one.text.count('data-testid="open-item"') == len(first["items"])
