"""Expressions kept per text (`engine.expressions`) answer exactly as stock moto parses them anew.

The same expression texts are sent again and again with other values, against other items, in
UpdateItem, PutItem, DeleteItem, Query and TransactWriteItems, to a stock moto server and to the
patched one: every answer, refusals and errors included, must be the same. Each round reuses
the texts of the round before, so the second and later rounds run on kept trees and tokens; a
kept tree changed by one request would change the next request's answer. Some texts come with
two sets of names, one that passes the checks of the text and one that is refused by them.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from botocore.client import BaseClient

from tests.integration.engine_servers import answer, moto_server

TABLE = "expressions"
Pair = tuple[BaseClient, BaseClient]


@pytest.fixture(scope="module")
def servers() -> Iterator[Pair]:
    with moto_server(patched=False) as stock, moto_server(patched=True) as patched:
        pair = (stock.client(), patched.client())
        for client in pair:
            client.create_table(
                TableName=TABLE,
                KeySchema=[
                    {"AttributeName": "pk", "KeyType": "HASH"},
                    {"AttributeName": "sk", "KeyType": "RANGE"},
                ],
                AttributeDefinitions=[
                    {"AttributeName": "pk", "AttributeType": "S"},
                    {"AttributeName": "sk", "AttributeType": "S"},
                ],
                BillingMode="PAY_PER_REQUEST",
            )
        yield pair


def both(pair: Pair, operation: str, **params: Any) -> dict[str, Any]:
    stock, patched = (answer(client, operation, params) for client in pair)
    assert patched == stock, f"{operation} {params}"
    return stock


def key(pk: str, sk: str = "a") -> dict[str, Any]:
    return {"pk": {"S": pk}, "sk": {"S": sk}}


def n(value: int) -> dict[str, str]:
    return {"N": str(value)}


# (UpdateExpression, ConditionExpression or None, names, values of round r)
UPDATES: list[tuple[str, str | None, dict[str, str], Any]] = [
    # the like protocol as PynamoDB writes it
    (
        "SET #2 = :1, #0 = :2, #3 = :3 ADD #5 :6",
        "((#0 = :0 OR attribute_not_exists (#0)) AND attribute_not_exists (#1))",
        {"#0": "liked", "#1": "pending", "#2": "user", "#3": "at", "#5": "version"},
        lambda r: {
            ":0": {"BOOL": r % 2 == 0},
            ":1": {"S": f"u{r}"},
            ":2": {"BOOL": r % 2 == 1},
            ":3": {"S": f"2026-12-0{r % 9 + 1}"},
            ":6": n(1),
        },
    ),
    (
        "ADD #1 :1, #0 :2",
        "(NOT contains (#0, :0))",
        {"#0": "inflight", "#1": "count"},
        lambda r: {":0": {"S": f"t{r % 3}"}, ":1": n(r - 2), ":2": {"SS": [f"t{r % 3}"]}},
    ),
    (
        "DELETE #1 :0",
        "attribute_exists (#0)",
        {"#0": "pk", "#1": "inflight"},
        lambda r: {":0": {"SS": [f"t{(r + 1) % 3}"]}},
    ),
    (
        "REMOVE #1, #2",
        "#0 = :0",
        {"#0": "version", "#1": "pending", "#2": "at"},
        lambda r: {":0": n(r)},
    ),
    # arithmetic, functions, nested paths and lists
    (
        "SET #c = if_not_exists(#c, :zero) + :d, #l = list_append(if_not_exists(#l, :empty), :x)",
        None,
        {"#c": "count", "#l": "log"},
        lambda r: {":zero": n(0), ":d": n(r), ":empty": {"L": []}, ":x": {"L": [n(r)]}},
    ),
    (
        "SET #m = :m, #m.#k[0] = :v",
        "size(#l) > :s OR attribute_type(#c, :t)",
        {"#m": "map", "#k": "list", "#l": "log", "#c": "count"},
        lambda r: {
            ":m": {"M": {"list": {"L": [n(0), n(1)]}}},
            ":v": {"S": f"v{r}"},
            ":s": n(r % 4),
            ":t": {"S": "N" if r % 2 else "S"},
        },
    ),
    (
        "SET #c = #c - :d",
        "#c BETWEEN :lo AND :hi",
        {"#c": "count"},
        lambda r: {":d": n(1), ":lo": n(-100), ":hi": n(r * 3)},
    ),
    (
        "SET #c = :v",
        "#c IN (:a, :b) OR begins_with(#u, :p)",
        {"#c": "count", "#u": "user"},
        lambda r: {":v": n(r), ":a": n(r), ":b": n(r + 1), ":p": {"S": "u"}},
    ),
    # refused by the validators, at the same step as stock moto
    ("SET #a = :v SET #b = :v", None, {"#a": "a", "#b": "b"}, lambda r: {":v": n(r)}),
    ("SET #a = :v REMOVE #a", None, {"#a": "a"}, lambda r: {":v": n(r)}),
    # the same text passes with one set of names and is refused with another
    ("SET #k = :v", None, {"#k": "other"}, lambda r: {":v": {"S": "x"}}),
    ("SET #k = :v", None, {"#k": "sk"}, lambda r: {":v": {"S": "x"}}),
    ("SET #a = :v, #b = :w", None, {"#a": "x", "#b": "y"}, lambda r: {":v": n(r), ":w": n(1)}),
    ("SET #a = :v, #b = :w", None, {"#a": "x", "#b": "x"}, lambda r: {":v": n(r), ":w": n(1)}),
    ("ADD #a :v", None, {"#a": "user"}, lambda r: {":v": n(r)}),
    ("SET #a = :missing", None, {"#a": "a"}, lambda r: {":v": n(r)}),
    ("SET #a = :v", "#c > :v", {"#a": "a", "#c": "nothing"}, lambda r: {":v": n(r)}),
    ("SET #a = :v, #a.b = :v", None, {"#a": "a"}, lambda r: {":v": n(r)}),
    ("SET = :v", None, {}, lambda r: {":v": n(r)}),
    ("SET #a = :v", "#a = = :v", {"#a": "a"}, lambda r: {":v": n(r)}),
]


@pytest.mark.parametrize("rounds", [6])
def test_kept_expressions_answer_every_round_as_stock_moto_does(servers: Pair, rounds: int) -> None:
    for r in range(rounds):
        for number, (update, condition, names, values) in enumerate(UPDATES):
            params: dict[str, Any] = {
                "TableName": TABLE,
                "Key": key(f"item{number % 3}", f"s{r % 2}"),
                "UpdateExpression": update,
                "ExpressionAttributeNames": names,
                "ExpressionAttributeValues": values(r),
                "ReturnValues": ("ALL_NEW", "UPDATED_OLD", "NONE")[r % 3],
            }
            if condition:
                params["ConditionExpression"] = condition
            both(servers, "update_item", **params)
        both(
            servers,
            "put_item",
            TableName=TABLE,
            Item={**key("item0", f"p{r}"), "count": n(r)},
            ConditionExpression="attribute_not_exists (#p) OR #c < :c",
            ExpressionAttributeNames={"#p": "pk", "#c": "count"},
            ExpressionAttributeValues={":c": n(r)},
        )
        both(
            servers,
            "delete_item",
            TableName=TABLE,
            Key=key("item0", f"p{r - 1}"),
            ConditionExpression="#c = :c",
            ExpressionAttributeNames={"#c": "count"},
            ExpressionAttributeValues={":c": n(r - 1)},
            ReturnValues="ALL_OLD",
        )
        both(
            servers,
            "transact_write_items",
            TransactItems=[
                {
                    "Update": {
                        "TableName": TABLE,
                        "Key": key("item1", f"t{r % 2}"),
                        "UpdateExpression": "ADD #1 :1, #0 :2",
                        "ConditionExpression": "(NOT contains (#0, :0))",
                        "ExpressionAttributeNames": {"#0": "inflight", "#1": "count"},
                        "ExpressionAttributeValues": {
                            ":0": {"S": f"t{r % 2}"},
                            ":1": n(1),
                            ":2": {"SS": [f"t{r}"]},
                        },
                    }
                }
            ],
        )
        for partition in ("item0", "item1", "item2"):
            both(
                servers,
                "query",
                TableName=TABLE,
                KeyConditionExpression="#p = :p",
                FilterExpression="attribute_exists (#c) AND NOT contains (#i, :t)",
                ExpressionAttributeNames={"#p": "pk", "#c": "count", "#i": "inflight"},
                ExpressionAttributeValues={":p": {"S": partition}, ":t": {"S": f"t{r % 3}"}},
                ConsistentRead=True,
            )
