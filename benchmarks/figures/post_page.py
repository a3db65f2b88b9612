"""The post page: its latency against the store time it spent, and its calls as comments grow.

A post with 50 comments is fetched many times by a signed-in reader; each response's
`Server-Timing` says how long its DynamoDB calls and SQL statements took. The page's median
latency over the median of that store time is the figure (target <= 2: rendering, routing and
the inspector together cost no more than the stores). Then the pages of posts with 5 and 500
comments must make the same number of DynamoDB calls: a thread is read a page at a time, so
its length must not show in the page's calls.
"""

from __future__ import annotations

import statistics
import time

from benchmarks.environment import (
    Bench,
    capacity_summary,
    csrf_headers,
    server_timing,
    serving,
    sign_up,
)
from benchmarks.figures import Figure, equal, ratio

ORDER = 30
TARGET = 2.0


def _post_with_comments(client, viewer, count: int) -> int:  # type: ignore[no-untyped-def]
    from engagement.comments import service as comments

    response = client.post(
        "/api/v1/posts",
        json={"title": f"A post with {count} comments", "body": "Discuss."},
        headers=csrf_headers(client),
    )
    response.raise_for_status()
    post_id = int(response.json()["id"])
    for number in range(count):
        comments.create_comment(post_id=post_id, viewer=viewer, body=f"Comment {number}.")
    return post_id


def measure(bench: Bench) -> list[Figure]:
    from shared.auth import Viewer

    few, middle, many = bench.size((5, 50, 500), (2, 5, 20))
    requests = bench.size(100, 5)
    with serving(bench.app()) as url:
        reader = sign_up(url, f"reader_{time.monotonic_ns() % 10**8}")
        me = reader.get("/api/v1/auth/session").json()["user"]
        viewer = Viewer(me["user_id"], me["username"], me["display_name"])
        posts = {n: _post_with_comments(reader, viewer, n) for n in (few, middle, many)}
        reader.get(f"/posts/{posts[middle]}").raise_for_status()  # warm-up
        total, stores = [], []
        for _ in range(requests):
            started = time.perf_counter()
            response = reader.get(f"/posts/{posts[middle]}")
            total.append((time.perf_counter() - started) * 1000)
            response.raise_for_status()
            timing = server_timing(response)
            stores.append(timing.get("dynamodb", 0.0) + timing.get("sql", 0.0))
        calls = {
            n: int(capacity_summary(reader.get(f"/posts/{posts[n]}"))["calls"]) for n in (few, many)
        }
        reader.close()
    p50, store_p50 = statistics.median(total), statistics.median(stores)
    detail = f"p50 {p50:.1f} ms, of which DynamoDB + SQL {store_p50:.1f} ms ({requests} requests)"
    return [
        ratio(
            f"post page with {middle} comments: p50 / DynamoDB+SQL time",
            p50 / store_p50 if store_p50 else float("nan"),
            at_most=TARGET,
            detail=detail,
            data={
                "p50_ms": round(p50, 2),
                "store_p50_ms": round(store_p50, 2),
                "requests": requests,
            },
        ),
        equal(
            f"post page DynamoDB calls at {few} and {many} comments",
            calls[few],
            calls[many],
            detail=f"{calls[few]} calls with {few} comments, {calls[many]} with {many}",
        ),
    ]
