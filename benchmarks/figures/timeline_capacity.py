"""A user's timeline costs the same at 1k and at 50k activities in the table.

The timeline is one Query on the user's partition with a Limit: what it reads depends on the
page size, not on the table. The page is fetched over HTTP with the activities table at its
seeded size and again after growing it, and the read capacity the inspector computed for each
(`X-DynamoDB-Capacity`, by AWS's rules) must be the same.
"""

from __future__ import annotations

from benchmarks.environment import Bench, capacity_summary, serving, sign_in
from benchmarks.figures import Figure, equal

ORDER = 40


def _timeline_rcu(url: str, username: str) -> tuple[float, int]:
    from blog.service import DEMO_PASSWORD

    client = sign_in(url, username, DEMO_PASSWORD)
    response = client.get(f"/users/{username}")
    response.raise_for_status()
    summary = capacity_summary(response)
    client.close()
    return float(summary["computed-rcu"]), int(summary["calls"])


def measure(bench: Bench) -> list[Figure]:
    small, large = bench.size((1_000, 50_000), (100, 400))
    username = bench.plan().viewers[0].username
    figures = {}
    with serving(bench.app()) as url:
        for size in (small, large):
            items = bench.grow_activities(size)
            figures[items] = _timeline_rcu(url, username)
    (few, (rcu_few, calls_few)), (many, (rcu_many, calls_many)) = figures.items()
    return [
        equal(
            f"user timeline RCU at {few:,} and {many:,} activities",
            rcu_few,
            rcu_many,
            detail=f"{calls_few} and {calls_many} DynamoDB calls for the page",
            data={"items": [few, many], "rcu": [rcu_few, rcu_many]},
        )
    ]
