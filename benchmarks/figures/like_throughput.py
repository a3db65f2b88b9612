"""Like throughput over HTTP against the engine's own limit for the calls a like must make.

N signed-in clients (64) like and unlike one post over HTTP for a while, each its own user with
its own cookie jar, against the app served as it is deployed (`uvicorn app:app`, one worker, in
a process of its own, so the clients' threads do not share its interpreter); every response's
`X-DynamoDB-Capacity` says how many DynamoDB calls it made. Then N threads send raw `UpdateItem
ADD` to one item for as long. If the app added nothing, likes/s would be the raw calls/s
divided by the calls one like makes; the ratio of the measured rate to that is the figure
(target: the app adds at most 30%). Afterwards the post's count must equal the number of
clients whose last change was a like, and the raw counter must hold every ADD the engine
accepted.
"""

from __future__ import annotations

import statistics
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import httpx

from benchmarks.environment import (
    Bench,
    capacity_summary,
    csrf_headers,
    serving_process,
    sign_up,
)
from benchmarks.figures import Figure, equal, ratio

ORDER = 20
TARGET = 0.7
RAW_KEY = {"post_id": {"S": "bench-raw-add"}, "sk": {"S": "COUNT"}}


@dataclass
class Liker:
    client: httpx.Client
    headers: dict[str, str]
    liked: bool = False
    changes: int = 0
    calls: list[int] = field(default_factory=list)
    ms: list[float] = field(default_factory=list)


def _toggle_until(liker: Liker, post_id: int, deadline: float) -> None:
    while time.monotonic() < deadline:
        method = "DELETE" if liker.liked else "PUT"
        started = time.perf_counter()
        response = liker.client.request(
            method, f"/api/v1/posts/{post_id}/like", headers=liker.headers
        )
        liker.ms.append((time.perf_counter() - started) * 1000)
        response.raise_for_status()
        liker.liked = not liker.liked
        liker.changes += 1
        liker.calls.append(int(capacity_summary(response).get("calls", 0)))


def _warm_up(liker: Liker, post_id: int) -> None:
    """One like and one unlike, unmeasured: the server's first requests on a thread set up its
    DynamoDB connections, which is start-up, not throughput."""
    for method in ("PUT", "DELETE"):
        response = liker.client.request(
            method, f"/api/v1/posts/{post_id}/like", headers=liker.headers
        )
        response.raise_for_status()


def _http_run(bench: Bench, clients: int, seconds: float) -> dict[str, Any]:
    with serving_process() as url:
        likers = []
        for number in range(clients):
            client = sign_up(url, f"liker{number}_{time.monotonic_ns() % 10**8}")
            likers.append(Liker(client, csrf_headers(client)))
        author = likers[0]
        post = author.client.post(
            "/api/v1/posts",
            json={"title": "A popular post", "body": "Everyone likes this one."},
            headers=author.headers,
        )
        post.raise_for_status()
        post_id = int(post.json()["id"])

        def run(liker: Liker) -> None:
            try:
                _warm_up(liker, post_id)
            except BaseException:
                barrier.abort()  # the others would wait for this client forever
                raise
            barrier.wait()
            _toggle_until(liker, post_id, start[0] + seconds)

        start = [0.0]
        barrier = threading.Barrier(clients, action=lambda: start.__setitem__(0, time.monotonic()))
        with ThreadPoolExecutor(max_workers=clients) as pool:
            for future in [pool.submit(run, liker) for liker in likers]:
                future.result()
        elapsed = time.monotonic() - start[0]
        count = int(author.client.get(f"/api/v1/posts/{post_id}/likes").json()["count"])
        for liker in likers:
            liker.client.close()
    changes = sum(liker.changes for liker in likers)
    calls = [c for liker in likers for c in liker.calls]
    return {
        "clients": clients,
        "seconds": round(elapsed, 2),
        "changes": changes,
        "per_second": changes / elapsed,
        "p50_ms": round(statistics.median(ms for liker in likers for ms in liker.ms), 1),
        "calls_per_like": statistics.fmean(calls) if calls else float("nan"),
        "expected_count": sum(liker.liked for liker in likers),
        "count": count,
    }


def _raw_run(bench: Bench, threads: int, seconds: float) -> dict[str, Any]:
    client = bench.boto3_client(pool=threads)
    table = bench.table_name("likes")
    client.put_item(TableName=table, Item={**RAW_KEY, "like_count": {"N": "0"}})
    accepted = [0] * threads
    barrier = threading.Barrier(threads)

    def run(number: int) -> None:
        barrier.wait()
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            client.update_item(
                TableName=table,
                Key=RAW_KEY,
                UpdateExpression="ADD like_count :one",
                ExpressionAttributeValues={":one": {"N": "1"}},
            )
            accepted[number] += 1

    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=threads) as pool:
        for future in [pool.submit(run, n) for n in range(threads)]:
            future.result()
    elapsed = time.monotonic() - started
    item = client.get_item(TableName=table, Key=RAW_KEY, ConsistentRead=True)["Item"]
    total = sum(accepted)
    return {
        "threads": threads,
        "seconds": round(elapsed, 2),
        "adds": total,
        "per_second": total / elapsed,
        "final": int(item["like_count"]["N"]),
        "lost": total - int(item["like_count"]["N"]),
    }


def measure(bench: Bench) -> list[Figure]:
    clients, seconds = bench.size(64, 4), bench.size(10.0, 1.0)
    http = _http_run(bench, clients, seconds)
    raw = _raw_run(bench, clients, seconds)
    ceiling = raw["per_second"] / http["calls_per_like"]
    detail = (
        f"{http['per_second']:.1f} likes/s over HTTP (p50 {http['p50_ms']} ms, "
        f"{http['calls_per_like']:.1f} DynamoDB calls per like) vs {raw['per_second']:.0f} raw "
        f"ADDs/s = {ceiling:.1f} likes/s at zero overhead; raw run lost {raw['lost']} of "
        f"{raw['adds']} ADDs"
    )
    count_detail = f"{clients} clients, their last changes leave {http['expected_count']} likes"
    return [
        ratio(
            f"like throughput over HTTP ({clients} clients) vs raw ADD / calls per like",
            http["per_second"] / ceiling,
            at_least=TARGET,
            detail=detail,
            data={"http": http, "raw": raw},
        ),
        equal(
            "like count after the run: expected vs read",
            http["expected_count"],
            http["count"],
            detail=count_detail,
        ),
    ]
