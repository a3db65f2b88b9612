"""What every figure measures against: one engine, the app wired to it once, servers and clients.

Settings come from the environment, as for a user, and everything lives in a temporary data
directory. Apps are served by uvicorn with one worker in a daemon thread of this process (more
workers add latency to every keep-alive request on this kind of machine). Shared data (the
seeded users and posts, the activities table grown to a size) is made once and reused by the
figures that need it, whatever order they run in. The activities are the seeder's own
(activity i is the same item whoever writes it), so growing the table after the seed adds to
the seeded items instead of beside them.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC
from pathlib import Path
from typing import Any, TypeVar

import httpx
import uvicorn

T = TypeVar("T")
PASSWORD = "bench-password-1"
PROJECT_ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def serving(app: Any) -> Iterator[str]:
    """uvicorn, one worker, in a daemon thread; yields the base URL."""
    port = free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name=f"uvicorn-{port}", daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError(f"uvicorn on port {port} did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@contextmanager
def serving_process() -> Iterator[str]:
    """The app as it is deployed: `uvicorn app:app`, one worker, in a process of its own, with
    the settings of this run's environment; yields the base URL."""
    port = free_port()
    command = [sys.executable, "-m", "uvicorn", "app:app", "--port", str(port)]
    command += ["--host", "127.0.0.1", "--log-level", "warning"]
    process = subprocess.Popen(command, cwd=PROJECT_ROOT, stdin=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"uvicorn app:app on port {port} did not start")
            try:
                if httpx.get(url + "/api/v1/auth/session", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def csrf_headers(client: httpx.Client) -> dict[str, str]:
    token = client.get("/api/v1/auth/session").json()["csrf_token"]
    return {"X-CSRF-Token": str(token)}


def sign_in(base_url: str, username: str, password: str) -> httpx.Client:
    client = httpx.Client(base_url=base_url, timeout=60)
    response = client.post(
        "/api/v1/auth/login",
        json={"username": username, "password": password},
        headers=csrf_headers(client),
    )
    response.raise_for_status()
    return client


def sign_up(base_url: str, username: str) -> httpx.Client:
    """A new user, signed in: a client with its own cookie jar."""
    client = httpx.Client(base_url=base_url, timeout=60)
    response = client.post(
        "/api/v1/auth/signup",
        json={"username": username, "password": PASSWORD},
        headers=csrf_headers(client),
    )
    response.raise_for_status()
    return client


def server_timing(response: httpx.Response) -> dict[str, float]:
    """`dynamodb;dur=1.2;desc="..", sql;dur=0.3;desc=".."` -> {"dynamodb": 1.2, "sql": 0.3}."""
    found = {}
    for entry in response.headers.get("server-timing", "").split(","):
        parts = [part.strip() for part in entry.split(";")]
        durations = [p.split("=", 1)[1] for p in parts[1:] if p.startswith("dur=")]
        if parts[0] and durations:
            found[parts[0]] = float(durations[0])
    return found


def capacity_summary(response: httpx.Response) -> dict[str, str]:
    """The inspector's `X-DynamoDB-Capacity` header as a dict (`calls`, `computed-rcu`, ...)."""
    header = response.headers.get("x-dynamodb-capacity", "")
    return dict(part.split("=", 1) for part in header.split("; ") if "=" in part)


def configure(data_dir: Path, endpoint: str) -> None:
    """Settings come from the environment, as for a user; everything lives in `data_dir`."""
    os.environ.update(
        DYNAMODB_ENDPOINT=endpoint,
        DATABASE_URL=f"sqlite:///{data_dir / 'bench.sqlite3'}",
        DATA_DIR=str(data_dir),
        TABLE_PREFIX="bench-",
        APP_ENV="dev",
        SECRET_KEY="benchmark-secret",
        # The figures sign up dozens of users from one address in seconds; a deployment sees
        # them from as many addresses, so the per-address sign-up limit is lifted here.
        SIGN_UP_ATTEMPTS_PER_ADDRESS="10000",
        SIGN_IN_ATTEMPTS_PER_ADDRESS="10000",
    )
    os.environ.pop("AWS_ACCESS_KEY_ID", None)


class Bench:
    """The run's engine, settings and shared data; `size(full, quick)` picks a size."""

    def __init__(
        self, *, quick: bool, data_dir: Path, endpoint: str, engine_pid: int | None = None
    ) -> None:
        self.quick = quick
        self.data_dir = data_dir
        self.endpoint = endpoint
        self.engine_pid = engine_pid
        configure(data_dir, endpoint)
        from shared.database import create_rdb_tables
        from shared.dynamo import create_tables
        from shared.process import settle_start_up_heap
        from shared.settings import get_settings

        get_settings.cache_clear()
        self.settings = get_settings()
        self.app()  # wires every context to this engine before any figure runs
        create_tables(self.settings)
        create_rdb_tables()
        settle_start_up_heap()  # as `manage.py` and the served app do once started
        self._plan: Any = None
        self._activities = 0

    def size(self, full: T, quick: T) -> T:
        return quick if self.quick else full

    def app(self, *, inspector: bool = True) -> Any:
        from app import create_app

        return create_app(self.settings.model_copy(update={"inspector_enabled": inspector}))

    def boto3_client(self, *, pool: int = 10) -> Any:
        """A plain boto3 client for the engine, one attempt per call (nothing retried unseen)."""
        import boto3
        from botocore.config import Config

        return boto3.session.Session().client(
            "dynamodb",
            endpoint_url=self.endpoint,
            region_name=self.settings.aws_region,
            aws_access_key_id="local",
            aws_secret_access_key="local",
            config=Config(retries={"total_max_attempts": 1}, max_pool_connections=pool),
        )

    def table_name(self, base: str) -> str:
        return self.settings.table_prefix + base

    # -- shared data ---------------------------------------------------------------------------

    def remember_plan(self, plan: Any) -> None:
        self._plan = plan

    def plan(self) -> Any:
        """The seeded users and posts (seeded with the demo sizes when no figure did it yet)."""
        if self._plan is None:
            from shared.seeding import SeedPlan, seeders

            plan = SeedPlan(**self.size(FULL_SEED, QUICK_SEED))
            for seeder in seeders():
                seeder.run(plan, lambda _done: None)
            self._plan = plan
        return self._plan

    def grow_activities(self, total: int) -> int:
        """Grow the activities table to at least `total` synthetic activities of the seeded
        users and posts (deterministic: activity i is the same item in every run)."""
        from activity.seed import write_synthetic_activities
        from blog.service import get_post

        plan = self.plan()
        if total > self._activities:
            write_synthetic_activities(
                users=plan.viewers,
                post_ids=plan.post_ids,
                count=total,
                newest=get_post(post_id=max(plan.post_ids)).created_at.replace(tzinfo=UTC),
                progress=lambda _done: None,
            )
            self._activities = total
        return self.item_count("activities")

    def item_count(self, base: str) -> int:
        table = self.boto3_client().describe_table(TableName=self.table_name(base))["Table"]
        return int(table["ItemCount"])


FULL_SEED: dict[str, Any] = {"users": 8, "posts": 40, "likes_per_post": 5, "comments_per_post": 4}
QUICK_SEED: dict[str, Any] = {
    "users": 2,
    "posts": 3,
    "likes_per_post": 1,
    "comments_per_post": 1,
    "activities": 100,
}
