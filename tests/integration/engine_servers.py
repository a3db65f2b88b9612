"""moto's server in a child process, stock or with the engine's patches, for the engine's tests.

The patched one runs `engine.patches.install_all()` before moto's own CLI, which is what the
engine's entry point does; the stock one is `python -m moto.server`. Both bind a free port on
loopback, keep their log in a temp file and are killed when the block ends.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
from botocore.client import BaseClient
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

ROOT = Path(__file__).resolve().parents[2]
REGION = "ap-northeast-1"
PATCHED = (
    "import sys; import engine.patches as patches; patches.install_all(); "
    "from moto.server import main; main(sys.argv[1:])"
)


@dataclass(frozen=True)
class Server:
    endpoint: str
    pid: int

    def client(self, *, timeout: float = 60.0) -> BaseClient:
        return boto3.session.Session().client(
            "dynamodb",
            endpoint_url=self.endpoint,
            region_name=REGION,
            aws_access_key_id="local",
            aws_secret_access_key="local",
            config=Config(
                connect_timeout=timeout,
                read_timeout=timeout,
                retries={"total_max_attempts": 1},
                max_pool_connections=32,
            ),
        )

    def rss_mb(self) -> float:
        """Resident memory of the server process, from /proc (Linux)."""
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        raise RuntimeError(f"no VmRSS for process {self.pid}")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def moto_server(*, patched: bool) -> Iterator[Server]:
    port = _free_port()
    args = ["-H", "127.0.0.1", "-p", str(port)]
    command = (
        [sys.executable, "-c", PATCHED, *args]
        if patched
        else [
            sys.executable,
            "-m",
            "moto.server",
            *args,
        ]
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    with tempfile.TemporaryFile() as log:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        server = Server(f"http://127.0.0.1:{port}", process.pid)
        try:
            _wait_until_ready(server, process, log)
            yield server
        finally:
            process.kill()
            process.wait()


def _wait_until_ready(server: Server, process: subprocess.Popen[bytes], log: object) -> None:
    client = server.client(timeout=1.0)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            log.seek(0)  # type: ignore[attr-defined]
            raise RuntimeError(f"moto server exited: {log.read().decode()[-2000:]}")  # type: ignore[attr-defined]
        try:
            client.list_tables(Limit=1)
            return
        except (BotoCoreError, ClientError):
            time.sleep(0.1)
    raise RuntimeError(f"moto server at {server.endpoint} did not answer")


def answer(client: BaseClient, operation: str, params: dict[str, Any]) -> dict[str, Any]:
    """A DynamoDB call's answer in a form two servers' answers can be compared in: the
    response without its metadata and ConsumedCapacity (the patched engine reports AWS's
    figures on purpose), or the error's code and the start of its message."""
    try:
        response = getattr(client, operation)(**params)
    except ClientError as error:
        details = error.response.get("Error", {})
        return {"error": details.get("Code"), "message": str(details.get("Message"))[:200]}
    response.pop("ResponseMetadata", None)
    response.pop("ConsumedCapacity", None)
    return dict(response)
