"""The engine beside dynalite, the open-source peer a user would otherwise pick, in one run.

Both serve the same boto3 client (one attempt per call, nothing retried unseen) from child
processes of this one: the engine as `make run` starts it (durable, its journal synced before
each answer), dynalite from npm (`node_modules`, installed by `make run` where Node is), in
memory. Each gets a 50,000-item table with one GSI, filled by BatchWriteItem, then:

- GetItem, PutItem (overwriting an item with one of the same size) and a 20-item Query on the
  table and on the GSI: median latency, the two servers called in turn so that the load of the
  other processes on this machine falls on both alike; ours over dynalite's, at most 1.25x;
- BatchWriteItem fill and a full Scan in 1,000-item pages, a batch or a page to each server in
  turn: items per second, ours over dynalite's, at least 0.8x;
- resident memory once all that has run: ours over dynalite's, at most 1.5x;
- GetItem while four clients scan the table without pause, over GetItem alone: how much a
  read waits behind Scans (reported, not judged: the same ratio for dynalite stands beside it).

A write to our engine waits for `fdatasync` before it is answered; dynalite keeps everything in
memory and syncs nothing. So PutItem and the fill are also measured on a third server, the
engine started with `--no-fsync` (an acknowledged write still survives `kill -9`, which leaves
the kernel's page cache intact; a power loss may lose the last seconds), and the durable
figures' detail names the median `fdatasync` of this disk, measured in the same run: what
durability costs here, apart from what the engine's code costs.

Without Node or dynalite the figure is skipped with one line.
"""

from __future__ import annotations

import dataclasses
import os
import random
import shutil
import socket
import statistics
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmarks.environment import PROJECT_ROOT, free_port
from benchmarks.figures import Figure, ratio

ORDER = 60
DYNALITE = PROJECT_ROOT / "node_modules" / "dynalite" / "cli.js"
TABLE = "peer"
INDEX = "ByGroup"
PAGE = 20
SCAN_PAGE = 1_000
BATCH = 25
LATENCY_AT_MOST = 1.25
THROUGHPUT_AT_LEAST = 0.8
MEMORY_AT_MOST = 1.5
SCANNERS = 4
PER_PARTITION = 20
PER_GROUP = 50


@dataclass
class Server:
    name: str
    client: Any
    pid: int


