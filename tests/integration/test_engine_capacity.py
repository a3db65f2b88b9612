"""The engine reports ConsumedCapacity as DynamoDB's documentation computes it.

Each case is one of the documented rules with item sizes counted by hand: a name's UTF-8 length
plus its value's (a string's bytes; a number's 1 byte per two significant digits, plus 1).
Stock moto answers 1.0 per Query page, 0.5 per UpdateItem and nothing for transactions, so
every case here fails on it.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from botocore.client import BaseClient

from tests.integration.engine_servers import moto_server

TABLE = "capacity-cases"
KB = 1024


@pytest.fixture(scope="module")
def client() -> Iterator[BaseClient]:
    with moto_server(patched=True) as server:
        dynamodb = server.client()
        dynamodb.create_table(
            TableName=TABLE,
            BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=[
                {"AttributeName": name, "AttributeType": "S"} for name in ("pk", "sk", "tag")
            ],
            KeySchema=[
                {"AttributeName": "pk", "KeyType": "HASH"},
                {"AttributeName": "sk", "KeyType": "RANGE"},
            ],
            GlobalSecondaryIndexes=[
                {
                    "IndexName": "ByTag",
                    "KeySchema": [{"AttributeName": "tag", "KeyType": "HASH"}],
                    "Projection": {"ProjectionType": "KEYS_ONLY"},
                }
            ],
        )
        yield dynamodb


def item(pk: str, sk: str, size: int, **extra: str) -> dict[str, Any]:
    """An item of exactly `size` bytes: 'pk' + pk + 'sk' + sk + extras + 'filler' + padding."""
    fixed = 2 + len(pk) + 2 + len(sk) + len("filler")
    fixed += sum(len(name) + len(value) for name, value in extra.items())
    attributes = {"pk": {"S": pk}, "sk": {"S": sk}, "filler": {"S": "x" * (size - fixed)}}
    attributes.update({name: {"S": value} for name, value in extra.items()})
    return attributes


def key(pk: str, sk: str) -> dict[str, Any]:
    return {"pk": {"S": pk}, "sk": {"S": sk}}


def units(response: dict[str, Any]) -> float:
    consumed = response["ConsumedCapacity"]
    entries = consumed if isinstance(consumed, list) else [consumed]
    return sum(entry["CapacityUnits"] for entry in entries)


@pytest.mark.parametrize(
    ("size", "consistent", "expected"),
    [
        (3_584, False, 0.5),  # 3.5 KB: one 4 KB unit, halved when eventually consistent
        (3_584, True, 1.0),
        (4 * KB, True, 1.0),  # exactly 4 KB is still one unit
        (4 * KB + 1, True, 2.0),  # one byte more is two
        (8 * KB, False, 1.0),  # 8 KB: two units, halved
        (8 * KB, True, 2.0),
    ],
)
def test_get_item_costs_4_kb_units_halved_when_eventually_consistent(
    client: BaseClient, size: int, consistent: bool, expected: float
) -> None:
    client.put_item(TableName=TABLE, Item=item("get", str(size), size))
    response = client.get_item(
        TableName=TABLE,
        Key=key("get", str(size)),
        ConsistentRead=consistent,
        ReturnConsumedCapacity="TOTAL",
    )
    assert units(response) == expected


def test_a_missing_item_and_a_projection_still_cost_the_whole_read(client: BaseClient) -> None:
    missing = client.get_item(
        TableName=TABLE, Key=key("nobody", "0"), ConsistentRead=True, ReturnConsumedCapacity="TOTAL"
    )
    assert units(missing) == 1.0
    client.put_item(TableName=TABLE, Item=item("projected", "0", 6 * KB))
    projected = client.get_item(
        TableName=TABLE,
        Key=key("projected", "0"),
        ProjectionExpression="pk",
        ConsistentRead=True,
        ReturnConsumedCapacity="TOTAL",
    )
    assert units(projected) == 2.0


def test_transactional_reads_cost_double(client: BaseClient) -> None:
    client.put_item(TableName=TABLE, Item=item("tx-read", "0", 8 * KB))
    response = client.transact_get_items(
        TransactItems=[{"Get": {"TableName": TABLE, "Key": key("tx-read", "0")}}],
        ReturnConsumedCapacity="TOTAL",
    )
    assert units(response) == 4.0  # 8 KB = 2 units, doubled


def test_batch_get_rounds_every_item_on_its_own(client: BaseClient) -> None:
    """The documentation's example: a 1.5 KB item and a 6.5 KB item are read as 4 + 8 KB."""
    client.put_item(TableName=TABLE, Item=item("batch", "small", 1_536))
    client.put_item(TableName=TABLE, Item=item("batch", "large", 6_656))
    response = client.batch_get_item(
        RequestItems={
            TABLE: {"Keys": [key("batch", "small"), key("batch", "large")], "ConsistentRead": True}
        },
        ReturnConsumedCapacity="TOTAL",
    )
    assert units(response) == 3.0


