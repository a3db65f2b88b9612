"""The engine lags as DynamoDB does, when asked (`--gsi-lag-ms`, `--replica-lag-ms`).

Against an in-memory engine with 1,000 ms of each: a write reaches a global secondary index
500 to 1,000 ms later, and about one eventually consistent read in three lands on a replica
that has not applied it yet. Strongly consistent reads, and the conditions of writes and
transactions, always see the leader. Every write here is read within 500 ms of its answer, so
the replica cannot have applied it yet whatever delay it drew.

Also here: `ClientRequestToken` makes TransactWriteItems idempotent for 10 minutes.
"""

from __future__ import annotations

import json
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.client import BaseClient
from botocore.exceptions import ClientError

from engine.launcher import LocalEngine

LAG_MS = 1000
FRESH_SECONDS = 0.45  # reads this soon after a write's answer are before any lag ran out
TABLE = "lagging"
INDEX = "ByTag"


def create_table(client: BaseClient, name: str = TABLE) -> None:
    client.create_table(
        TableName=name,
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[
            {"AttributeName": attribute, "AttributeType": "S"} for attribute in ("pk", "tag")
        ],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        GlobalSecondaryIndexes=[
            {
                "IndexName": INDEX,
                "KeySchema": [{"AttributeName": "tag", "KeyType": "HASH"}],
                "Projection": {"ProjectionType": "ALL"},
            }
        ],
    )


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalEngine]:
    log = tmp_path_factory.mktemp("lagging-engine") / "engine.log"
    with LocalEngine(log, gsi_lag_ms=LAG_MS, replica_lag_ms=LAG_MS) as running:
        create_table(running.client())
        yield running


@pytest.fixture
def client(engine: LocalEngine) -> BaseClient:
    return engine.client()


def key(pk: str) -> dict[str, Any]:
    return {"pk": {"S": pk}}


def put(client: BaseClient, pk: str, tag: str, version: int = 0) -> None:
    item = {"pk": {"S": pk}, "tag": {"S": tag}, "version": {"N": str(version)}}
    client.put_item(TableName=TABLE, Item=item)


def set_version(client: BaseClient, pk: str, version: int) -> None:
    client.update_item(
        TableName=TABLE,
        Key=key(pk),
        UpdateExpression="SET version = :v",
        ExpressionAttributeValues={":v": {"N": str(version)}},
    )


def query_tag(client: BaseClient, tag: str) -> list[dict[str, Any]]:
    answer = client.query(
        TableName=TABLE,
        IndexName=INDEX,
        KeyConditionExpression="tag = :tag",
        ExpressionAttributeValues={":tag": {"S": tag}},
    )
    return list(answer["Items"])


def while_fresh(read: Callable[[], Any]) -> list[Any]:
    """Call `read` again and again for as long as the last write cannot have lagged out."""
    started, answers = time.monotonic(), []
    while time.monotonic() - started < FRESH_SECONDS:
        answers.append(read())
    return answers


def test_a_gsi_query_right_after_a_write_misses_it_and_finds_it_within_1_5_s(
    client: BaseClient,
) -> None:
    put(client, "gsi-1", "gsi-new")
    written = time.monotonic()
    assert query_tag(client, "gsi-new") == []
    while not query_tag(client, "gsi-new"):
        assert time.monotonic() - written < 1.5, "the index never caught up"
        time.sleep(0.02)
    assert time.monotonic() - written >= LAG_MS / 2 / 1000 - 0.05


def test_a_gsi_applies_writes_in_their_order(client: BaseClient) -> None:
    """An item moved from one tag to another is never in both, nor back in the first."""
    put(client, "moved", "order-a")
    time.sleep(LAG_MS / 1000 + 0.1)
    put(client, "moved", "order-b")
    seen_b = False
    deadline = time.monotonic() + 1.5
    while time.monotonic() < deadline:
        # b first: once the move has reached the index, a later read must not find it in a
        in_b = bool(query_tag(client, "order-b"))
        in_a = bool(query_tag(client, "order-a"))
        assert not ((seen_b or in_b) and in_a)
        seen_b = seen_b or in_b
    assert seen_b


