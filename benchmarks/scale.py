"""What a read costs as the activity log grows: `make bench` (or `python -m benchmarks.scale`).

Starts the project's engine as `make run` does, seeds the demo data with 2,000 activities,
measures, grows the log to each larger size (the seed is incremental: the first 2,000 stay), and
measures again. For each size it prints the median of:

- the post page and the FeedIndex feed (`/api/v1/feed?mode=index`): their DynamoDB time, from
  the Server-Timing header the inspector adds;
- a raw 20-item Query on the activities table and on each of its indexes, timed at the client.

and the ratio of the largest size to the smallest, against the target: within 1.5x. A DynamoDB
Query's cost follows the page it returns, not the table; an engine whose reads walk the table
cannot show that lesson.

On a busy machine wall-clock times wander with the load of other processes, so the engine's own
CPU time per request (from /proc, Linux) is printed beside them: the work the engine did, which
the load does not change.
"""

from __future__ import annotations

import argparse
import math
import os
import re
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from botocore.exceptions import BotoCoreError, ClientError

from benchmarks.environment import configure, serving, sign_in

TARGET_RATIO = 1.5
PAGE = 20
_DYNAMODB_TIME = re.compile(r"dynamodb;dur=([\d.]+)")


@dataclass(frozen=True)
class Probe:
    """One thing measured: returns milliseconds."""

    name: str
    measure: Callable[[], float]
    repeat: int = 1  # cheap probes run `repeat` times the rounds, so noise averages out


def server_timing_ms(client: httpx.Client, path: str) -> float:
    response = client.get(path)
    if response.status_code != 200:
        raise RuntimeError(f"GET {path} answered {response.status_code}")
    match = _DYNAMODB_TIME.search(response.headers.get("server-timing", ""))
    if match is None:
        raise RuntimeError(f"GET {path} has no DynamoDB time in Server-Timing")
    return float(match.group(1))


def query_ms(dynamodb: Any, request: dict[str, Any]) -> float:
    started = time.perf_counter()
    response = dynamodb.query(**request, Limit=PAGE, ScanIndexForward=False)
    elapsed = (time.perf_counter() - started) * 1000
    if response["Count"] == 0:
        raise RuntimeError(f"the query {request} found nothing")
    return elapsed