def test_query_adds_up_what_it_read_and_rounds_once(client: BaseClient) -> None:
    """Ten items of 4,180 bytes (40.8 KB together) are 11 units, not the 20 of rounding each."""
    for number in range(10):
        client.put_item(TableName=TABLE, Item=item("query", f"{number:02d}", 4_180))
    request = {
        "TableName": TABLE,
        "KeyConditionExpression": "pk = :pk",
        "ExpressionAttributeValues": {":pk": {"S": "query"}},
        "ReturnConsumedCapacity": "TOTAL",
    }
    assert units(client.query(**request, ConsistentRead=True)) == 11.0
    assert units(client.query(**request)) == 5.5


def test_a_filter_does_not_make_a_query_cheaper(client: BaseClient) -> None:
    for number in range(4):
        client.put_item(TableName=TABLE, Item=item("filtered", f"{number}", 4 * KB))
    response = client.query(
        TableName=TABLE,
        KeyConditionExpression="pk = :pk",
        FilterExpression="sk = :none",
        ExpressionAttributeValues={":pk": {"S": "filtered"}, ":none": {"S": "absent"}},
        ConsistentRead=True,
        ReturnConsumedCapacity="TOTAL",
    )
    assert response["Count"] == 0 and response["ScannedCount"] == 4
    assert units(response) == 4.0


@pytest.mark.parametrize(("size", "expected"), [(500, 1.0), (KB, 1.0), (1_536, 2.0), (3_584, 4.0)])
def test_put_item_costs_1_kb_units(client: BaseClient, size: int, expected: float) -> None:
    response = client.put_item(
        TableName=TABLE, Item=item("put", str(size), size), ReturnConsumedCapacity="TOTAL"
    )
    assert units(response) == expected


def test_update_item_is_sized_by_the_larger_of_before_and_after(client: BaseClient) -> None:
    client.put_item(TableName=TABLE, Item=item("update", "0", 2_500))
    response = client.update_item(
        TableName=TABLE,
        Key=key("update", "0"),
        UpdateExpression="REMOVE filler",
        ReturnConsumedCapacity="TOTAL",
    )
    assert units(response) == 3.0  # 2,500 bytes before, a few after


def test_delete_item_is_sized_by_the_deleted_item(client: BaseClient) -> None:
    client.put_item(TableName=TABLE, Item=item("delete", "0", 2_500))
    response = client.delete_item(
        TableName=TABLE, Key=key("delete", "0"), ReturnConsumedCapacity="TOTAL"
    )
    assert units(response) == 3.0
    nothing = client.delete_item(
        TableName=TABLE, Key=key("delete", "0"), ReturnConsumedCapacity="TOTAL"
    )
    assert units(nothing) == 1.0


def test_batch_write_rounds_every_item_on_its_own(client: BaseClient) -> None:
    """A 500-byte item and a 3.5 KB item: 1 + 4 units."""
    puts = [item("batch-write", "a", 500), item("batch-write", "b", 3_584)]
    response = client.batch_write_item(
        RequestItems={TABLE: [{"PutRequest": {"Item": value}} for value in puts]},
        ReturnConsumedCapacity="TOTAL",
    )
    assert units(response) == 5.0


