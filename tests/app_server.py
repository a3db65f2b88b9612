"""`manage.py run` in a subprocess, as a newcomer starts it: for the e2e and crash tests; and
`serving`, an ASGI app under uvicorn in a thread with `manage.py run`'s server options."""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import uvicorn

PROJECT_ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def serving(app: Any, settings: Any, *, start_timeout: float = 30) -> Iterator[tuple[str, int]]:
    """Serve `app` as `manage.py run` would (its uvicorn options from `settings`) in a thread;
    yield (host, port) once it accepts connections, stop it afterwards."""
    from shared.serving import server_options

    port = free_port()
    config = uvicorn.Config(
        app, host="127.0.0.1", port=port, log_level="warning", **server_options(settings)
    )
    running = uvicorn.Server(config)
    thread = threading.Thread(target=running.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + start_timeout
    while not running.started:
        assert time.monotonic() < deadline, "the server did not start"
        time.sleep(0.05)
    try:
        yield "127.0.0.1", port
    finally:
        running.should_exit = True
        thread.join(timeout=15)


class AppServer:
    """`manage.py run` in a subprocess, on its own port and data directory."""

    def __init__(self, data_dir: Path, *, seed: bool = True, lag_ms: float = 0.0) -> None:
        self.data_dir = data_dir
        self.seed = seed
        self.lag_ms = lag_ms  # the engine's GSI and replica lag (make run's default is not 0)
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None
        self.log = data_dir / "server.log"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 90.0) -> AppServer:
        env = {
            **os.environ,
            "DATA_DIR": str(self.data_dir),
            "DATABASE_URL": f"sqlite:///{self.data_dir / 'blog.sqlite3'}",
            "APP_ENV": "dev",
            "PYTHONUNBUFFERED": "1",
            "GSI_LAG_MS": f"{self.lag_ms:g}",
            "REPLICA_LAG_MS": f"{self.lag_ms:g}",
        }
        env.pop("DYNAMODB_ENDPOINT", None)
        # No dynamodb-admin beside the engine: one GUI port, many servers under test.
        command = [sys.executable, "manage.py", "run", "--port", str(self.port)]
        command += ["--admin-gui-port", "0"]  # one GUI port, many servers under test
        if not self.seed:
            command.append("--no-seed-if-empty")
        self.data_dir.mkdir(parents=True, exist_ok=True)
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                command,
                cwd=PROJECT_ROOT,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group, like a terminal's foreground job
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"manage.py run exited early:\n{self.log.read_text()[-3000:]}")
            try:
                if httpx.get(self.url + "/", timeout=2).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.3)
        self.stop()
        raise RuntimeError(f"manage.py run did not answer in {timeout}s:\n{self.log.read_text()}")

    def stop(self) -> None:
        """Ctrl-C, as a terminal sends it: SIGINT to the whole process group. The server must
        still snapshot the engine (which must not have died of the same Ctrl-C) and stop it."""
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGINT)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def kill(self) -> None:
        """`kill -9` of the app alone, as a crash would end it."""
        assert self.process is not None
        self.process.kill()
        self.process.wait()

    def engine_endpoint(self) -> str:
        """The embedded engine's URL, as `manage.py run` announced it in this run's log."""
        found = re.findall(r"Embedded DynamoDB engine at (http://[\d.]+:\d+)", self.log.read_text())
        assert found, "no embedded engine was started"
        return str(found[-1])

    def engine_pid(self) -> int:
        with httpx.Client(timeout=5) as client:
            health = client.get(self.engine_endpoint() + "/_engine/health")
        return int(json.loads(health.text)["pid"])
