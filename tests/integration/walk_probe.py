"""Run by test_engine_indexes: reads a table with moto's whole-table walks made to fail.

`python -m tests.integration.walk_probe patched|stock` exits 0 when every Query and Scan page
was answered without `Table.all_items` or `Table.sorted_items`.
"""

from __future__ import annotations

import sys
from typing import Any, NoReturn

import boto3
from moto import mock_aws
from moto.dynamodb.models.table import Table

ITEMS = 500


def walk(*_args: Any, **_kwargs: Any) -> NoReturn:
    raise AssertionError("a read walked the whole table")


def create(client: Any) -> None:
    client.create_table(
        TableName="walks",
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[
            {"AttributeName": name, "AttributeType": "S"} for name in ("pk", "sk", "kind")
        ],
        KeySchema=[
            {"AttributeName": "pk", "KeyType": "HASH"},
            {"AttributeName": "sk", "KeyType": "RANGE"},
        ],
        GlobalSecondaryIndexes=[
            {
                "IndexName": "ByKind",
                "KeySchema": [
                    {"AttributeName": "kind", "KeyType": "HASH"},
                    {"AttributeName": "sk", "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "ALL"},
            }
        ],
    )
    for start in range(0, ITEMS, 25):
        puts = [
            {
                "PutRequest": {
                    "Item": {
                        "pk": {"S": f"user-{n % 7}"},
                        "sk": {"S": f"{n:05d}"},
                        "kind": {"S": f"k{n % 3}"},
                    }
                }
            }
            for n in range(start, start + 25)
        ]
        client.batch_write_item(RequestItems={"walks": puts})


def read(client: Any) -> None:
    page = client.query(
        TableName="walks",
        KeyConditionExpression="pk = :p",
        ExpressionAttributeValues={":p": {"S": "user-3"}},
        Limit=20,
        ScanIndexForward=False,
    )
    assert page["Count"] == 20, page["Count"]
    page = client.query(
        TableName="walks",
        IndexName="ByKind",
        KeyConditionExpression="kind = :k AND sk > :s",
        ExpressionAttributeValues={":k": {"S": "k1"}, ":s": {"S": "00100"}},
        Limit=20,
    )
    assert page["Count"] == 20, page["Count"]
    seen, request = 0, {"TableName": "walks", "Limit": 150}
    while True:
        page = client.scan(**request)
        seen += page["Count"]
        if "LastEvaluatedKey" not in page:
            break
        request["ExclusiveStartKey"] = page["LastEvaluatedKey"]
    assert seen == ITEMS, seen


def main(mode: str) -> None:
    if mode == "patched":
        import engine.patches

        engine.patches.install_all()
    with mock_aws():
        client = boto3.client("dynamodb", region_name="ap-northeast-1")
        create(client)
        Table.all_items = walk  # type: ignore[method-assign]
        Table.sorted_items = walk  # type: ignore[method-assign,assignment]
        read(client)


if __name__ == "__main__":
    main(sys.argv[1])
