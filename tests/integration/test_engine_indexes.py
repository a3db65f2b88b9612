"""The engine's sorted partitions: reads never walk the table, and stay right under concurrency.

The first test runs `walk_probe` in a child process (the patches change moto's classes for a
whole process, so the test's own process stays stock): after the writes, moto's whole-table
walks (`Table.all_items`, `Table.sorted_items`) are made to fail, then Query and Scan pages on
the table and on an index are read. The engine never calls them; stock moto always does.
"""

from __future__ import annotations

import subprocess
import sys
import threading
from typing import Any

import pytest

from tests.integration.engine_servers import ROOT, moto_server


@pytest.mark.parametrize(("engine", "walks"), [("patched", False), ("stock", True)])
def test_query_and_scan_pages_never_walk_the_table(engine: str, walks: bool) -> None:
    run = subprocess.run(
        [sys.executable, "-m", "tests.integration.walk_probe", engine],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert ("a read walked the whole table" in run.stderr) is walks, run.stderr[-2000:]
    assert (run.returncode != 0) is walks


def test_reads_during_concurrent_writes_see_a_sorted_partition() -> None:
    """Eight writers and four readers at once: no error, every page in order, and at the end
    the partition holds exactly what was written (on the table and on the index)."""
    errors: list[BaseException] = []
    with moto_server(patched=True) as server:
        setup = server.client()
        setup.create_table(
            TableName="busy",
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
                    "KeySchema": [{"AttributeName": "kind", "KeyType": "HASH"}],
                    "Projection": {"ProjectionType": "KEYS_ONLY"},
                }
            ],
        )

        def guarded(work: Any) -> Any:
            def run(*args: Any) -> None:
                try:
                    work(*args)
                except BaseException as error:  # noqa: BLE001 - collected for the assertion
                    errors.append(error)

            return run

        @guarded
        def write(writer: int) -> None:
            client = server.client()
            for n in range(40):
                item = {"pk": {"S": "hot"}, "sk": {"S": f"{writer}-{n:03d}"}, "kind": {"S": "x"}}
                client.put_item(TableName="busy", Item=item)
                if n % 4 == 0:
                    client.delete_item(TableName="busy", Key={"pk": item["pk"], "sk": item["sk"]})

        @guarded
        def read(_reader: int) -> None:
            client = server.client()
            for _ in range(40):
                page = client.query(
                    TableName="busy",
                    KeyConditionExpression="pk = :p",
                    ExpressionAttributeValues={":p": {"S": "hot"}},
                )
                keys = [item["sk"]["S"] for item in page["Items"]]
                assert keys == sorted(keys)

        threads = [threading.Thread(target=write, args=(n,)) for n in range(8)]
        threads += [threading.Thread(target=read, args=(n,)) for n in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert errors == []
        expected = sorted(f"{w}-{n:03d}" for w in range(8) for n in range(40) if n % 4)
        for index in (None, "ByKind"):
            request: dict[str, Any] = {
                "TableName": "busy",
                "KeyConditionExpression": "pk = :p" if index is None else "kind = :p",
                "ExpressionAttributeValues": {":p": {"S": "hot" if index is None else "x"}},
            }
            if index:
                request["IndexName"] = index
            found = [item["sk"]["S"] for item in setup.query(**request)["Items"]]
            assert found == expected, index
