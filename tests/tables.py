"""The small pk/sk tables the engine and snapshot tests create: one request shape for all."""

from __future__ import annotations

from typing import Any


def pk_sk_table(name: str, *, sk_type: str = "S", kind_index: str | None = None) -> dict[str, Any]:
    """CreateTable parameters: string `pk`, `sk` of `sk_type`, on demand; with `kind_index`
    (a projection type), also a GSI `KindIndex` on the string attribute `kind`."""
    request: dict[str, Any] = {
        "TableName": name,
        "KeySchema": [
            {"AttributeName": "pk", "KeyType": "HASH"},
            {"AttributeName": "sk", "KeyType": "RANGE"},
        ],
        "AttributeDefinitions": [
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": sk_type},
        ],
        "BillingMode": "PAY_PER_REQUEST",
    }
    if kind_index is not None:
        request["AttributeDefinitions"].append({"AttributeName": "kind", "AttributeType": "S"})
        request["GlobalSecondaryIndexes"] = [
            {
                "IndexName": "KindIndex",
                "KeySchema": [{"AttributeName": "kind", "KeyType": "HASH"}],
                "Projection": {"ProjectionType": kind_index},
            }
        ]
    return request
