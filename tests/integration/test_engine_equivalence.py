"""The patched engine answers Query and Scan exactly as stock moto does.

Hypothesis draws a table (key types, up to two global and one local secondary index, each with
its own projection), fills it through every write path (BatchWriteItem, PutItem, UpdateItem
that moves index keys or resizes the item, DeleteItem, TransactWriteItems that commit or roll
back, UpdateTable adding an index), then sends random Query and Scan requests (sort-key
conditions, Limit, direction, FilterExpression, ProjectionExpression, Select=COUNT, segments,
ExclusiveStartKey taken from a previous page, from an item or made up) to a stock moto server
and to a patched one, both over HTTP. Every response, errors included, must be identical
(ConsumedCapacity aside: the patched engine reports AWS's figures on purpose).

`make test` runs ENGINE_EQUIVALENCE_EXAMPLES (default 120) examples; set it higher for a
longer hunt, e.g. ENGINE_EQUIVALENCE_EXAMPLES=2000.
"""

from __future__ import annotations

import itertools
import os
import random
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from botocore.client import BaseClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.integration.engine_servers import answer, moto_server

EXAMPLES = int(os.environ.get("ENGINE_EQUIVALENCE_EXAMPLES", "120"))
PAGES = 4
_names = itertools.count()

POOLS: dict[str, list[Any]] = {
    "S": ["a", "ab", "abc", "b", "ba", "c", "é", "z~"],
    "N": ["-3", "-1.5", "0", "1", "1.0", "2", "10", "25.25"],
    "B": [b"\x00", b"a", b"ab", b"b", b"\x7f", b"\xff"],
}
Pair = tuple[BaseClient, BaseClient]


@pytest.fixture(scope="module")
def servers() -> Iterator[Pair]:
    with moto_server(patched=False) as stock, moto_server(patched=True) as patched:
        yield stock.client(), patched.client()


def both(pair: Pair, operation: str, *, compare: bool = True, **params: Any) -> dict[str, Any]:
    """Send one request to both servers and check they answered alike; return the answer.

    Table descriptions carry creation times, so for table operations only errors are compared.
    """
    with ThreadPoolExecutor(max_workers=2) as pool:
        stock, patched = pool.map(lambda client: answer(client, operation, params), pair)
    if compare:
        assert patched == stock, f"{operation} {params}"
    else:
        assert patched.get("error") == stock.get("error"), f"{operation} {params}"
    return stock


# -- tables ---------------------------------------------------------------------------------


@st.composite
def schemas(draw: st.DrawFn) -> dict[str, Any]:
    types = {name: draw(st.sampled_from("SNB")) for name in ("pk", "sk", "g1", "g2", "l1")}
    has_range = draw(st.booleans())
    gsis = []
    if draw(st.booleans()):
        gsis.append(
            ("Gsi1", "g1", draw(st.sampled_from([None, "g2", "sk" if has_range else None])))
        )
    if draw(st.booleans()):
        gsis.append(("Gsi2", "g2", draw(st.sampled_from([None, "g1"]))))
    lsi = has_range and draw(st.booleans())
    projections = {name: draw(projection()) for name in ("Gsi1", "Gsi2", "Lsi1", "Late")}
    return {
        "types": types,
        "range": has_range,
        "gsis": gsis,
        "lsi": lsi,
        "projections": projections,
    }


def projection() -> st.SearchStrategy[dict[str, Any]]:
    return st.sampled_from(
        [
            {"ProjectionType": "ALL"},
            {"ProjectionType": "KEYS_ONLY"},
            {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["v"]},
        ]
    )


def _key(name: str, kind: str) -> dict[str, str]:
    return {"AttributeName": name, "KeyType": kind}


def _index(name: str, hash_key: str, range_key: str | None, schema: dict[str, Any]) -> dict:
    keys = [_key(hash_key, "HASH")] + ([_key(range_key, "RANGE")] if range_key else [])
    return {"IndexName": name, "KeySchema": keys, "Projection": schema["projections"][name]}


