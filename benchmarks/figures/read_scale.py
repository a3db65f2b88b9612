"""Reads cost what their page holds, not what the table holds: the same reads at 2,000 and at
50,000 activities.

The seeded log (2,000 activities) is measured, then grown to 50,000 (the seed is incremental:
the first 2,000 stay) and measured again. At each size:

- a user's timeline page over HTTP: the read capacity the inspector computed for it by AWS's
  rules (`X-DynamoDB-Capacity`) must be the same at both sizes;
- the post page and the FeedIndex feed (`/api/v1/feed?mode=index`): their DynamoDB time, from the
  Server-Timing header the inspector adds;
- a raw 20-item Query on the activities table and on each of its indexes, timed at the client.

Each timing's ratio, largest size over smallest, must stay within 1.5x: a DynamoDB Query's cost
follows the page it returns, and an engine whose reads walk the table cannot show that lesson.
On a busy machine wall-clock times wander with the load of other processes, so the engine's own
CPU time per request (from /proc, Linux) is kept beside them: the work the engine did.
"""

from __future__ import annotations

import os
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from benchmarks.environment import Bench, capacity_summary, server_timing, serving, sign_in
from benchmarks.figures import Figure, equal, ratio

ORDER = 40
TARGET_RATIO = 1.5
PAGE = 20


@dataclass(frozen=True)
class Probe:
    """One thing timed: returns milliseconds."""

    name: str
    measure: Callable[[], float]
    repeat: int = 1  # cheap probes run `repeat` times the rounds, so noise averages out


def _server_timing_ms(client: httpx.Client, path: str) -> float:
    response = client.get(path)
    response.raise_for_status()
    timing = server_timing(response)
    if "dynamodb" not in timing:
        raise RuntimeError(f"GET {path} has no DynamoDB time in Server-Timing")
    return timing["dynamodb"]


def _query_ms(dynamodb: Any, request: dict[str, Any]) -> float:
    started = time.perf_counter()
    response = dynamodb.query(**request, Limit=PAGE, ScanIndexForward=False)
    elapsed = (time.perf_counter() - started) * 1000
    if response["Count"] == 0:
        raise RuntimeError(f"the query {request} found nothing")
    return elapsed


def _raw_queries(dynamodb: Any, table: str, post_id: int) -> list[Probe]:
    """A 20-item Query on the table and each index, with key values taken from the data."""
    like = dynamodb.query(
        TableName=table,
        IndexName="ActivityTypeIndex",
        KeyConditionExpression="activity_type = :t",
        ExpressionAttributeValues={":t": {"S": "like"}},
        Limit=1,
        ScanIndexForward=False,
    )["Items"][0]
    keys = {
        None: ("user_id", like["user_id"]),
        "ActivityTypeIndex": ("activity_type", {"S": "like"}),
        "PostActivityIndex": ("post_id", {"N": str(post_id)}),
        "FeedIndex": ("feed_key", like["feed_key"]),
    }
    probes = []
    for index, (attribute, value) in keys.items():
        request: dict[str, Any] = {
            "TableName": table,
            "KeyConditionExpression": "#k = :v",
            "ExpressionAttributeNames": {"#k": attribute},
            "ExpressionAttributeValues": {":v": value},
        }
        if index:
            request["IndexName"] = index
        label = f"raw Query, {PAGE} items, {index or 'base table'}"
        probes.append(Probe(label, lambda request=request: _query_ms(dynamodb, request), repeat=5))
    return probes


def _cpu_ms(pid: int | None) -> float:
    """User and system CPU time of a process so far (0 where /proc cannot tell)."""
    stat = Path(f"/proc/{pid}/stat")
    if pid is None or not stat.exists():
        return 0.0
    fields = stat.read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) * 1000 / os.sysconf("SC_CLK_TCK")


