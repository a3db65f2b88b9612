"""Reads run beside each other and beside writes to other items; writes to one item stay atomic.

The engine's lock is shared by reads and held alone by writes (`engine.locking`). These tests
prove it by what was answered and in which order, not by how long it took (timings are the
benchmarks' business): GetItems that begin after a large Scan was sent and end before its answer
came back, which one lock for every request would not allow; and conditional writes racing on
one item while readers scan and read it, with exactly one winner per round and no reader ever
seeing the item go back.
"""

from __future__ import annotations

import http.client
import json
import os
import signal
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from botocore.client import BaseClient
from botocore.exceptions import ClientError

from engine.launcher import LocalEngine
from tests.tables import pk_sk_table

pytestmark = pytest.mark.integration

TABLE = "lab-concurrency"
SCANNED_ITEMS = 4_000
COUNTER = {"pk": {"S": "counter"}, "sk": {"S": "n"}}
PADDING = "x" * 200
SCAN_TARGET = "DynamoDB_20120810.Scan"
SIGNED_LIKE_BOTO3 = {  # the engine reads the region and the account's key from these
    "Content-Type": "application/x-amz-json-1.0",
    "Authorization": "AWS4-HMAC-SHA256 Credential=local/20260101/ap-northeast-1/dynamodb/"
    "aws4_request, SignedHeaders=host;x-amz-target, Signature=0",
}


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalEngine]:
    directory = tmp_path_factory.mktemp("engine")
    with LocalEngine(directory / "engine.log", data_dir=directory / "data") as running:
        client = running.client()
        client.create_table(**pk_sk_table(TABLE, kind_index="KEYS_ONLY"))
        _fill(client, SCANNED_ITEMS)
        client.put_item(TableName=TABLE, Item={**COUNTER, "version": {"N": "0"}})
        yield running


def _fill(client: BaseClient, count: int) -> None:
    for first in range(0, count, 25):
        requests = [{"PutRequest": {"Item": _item(number)}} for number in range(first, first + 25)]
        client.batch_write_item(RequestItems={TABLE: requests})


def _item(number: int) -> dict[str, Any]:
    return {
        "pk": {"S": f"user#{number % 200}"},
        "sk": {"S": f"{number:06d}"},
        "body": {"S": PADDING},
    }


def _scan_whole_table(endpoint: str, headers_arrived: threading.Event) -> int:
    """One Scan page holding every item, sent without boto3 so that the moment its answer
    starts to arrive is known: the engine sends the headers once the whole page is made."""
    url = urlsplit(endpoint)
    connection = http.client.HTTPConnection(url.hostname or "", url.port, timeout=120)
    body = json.dumps({"TableName": TABLE, "Limit": SCANNED_ITEMS + 1})
    connection.request("POST", "/", body, SIGNED_LIKE_BOTO3 | {"X-Amz-Target": SCAN_TARGET})
    response = connection.getresponse()
    headers_arrived.set()
    page = json.loads(response.read())
    connection.close()
    return int(page["Count"])


def test_get_items_are_answered_while_a_scan_page_is_being_made(engine: LocalEngine) -> None:
    """Under one lock for every request, a GetItem sent after the Scan took the lock waits
    until the Scan's page is made: none could both begin after the Scan was sent and end
    before its answer began (but the odd one slipping in before the Scan reached the lock)."""
    reader = engine.client(timeout=120)
    reader.get_item(TableName=TABLE, Key=COUNTER)  # the reader's connection is open already
    scan_sent, scan_answered = threading.Event(), threading.Event()
    scanned: list[int] = []

    def scan() -> None:
        scan_sent.set()
        try:
            scanned.append(_scan_whole_table(engine.endpoint, scan_answered))
        finally:
            scan_answered.set()

    within = 0
    thread = threading.Thread(target=scan)
    thread.start()
    scan_sent.wait()
    while not scan_answered.is_set():
        response = reader.get_item(TableName=TABLE, Key=_key(within))
        assert "Item" in response
        if not scan_answered.is_set():
            within += 1
    thread.join()

    assert scanned == [SCANNED_ITEMS + 1]  # every item and the counter, in one page
    assert within >= 5