def create_table(pair: Pair, name: str, schema: dict[str, Any]) -> None:
    keys = [_key("pk", "HASH")] + ([_key("sk", "RANGE")] if schema["range"] else [])
    used = {"pk"} | ({"sk"} if schema["range"] else set())
    params: dict[str, Any] = {"TableName": name, "BillingMode": "PAY_PER_REQUEST"}
    if schema["gsis"]:
        params["GlobalSecondaryIndexes"] = [
            _index(index, h, r, schema) for index, h, r in schema["gsis"]
        ]
        used |= {a for _, h, r in schema["gsis"] for a in (h, r) if a}
    if schema["lsi"]:
        params["LocalSecondaryIndexes"] = [_index("Lsi1", "pk", "l1", schema)]
        used.add("l1")
    definitions = [{"AttributeName": a, "AttributeType": schema["types"][a]} for a in used]
    both(
        pair,
        "create_table",
        compare=False,
        KeySchema=keys,
        AttributeDefinitions=definitions,
        **params,
    )


# -- items and writes -----------------------------------------------------------------------


def value(kind: str) -> st.SearchStrategy[dict[str, Any]]:
    return st.sampled_from(POOLS[kind]).map(lambda v: {kind: v})


@st.composite
def items(draw: st.DrawFn, schema: dict[str, Any], big: bool) -> dict[str, Any]:
    types = schema["types"]
    item = {"pk": draw(value(types["pk"]))}
    if schema["range"]:
        item["sk"] = draw(value(types["sk"]))
    for name in ("g1", "g2", "l1"):
        if draw(st.integers(0, 9)) < 7:
            wrong = draw(st.integers(0, 60)) == 0  # moto accepts a key of the wrong type
            kind = draw(st.sampled_from("SNB")) if wrong else types[name]
            item[name] = draw(value(kind))
    if draw(st.booleans()):
        item["v"] = {"N": str(draw(st.integers(-5, 5)))}
    item["p"] = {"S": draw(st.integers(100_000, 180_000) if big else st.integers(0, 300))}
    return item


def padded(item: dict[str, Any]) -> dict[str, Any]:
    """Items are drawn with the padding's length only, so a failure report stays readable."""
    return {**item, "p": {"S": "x" * item["p"]["S"]}}


