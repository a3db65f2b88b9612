"""The engine over HTTP, as any DynamoDB client sees it: atomic conditional writes, durable
acknowledged writes, TTL deletion and per-partition throttling.

Each test starts its own engine process (`python -m engine`) through the launcher, with the
options it needs.
"""

from __future__ import annotations

import os
import signal
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from botocore.client import BaseClient
from botocore.exceptions import ClientError

from engine.launcher import LocalEngine
from tests.tables import pk_sk_table

pytestmark = pytest.mark.integration

TABLE = "lab-faithful"


def create_table(client: BaseClient, *, name: str = TABLE, ttl: str | None = None) -> None:
    client.create_table(**pk_sk_table(name, kind_index="KEYS_ONLY"))
    if ttl:
        client.update_time_to_live(
            TableName=name, TimeToLiveSpecification={"AttributeName": ttl, "Enabled": True}
        )


def item(pk: str, sk: str, **extra: dict[str, Any]) -> dict[str, Any]:
    return {"pk": {"S": pk}, "sk": {"S": sk}, **extra}


def error_code(error: ClientError) -> str:
    return str(error.response["Error"]["Code"])


def scan_all(client: BaseClient) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    request: dict[str, Any] = {"TableName": TABLE, "ConsistentRead": True}
    while True:
        page = client.scan(**request)
        items += page["Items"]
        if "LastEvaluatedKey" not in page:
            return items
        request["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def race(threads: int, attempt: Callable[[int], bool]) -> int:
    """Run `attempt(i)` on `threads` threads released at once; count the True results."""
    start = threading.Barrier(threads)

    def run(number: int) -> bool:
        start.wait()
        return attempt(number)

    with ThreadPoolExecutor(threads) as pool:
        return sum(pool.map(run, range(threads)))


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalEngine]:
    """A durable engine with default options, shared by the tests that need nothing else."""
    directory = tmp_path_factory.mktemp("engine")
    with LocalEngine(directory / "engine.log", data_dir=directory / "data") as running:
        yield running


# -- one lock: conditional writes are atomic --------------------------------------------------


def test_conditional_writes_on_one_item_from_32_threads_have_exactly_one_winner_each(
    engine: LocalEngine,
) -> None:
    create_table(engine.client())
    client = engine.client(max_attempts=1)  # thread-safe, with a connection per thread

    def claim(key: str) -> Callable[[int], bool]:
        def attempt(number: int) -> bool:
            try:
                client.put_item(
                    TableName=TABLE,
                    Item=item(key, "claim", owner={"N": str(number)}),
                    ConditionExpression="attribute_not_exists(pk)",
                )
            except ClientError as error:
                assert error_code(error) == "ConditionalCheckFailedException"
                return False
            return True

        return attempt

    def bump_from(expected: int) -> Callable[[int], bool]:
        def attempt(number: int) -> bool:
            try:
                client.update_item(
                    TableName=TABLE,
                    Key={"pk": {"S": "counter"}, "sk": {"S": "n"}},
                    UpdateExpression="SET version = version + :one",
                    ConditionExpression="version = :expected",
                    ExpressionAttributeValues={
                        ":one": {"N": "1"},
                        ":expected": {"N": str(expected)},
                    },
                )
            except ClientError as error:
                assert error_code(error) == "ConditionalCheckFailedException"
                return False
            return True

        return attempt

    winners = [race(32, claim(f"item#{round_}")) for round_ in range(5)]
    engine.client().put_item(TableName=TABLE, Item=item("counter", "n", version={"N": "0"}))
    bumps = [race(32, bump_from(version)) for version in range(5)]

    assert winners == [1, 1, 1, 1, 1]
    assert bumps == [1, 1, 1, 1, 1]


# -- durable: kill -9 loses nothing acknowledged; a torn tail is dropped -----------------------


