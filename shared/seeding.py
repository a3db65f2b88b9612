"""Demo data: each context contributes a seeder; `manage.py seed` runs them in order.

Seeders are idempotent (running the seed twice leaves the same data) and report progress
through a callback so the CLI can draw one progress bar per step.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from shared.auth import Viewer

Progress = Callable[[int], None]

BATCHES_IN_FLIGHT = 2
"""BatchWriteItem calls a seeder keeps on the wire at once. One leaves the server idle while the
client builds and sends the next batch; two keep it busy (the demo's 2,000 activities: 0.54 s
-> 0.40 s on the embedded engine); three or four measured no faster, the server being the
bottleneck by then."""


@dataclass
class SeedPlan:
    """Sizes chosen on the command line, and what earlier seeders produced."""

    users: int = 8
    posts: int = 40
    likes_per_post: int = 5
    comments_per_post: int = 4
    activities: int = 2_000
    rng: random.Random = field(default_factory=lambda: random.Random(20261125))
    viewers: list[Viewer] = field(default_factory=list)
    post_ids: list[int] = field(default_factory=list)
    post_times: dict[int, datetime] = field(default_factory=dict)


@dataclass(frozen=True)
class Seeder:
    order: int
    label: str
    total: Callable[[SeedPlan], int]
    run: Callable[[SeedPlan, Progress], int]


_seeders: list[Seeder] = []


def register_seeder(seeder: Seeder) -> None:
    if all(existing.label != seeder.label for existing in _seeders):
        _seeders.append(seeder)
        _seeders.sort(key=lambda s: s.order)


def seeders() -> list[Seeder]:
    return list(_seeders)