def key_of(item: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    return {name: item[name] for name in ("pk", "sk") if name in item}


def write(pair: Pair, table: str, schema: dict[str, Any], data: st.DataObject, big: bool) -> None:
    batch = data.draw(st.lists(items(schema, big), max_size=6 if big else 40), label="batch")
    unique = {repr(sorted(key_of(i, schema).items())): i for i in batch}
    for chunk in _chunks(list(unique.values()), 10 if big else 25):
        both(
            pair,
            "batch_write_item",
            RequestItems={table: [{"PutRequest": {"Item": padded(i)}} for i in chunk]},
        )
    for _ in range(data.draw(st.integers(0, 6), label="writes")):
        kind = data.draw(st.sampled_from(["put", "update", "delete", "transact"]))
        item = data.draw(items(schema, big))
        key = key_of(item, schema)
        if kind == "put":
            returned = data.draw(st.sampled_from(["NONE", "ALL_OLD"]))
            both(pair, "put_item", TableName=table, Item=padded(item), ReturnValues=returned)
        elif kind == "update":
            moved = data.draw(st.sampled_from(["g1", "g2", "l1", "p"]))  # p: resized in place
            if data.draw(st.booleans()) and moved in item:
                both(
                    pair,
                    "update_item",
                    TableName=table,
                    Key=key,
                    UpdateExpression="SET #m = :m",
                    ExpressionAttributeNames={"#m": moved},
                    ExpressionAttributeValues={":m": padded(item)[moved]},
                    ReturnValues=data.draw(st.sampled_from(["NONE", "ALL_NEW", "UPDATED_OLD"])),
                )
            else:
                both(
                    pair,
                    "update_item",
                    TableName=table,
                    Key=key,
                    UpdateExpression=f"REMOVE {moved}",
                )
        elif kind == "delete":
            both(pair, "delete_item", TableName=table, Key=key)
        else:
            transact(pair, table, schema, data, item, big)


def transact(
    pair: Pair, table: str, schema: dict[str, Any], data: st.DataObject, item: dict, big: bool
) -> None:
    """Two puts; the second's condition may fail, and moto then swaps in a copy of the table."""
    other = data.draw(items(schema, big))
    condition = data.draw(st.sampled_from(["attribute_exists(pk)", "attribute_not_exists(pk)"]))
    both(
        pair,
        "transact_write_items",
        TransactItems=[
            {"Put": {"TableName": table, "Item": padded(item)}},
            {"Put": {"TableName": table, "Item": padded(other), "ConditionExpression": condition}},
        ],
    )


def add_index(pair: Pair, table: str, schema: dict[str, Any]) -> None:
    """UpdateTable creating an index over the items already there."""
    index = _index("Late", "g2", "g1", schema)
    types = schema["types"]
    definitions = [{"AttributeName": a, "AttributeType": types[a]} for a in ("g1", "g2")]
    both(
        pair,
        "update_table",
        compare=False,
        TableName=table,
        AttributeDefinitions=definitions,
        GlobalSecondaryIndexUpdates=[{"Create": index}],
    )
    schema["gsis"].append(("Late", "g2", "g1"))


def _chunks(values: list[Any], size: int) -> Iterator[list[Any]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


# -- reads ----------------------------------------------------------------------------------


def targets(schema: dict[str, Any]) -> list[tuple[str | None, str, str | None]]:
    """(index name, hash attribute, range attribute) of the table and each index."""
    found: list[tuple[str | None, str, str | None]] = [
        (None, "pk", "sk" if schema["range"] else None)
    ]
    found += [(name, h, r) for name, h, r in schema["gsis"]]
    if schema["lsi"]:
        found.append(("Lsi1", "pk", "l1"))
    return found


@st.composite
def start_keys(
    draw: st.DrawFn, schema: dict[str, Any], written: list[dict[str, Any]], target: tuple
) -> dict[str, Any] | None:
    """None, the keys of a written item, or keys made up from the value pools."""
    index, hash_attr, range_attr = target
    names = ["pk"] + (["sk"] if schema["range"] else [])
    names += [a for a in (hash_attr, range_attr) if a and a not in names]
    how = draw(st.sampled_from(["none", "none", "item", "made-up"]))
    if how == "none":
        return None
    if how == "item" and written:
        item = draw(st.sampled_from(written))
        return {name: item[name] for name in names if name in item}
    return {name: draw(value(schema["types"][name])) for name in names}


def common_options(draw: st.DrawFn, names: dict[str, str], values: dict[str, Any]) -> dict:
    options: dict[str, Any] = {}
    if draw(st.booleans()):
        options["Limit"] = draw(st.integers(1, 8))
    shape = draw(st.sampled_from(["none", "none", "filter", "project", "count"]))
    if shape == "filter":
        options["FilterExpression"] = draw(st.sampled_from(["v > :f", "attribute_exists(v)"]))
        if ":f" in options["FilterExpression"]:
            values[":f"] = {"N": str(draw(st.integers(-3, 3)))}
    elif shape == "project":
        options["ProjectionExpression"] = "pk, v, #g"
        names["#g"] = "g1"
    elif shape == "count":
        options["Select"] = "COUNT"
    return options


@st.composite
def queries(
    draw: st.DrawFn, table: str, schema: dict[str, Any], written: list[dict[str, Any]]
) -> dict[str, Any]:
    target = draw(st.sampled_from(targets(schema)))
    index, hash_attr, range_attr = target
    types = schema["types"]
    names = {"#h": hash_attr}
    values: dict[str, Any] = {":h": draw(value(types[hash_attr]))}
    if written and draw(st.booleans()):
        values[":h"] = draw(st.sampled_from(written)).get(hash_attr, values[":h"])
    condition = "#h = :h"
    if range_attr and draw(st.booleans()):
        names["#r"] = range_attr
        kind = types[range_attr]
        operators = ["=", "<", "<=", ">", ">=", "between"] + (["begins"] if kind != "N" else [])
        operator = draw(st.sampled_from(operators))
        values[":a"] = draw(value(kind))
        if operator == "between":
            values[":b"] = draw(value(kind))
            condition += " AND #r BETWEEN :a AND :b"
        elif operator == "begins":
            condition += " AND begins_with(#r, :a)"
        else:
            condition += f" AND #r {operator} :a"
    request: dict[str, Any] = {"TableName": table, "KeyConditionExpression": condition}
    request.update(common_options(draw, names, values))
    request["ScanIndexForward"] = draw(st.booleans())
    if index:
        request["IndexName"] = index
    start = draw(start_keys(schema, written, target))
    if start:
        request["ExclusiveStartKey"] = start
    request["ExpressionAttributeNames"] = names
    request["ExpressionAttributeValues"] = values
    return request


@st.composite
def scans(
    draw: st.DrawFn, table: str, schema: dict[str, Any], written: list[dict[str, Any]]
) -> dict[str, Any]:
    target = draw(st.sampled_from(targets(schema)))
    names: dict[str, str] = {}
    values: dict[str, Any] = {}
    request: dict[str, Any] = {"TableName": table}
    request.update(common_options(draw, names, values))
    if target[0]:
        request["IndexName"] = target[0]
    if draw(st.integers(0, 4)) == 0:
        total = draw(st.integers(1, 3))
        request.update(Segment=draw(st.integers(0, total - 1)), TotalSegments=total)
    start = draw(start_keys(schema, written, target))
    if start:
        request["ExclusiveStartKey"] = start
    if names:
        request["ExpressionAttributeNames"] = names
    if values:
        request["ExpressionAttributeValues"] = values
    return request


def get(
    pair: Pair, table: str, schema: dict[str, Any], data: st.DataObject, written: list[dict]
) -> None:
    """GetItem of a written item or of a made-up key, whole or projected."""
    if written and data.draw(st.booleans()):
        key = key_of(data.draw(st.sampled_from(written)), schema)
    else:
        key = key_of(data.draw(items(schema, big=False)), schema)
    request: dict[str, Any] = {"TableName": table, "Key": key}
    if data.draw(st.booleans()):
        request["ProjectionExpression"] = "pk, v"
    both(pair, "get_item", **request)


def read_pages(pair: Pair, operation: str, request: dict[str, Any]) -> None:
    """Follow LastEvaluatedKey for a few pages, comparing each page."""
    for _ in range(PAGES):
        page = both(pair, operation, **request)
        if "LastEvaluatedKey" not in page:
            return
        request = {**request, "ExclusiveStartKey": page["LastEvaluatedKey"]}


def written_items(pair: Pair, table: str) -> list[dict[str, Any]]:
    """The key and index attributes of every item (what requests are made from)."""
    items: list[dict[str, Any]] = []
    request: dict[str, Any] = {"TableName": table, "ProjectionExpression": "pk, sk, g1, g2, l1"}
    while True:
        page = both(pair, "scan", **request)
        items += page.get("Items", [])
        if "LastEvaluatedKey" not in page:
            return items
        request["ExclusiveStartKey"] = page["LastEvaluatedKey"]


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(schema=schemas(), data=st.data())
def test_query_and_scan_answer_exactly_as_stock_moto(
    servers: Pair, schema: dict[str, Any], data: st.DataObject
) -> None:
    table = f"equivalence-{next(_names)}"
    big = data.draw(st.integers(0, 9), label="big items") == 0
    create_table(servers, table, schema)
    try:
        write(servers, table, schema, data, big)
        if data.draw(st.integers(0, 7), label="add an index") == 0:
            add_index(servers, table, schema)
            write(servers, table, schema, data, big)
        written = written_items(servers, table)
        for _ in range(data.draw(st.integers(1, 6), label="reads")):
            kind = data.draw(st.integers(0, 5), label="read kind")
            if kind == 0:
                get(servers, table, schema, data, written)
            elif kind <= 2:
                read_pages(servers, "scan", data.draw(scans(table, schema, written)))
            else:
                read_pages(servers, "query", data.draw(queries(table, schema, written)))
    finally:
        both(servers, "delete_table", compare=False, TableName=table)


def sized_table(pair: Pair, table: str) -> None:
    """A table of `pk` (string) and `sk` (number) on both servers, for the page-size tests."""
    both(
        pair,
        "create_table",
        compare=False,
        TableName=table,
        BillingMode="PAY_PER_REQUEST",
        KeySchema=[_key("pk", "HASH"), _key("sk", "RANGE")],
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "N"},
        ],
    )


