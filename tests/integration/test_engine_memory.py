"""The engine's memory stays flat over a long session; stock moto's grows with every request.

moto keeps every model instance it ever creates (`instances_tracked`), including each item it
copies into a Scan page and each copy of a table a transaction makes for its rollback. The
engine stops that for DynamoDB: 200 full Scans and 200 transactions on a 2,000-item table must
grow it by less than 60 MB, while stock moto grows by more than that in a fraction of the work.
"""

from __future__ import annotations

from botocore.client import BaseClient

from tests.integration.engine_servers import Server, moto_server

TABLE = "memory"
ITEMS = 2_000
BOUND_MB = 60.0


def load(client: BaseClient) -> None:
    client.create_table(
        TableName=TABLE,
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
    )
    for start in range(0, ITEMS, 25):
        requests = [
            {"PutRequest": {"Item": {"pk": {"S": f"item-{n:05d}"}, "body": {"S": "x" * 150}}}}
            for n in range(start, start + 25)
        ]
        client.batch_write_item(RequestItems={TABLE: requests})


def full_scan(client: BaseClient) -> int:
    """Every item read and copied by the engine; only the count travels (the response's
    serialization is not what is measured)."""
    count, request = 0, {"TableName": TABLE, "Select": "COUNT"}
    while True:
        page = client.scan(**request)
        count += page["Count"]
        if "LastEvaluatedKey" not in page:
            return count
        request["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def transaction(client: BaseClient, number: int) -> None:
    client.transact_write_items(
        TransactItems=[
            {"Put": {"TableName": TABLE, "Item": {"pk": {"S": f"tx-{number % 10}-a"}}}},
            {"Put": {"TableName": TABLE, "Item": {"pk": {"S": f"tx-{number % 10}-b"}}}},
        ]
    )


def growth_mb(server: Server, rounds: int) -> float:
    """Load, warm up, then RSS growth over `rounds` full Scans and `rounds` transactions."""
    client = server.client()
    load(client)
    for number in range(5):
        full_scan(client)
        transaction(client, number)
    before = server.rss_mb()
    for number in range(rounds):
        assert full_scan(client) >= ITEMS
        transaction(client, number)
    return server.rss_mb() - before


def test_200_scans_and_transactions_leave_the_engine_flat_and_stock_moto_not() -> None:
    with moto_server(patched=True) as patched:
        engine_growth = growth_mb(patched, 200)
    with moto_server(patched=False) as stock:
        stock_growth = growth_mb(stock, 30)
    assert engine_growth < BOUND_MB, f"the engine grew by {engine_growth:.1f} MB"
    assert stock_growth > BOUND_MB > engine_growth, f"stock moto grew by {stock_growth:.1f} MB"
