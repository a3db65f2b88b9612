"""The operation inspector's overhead on the post page, measured in one run: `make bench`.

Starts the project's own embedded engine (moto's server, as `make run` does), seeds a little,
and serves the app twice in this process, with the inspector on and off (INSPECTOR_ENABLED),
each by uvicorn with one worker on its own port. Requests to the two alternate, so drift of
the machine or the engine (moto slows down as tables grow) touches both alike. Prints median
and p95 latency of each and the overhead; the target is under 10%.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx

from benchmarks.serving import configure, serving, signed_in_client

TARGET_OVERHEAD = 0.10


def _prepare() -> tuple[object, object, str, int]:
    """Two apps over the same wiring (inspector on, off), seeded data, a user and a post."""
    from app import create_app
    from shared.database import create_rdb_tables
    from shared.dynamo import create_tables
    from shared.seeding import SeedPlan, seeders
    from shared.settings import get_settings

    get_settings.cache_clear()
    settings = get_settings()
    app_on = create_app(settings.model_copy(update={"inspector_enabled": True}))
    app_off = create_app(settings.model_copy(update={"inspector_enabled": False}))
    create_tables(settings)
    create_rdb_tables()
    plan = SeedPlan(users=3, posts=5, likes_per_post=2, comments_per_post=3, activities=100)
    for seeder in seeders():
        seeder.run(plan, lambda _done: None)
    return app_on, app_off, plan.viewers[0].username, plan.post_ids[0]


def _measure(clients: dict[str, httpx.Client], path: str, rounds: int) -> dict[str, list[float]]:
    """Alternate the two servers, swapping which goes first every round."""
    times: dict[str, list[float]] = {name: [] for name in clients}
    names = list(clients)
    for number in range(rounds):
        for name in names if number % 2 == 0 else reversed(names):
            started = time.perf_counter()
            response = clients[name].get(path)
            elapsed = time.perf_counter() - started
            if response.status_code != 200:
                raise RuntimeError(f"{name}: GET {path} answered {response.status_code}")
            times[name].append(elapsed * 1000)
    return times


def _inspector_summary(client: httpx.Client, path: str) -> None:
    """What the page costs, as the inspector itself reports it."""
    headers = client.get(path).headers
    print(f"Server-Timing: {headers.get('server-timing')}")
    print(f"X-DynamoDB-Capacity: {headers.get('x-dynamodb-capacity')}")


def _p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[-1]


def _report(times: dict[str, list[float]], path: str) -> float:
    print(f"GET {path}, {len(times['off'])} requests each (ms)")
    print(f"{'inspector':<10} {'median':>8} {'p95':>8} {'mean':>8}")
    for name in ("off", "on"):
        values = times[name]
        median, p95, mean = statistics.median(values), _p95(values), statistics.fmean(values)
        print(f"{name:<10} {median:8.2f} {p95:8.2f} {mean:8.2f}")
    overhead = statistics.median(times["on"]) / statistics.median(times["off"]) - 1
    p95_overhead = _p95(times["on"]) / _p95(times["off"]) - 1
    difference = statistics.median(times["on"]) - statistics.median(times["off"])
    verdict = "within" if overhead < TARGET_OVERHEAD else "OVER"
    print(
        f"overhead: median {overhead:+.1%} ({difference:+.2f} ms), p95 {p95_overhead:+.1%} "
        f"({verdict} the {TARGET_OVERHEAD:.0%} target, on the median)"
    )
    return overhead


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--requests", type=int, default=300, help="measured requests per server")
    parser.add_argument("--warmup", type=int, default=30, help="unmeasured requests per server")
    args = parser.parse_args(argv)

    from engine.launcher import LocalEngine

    with tempfile.TemporaryDirectory(prefix="dynamodb-lab-bench-") as tmp, LocalEngine() as engine:
        configure(Path(tmp), engine.endpoint)
        app_on, app_off, username, post_id = _prepare()
        path = f"/posts/{post_id}"
        with serving(app_on) as url_on, serving(app_off) as url_off:
            clients = {
                "off": signed_in_client(url_off, username),
                "on": signed_in_client(url_on, username),
            }
            _measure(clients, path, args.warmup)
            times = _measure(clients, path, args.requests)
            _inspector_summary(clients["on"], path)
            for client in clients.values():
                client.close()
    _report(times, path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