def every_page(pair: Pair, table: str, partitions: tuple[str, ...]) -> None:
    """Scan pages, then Query pages of each partition, compared page by page."""
    read_pages(pair, "scan", {"TableName": table})
    for partition in partitions:
        read_pages(
            pair,
            "query",
            {
                "TableName": table,
                "KeyConditionExpression": "pk = :pk",
                "ExpressionAttributeValues": {":pk": {"S": partition}},
            },
        )


def test_a_page_ends_where_stock_moto_ends_it_after_items_change_in_place(servers: Pair) -> None:
    """The engine keeps each item's size for the 1 MB page limit; every way an item changes
    in place (UpdateItem growing or shrinking it, one that fails half-way, a transaction's
    Update that commits or rolls back) must move the page's end exactly as stock moto moves it.
    Each Scan and Query below first sizes every item, so a size kept from before a change would
    end a page at the old place."""
    table = f"equivalence-sizes-{next(_names)}"
    sized_table(servers, table)

    def key(number: int) -> dict[str, Any]:
        return {"pk": {"S": "one"}, "sk": {"N": str(number)}}

    def pad(number: int, length: int) -> None:
        both(
            servers,
            "update_item",
            TableName=table,
            Key=key(number),
            UpdateExpression="SET p = :p",
            ExpressionAttributeValues={":p": {"S": "x" * length}},
        )

    def pages() -> None:
        every_page(servers, table, ("one",))

    try:
        for number in range(14):
            both(
                servers, "put_item", TableName=table, Item={**key(number), "p": {"S": "x" * 90_000}}
            )
        pages()
        pad(2, 300_000)  # grows in place: the first page ends earlier
        pages()
        pad(2, 10)  # shrinks in place: it ends later again
        pages()
        both(  # grows past moto's item limit half-way through its actions, and fails
            servers,
            "update_item",
            TableName=table,
            Key=key(3),
            UpdateExpression="SET q = :big, r = :big",
            ExpressionAttributeValues={":big": {"S": "y" * 250_000}},
        )
        pages()
        # the second Update's condition holds (the transaction commits), then fails (rolls back)
        for condition in ("attribute_exists(pk)", "attribute_not_exists(pk)"):
            both(
                servers,
                "transact_write_items",
                TransactItems=[
                    {
                        "Update": {
                            "TableName": table,
                            "Key": key(4),
                            "UpdateExpression": "SET p = :p",
                            "ExpressionAttributeValues": {":p": {"S": "z" * 200_000}},
                        }
                    },
                    {
                        "Update": {
                            "TableName": table,
                            "Key": key(5),
                            "UpdateExpression": "SET p = :p",
                            "ExpressionAttributeValues": {":p": {"S": "z" * 5}},
                            "ConditionExpression": condition,
                        }
                    },
                ],
            )
            pages()
        both(servers, "delete_item", TableName=table, Key=key(0))
        pages()
    finally:
        both(servers, "delete_table", compare=False, TableName=table)


