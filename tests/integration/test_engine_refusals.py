"""Requests where the engine answered HTTP 500 and DynamoDB answers plainly.

Found by running moto's own DynamoDB tests against the engine (a transaction entry with two
operations: `test_transact_write_items_multiple_operations_fail`) and by a legacy QueryFilter
on an attribute some items lack (stock moto answers 500 there too).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.client import BaseClient
from botocore.exceptions import ClientError


@pytest.fixture
def client(engine_endpoint: str) -> BaseClient:
    return boto3.client(
        "dynamodb",
        endpoint_url=engine_endpoint,
        region_name="ap-northeast-1",
        aws_access_key_id="local",
        aws_secret_access_key="local",
    )


@pytest.fixture
def table(client: BaseClient) -> Iterator[str]:
    name = f"refusals-{uuid.uuid4().hex[:8]}"
    client.create_table(
        TableName=name,
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": a, "AttributeType": "S"} for a in ("pk", "sk")],
        KeySchema=[
            {"AttributeName": "pk", "KeyType": "HASH"},
            {"AttributeName": "sk", "KeyType": "RANGE"},
        ],
    )
    yield name
    client.delete_table(TableName=name)


def item(sk: str, **extra: str) -> dict[str, Any]:
    return {"pk": {"S": "p"}, "sk": {"S": sk}, **{k: {"S": v} for k, v in extra.items()}}


@pytest.mark.stock_moto
def test_a_transaction_entry_with_two_operations_is_a_validation_error(
    client: BaseClient, table: str
) -> None:
    key = {"pk": {"S": "p"}, "sk": {"S": "both"}}
    with pytest.raises(ClientError) as refused:
        client.transact_write_items(
            TransactItems=[
                {
                    "Put": {"TableName": table, "Item": item("both")},
                    "Delete": {"TableName": table, "Key": key},
                }
            ]
        )
    error = refused.value.response
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert error["Error"]["Code"] == "ValidationException"
    assert "TransactItems can only contain one of" in error["Error"]["Message"]
    assert "Item" not in client.get_item(TableName=table, Key=key, ConsistentRead=True)


def test_a_query_filter_on_an_attribute_an_item_lacks_leaves_that_item_out(
    client: BaseClient, table: str
) -> None:
    client.put_item(TableName=table, Item=item("tagged", colour="red"))
    client.put_item(TableName=table, Item=item("bare"))
    keys = {"pk": {"AttributeValueList": [{"S": "p"}], "ComparisonOperator": "EQ"}}

    def matching(operator: str, *values: str) -> list[str]:
        condition = {
            "ComparisonOperator": operator,
            "AttributeValueList": [{"S": value} for value in values],
        }
        answer = client.query(
            TableName=table,
            KeyConditions=keys,
            QueryFilter={"colour": condition},
            ConsistentRead=True,
        )
        return [found["sk"]["S"] for found in answer["Items"]]

    assert matching("EQ", "red") == ["tagged"]
    assert matching("NOT_NULL") == ["tagged"]
    assert matching("NULL") == ["bare"]


def test_a_query_filter_on_a_multi_attribute_index_key_leaves_items_without_it_out(
    client: BaseClient,
) -> None:
    """The same filter where moto's own Query loop answers (an index whose partition key has
    two attributes): stock moto answers HTTP 500 there too. `Limit` counts the items evaluated,
    before the filter, as in DynamoDB."""
    name = f"refusals-multi-{uuid.uuid4().hex[:8]}"
    client.create_table(
        TableName=name,
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[
            {"AttributeName": a, "AttributeType": "S"} for a in ("pk", "sk", "a", "b")
        ],
        KeySchema=[
            {"AttributeName": "pk", "KeyType": "HASH"},
            {"AttributeName": "sk", "KeyType": "RANGE"},
        ],
        GlobalSecondaryIndexes=[
            {
                "IndexName": "ByAB",
                "KeySchema": [
                    {"AttributeName": "a", "KeyType": "HASH"},
                    {"AttributeName": "b", "KeyType": "HASH"},
                ],
                "Projection": {"ProjectionType": "ALL"},
            }
        ],
    )
    try:
        for pk, extra in (("1", {"colour": "red"}), ("2", {}), ("3", {"colour": "blue"})):
            attributes = {"pk": pk, "sk": "s", "a": "A", "b": "B", **extra}
            client.put_item(TableName=name, Item={k: {"S": v} for k, v in attributes.items()})
        keys = {
            attr: {"AttributeValueList": [{"S": attr.upper()}], "ComparisonOperator": "EQ"}
            for attr in ("a", "b")
        }

        def matching(operator: str, *values: str, **limit: int) -> tuple[set[str], int]:
            condition = {
                "ComparisonOperator": operator,
                "AttributeValueList": [{"S": value} for value in values],
            }
            answer: dict[str, Any] = {"LastEvaluatedKey": None}
            found: set[str] = set()
            scanned = 0
            start: dict[str, Any] = {}
            while "LastEvaluatedKey" in answer:
                answer = client.query(
                    TableName=name,
                    IndexName="ByAB",
                    KeyConditions=keys,
                    QueryFilter={"colour": condition},
                    **limit,
                    **start,
                )
                found |= {item["pk"]["S"] for item in answer["Items"]}
                scanned += answer["ScannedCount"]
                start = {"ExclusiveStartKey": answer.get("LastEvaluatedKey", {})}
            return found, scanned

        # The index is eventually consistent: wait until all three items are in it.
        deadline = time.monotonic() + 10
        while matching("NOT_NULL")[1] < 3 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert matching("EQ", "red") == ({"1"}, 3)
        assert matching("NOT_NULL") == ({"1", "3"}, 3)
        assert matching("NULL") == ({"2"}, 3)
        assert matching("NULL", Limit=1) == ({"2"}, 3)
    finally:
        client.delete_table(TableName=name)
