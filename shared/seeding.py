"""Demo data: each context contributes a seeder; `manage.py seed` runs them in order.

Seeders are idempotent (running the seed twice leaves the same data) and report progress
through a callback so the CLI can draw one progress bar per step. A seeder tells the ones after
it what it made through the plan (the posts, the likes, the comments), so the activity log it
ends with describes only things that happened: every activity is a post, like, comment or view
that exists.
"""

from __future__ import annotations

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


HOT_POST_FROM_NEWEST = 3
"""The demo's hot post is the third newest: on the front page, and old enough to have gathered
the likes, comments and views that make it stand out in the sharding and feed lessons."""


@dataclass(frozen=True, slots=True)
class SeededLike:
    """A like the seed wrote: `user` liked `post_id` at `liked_at`, and took it back at
    `unliked_at` when that is set (the like item then says not liked)."""

    user: Viewer
    post_id: int
    liked_at: datetime
    unliked_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class SeededComment:
    """A comment the seed wrote, as the activity log needs it."""

    user: Viewer
    post_id: int
    comment_id: str
    created_at: datetime


@dataclass
class SeedPlan:
    """Sizes chosen on the command line, and what earlier seeders produced."""

    users: int = 8
    posts: int = 40
    likes_per_post: int = 5
    comments_per_post: int = 4
    activities: int = 2_000
    viewers: list[Viewer] = field(default_factory=list)
    post_ids: list[int] = field(default_factory=list)
    post_times: dict[int, datetime] = field(default_factory=dict)
    likes: list[SeededLike] = field(default_factory=list)
    comments: list[SeededComment] = field(default_factory=list)

    def hot_post_id(self) -> int | None:
        """The one post the seed makes popular (most likes, comments and views)."""
        if not self.post_ids:
            return None
        return sorted(self.post_ids)[-min(HOT_POST_FROM_NEWEST, len(self.post_ids))]


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
