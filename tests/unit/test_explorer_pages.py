"""/tables: every table, its item collections (Scan), its GSI views and one collection (Query)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import boto3
import botocore.handlers
import pytest
from fastapi.testclient import TestClient
from moto import mock_aws

from activity.models import Activity
from engagement.likes.models import LikeCounter, UserLike
from lens import explorer, inspector
from lens.design import describe_table, item_type_of
from shared import dynamo
from shared.capacity_rules import item_size
from tests.conftest import build_app_client, configure

pytest_plugins = ["tests.unit.explorer_fixtures"]


def all_items(table: str) -> list[dict[str, Any]]:
    client = dynamo.bound_client()
    items: list[dict[str, Any]] = []
    params: dict[str, Any] = {"TableName": table}
    while True:
        page = client.scan(**params)
        items += page["Items"]
        if "LastEvaluatedKey" not in page:
            return items
        params["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def walk_collections(client: TestClient, table: str, **query: str) -> list[dict[str, Any]]:
    """Every page of /collections, following next_cursor to the end."""
    pages: list[dict[str, Any]] = []
    cursor = None
    for _ in range(500):
        params = {**query, **({"cursor": cursor} if cursor else {})}
        response = client.get(f"/api/v1/tables/{table}/collections", params=params)
        assert response.status_code == 200, response.text
        pages.append(response.json())
        cursor = pages[-1]["next_cursor"]
        if cursor is None:
            return pages
    raise AssertionError("the pages never ended")


def test_tables_lists_every_table_of_the_models_with_describe_table_figures(
    seeded_client: TestClient,
) -> None:
    body = seeded_client.get("/api/v1/tables").json()
    by_name = {table["name"]: table for table in body["tables"]}
    assert set(by_name) == {model.Meta.table_name for model in dynamo.registered_models()}
    activities = by_name["unit-activities"]
    assert activities["model"] == "activity.models.Activity"
    assert (activities["partition_key"], activities["sort_key"]) == ("user_id", "timestamp")
    assert set(activities["indexes"]) == {"ActivityTypeIndex", "PostActivityIndex", "FeedIndex"}
    assert activities["ttl_attribute"] == "expires_at"
    assert activities["item_count"] == len(all_items("unit-activities")) > 0
    assert by_name["unit-likes"]["models"] == [
        "engagement.likes.models.LikeCounter",
        "engagement.likes.models.UserLike",
    ]
    page = seeded_client.get("/tables")
    assert page.status_code == 200
    for name in by_name:
        assert f'href="/tables/{name}"' in page.text
    assert re.search(r'<a href="/tables"[^>]*>Tables</a>', page.text)  # in the nav


def test_a_table_page_groups_items_by_partition_sorted_by_sort_key_and_says_it_scans(
    seeded_client: TestClient,
) -> None:
    page = seeded_client.get("/tables/unit-likes")
    assert page.status_code == 200
    assert "This page reads with <strong>Scan</strong>" in page.text
    assert "calls=1" not in page.headers["x-dynamodb-capacity"]  # DescribeTable + Scan
    body = seeded_client.get("/api/v1/tables/unit-likes/collections").json()
    assert body["read_with"] == "Scan" and body["request"]["TableName"] == "unit-likes"
    stored = all_items("unit-likes")
    seen = [item for c in body["collections"] for item in c["items"]]
    assert len(seen) == len(stored)
    for collection in body["collections"]:
        keys = [item["post_id"]["S"] for item in collection["items"]]
        assert set(keys) == {collection["partition_key"]}
        sort_keys = [item["sk"]["S"] for item in collection["items"]]
        assert sort_keys == sorted(sort_keys)
        assert collection["item_sizes"] == [item_size(i) for i in collection["items"]]
        types = dict(zip(sort_keys, collection["item_types"], strict=True))
        assert types.pop("COUNT") == "engagement.likes.models.LikeCounter"
        assert set(types.values()) == {"engagement.likes.models.UserLike"}
    assert len({c["partition_key"] for c in body["collections"]}) == len(body["collections"])


def test_key_attributes_are_highlighted_and_each_item_shows_its_type_and_size(
    seeded_client: TestClient,
) -> None:
    text = seeded_client.get("/tables/unit-likes").text
    assert (
        '<span class="attr attr-pk" title="partition key"><span class="attr-name">post_id' in text
    )
    assert (
        '<span class="attr attr-sk" title="sort key"><span class="attr-name">sk</span> COUNT'
        in text
    )
    assert 'data-type="LikeCounter"' in text and 'data-type="UserLike"' in text
    counter = next(i for i in all_items("unit-likes") if i["sk"]["S"] == "COUNT")
    assert f"{item_size(counter)}&nbsp;B" in text


@pytest.mark.parametrize(
    ("page_items", "page_partitions"),
    [(4, 5), (7, 2)],
    ids=["pages-end-inside-collections", "pages-end-after-two-collections"],
)
def test_walking_every_page_shows_each_item_once_and_marks_cut_collections(
    seeded_client: TestClient,
    monkeypatch: pytest.MonkeyPatch,
    page_items: int,
    page_partitions: int,
) -> None:
    monkeypatch.setattr(explorer, "PAGE_ITEMS", page_items)
    monkeypatch.setattr(explorer, "PAGE_PARTITIONS", page_partitions)
    pages = walk_collections(seeded_client, "unit-likes")
    keys = [
        (item["post_id"]["S"], item["sk"]["S"])
        for page in pages
        for collection in page["collections"]
        for item in collection["items"]
    ]
    assert sorted(keys) == sorted(
        (i["post_id"]["S"], i["sk"]["S"]) for i in all_items("unit-likes")
    )
    assert len(keys) == len(set(keys))
    assert all(len(page["collections"]) <= page_partitions for page in pages)
    assert all(sum(len(c["items"]) for c in page["collections"]) <= page_items for page in pages)
    for before, after in zip(pages, pages[1:], strict=False):
        last, first = before["collections"][-1], after["collections"][0]
        assert last["continues"] == (last["partition_key"] == first["partition_key"])
        assert first["continued"] == last["continues"]
    cut = any(page["collections"][-1]["continues"] for page in pages)
    assert cut == (page_items < 3 * page_partitions)  # a likes collection here has 3 items


def test_a_tampered_cursor_or_one_from_another_view_is_a_400(seeded_client: TestClient) -> None:
    url = "/api/v1/tables/unit-activities/collections"
    cursor = seeded_client.get(url, params={"index": "FeedIndex"}).json()["next_cursor"]
    assert cursor
    assert seeded_client.get(url, params={"cursor": cursor}).status_code == 400
    forged = seeded_client.get(url, params={"index": "FeedIndex", "cursor": cursor[:-2] + "xx"})
    assert forged.status_code == 400 and "cursor" in forged.json()["detail"]


def test_a_sparse_index_says_how_many_items_carry_its_key(seeded_client: TestClient) -> None:
    stored = all_items("unit-activities")
    carrying = [item for item in stored if "feed_key" in item]
    assert 0 < len(carrying) < len(stored)  # views have no feed_key
    body = seeded_client.get(
        "/api/v1/tables/unit-activities/collections", params={"index": "FeedIndex"}
    ).json()
    assert (body["index_item_count"], body["table_item_count"]) == (len(carrying), len(stored))
    assert body["partition_key_attribute"] == "feed_key"
    first = body["collections"][0]
    assert {item["feed_key"]["S"] for item in first["items"]} == {first["partition_key"]}
    timestamps = [item["timestamp"]["S"] for item in first["items"]]
    assert timestamps == sorted(timestamps)
    page = seeded_client.get("/tables/unit-activities", params={"index": "FeedIndex"}).text
    assert (
        f"<strong>{len(carrying):,} of {len(stored):,} items</strong> carry <code>feed_key</code>"
        in page
    )
    assert "is <strong>sparse</strong>" in page


def test_the_index_count_is_taken_once_and_carried_by_the_cursor(
    seeded_client: TestClient, engine_responses: list[tuple[str, dict[str, Any]]]
) -> None:
    url = "/api/v1/tables/unit-activities/collections"
    first = seeded_client.get(url, params={"index": "FeedIndex"}).json()
    engine_responses.clear()
    second = seeded_client.get(url, params={"index": "FeedIndex", "cursor": first["next_cursor"]})
    assert [operation for operation, _ in engine_responses] == ["Scan"]
    assert second.json()["index_item_count"] == first["index_item_count"]


def test_one_collection_is_read_with_a_query_and_each_item_opens_as_json_and_object(
    seeded_client: TestClient, engine_responses: list[tuple[str, dict[str, Any]]]
) -> None:
    user_id = all_items("unit-activities")[0]["user_id"]["S"]
    engine_responses.clear()
    page = seeded_client.get(f"/tables/unit-activities/partitions/{user_id}")
    assert page.status_code == 200
    assert [operation for operation, _ in engine_responses] == ["Query"]
    expected = list(Activity.query(user_id))
    assert page.text.count('data-testid="open-item"') == len(expected)
    assert "Read with one <strong>Query</strong>" in page.text
    assert "&#34;user_id&#34;: {\n" in page.text  # DynamoDB JSON, escaped
    assert f"user_id=&#39;{user_id}&#39;" in page.text  # the PynamoDB object's repr
    body = seeded_client.get(f"/api/v1/tables/unit-activities/partitions/{user_id}").json()
    (collection,) = body["collections"]
    assert [i["timestamp"]["S"] for i in collection["items"]] == [a.timestamp for a in expected]


def test_a_partition_key_with_a_hash_sign_round_trips_through_its_url(
    seeded_client: TestClient,
) -> None:
    LikeCounter(post_id="7#2", sk="COUNT", like_count=3).save()
    html = seeded_client.get("/tables/unit-likes").text
    assert 'href="/tables/unit-likes/partitions/7%232"' in html
    body = seeded_client.get("/api/v1/tables/unit-likes/partitions/7%232").json()
    assert body["collections"][0]["items"][0]["like_count"] == {"N": "3"}


def test_unknown_tables_indexes_and_badly_typed_keys_are_4xx(seeded_client: TestClient) -> None:
    missing = seeded_client.get("/api/v1/tables/nope/collections")
    assert missing.status_code == 404 and "unit-activities" in missing.json()["detail"]
    index = seeded_client.get("/tables/unit-activities", params={"index": "NoSuchIndex"})
    assert index.status_code == 404 and "FeedIndex" in index.text
    typed = seeded_client.get("/api/v1/tables/unit-comments/partitions/abc")
    assert typed.status_code == 422 and "post_id is a number" in typed.json()["detail"]


def test_a_base_table_name_finds_the_table_too(seeded_client: TestClient) -> None:
    assert seeded_client.get("/tables/activities").status_code == 200


def test_expired_items_are_marked_as_the_app_ignores_them(seeded_client: TestClient) -> None:
    from datetime import UTC, datetime, timedelta

    table = explorer.find_table("unit-activities")
    item = {
        "user_id": {"S": "9"},
        "timestamp": {"S": "2020-01-01T00:00:00.000000Z#view-1"},
        "activity_type": {"S": "view"},
        "username": {"S": "zed"},
        "expires_at": {"N": str(int((datetime.now(UTC) - timedelta(days=1)).timestamp()))},
    }
    assert explorer.view_item(table, item, None).expired
    del item["expires_at"]
    assert not explorer.view_item(table, item, None).expired


def test_an_item_type_is_told_by_its_attributes_as_the_design_lists_them() -> None:
    design = describe_table([LikeCounter, UserLike])
    counter = {"post_id", "sk", "like_count"}
    like = {"post_id", "sk", "user_id", "liked", "version", "changed_at"}
    assert item_type_of(design, counter) == (design.item_types[0], True)
    assert item_type_of(design, like) == (design.item_types[1], True)
    stray, exact = item_type_of(design, {"post_id", "sk", "user_id", "surprise"})
    assert stray.model == "engagement.likes.models.UserLike" and not exact


def test_a_large_tables_index_is_counted_only_when_asked(
    seeded_client: TestClient,
    monkeypatch: pytest.MonkeyPatch,
    engine_responses: list[tuple[str, dict[str, Any]]],
) -> None:
    monkeypatch.setattr(explorer, "AUTO_COUNT_MAX_ITEMS", 10)
    page = seeded_client.get("/tables/unit-activities", params={"index": "FeedIndex"})
    assert sorted(operation for operation, _ in engine_responses) == ["DescribeTable", "Scan"]
    assert 'data-testid="count-index"' in page.text and "sparse" not in page.text
    url = "/api/v1/tables/unit-activities/collections"
    assert seeded_client.get(url, params={"index": "FeedIndex"}).json()["index_item_count"] is None
    counted = seeded_client.get(url, params={"index": "FeedIndex", "count": "true"}).json()
    assert counted["index_item_count"] == sum("feed_key" in i for i in all_items("unit-activities"))


def test_the_inspector_sees_the_explorer_even_when_boto3_was_used_before_the_app(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """`manage.py run` with DYNAMODB_ENDPOINT set makes a client before the app hooks botocore;
    the explorer's client must not inherit that unhooked session."""
    without_inspector = [
        spec for spec in botocore.handlers.BUILTIN_HANDLERS if spec not in inspector._HANDLERS
    ]
    monkeypatch.setattr(botocore.handlers, "BUILTIN_HANDLERS", without_inspector)
    with mock_aws():
        settings = configure(
            monkeypatch,
            DYNAMODB_ENDPOINT=None,
            DATABASE_URL=f"sqlite:///{tmp_path / 'blog.sqlite3'}",
            TABLE_PREFIX="unit-",
            DATA_DIR=str(tmp_path),
        )
        boto3.setup_default_session()  # what waiting for a DynamoDB container does first
        with build_app_client(settings) as client:
            response = client.get("/tables/unit-sessions")
    assert response.status_code == 200
    assert response.headers["x-dynamodb-capacity"].startswith("calls=2;")