def test_eventually_consistent_get_items_after_an_update_see_the_old_version_about_a_third(
    client: BaseClient,
) -> None:
    put(client, "counted", "stale", version=0)
    time.sleep(LAG_MS / 1000 + 0.1)  # every copy has the item: only its version may lag
    stale = reads = 0
    for version in range(1, 9):
        set_version(client, "counted", version)
        for answer in while_fresh(lambda: client.get_item(TableName=TABLE, Key=key("counted"))):
            reads += 1
            stale += answer["Item"]["version"]["N"] != str(version)
    assert reads >= 200
    assert 0.15 <= stale / reads <= 0.60, (stale, reads)


def test_strongly_consistent_reads_always_see_the_latest_write(client: BaseClient) -> None:
    put(client, "strong", "strong", version=0)
    reads = {
        "GetItem": lambda: client.get_item(TableName=TABLE, Key=key("strong"), ConsistentRead=True)[
            "Item"
        ],
        "Query": lambda: client.query(
            TableName=TABLE,
            KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues={":pk": {"S": "strong"}},
            ConsistentRead=True,
        )["Items"][0],
        "BatchGetItem": lambda: client.batch_get_item(
            RequestItems={TABLE: {"Keys": [key("strong")], "ConsistentRead": True}}
        )["Responses"][TABLE][0],
    }
    for version in range(1, 5):
        set_version(client, "strong", version)
        for operation, read in reads.items():
            for item in while_fresh(read)[:40]:
                assert item["version"]["N"] == str(version), operation


@pytest.mark.parametrize("operation", ["Query", "Scan", "BatchGetItem"])
def test_other_eventually_consistent_reads_of_the_table_may_miss_a_new_item(
    client: BaseClient, operation: str
) -> None:
    pk = f"new-for-{operation}"
    reads: dict[str, Callable[[], bool]] = {
        "Query": lambda: bool(
            client.query(
                TableName=TABLE,
                KeyConditionExpression="pk = :pk",
                ExpressionAttributeValues={":pk": {"S": pk}},
            )["Items"]
        ),
        "Scan": lambda: any(
            item["pk"]["S"] == pk for item in client.scan(TableName=TABLE)["Items"]
        ),
        "BatchGetItem": lambda: bool(
            client.batch_get_item(RequestItems={TABLE: {"Keys": [key(pk)]}})["Responses"][TABLE]
        ),
    }
    put(client, pk, "fresh")
    found = while_fresh(reads[operation])
    assert any(found) and not all(found), f"{sum(found)} of {len(found)} reads found the item"


def test_an_item_created_by_an_update_lags_whole_never_half_made(client: BaseClient) -> None:
    """moto stores the bare key of a new item before it applies the update expression: no
    lagging copy may ever show that half-made item."""
    for attempt in range(4):
        pk = f"created-{attempt}"
        client.update_item(
            TableName=TABLE,
            Key=key(pk),
            UpdateExpression="SET tag = :tag ADD version :one",
            ExpressionAttributeValues={":tag": {"S": f"created-{attempt}"}, ":one": {"N": "1"}},
        )
        started = time.monotonic()
        while time.monotonic() - started < 1.2:
            found = client.get_item(TableName=TABLE, Key=key(pk)).get("Item")
            assert found is None or found["version"] == {"N": "1"}, found
            for indexed in query_tag(client, f"created-{attempt}"):
                assert indexed["version"] == {"N": "1"}, indexed