def _settle(pid: int | None, timeout: float = 300.0) -> None:
    """Wait until the engine is idle: after a large write it compacts its journal into a
    snapshot in the background, which would be counted against the reads."""
    deadline = time.monotonic() + timeout
    quiet = 0
    while pid is not None and quiet < 3 and time.monotonic() < deadline:
        before = _cpu_ms(pid)
        time.sleep(0.5)
        quiet = quiet + 1 if _cpu_ms(pid) - before < 20 else 0


def _timed(probe: Probe, rounds: int, pid: int | None) -> tuple[float, float]:
    """Median wall time and mean engine CPU time per request, in milliseconds."""
    probe.measure()  # warm-up (the engine builds a table's sorted structures on first read)
    count = rounds * probe.repeat
    started = _cpu_ms(pid)
    wall = statistics.median(probe.measure() for _ in range(count))
    return wall, (_cpu_ms(pid) - started) / count


def _timeline(client: httpx.Client, username: str) -> tuple[float, int]:
    """The user's own page, as read a second time: the first visit after signing in may also
    slide the session's expiry, which has nothing to do with the table's size."""
    client.get(f"/users/{username}").raise_for_status()
    response = client.get(f"/users/{username}")
    response.raise_for_status()
    summary = capacity_summary(response)
    return float(summary["computed-rcu"]), int(summary["calls"])


def measure(bench: Bench) -> list[Figure]:
    from activity.models import Activity
    from blog.seed import DEMO_PASSWORD

    sizes = bench.size((2_000, 50_000), (100, 400))
    rounds = bench.size(30, 3)
    plan = bench.plan()
    username = plan.viewers[0].username
    dynamodb = bench.boto3_client()
    items: list[int] = []
    timelines: list[tuple[float, int]] = []
    wall: dict[str, list[float]] = {}
    cpu: dict[str, list[float]] = {}
    with serving(bench.app()) as url:
        client = sign_in(url, username, DEMO_PASSWORD)
        post_id = plan.post_ids[0]
        probes = [
            Probe("post page", lambda: _server_timing_ms(client, f"/posts/{post_id}")),
            Probe(
                "FeedIndex feed (/api/v1/feed?mode=index)",
                lambda: _server_timing_ms(client, "/api/v1/feed?mode=index"),
            ),
            *_raw_queries(dynamodb, Activity.Meta.table_name, post_id),
        ]
        for size in sizes:
            items.append(bench.grow_activities(size))
            _settle(bench.engine_pid)
            timelines.append(_timeline(client, username))
            for probe in probes:
                median, engine_cpu = _timed(probe, rounds, bench.engine_pid)
                wall.setdefault(probe.name, []).append(median)
                cpu.setdefault(probe.name, []).append(engine_cpu)
        client.close()
    (rcu_few, calls_few), (rcu_many, calls_many) = timelines
    # Per call: the page reads pages of the user's item collection until it has enough items
    # that have not expired, so how many calls it makes depends on the data, not the table's
    # size; what must not grow with the table is what each call costs.
    figures = [
        equal(
            f"user timeline RCU per call at {items[0]:,} and {items[-1]:,} activities",
            rcu_few / calls_few,
            rcu_many / calls_many,
            detail=f"{rcu_few:g} RCU in {calls_few} calls and {rcu_many:g} RCU in {calls_many} "
            "calls for the page",
            data={"items": items, "rcu": [rcu_few, rcu_many]},
        )
    ]
    for name, values in wall.items():
        few, many = values[0], values[-1]
        figures.append(
            ratio(
                f"{name}: ms at {items[-1]:,} / at {items[0]:,} activities",
                many / few if few else float("nan"),
                at_most=TARGET_RATIO,
                detail=f"{few:.1f} ms vs {many:.1f} ms median; engine CPU "
                f"{cpu[name][0]:.1f} vs {cpu[name][-1]:.1f} ms per request",
                data={"items": items, "median_ms": values, "engine_cpu_ms": cpu[name]},
                unit="x",
            )
        )
    return figures