def test_transactional_writes_cost_double(client: BaseClient) -> None:
    response = client.transact_write_items(
        TransactItems=[
            {"Put": {"TableName": TABLE, "Item": item("tx", "a", KB)}},
            {"Put": {"TableName": TABLE, "Item": item("tx", "b", 1_536)}},
        ],
        ReturnConsumedCapacity="TOTAL",
    )
    assert units(response) == 2.0 + 4.0


def test_a_transaction_doubles_the_table_write_but_not_the_index_write(client: BaseClient) -> None:
    """AWS documents the table side (prepare and commit); the index side and ConditionCheck follow
    measurements against DynamoDB: the index entry once, the check as a transactional write."""
    client.put_item(TableName=TABLE, Item=item("tx-check", "0", 100))
    response = client.transact_write_items(
        TransactItems=[
            {"Put": {"TableName": TABLE, "Item": item("tx-index", "0", 1_800, tag="red")}},
            {
                "ConditionCheck": {
                    "TableName": TABLE,
                    "Key": key("tx-check", "0"),
                    "ConditionExpression": "attribute_exists(pk)",
                }
            },
        ],
        ReturnConsumedCapacity="INDEXES",
    )
    (consumed,) = response["ConsumedCapacity"]
    indexes = consumed.get("GlobalSecondaryIndexes", {})
    assert consumed["Table"]["CapacityUnits"] == 2 * 2.0 + 2 * 1.0  # the Put, then the check
    assert sum(figures["CapacityUnits"] for figures in indexes.values()) == 1.0


def test_index_writes_follow_the_index_key(client: BaseClient) -> None:
    """Entering the index costs one entry write; moving its key, two; leaving it, one; changing
    an attribute the index does not project, none. The KEYS_ONLY entry here is pk, sk and tag,
    well under 1 KB."""

    def write(**params: Any) -> dict[str, float]:
        response = params.pop("call")(TableName=TABLE, ReturnConsumedCapacity="INDEXES", **params)
        consumed = response["ConsumedCapacity"]
        indexes = consumed.get("GlobalSecondaryIndexes", {})
        return {
            "table": consumed["Table"]["CapacityUnits"],
            "index": sum(figures["CapacityUnits"] for figures in indexes.values()),
        }

    entered = write(call=client.put_item, Item=item("indexed", "0", 1_800, tag="red"))
    assert entered == {"table": 2.0, "index": 1.0}
    moved = write(
        call=client.update_item,
        Key=key("indexed", "0"),
        UpdateExpression="SET tag = :tag",
        ExpressionAttributeValues={":tag": {"S": "blue"}},
    )
    assert moved == {"table": 2.0, "index": 2.0}
    unprojected = write(
        call=client.update_item,
        Key=key("indexed", "0"),
        UpdateExpression="SET filler = :pad",
        ExpressionAttributeValues={":pad": {"S": "short"}},
    )
    assert unprojected == {"table": 2.0, "index": 0.0}
    left = write(call=client.update_item, Key=key("indexed", "0"), UpdateExpression="REMOVE tag")
    assert left == {"table": 1.0, "index": 1.0}


def test_a_query_on_an_index_is_charged_to_the_index_in_entries(client: BaseClient) -> None:
    for number in range(3):
        client.put_item(TableName=TABLE, Item=item("on-index", str(number), 3 * KB, tag="green"))
    response = client.query(
        TableName=TABLE,
        IndexName="ByTag",
        KeyConditionExpression="tag = :tag",
        ExpressionAttributeValues={":tag": {"S": "green"}},
        ReturnConsumedCapacity="INDEXES",
    )
    consumed = response["ConsumedCapacity"]
    assert consumed["GlobalSecondaryIndexes"] == {
        "ByTag": {"CapacityUnits": 0.5}
    }  # three small KEYS_ONLY entries, not three 3 KB items
    assert consumed["Table"]["CapacityUnits"] == 0.0