def test_conditions_of_writes_and_transactions_evaluate_on_the_leader(client: BaseClient) -> None:
    for attempt in range(20):
        pk = f"conditional-{attempt}"
        put(client, pk, "cond")
        client.update_item(
            TableName=TABLE,
            Key=key(pk),
            UpdateExpression="SET version = :v",
            ConditionExpression="attribute_exists(pk)",
            ExpressionAttributeValues={":v": {"N": "1"}},
        )
        with pytest.raises(ClientError, match="ConditionalCheckFailed"):
            client.put_item(
                TableName=TABLE,
                Item={"pk": {"S": pk}, "tag": {"S": "cond"}},
                ConditionExpression="attribute_not_exists(pk)",
            )
        client.transact_write_items(
            TransactItems=[
                {
                    "ConditionCheck": {
                        "TableName": TABLE,
                        "Key": key(pk),
                        "ConditionExpression": "version = :v",
                        "ExpressionAttributeValues": {":v": {"N": "1"}},
                    }
                },
                {"Put": {"TableName": TABLE, "Item": {"pk": {"S": f"{pk}-t"}, "tag": {"S": "t"}}}},
            ]
        )


def test_the_health_report_shows_the_lag_and_the_index_backlog(
    engine: LocalEngine, client: BaseClient
) -> None:
    for number in range(5):
        put(client, f"backlog-{number}", "backlog")
    with urllib.request.urlopen(engine.endpoint + "/_engine/health", timeout=5) as reply:
        health = json.load(reply)
    assert health["gsi_lag_ms"] == LAG_MS and health["replica_lag_ms"] == LAG_MS
    assert health["lag_backlog"]["gsi"][f"{TABLE}/{INDEX}"] >= 5
    assert health["lag_backlog"]["replica"][TABLE] >= 5


def test_after_a_restart_every_index_is_caught_up(tmp_path: Path) -> None:
    with LocalEngine(
        tmp_path / "engine.log", data_dir=tmp_path / "data", gsi_lag_ms=60_000
    ) as engine:
        client = engine.client()
        create_table(client)
        put(client, "before-restart", "restart")
        assert query_tag(client, "restart") == []
        engine.restart()
        assert [item["pk"]["S"] for item in query_tag(engine.client(), "restart")] == [
            "before-restart"
        ]


def transaction(pk: str) -> list[dict[str, Any]]:
    return [
        {
            "Update": {
                "TableName": TABLE,
                "Key": key(pk),
                "UpdateExpression": "ADD version :one",
                "ExpressionAttributeValues": {":one": {"N": "1"}},
            }
        }
    ]


def test_a_repeated_client_request_token_applies_the_transaction_once(client: BaseClient) -> None:
    first = client.transact_write_items(
        TransactItems=transaction("token-once"),
        ClientRequestToken="token-once",
        ReturnConsumedCapacity="TOTAL",
    )
    again = client.transact_write_items(
        TransactItems=transaction("token-once"),
        ClientRequestToken="token-once",
        ReturnConsumedCapacity="TOTAL",
    )
    item = client.get_item(TableName=TABLE, Key=key("token-once"), ConsistentRead=True)["Item"]
    assert item["version"] == {"N": "1"}
    # The first call reports the write units of the change, a repeat the read units of reading
    # the item (AWS's API reference, ClientRequestToken)
    assert first["ConsumedCapacity"] == [{"TableName": TABLE, "CapacityUnits": 2.0}]
    assert again["ConsumedCapacity"] == [{"TableName": TABLE, "CapacityUnits": 1.0}]


def test_a_client_request_token_reused_with_other_items_is_refused(client: BaseClient) -> None:
    client.transact_write_items(TransactItems=transaction("token-a"), ClientRequestToken="reused")
    with pytest.raises(ClientError) as refused:
        client.transact_write_items(
            TransactItems=transaction("token-b"), ClientRequestToken="reused"
        )
    assert refused.value.response["Error"]["Code"] == "IdempotentParameterMismatchException"
    assert "Item" not in client.get_item(TableName=TABLE, Key=key("token-b"), ConsistentRead=True)


def test_without_a_token_the_same_transaction_applies_each_time(client: BaseClient) -> None:
    for _ in range(2):
        client.transact_write_items(TransactItems=transaction("no-token"))
    item = client.get_item(TableName=TABLE, Key=key("no-token"), ConsistentRead=True)["Item"]
    assert item["version"] == {"N": "2"}