def test_pages_end_where_stock_moto_ends_them_after_items_resize_under_concurrent_scans(
    servers: Pair,
) -> None:
    """Writers resize items in place while scanners page through the table (each page keeps the
    sizes it takes): no size kept during the race may outlive it. Afterwards the final items are
    put into stock moto, and both servers must end every page at the same item."""
    stock, patched = servers
    table = f"equivalence-race-{next(_names)}"
    sized_table(servers, table)
    keys = [{"pk": {"S": f"p{n % 3}"}, "sk": {"N": str(n)}} for n in range(30)]
    try:
        for number, key in enumerate(keys):
            patched.put_item(TableName=table, Item={**key, "p": {"S": "x" * (40_000 + number)}})
        writing = threading.Event()
        writing.set()

        def write(seed: int) -> None:
            draw = random.Random(seed)
            for _ in range(40):
                patched.update_item(
                    TableName=table,
                    Key=draw.choice(keys),
                    UpdateExpression="SET p = :p",
                    ExpressionAttributeValues={":p": {"S": "y" * draw.randint(10, 120_000)}},
                )

        def scan() -> None:
            while writing.is_set():
                request: dict[str, Any] = {"TableName": table}
                while True:
                    page = patched.scan(**request)
                    if "LastEvaluatedKey" not in page:
                        break
                    request["ExclusiveStartKey"] = page["LastEvaluatedKey"]

        with ThreadPoolExecutor(max_workers=7) as pool:
            scanners = [pool.submit(scan) for _ in range(3)]
            for writer in [pool.submit(write, seed) for seed in range(4)]:
                writer.result()
            writing.clear()
            for scanner in scanners:
                scanner.result()
        for key in keys:
            item = patched.get_item(TableName=table, Key=key, ConsistentRead=True)["Item"]
            stock.put_item(TableName=table, Item=item)
        every_page(servers, table, ("p0", "p1", "p2"))
    finally:
        both(servers, "delete_table", compare=False, TableName=table)
