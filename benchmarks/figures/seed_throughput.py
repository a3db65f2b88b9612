"""Seeding throughput: `manage.py seed` items/s against a raw BatchWriteItem loop, same items.

The seed runs every context's seeder (as `manage.py seed` does) while every DynamoDB item it
puts is recorded below botocore. The same items are then written by a plain loop of
BatchWriteItem calls (25 per call, unprocessed items resent) into empty copies of the same
tables, so both write new items. The ratio is seed items/s over raw items/s; the target says
the seed adds at most a fifth over the writes it must make. The seed's time includes the work
that is not DynamoDB (password hashing, SQL rows), reported per seeder.

The seed keeps two batches in flight and the raw loop, as the target defines it, one at a
time. So the detail also gives the same items written two at a time: how much of the ratio
comes from keeping the server busy rather than from doing less.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from botocore.client import BaseClient

from benchmarks.environment import FULL_SEED, QUICK_SEED, Bench
from benchmarks.figures import Figure, ratio

ORDER = 10
TARGET = 0.8
BATCH = 25


@contextmanager
def recorded_puts() -> Iterator[dict[str, list[dict[str, Any]]]]:
    """Every item put through any botocore client inside the block, by table."""
    puts: dict[str, list[dict[str, Any]]] = {}
    original = BaseClient._make_api_call

    def spy(self: BaseClient, operation: str, params: dict[str, Any]) -> Any:
        if operation == "PutItem":
            puts.setdefault(params["TableName"], []).append(params["Item"])
        elif operation == "BatchWriteItem":
            for table, requests in params["RequestItems"].items():
                items = [r["PutRequest"]["Item"] for r in requests if "PutRequest" in r]
                puts.setdefault(table, []).extend(items)
        return original(self, operation, params)

    BaseClient._make_api_call = spy  # type: ignore[method-assign]
    try:
        yield puts
    finally:
        BaseClient._make_api_call = original  # type: ignore[method-assign]


def _copy_tables(client: Any, names: list[str], suffix: str) -> dict[str, str]:
    """Empty copies (same keys and indexes) of the seeded tables, for a raw loop."""
    copies = {}
    for name in names:
        table = client.describe_table(TableName=name)["Table"]
        request: dict[str, Any] = {
            "TableName": f"{name}-{suffix}",
            "KeySchema": table["KeySchema"],
            "AttributeDefinitions": table["AttributeDefinitions"],
            "BillingMode": "PAY_PER_REQUEST",
        }
        gsis = [
            {k: index[k] for k in ("IndexName", "KeySchema", "Projection")}
            for index in table.get("GlobalSecondaryIndexes", [])
        ]
        if gsis:
            request["GlobalSecondaryIndexes"] = gsis
        client.create_table(**request)
        copies[name] = request["TableName"]
    return copies


def _raw_loop(client: Any, puts: dict[str, list[dict[str, Any]]], copies: dict[str, str]) -> float:
    started = time.perf_counter()
    for table, items in puts.items():
        for start in range(0, len(items), BATCH):
            pending = [{"PutRequest": {"Item": item}} for item in items[start : start + BATCH]]
            while pending:
                response = client.batch_write_item(RequestItems={copies[table]: pending})
                pending = response.get("UnprocessedItems", {}).get(copies[table], [])
    return time.perf_counter() - started


def _raw_in_flight(
    client: Any, puts: dict[str, list[dict[str, Any]]], copies: dict[str, str]
) -> float:
    """The same items with as many batches in flight as the seed keeps (not the target's
    baseline: it shows how much of the ratio the seed owes to keeping the server busy)."""
    from shared.dynamo import batch_write
    from shared.seeding import BATCHES_IN_FLIGHT

    started = time.perf_counter()
    for table, items in puts.items():
        batch_write(client, copies[table], puts=items, in_flight=BATCHES_IN_FLIGHT)
    return time.perf_counter() - started


def _warm_up(clients: list[Any]) -> None:
    """A few batches into a scratch table through each client, untimed: the first calls of a
    process (botocore loading an operation's model, the engine's first write to a table) are
    start-up, and the seed, timed first, would otherwise pay them alone."""
    name = "bench-warm-up"
    clients[0].create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    for number, client in enumerate(clients):
        for start in range(0, 100, BATCH):
            items = [{"pk": {"S": f"{number}-{start + i}"}} for i in range(BATCH)]
            client.batch_write_item(
                RequestItems={name: [{"PutRequest": {"Item": item}} for item in items]}
            )
            client.batch_get_item(RequestItems={name: {"Keys": items[:10]}})
    clients[0].delete_table(TableName=name)


def measure(bench: Bench) -> list[Figure]:
    from shared.dynamo import bound_client
    from shared.seeding import SeedPlan, seeders

    client = bench.boto3_client()
    _warm_up([bound_client(), client])
    plan = SeedPlan(**bench.size(FULL_SEED, QUICK_SEED))
    seconds_by_seeder: dict[str, float] = {}
    with recorded_puts() as puts:
        for seeder in seeders():
            started = time.perf_counter()
            seeder.run(plan, lambda _done: None)
            seconds_by_seeder[seeder.label] = round(time.perf_counter() - started, 3)
    bench.remember_plan(plan)
    seed_seconds = sum(seconds_by_seeder.values())
    items = sum(len(batch) for batch in puts.values())
    raw_seconds = _raw_loop(client, puts, _copy_tables(client, sorted(puts), "raw"))
    in_flight_seconds = _raw_in_flight(client, puts, _copy_tables(client, sorted(puts), "pipe"))
    seed_rate, raw_rate = items / seed_seconds, items / raw_seconds
    detail = (
        f"{items} items: seed {seed_rate:,.0f}/s in {seed_seconds:.2f}s "
        f"({', '.join(f'{k} {v:.2f}s' for k, v in seconds_by_seeder.items())}); "
        f"raw BatchWriteItem {raw_rate:,.0f}/s in {raw_seconds:.2f}s; with the seed's "
        f"batches in flight {items / in_flight_seconds:,.0f}/s "
        f"(seed ÷ that {in_flight_seconds / seed_seconds:.2f})"
    )
    data = {
        "items": items,
        "items_by_table": {table: len(batch) for table, batch in puts.items()},
        "seed_seconds": round(seed_seconds, 3),
        "seconds_by_seeder": seconds_by_seeder,
        "raw_seconds": round(raw_seconds, 3),
        "raw_in_flight_seconds": round(in_flight_seconds, 3),
    }
    return [
        ratio(
            "seed items/s vs raw BatchWriteItem",
            seed_rate / raw_rate,
            at_least=TARGET,
            detail=detail,
            data=data,
        )
    ]
