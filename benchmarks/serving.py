"""What the benchmarks share: the app served by uvicorn in this process, settings from the
environment, a signed-in client."""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import uvicorn


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def serving(app: object) -> Iterator[str]:
    """uvicorn, one worker, in a daemon thread; yields the base URL."""
    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")  # type: ignore[arg-type]
    )
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


def configure(data_dir: Path, endpoint: str) -> None:
    """Settings come from the environment, as for a user; everything lives in `data_dir`."""
    os.environ.update(
        DYNAMODB_ENDPOINT=endpoint,
        DATABASE_URL=f"sqlite:///{data_dir / 'bench.sqlite3'}",
        DATA_DIR=str(data_dir),
        TABLE_PREFIX="bench-",
        APP_ENV="dev",
        SECRET_KEY="benchmark-secret",
    )
    os.environ.pop("AWS_ACCESS_KEY_ID", None)


def signed_in_client(base_url: str, username: str) -> httpx.Client:
    from blog.service import DEMO_PASSWORD

    client = httpx.Client(base_url=base_url, timeout=60)
    token = client.get("/api/v1/auth/session").json()["csrf_token"]
    response = client.post(
        "/api/v1/auth/login",
        json={"username": username, "password": DEMO_PASSWORD},
        headers={"X-CSRF-Token": token},
    )
    response.raise_for_status()
    return client
