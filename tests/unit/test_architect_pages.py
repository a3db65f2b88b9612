"""/cost, /design/advice and /insights as pages and JSON, in both languages, on a measurement
kept the way `lens.measure` keeps one (the live tier measures for real)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace

import pytest
from fastapi.testclient import TestClient

from lens import insights, measure
from lens.insights import recorder
from shared.dynamo import base_table_name, registered_models
from shared.settings import active_settings
from tests.conftest import ApiUser
from tests.unit.architect_fixtures import MEASUREMENT

JA = {"Accept-Language": "ja,en-US;q=0.8"}


@pytest.fixture
def measured(unit_client: TestClient) -> TestClient:
    data_dir = Path(active_settings().data_dir)
    kept = {**MEASUREMENT, "fingerprint": measure.fingerprint()}
    (data_dir / measure.MEASUREMENT_FILE).write_text(json.dumps(kept), encoding="utf-8")
    return unit_client


def test_the_cost_page_prices_the_kept_measurement(measured: TestClient) -> None:
    page = measured.get("/cost", params={"users": 10_000})
    assert page.status_code == 200
    assert 'data-state="ready"' in page.text
    assert "a month at 10,000 daily active users" in page.text
    assert 'data-what-if="feed-by-index"' in page.text
    assert "https://aws.amazon.com/dynamodb/pricing/on-demand/" in page.text


def test_the_cost_page_in_japanese(measured: TestClient) -> None:
    page = measured.get("/cost", params={"users": 10_000, "lang": "ja"})
    assert "この設計の月額コスト" in page.text and "アクセスパターンごと" in page.text


def test_a_bad_traffic_figure_is_a_422_naming_the_field(measured: TestClient) -> None:
    page = measured.get("/cost", params={"users": "-3"})
    assert page.status_code == 422
    assert "Daily active users" in page.text and 'data-testid="cost-problem"' in page.text
    htmx = measured.get("/cost", params={"region": "mars-1"}, headers={"HX-Request": "true"})
    assert htmx.status_code == 422 and "Region" in htmx.text and "<html" not in htmx.text


def test_the_advice_page_lists_findings_errors_first(measured: TestClient) -> None:
    page = measured.get("/design/advice")
    assert page.status_code == 200
    assert 'data-rule="low-cardinality-key"' in page.text
    assert page.text.index('data-severity="error"') < page.text.index('data-severity="warning"')
    japanese = measured.get("/design/advice", headers=JA).text
    assert "この設計のどこが問題か" in japanese and "ホットパーティション" in japanese


def test_the_insights_page_and_api_show_the_keys_the_app_touched(
    unit_client: TestClient, make_user: Callable[..., ApiUser]
) -> None:
    user = make_user(unit_client)
    post = user.call("POST", "/api/v1/posts", json={"title": "t", "body": "b"}).json()["id"]
    recorder.clear()
    for _ in range(3):
        assert unit_client.get(f"/api/v1/posts/{post}/likes").status_code == 200
    body = unit_client.get("/api/v1/insights", params={"table": "likes", "window": 1}).json()
    assert body["table"] == "likes" and body["window_minutes"] == 1
    assert body["keys"][0]["partition_key"] == str(post) and body["keys"][0]["reads"] >= 3
    page = unit_client.get("/insights", params={"window": 1})
    assert 'data-table="likes"' in page.text and f'data-key="{post}"' in page.text
    assert "どのパーティションキー" in unit_client.get("/insights", headers=JA).text
    assert unit_client.get("/insights", params={"window": 2}).status_code == 422


def test_a_throttled_request_counts_against_its_key(unit_client: TestClient) -> None:
    """What the botocore hooks do with a call DynamoDB refused for throughput."""
    recorder.clear()
    table = next(m for m in registered_models() if base_table_name(m) == "likes").Meta.table_name
    params = {"TableName": table, "Key": {"post_id": {"S": "7"}, "sk": {"S": "COUNT"}}}
    context: dict[str, object] = {}
    insights._before(params=params, model=SimpleNamespace(name="UpdateItem"), context=context)
    refused = {"Error": {"Code": "ProvisionedThroughputExceededException"}}
    insights._after(http_response=SimpleNamespace(status_code=400), parsed=refused, context=context)
    (likes,) = recorder.traffic(1)
    assert (likes.keys[0].partition_key, likes.keys[0].throttled, likes.keys[0].writes) == (
        "7",
        1,
        0,
    )