def test_capacity_is_returned_only_when_asked_for(client: BaseClient) -> None:
    client.put_item(TableName=TABLE, Item=item("quiet", "0", 100))
    response = client.update_item(
        TableName=TABLE,
        Key=key("quiet", "0"),
        UpdateExpression="SET filler = :pad",
        ExpressionAttributeValues={":pad": {"S": "y"}},
    )
    assert "ConsumedCapacity" not in response


# -- the shape of ConsumedCapacity ------------------------------------------------------------
# AWS's API reference shows, in each operation's example, `TableName` and `CapacityUnits` only
# (and under INDEXES, `Table` and each index with `CapacityUnits`); moto's and dynalite's own
# test suites expect exactly that.


def shape_calls(client: BaseClient, mode: str) -> dict[str, dict[str, Any]]:
    """One call of each operation, as it answers with ReturnConsumedCapacity=`mode`."""
    client.put_item(TableName=TABLE, Item=item("shape", "0", 100, tag="blue"))
    asked = {"ReturnConsumedCapacity": mode}
    point = {"TableName": TABLE, "Key": key("shape", "0"), **asked}
    by_pk = {
        "KeyConditionExpression": "pk = :pk",
        "ExpressionAttributeValues": {":pk": {"S": "shape"}},
    }
    return {
        "GetItem": client.get_item(**point),
        "PutItem": client.put_item(TableName=TABLE, Item=item("shape", "1", 100), **asked),
        "UpdateItem": client.update_item(
            **point,
            UpdateExpression="SET filler = :f",
            ExpressionAttributeValues={":f": {"S": "z"}},
        ),
        "DeleteItem": client.delete_item(TableName=TABLE, Key=key("shape", "1"), **asked),
        "Query": client.query(TableName=TABLE, **by_pk, **asked),
        "Scan": client.scan(TableName=TABLE, Limit=5, **asked),
        "BatchGetItem": client.batch_get_item(
            RequestItems={TABLE: {"Keys": [key("shape", "0")]}}, **asked
        ),
        "BatchWriteItem": client.batch_write_item(
            RequestItems={TABLE: [{"PutRequest": {"Item": item("shape", "2", 100)}}]}, **asked
        ),
        "TransactGetItems": client.transact_get_items(
            TransactItems=[{"Get": {"TableName": TABLE, "Key": key("shape", "0")}}], **asked
        ),
        "TransactWriteItems": client.transact_write_items(
            TransactItems=[
                {
                    "ConditionCheck": {
                        "TableName": TABLE,
                        "Key": key("shape", "0"),
                        "ConditionExpression": "attribute_exists(pk)",
                    }
                },
                {"Put": {"TableName": TABLE, "Item": item("shape", "3", 100)}},
            ],
            **asked,
        ),
    }


def entries_of(response: dict[str, Any]) -> list[dict[str, Any]]:
    consumed = response["ConsumedCapacity"]
    return consumed if isinstance(consumed, list) else [consumed]


def test_consumed_capacity_totals_carry_only_table_name_and_capacity_units(
    client: BaseClient,
) -> None:
    for operation, response in shape_calls(client, "TOTAL").items():
        for entry in entries_of(response):
            assert set(entry) == {"TableName", "CapacityUnits"}, operation


def test_consumed_capacity_by_index_carries_only_capacity_units(client: BaseClient) -> None:
    for operation, response in shape_calls(client, "INDEXES").items():
        for entry in entries_of(response):
            assert set(entry) - {"GlobalSecondaryIndexes"} == {
                "TableName",
                "CapacityUnits",
                "Table",
            }, operation
            assert set(entry["Table"]) == {"CapacityUnits"}, operation
            for figures in entry.get("GlobalSecondaryIndexes", {}).values():
                assert set(figures) == {"CapacityUnits"}, operation