def test_kill_9_mid_writes_loses_no_acknowledged_write_and_a_torn_tail_is_dropped(
    tmp_path: Path,
) -> None:
    data = tmp_path / "data"
    log = tmp_path / "engine.log"
    engine = LocalEngine(log, data_dir=data)
    engine.start()
    create_table(engine.client())
    acknowledged: list[str] = []
    stop = threading.Event()

    client = engine.client(timeout=2, max_attempts=1)

    def writer(number: int) -> None:
        sequence = 0
        while not stop.is_set():
            key = f"writer#{number}#{sequence}"
            try:
                client.put_item(TableName=TABLE, Item=item(key, "v", body={"S": "x" * 200}))
            except Exception:  # noqa: BLE001 - the engine is being killed under us
                return
            acknowledged.append(key)
            sequence += 1

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(16)]
    for thread in threads:
        thread.start()
    time.sleep(1.5)
    assert engine.pid is not None
    os.kill(engine.pid, signal.SIGKILL)
    stop.set()
    for thread in threads:
        thread.join()
    journals = sorted(data.glob("journal-*.log"))
    with journals[-1].open("ab") as tail:
        tail.write(b'0badc0de {"op":"PutItem","region":"ap-nor')  # a write cut short

    engine.restart()
    try:
        stored = {entry["pk"]["S"] for entry in scan_all(engine.client())}
    finally:
        engine.stop()

    assert len(acknowledged) > 100
    assert set(acknowledged) <= stored
    assert "is incomplete" in log.read_text() and "dropped" in log.read_text()


# -- TTL ---------------------------------------------------------------------------------------


def test_expired_items_disappear_within_two_sweep_intervals(tmp_path: Path) -> None:
    with LocalEngine(tmp_path / "engine.log", data_dir=tmp_path / "data", ttl_interval=1) as engine:
        client = engine.client()
        create_table(client, ttl="expires_at")
        now = int(time.time())
        client.put_item(TableName=TABLE, Item=item("u", "past", expires_at={"N": str(now - 5)}))
        client.put_item(TableName=TABLE, Item=item("u", "soon", expires_at={"N": str(now + 1)}))
        client.put_item(TableName=TABLE, Item=item("u", "later", expires_at={"N": str(now + 600)}))
        client.put_item(TableName=TABLE, Item=item("u", "never"))

        def keys() -> list[str]:
            page = client.query(
                TableName=TABLE,
                KeyConditionExpression="pk = :u",
                ExpressionAttributeValues={":u": {"S": "u"}},
                ConsistentRead=True,
            )
            return [entry["sk"]["S"] for entry in page["Items"]]

        time.sleep(3.2)  # the item that expires in 1 s, plus two sweep intervals
        assert keys() == ["later", "never"]


# -- throttling ----------------------------------------------------------------------------------


def test_throttling_hits_only_the_hot_partitions(tmp_path: Path) -> None:
    # 1 WCU/s: after each write a partition rests for a second, longer than the next few
    # requests take. 1,024 partitions per table and index: the 30 cold keys (and their 30 index
    # keys) each land on a partition no other of them uses.
    with LocalEngine(tmp_path / "engine.log", partition_limit=1, partitions=1024) as engine:
        create_table(engine.client())
        client = engine.client(max_attempts=1)  # no retries: every refusal is seen

        def write(pk: str, kind: str = "cold") -> str:
            sk = uuid.uuid4().hex
            try:
                client.put_item(TableName=TABLE, Item=item(pk, sk, kind={"S": kind}))
            except ClientError as error:
                return error_code(error)
            return "ok"

        hot = [write("hot") for _ in range(30)]
        batch = client.batch_write_item(
            RequestItems={
                TABLE: [
                    *({"PutRequest": {"Item": item("hot", f"b{n}")}} for n in range(3)),
                    {"PutRequest": {"Item": item("fresh", "b")}},
                ]
            }
        )
        with pytest.raises(ClientError) as transaction:
            client.transact_write_items(
                TransactItems=[
                    {"Put": {"TableName": TABLE, "Item": item("hot", "t")}},
                    {"Put": {"TableName": TABLE, "Item": item("calm", "t")}},
                ]
            )
        cold = [write(f"cold#{number}", kind=f"kind#{number}") for number in range(30)]
        hot_index = [write(f"spread#{number}", kind="popular") for number in range(30)]

    throttled = "ProvisionedThroughputExceededException"
    assert hot[0] == "ok" and hot.count(throttled) >= 20
    assert set(cold) == {"ok"}
    assert throttled in hot_index  # one hot GSI partition throttles writes to distinct keys
    reasons = transaction.value.response["CancellationReasons"]
    assert [reason["Code"] for reason in reasons] == ["ThrottlingError", "None"]
    unprocessed = batch["UnprocessedItems"][TABLE]
    assert {entry["PutRequest"]["Item"]["pk"]["S"] for entry in unprocessed} == {"hot"}
    assert len(unprocessed) >= 2


def test_without_a_partition_limit_nothing_is_throttled(engine: LocalEngine) -> None:
    name = "lab-faithful-unlimited"
    create_table(engine.client(), name=name)
    client = engine.client(max_attempts=1)
    for number in range(50):
        client.put_item(TableName=name, Item=item("hot", str(number)))