def _key(number: int) -> dict[str, Any]:
    item = _item(number % SCANNED_ITEMS)
    return {"pk": item["pk"], "sk": item["sk"]}


def test_conditional_writes_to_one_item_stay_atomic_while_readers_scan_and_read_it(
    engine: LocalEngine,
) -> None:
    rounds, writers = 8, 16
    client = engine.client(max_attempts=1, timeout=120)
    stop = threading.Event()
    seen: dict[int, list[int]] = {}

    def read_counter(number: int) -> None:
        versions = seen.setdefault(number, [])
        while not stop.is_set():
            item = client.get_item(TableName=TABLE, Key=COUNTER, ConsistentRead=True)["Item"]
            versions.append(int(item["version"]["N"]))

    def scan_without_pause() -> None:
        while not stop.is_set():
            client.scan(TableName=TABLE, Limit=500)

    def bump_from(expected: int) -> bool:
        try:
            client.update_item(
                TableName=TABLE,
                Key=COUNTER,
                UpdateExpression="SET version = version + :one",
                ConditionExpression="version = :expected",
                ExpressionAttributeValues={":one": {"N": "1"}, ":expected": {"N": str(expected)}},
            )
        except ClientError as error:
            assert error.response["Error"]["Code"] == "ConditionalCheckFailedException"
            return False
        return True

    readers = [threading.Thread(target=read_counter, args=(n,)) for n in range(2)]
    readers += [threading.Thread(target=scan_without_pause) for _ in range(2)]
    for thread in readers:
        thread.start()
    try:
        winners = [_race(writers, lambda _n, v=version: bump_from(v)) for version in range(rounds)]
        time.sleep(0.1)  # the readers see the last version too
    finally:
        stop.set()
        for thread in readers:
            thread.join()

    final = client.get_item(TableName=TABLE, Key=COUNTER, ConsistentRead=True)["Item"]
    assert winners == [1] * rounds
    assert int(final["version"]["N"]) == rounds
    for versions in seen.values():
        assert versions == sorted(versions), "a reader saw the item go back to an older version"


def _race(threads: int, attempt: Any) -> int:
    """Run `attempt(i)` on `threads` threads released at once; count the True results."""
    start = threading.Barrier(threads)

    def run(number: int) -> bool:
        start.wait()
        return bool(attempt(number))

    with ThreadPoolExecutor(threads) as pool:
        return sum(pool.map(run, range(threads)))


def test_the_journal_holds_the_acknowledged_writes_in_the_order_they_were_acknowledged(
    tmp_path: Path,
) -> None:
    """One client's writes to one item, each sent once the previous one was acknowledged,
    while others scan: after `kill -9` (no last snapshot, so the journal alone) the item holds
    the last acknowledged value."""
    engine = LocalEngine(tmp_path / "engine.log", data_dir=tmp_path / "data")
    engine.start()
    try:
        client = engine.client()
        client.create_table(**pk_sk_table(TABLE, kind_index="KEYS_ONLY"))
        _fill(client, 500)
        stop = threading.Event()

        def scan_without_pause() -> None:
            while not stop.is_set():
                client.scan(TableName=TABLE)

        scanners = [threading.Thread(target=scan_without_pause) for _ in range(2)]
        for thread in scanners:
            thread.start()
        try:
            for value in range(50):
                client.put_item(TableName=TABLE, Item={**COUNTER, "version": {"N": str(value)}})
        finally:
            stop.set()
            for thread in scanners:
                thread.join()
        assert engine.pid is not None
        os.kill(engine.pid, signal.SIGKILL)
        engine.restart()
        item = engine.client().get_item(TableName=TABLE, Key=COUNTER, ConsistentRead=True)
    finally:
        engine.stop()
    assert item["Item"]["version"] == {"N": "49"}
