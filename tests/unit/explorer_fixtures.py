"""A small seeded app for the explorer's tests: every table holds items, some of several types."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from shared.seeding import SeedPlan, seeders
from tests.conftest import in_process_app

SMALL_SEED = {"users": 4, "posts": 8, "likes_per_post": 2, "comments_per_post": 2, "activities": 60}


def seed(**sizes: int) -> SeedPlan:
    plan = SeedPlan(**{**SMALL_SEED, **sizes})
    for seeder in seeders():
        seeder.run(plan, lambda n: None)
    return plan


@pytest.fixture(scope="module")
def seeded_client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    """The whole app on moto in-process, seeded small once per test module (the explorer only
    reads; a test that adds an item adds one no other test counts on)."""
    with (
        pytest.MonkeyPatch.context() as monkeypatch,
        in_process_app(monkeypatch, tmp_path_factory.mktemp("explorer")) as client,
    ):
        seed()
        yield client