def raw_queries(dynamodb: Any, table: str, post_id: int) -> list[Probe]:
    """A 20-item Query on the table and each index, with key values taken from the data."""
    likes = dynamodb.query(
        TableName=table,
        IndexName="ActivityTypeIndex",
        KeyConditionExpression="activity_type = :t",
        ExpressionAttributeValues={":t": {"S": "like"}},
        Limit=1,
        ScanIndexForward=False,
    )["Items"][0]
    keys = {
        None: ("user_id", likes["user_id"]),
        "ActivityTypeIndex": ("activity_type", {"S": "like"}),
        "PostActivityIndex": ("post_id", {"N": str(post_id)}),
        "FeedIndex": ("feed_key", likes["feed_key"]),
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
        probes.append(Probe(label, lambda request=request: query_ms(dynamodb, request), repeat=5))
    return probes


def cpu_ms(pid: int) -> float:
    """User and system CPU time of a process so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) * 1000 / os.sysconf("SC_CLK_TCK")


def settle(pid: int, timeout: float = 300.0) -> None:
    """Wait until the engine is idle: after a large seed it compacts its journal into a
    snapshot in the background, which would be counted against the reads."""
    deadline = time.monotonic() + timeout
    quiet = 0
    while quiet < 3 and time.monotonic() < deadline:
        before = cpu_ms(pid)
        time.sleep(0.5)
        quiet = quiet + 1 if cpu_ms(pid) - before < 20 else 0


def measure(probe: Probe, rounds: int, pid: int) -> tuple[float, float]:
    """Median wall time and mean engine CPU time per request, in milliseconds."""
    probe.measure()  # warm-up (the engine builds a table's sorted structures on first read)
    count = rounds * probe.repeat
    started = cpu_ms(pid)
    wall = statistics.median(probe.measure() for _ in range(count))
    return wall, (cpu_ms(pid) - started) / count


def grow_to(activities: int, plan: Any) -> None:
    from shared.seeding import seeders

    plan.activities = activities
    (seeder,) = [s for s in seeders() if s.label == "activities"]
    seeder.run(plan, lambda _done: None)


def prepare(activities: int) -> tuple[object, Any]:
    from app import create_app
    from shared.database import create_rdb_tables
    from shared.dynamo import create_tables
    from shared.seeding import SeedPlan, seeders
    from shared.settings import get_settings

    get_settings.cache_clear()
    settings = get_settings()
    app = create_app(settings.model_copy(update={"inspector_enabled": True}))
    create_tables(settings)
    create_rdb_tables()
    plan = SeedPlan(activities=activities)
    for seeder in seeders():
        seeder.run(plan, lambda _done: None)
    return app, plan


def report(sizes: list[int], figures: dict[str, list[float]], title: str) -> bool:
    head = "".join(f"{size:>10,}" for size in sizes)
    print(f"\n{title:<48}{head}   ratio {sizes[-1]:,} / {sizes[0]:,}")
    within = True
    for name, values in figures.items():
        ratio = values[-1] / values[0] if values[0] else math.inf
        within &= ratio <= TARGET_RATIO
        cells = "".join(f"{value:>10.1f}" for value in values)
        if math.isnan(ratio):
            verdict = "FAILED (see above)"
        else:
            verdict = "ok" if ratio <= TARGET_RATIO else f"OVER {TARGET_RATIO}x"
        print(f"{name:<48}{cells}   {ratio:5.2f}x {verdict}")
    return within


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.scale", description=__doc__)
    parser.add_argument(
        "--sizes", default="2000,50000", help="activity counts, ascending (default 2000,50000)"
    )
    parser.add_argument("--rounds", type=int, default=30, help="measured requests per figure")
    args = parser.parse_args(argv)
    sizes = sorted(int(size) for size in args.sizes.split(","))

    from engine.launcher import LocalEngine

    wall: dict[str, list[float]] = {}
    cpu: dict[str, list[float]] = {}
    with tempfile.TemporaryDirectory(prefix="dynamodb-lab-scale-") as tmp, LocalEngine() as engine:
        configure(Path(tmp), engine.endpoint)
        app, plan = prepare(sizes[0])
        from activity.models import Activity
        from blog.service import DEMO_PASSWORD

        dynamodb = engine.client(timeout=120)
        with serving(app) as url:
            client = sign_in(url, plan.viewers[0].username, DEMO_PASSWORD)
            post_id = plan.post_ids[0]
            probes = [
                Probe(
                    "post page",
                    lambda: server_timing_ms(client, f"/posts/{post_id}"),
                ),
                Probe(
                    "FeedIndex feed (/api/v1/feed?mode=index)",
                    lambda: server_timing_ms(client, "/api/v1/feed?mode=index"),
                ),
                *raw_queries(dynamodb, Activity.Meta.table_name, post_id),
            ]
            for size in sizes:
                started = time.perf_counter()
                grow_to(size, plan)
                print(f"{size:,} activities (seeded in {time.perf_counter() - started:.0f} s)")
                settle(engine.pid or 0)
                for probe in probes:
                    try:
                        median, engine_cpu = measure(probe, args.rounds, engine.pid or 0)
                    except (RuntimeError, BotoCoreError, ClientError, httpx.HTTPError) as error:
                        print(f"  {probe.name}: failed ({error})")
                        median = engine_cpu = math.nan
                    wall.setdefault(probe.name, []).append(median)
                    cpu.setdefault(probe.name, []).append(engine_cpu)
            client.close()
    within = report(sizes, wall, "median ms by activities (pages: DynamoDB time)")
    report(sizes, cpu, "engine CPU ms per request by activities")
    return 0 if within else 1


if __name__ == "__main__":
    sys.exit(main())
