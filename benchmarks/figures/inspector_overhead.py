"""The operation inspector's overhead on the post page (target: under 10% on the median).

The app is served twice, inspector on and off (INSPECTOR_ENABLED), each by uvicorn with one
worker on its own port, over the same engine and data. Requests to the two alternate, and
which goes first swaps every round, so drift of the machine or the engine touches both alike.
"""

from __future__ import annotations

import statistics
import time

import httpx

from benchmarks.environment import Bench, serving, sign_in
from benchmarks.figures import Figure, ratio

ORDER = 50
TARGET_PERCENT = 10.0


def _alternate(clients: dict[str, httpx.Client], path: str, rounds: int) -> dict[str, list[float]]:
    times: dict[str, list[float]] = {name: [] for name in clients}
    names = list(clients)
    for number in range(rounds):
        for name in names if number % 2 == 0 else reversed(names):
            started = time.perf_counter()
            response = clients[name].get(path)
            elapsed = (time.perf_counter() - started) * 1000
            if response.status_code != 200:
                raise RuntimeError(f"inspector {name}: GET {path} answered {response.status_code}")
            times[name].append(elapsed)
    return times


def measure(bench: Bench) -> list[Figure]:
    from blog.seed import DEMO_PASSWORD

    plan = bench.plan()
    path = f"/posts/{plan.post_ids[0]}"
    username = plan.viewers[0].username
    requests, warmup = bench.size(300, 10), bench.size(30, 2)
    with (
        serving(bench.app(inspector=True)) as url_on,
        serving(bench.app(inspector=False)) as url_off,
    ):
        clients = {
            "off": sign_in(url_off, username, DEMO_PASSWORD),
            "on": sign_in(url_on, username, DEMO_PASSWORD),
        }
        _alternate(clients, path, warmup)
        times = _alternate(clients, path, requests)
        for client in clients.values():
            client.close()
    on, off = statistics.median(times["on"]), statistics.median(times["off"])
    detail = f"GET {path}: median {off:.2f} ms off, {on:.2f} ms on ({requests} requests each)"
    return [
        ratio(
            "inspector overhead on the post page (median)",
            (on / off - 1) * 100,
            at_most=TARGET_PERCENT,
            unit="%",
            detail=detail,
            data={"median_ms": {"on": round(on, 2), "off": round(off, 2)}, "requests": requests},
        )
    ]