def measure(bench: Any) -> list[Figure]:
    node = shutil.which("node")
    if node is None or not DYNALITE.exists():
        missing = "Node.js" if node is None else "dynalite (npm ci)"
        return [Figure("engine vs dynalite", f"skipped: {missing} is not installed", "-", None)]
    items = bench.size(50_000, 500)
    rounds = bench.size(300, 20)
    with (
        _engine(bench) as ours,
        _engine(bench, fsync=False) as unsynced,
        _dynalite(node) as peer,
    ):
        fill = _fill([ours, unsynced, peer], items)
        latency = _latencies([ours, unsynced, peer], items, rounds)
        scan = _scan([ours, peer])
        memory = {s.name: _rss_mb(s.pid) for s in (ours, peer)}
        contended = {s.name: _beside_scans(s.client, items, rounds // 3) for s in (ours, peer)}
        sync_ms = _datasync_ms(bench.data_dir / "peer-engine", rounds)
    at = f"{items:,} items, one GSI"  # what every figure's name says it was measured on
    figures = _figures(ours.name, peer.name, at, fill, latency, scan, memory, contended)
    return _with_durability(figures, unsynced.name, peer.name, at, fill, latency, sync_ms)


# -- the two servers ----------------------------------------------------------------------------


UNSYNCED = "engine --no-fsync"


@contextmanager
def _engine(bench: Any, *, fsync: bool = True) -> Iterator[Server]:
    from engine.launcher import LocalEngine

    name = "engine" if fsync else UNSYNCED
    directory = bench.data_dir / ("peer-engine" if fsync else "peer-engine-unsynced")
    with LocalEngine(data_dir=directory, fsync=fsync) as engine:
        assert engine.pid is not None
        yield Server(name, _client(engine.endpoint), engine.pid)


def _datasync_ms(directory: Path, rounds: int) -> float:
    """Median milliseconds of appending one journal-sized line and `fdatasync`ing it, in the
    engine's data directory (the same disk its journal is on)."""
    path = directory / "datasync-probe"
    line = b"x" * 400 + b"\n"
    samples = []
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    try:
        for _ in range(rounds):
            started = time.perf_counter()
            os.write(fd, line)
            os.fdatasync(fd)
            samples.append((time.perf_counter() - started) * 1000)
    finally:
        os.close(fd)
        path.unlink()
    return statistics.median(samples)


@contextmanager
def _dynalite(node: str) -> Iterator[Server]:
    port = free_port()
    command = [node, str(DYNALITE), "--host", "127.0.0.1", "--port", str(port)]
    command += ["--createTableMs", "0", "--deleteTableMs", "0", "--updateTableMs", "0"]
    process = subprocess.Popen(
        command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        _wait_for_port(port, process)
        yield Server("dynalite", _client(f"http://127.0.0.1:{port}"), process.pid)
    finally:
        process.terminate()
        process.wait(timeout=10)


def _wait_for_port(port: int, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and process.poll() is None:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"dynalite did not listen on port {port}")


def _client(endpoint: str) -> Any:
    import boto3
    from botocore.config import Config

    return boto3.session.Session().client(
        "dynamodb",
        endpoint_url=endpoint,
        region_name="ap-northeast-1",
        aws_access_key_id="local",
        aws_secret_access_key="local",
        config=Config(retries={"total_max_attempts": 1}, max_pool_connections=SCANNERS + 2),
    )


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


# -- the table ----------------------------------------------------------------------------------


def _item(number: int, items: int) -> dict[str, Any]:
    """20 items per partition key, 50 per GSI partition key, about 200 bytes each."""
    return {
        "pk": {"S": f"user#{number % (items // PER_PARTITION):05d}"},
        "sk": {"S": f"{number:08d}"},
        "group": {"S": f"group#{number % (items // PER_GROUP):04d}"},
        "title": {"S": f"item {number} " + "x" * 120},
        "count": {"N": str(number)},
        "done": {"BOOL": number % 2 == 0},
        "tags": {"L": [{"S": "a"}, {"S": "b"}]},
    }


def _create_table(client: Any) -> None:
    client.create_table(
        TableName=TABLE,
        AttributeDefinitions=[
            {"AttributeName": name, "AttributeType": "S"} for name in ("pk", "sk", "group")
        ],
        KeySchema=[
            {"AttributeName": "pk", "KeyType": "HASH"},
            {"AttributeName": "sk", "KeyType": "RANGE"},
        ],
        GlobalSecondaryIndexes=[
            {
                "IndexName": INDEX,
                "KeySchema": [
                    {"AttributeName": "group", "KeyType": "HASH"},
                    {"AttributeName": "sk", "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "ALL"},
            }
        ],
        BillingMode="PAY_PER_REQUEST",
    )
    client.get_waiter("table_exists").wait(TableName=TABLE, WaiterConfig={"Delay": 0.2})


def _fill(servers: list[Server], items: int) -> dict[str, float]:
    """Create the table on each server and fill it, a batch to each in turn (so that the load
    of other processes falls on both alike); items per second of each fill."""
    seconds = dict.fromkeys((s.name for s in servers), 0.0)
    for server in servers:
        _create_table(server.client)
    for first in range(0, items, BATCH):
        requests = [{"PutRequest": {"Item": _item(n, items)}} for n in range(first, first + BATCH)]
        for server in servers:
            started = time.perf_counter()
            response = server.client.batch_write_item(RequestItems={TABLE: requests})
            seconds[server.name] += time.perf_counter() - started
            if response.get("UnprocessedItems"):
                raise RuntimeError(f"the fill of {server.name} was not fully processed")
    return {name: items / spent for name, spent in seconds.items()}


# -- latencies ----------------------------------------------------------------------------------


def _operations(client: Any, items: int, rng: random.Random) -> dict[str, Callable[[], Any]]:
    def some_item() -> dict[str, Any]:
        return _item(rng.randrange(items), items)

    def key() -> dict[str, Any]:
        item = some_item()
        return {"pk": item["pk"], "sk": item["sk"]}

    def query(index: str | None, attribute: str, value: str) -> Any:
        extra = {"IndexName": index} if index else {}
        response = client.query(
            TableName=TABLE,
            KeyConditionExpression="#k = :v",
            ExpressionAttributeNames={"#k": attribute},
            ExpressionAttributeValues={":v": {"S": value}},
            Limit=PAGE,
            **extra,
        )
        if response["Count"] != PAGE:
            raise RuntimeError(f"a Query returned {response['Count']} items, not {PAGE}")

    partitions, groups = items // PER_PARTITION, items // PER_GROUP
    return {
        "GetItem": lambda: client.get_item(TableName=TABLE, Key=key()),
        "PutItem": lambda: client.put_item(TableName=TABLE, Item=some_item()),
        "Query 20 items, table": lambda: query(None, "pk", f"user#{rng.randrange(partitions):05d}"),
        "Query 20 items, GSI": lambda: query(INDEX, "group", f"group#{rng.randrange(groups):04d}"),
    }


def _latencies(servers: list[Server], items: int, rounds: int) -> dict[str, dict[str, float]]:
    """Median milliseconds per operation and server, the servers called in turn."""
    operations = {s.name: _operations(s.client, items, random.Random(7)) for s in servers}
    found: dict[str, dict[str, float]] = {}
    for name in operations[servers[0].name]:
        samples: dict[str, list[float]] = {s.name: [] for s in servers}
        for server in servers:
            operations[server.name][name]()  # warm-up
        for _ in range(rounds):
            for server in servers:
                started = time.perf_counter()
                operations[server.name][name]()
                samples[server.name].append((time.perf_counter() - started) * 1000)
        found[name] = {server: statistics.median(ms) for server, ms in samples.items()}
    return found


def _scan(servers: list[Server]) -> dict[str, float]:
    """A full Scan in 1,000-item pages of each server, a page of each in turn; items per
    second of each."""
    seconds = dict.fromkeys((s.name for s in servers), 0.0)
    counts = dict.fromkeys(seconds, 0)
    starts: dict[str, dict[str, Any] | None] = dict.fromkeys(seconds, {})
    while any(start is not None for start in starts.values()):
        for server in servers:
            start = starts[server.name]
            if start is None:
                continue
            started = time.perf_counter()
            page = server.client.scan(TableName=TABLE, Limit=SCAN_PAGE, **start)
            seconds[server.name] += time.perf_counter() - started
            counts[server.name] += page["Count"]
            last = page.get("LastEvaluatedKey")
            starts[server.name] = {"ExclusiveStartKey": last} if last else None
    return {name: counts[name] / spent for name, spent in seconds.items()}


def _beside_scans(client: Any, items: int, rounds: int) -> tuple[float, float]:
    """Median GetItem milliseconds alone, then while four clients scan without pause."""
    get = _operations(client, items, random.Random(11))["GetItem"]

    def timed() -> float:
        samples = []
        for _ in range(rounds):
            started = time.perf_counter()
            get()
            samples.append((time.perf_counter() - started) * 1000)
        return statistics.median(samples)

    alone = timed()
    stop = threading.Event()

    def scan_until_stopped() -> None:
        from botocore.exceptions import ConnectionClosedError

        while not stop.is_set():
            try:
                client.scan(TableName=TABLE, Limit=SCAN_PAGE)
            except ConnectionClosedError:
                continue  # a pooled connection idle past Node's keep-alive timeout (5 s)

    scanners = [threading.Thread(target=scan_until_stopped) for _ in range(SCANNERS)]
    for scanner in scanners:
        scanner.start()
    try:
        time.sleep(0.2)
        beside = timed()
    finally:
        stop.set()
        for scanner in scanners:
            scanner.join()
    return alone, beside


# -- the figures --------------------------------------------------------------------------------


def _figures(
    ours: str,
    peer: str,
    at: str,
    fill: dict[str, float],
    latency: dict[str, dict[str, float]],
    scan: dict[str, float],
    memory: dict[str, float],
    contended: dict[str, tuple[float, float]],
) -> list[Figure]:
    figures = [_latency(name, medians, ours, peer, at) for name, medians in latency.items()]
    for name, rates in (("BatchWriteItem fill", fill), (f"Scan, {SCAN_PAGE:,}-item pages", scan)):
        figures.append(_throughput(name, rates, ours, peer, at))
    figures.append(
        ratio(
            f"resident memory, engine / dynalite ({at})",
            memory[ours] / memory[peer],
            at_most=MEMORY_AT_MOST,
            detail=f"{memory[ours]:.0f} MB vs {memory[peer]:.0f} MB",
            data={"rss_mb": memory},
            unit="x",
        )
    )
    (alone, beside), (peer_alone, peer_beside) = contended[ours], contended[peer]
    figures.append(
        ratio(
            f"GetItem beside {SCANNERS} scanning clients / alone, engine",
            beside / alone,
            detail=f"engine {alone:.2f} -> {beside:.2f} ms; dynalite {peer_alone:.2f} -> "
            f"{peer_beside:.2f} ms ({peer_beside / peer_alone:.1f}x)",
            data={"engine_ms": [alone, beside], "dynalite_ms": [peer_alone, peer_beside]},
            unit="x",
        )
    )
    return figures


def _with_durability(
    figures: list[Figure],
    unsynced: str,
    peer: str,
    at: str,
    fill: dict[str, float],
    latency: dict[str, dict[str, float]],
    sync_ms: float,
) -> list[Figure]:
    """The durable figures name this disk's fdatasync; PutItem and the fill again, unsynced."""
    waits = f"; each answer waits for fdatasync, {sync_ms:.2f} ms median here"
    named = [
        dataclasses.replace(figure, detail=figure.detail + waits)
        if figure.name.startswith(("PutItem", "BatchWriteItem"))
        else figure
        for figure in figures
    ]
    unsynced_put = _latency("PutItem", latency["PutItem"], unsynced, peer, at)
    unsynced_put = dataclasses.replace(
        unsynced_put, detail=unsynced_put.detail + " (kill -9 safe, not power-loss safe)"
    )
    return [*named, unsynced_put, _throughput("BatchWriteItem fill", fill, unsynced, peer, at)]


def _latency(name: str, medians: dict[str, float], ours: str, peer: str, at: str) -> Figure:
    return ratio(
        f"{name}: ms, {ours} / {peer} ({at})",
        medians[ours] / medians[peer],
        at_most=LATENCY_AT_MOST,
        detail=f"median {medians[ours]:.2f} ms vs {medians[peer]:.2f} ms",
        data={"median_ms": medians},
        unit="x",
    )


def _throughput(name: str, rates: dict[str, float], ours: str, peer: str, at: str) -> Figure:
    return ratio(
        f"{name}: items/s, {ours} / {peer} ({at})",
        rates[ours] / rates[peer],
        at_least=THROUGHPUT_AT_LEAST,
        detail=f"{rates[ours]:,.0f} vs {rates[peer]:,.0f} items/s",
        data={"items_per_second": rates},
        unit="x",
    )
