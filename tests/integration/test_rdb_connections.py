"""RDB connections under concurrent requests: PostgreSQL connections are pooled, capped and
handed back at the end of each request, whichever worker threads served it."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import psycopg2
import pytest
from fastapi.testclient import TestClient

from shared.database import database
from tests.conftest import build_app_client, configure

POOL_SIZE = 4
THREADS = 16
REQUESTS = 96


@pytest.fixture
def own_database(postgres_url: str) -> Iterator[str]:
    """A database of this test's own, so counting its connections counts only ours."""
    name = f"rel_{uuid.uuid4().hex[:10]}"
    admin = psycopg2.connect(postgres_url)
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute(f"CREATE DATABASE {name}")
    try:
        yield name
    finally:
        with admin.cursor() as cursor:
            cursor.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        admin.close()


def open_connections(postgres_url: str, name: str) -> int:
    with psycopg2.connect(postgres_url) as probe, probe.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = %s", (name,))
        return int(cursor.fetchone()[0])


@pytest.fixture
def pooled_client(
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    engine_endpoint: str,
    postgres_url: str,
    own_database: str,
) -> Iterator[TestClient]:
    settings = configure(
        monkeypatch,
        DYNAMODB_ENDPOINT=engine_endpoint,
        DATABASE_URL=postgres_url.rsplit("/", 1)[0] + "/" + own_database,
        TABLE_PREFIX=f"it{uuid.uuid4().hex[:8]}-",
        DATA_DIR=str(tmp_path),
        DATABASE_POOL_SIZE=str(POOL_SIZE),
    )
    with build_app_client(settings) as client:
        yield client
    database.close_all()  # type: ignore[attr-defined]


def test_concurrent_requests_share_a_capped_pool_and_give_connections_back(
    pooled_client: TestClient, postgres_url: str, own_database: str, make_user
) -> None:
    user = make_user(pooled_client)
    for n in range(3):
        user.call("POST", "/api/v1/posts", json={"title": f"post {n}", "body": "b"})
    paths = ["/api/v1/posts", "/", "/posts/1", "/api/v1/posts/2"]

    def fetch(n: int) -> int:
        return pooled_client.get(paths[n % len(paths)]).status_code

    with ThreadPoolExecutor(THREADS) as pool:
        statuses = list(pool.map(fetch, range(REQUESTS)))
    assert statuses == [200] * REQUESTS
    assert open_connections(postgres_url, own_database) <= POOL_SIZE
    assert database.obj._in_use == {}, "every request gave its connection back"  # type: ignore[union-attr]
