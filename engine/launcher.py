"""Start and stop the lab's DynamoDB engine (`python -m engine`) as a child process.

`make run`, the integration tests and the benchmarks all start the engine through this one
launcher. `LocalEngine(data_dir=...)` keeps its data there (journal and snapshots, see
`engine.server`); without a data directory it keeps nothing on disk. `gsi_lag_ms` and
`replica_lag_ms` make its eventually consistent reads lag as DynamoDB's do (`engine.lag`; 0,
the default, answers them at once). `stock_moto=True` runs
moto's own server instead, unchanged, for comparing the two (`LAB_ENGINE=moto` in the tests).

Why a subprocess and not an in-process server: a separate process keeps the engine's CPU work
and memory out of the app's GIL and heap, and a crash of either side can be shown for what it
is. The launcher waits until the engine answers before handing out its URL.

Liveness, telling busy from dead: `state()` first asks the operating system whether the
process still runs (a dead engine is known at once), then asks the engine's health URL, which
answers without waiting for the engine's lock, with a few seconds' timeout and retries; an
engine that runs but does not answer is BUSY, never taken for DEAD. (Stock moto has no health
URL; a ListTables stands in.)

Shutdown: the child runs in a session of its own, so a terminal's Ctrl-C reaches only the app,
which then stops the engine itself (an `atexit` hook does the same on a normal interpreter
exit); the engine takes its last snapshot before it exits. On Linux the child also asks the
kernel for SIGTERM when the thread that started it ends (`PR_SET_PDEATHSIG`), so even a
`kill -9` of the app leaves no engine behind, and that engine still shuts down cleanly.
"""

from __future__ import annotations

import atexit
import ctypes
import ctypes.util
import enum
import errno
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from types import TracebackType

import boto3
from botocore.client import BaseClient
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

DEFAULT_REGION = "ap-northeast-1"
LOCAL_CREDENTIALS = ("local", "local")
STOP_GRACE_SECONDS = 5.0
DURABLE_STOP_GRACE_SECONDS = 120.0  # the last snapshot of a large table takes a few seconds
START_TIMEOUT_SECONDS = 20.0
DURABLE_START_TIMEOUT_SECONDS = 120.0
HEALTH_PATH = "/_engine/health"
CLIENT_POOL_CONNECTIONS = 64  # one client may serve many threads (boto3 clients are thread-safe)
PROJECT_ROOT = Path(__file__).resolve().parents[1]
POLL_INTERVAL_SECONDS = 0.1
AUTO_PORT_RETRIES = 2
LOG_TAIL_BYTES = 4000
_ANSI_ESCAPE = re.compile(r"\x1b\[[0-9;]*m")  # werkzeug colours its banner

PR_SET_PDEATHSIG = 1  # prctl option: the signal a child gets when its parent dies


class EngineError(RuntimeError):
    """The local engine could not be started, or is not answering."""


class PortInUseError(EngineError):
    """The requested port is taken by another program."""


class EngineState(enum.Enum):
    RUNNING = "running"  # the process runs and answers
    BUSY = "busy"  # the process runs but did not answer in time
    DEAD = "dead"  # the process is gone


class LocalEngine:
    """One engine process on `host:port`; `port=None` picks a free port at start."""

    def __init__(
        self,
        log_path: Path | None = None,
        *,
        data_dir: Path | None = None,
        ttl_interval: float | None = None,
        partition_limit: float | None = None,
        partitions: int | None = None,
        split_after_s: float | None = None,
        stock_moto: bool = False,
        host: str = "127.0.0.1",
        port: int | None = None,
        region: str = DEFAULT_REGION,
        fsync: bool = True,
        gsi_lag_ms: float = 0.0,
        replica_lag_ms: float = 0.0,
    ) -> None:
        if stock_moto and (data_dir or ttl_interval or partition_limit):
            raise ValueError("stock moto keeps no data, sweeps no TTL and never throttles")
        if stock_moto and (gsi_lag_ms or replica_lag_ms):
            raise ValueError("stock moto answers every read as if strongly consistent")
        self.host = host
        self.region = region
        self.data_dir = data_dir.resolve() if data_dir is not None else None
        self.ttl_interval = ttl_interval
        self.partition_limit = partition_limit
        self.partitions = partitions
        self.split_after_s = split_after_s
        self.stock_moto = stock_moto
        self.fsync = fsync
        self.gsi_lag_ms = gsi_lag_ms
        self.replica_lag_ms = replica_lag_ms
        self._requested_port = port
        self._log_path = log_path
        self._port: int | None = None
        self._process: subprocess.Popen[bytes] | None = None
        self._active_log: Path | None = None
        self._log_offset = 0
        self._health_client: BaseClient | None = None

    @property
    def endpoint(self) -> str:
        """The engine's URL; kept after stop() so messages can still name it."""
        if self._port is None:
            raise EngineError("the local engine has not been started")
        return f"http://{_url_host(self.host)}:{self._port}"

    @property
    def pid(self) -> int | None:
        """The engine's process id while it runs (for messages and for `kill` by hand)."""
        process = self._process
        return process.pid if process is not None and process.poll() is None else None

    @property
    def log_path(self) -> Path | None:
        """Where the engine's output goes (a temp file when no log was given)."""
        return self._active_log or self._log_path

    @property
    def running(self) -> bool:
        """The child process exists and has not exited (it may still not answer)."""
        return self.pid is not None

    def start(self, timeout: float | None = None) -> str:
        """Start the engine and wait until it answers; return its endpoint URL.

        The default wait is longer with a data directory, whose journal may take a while to
        replay (and whose previous engine may still be taking its last snapshot).

        Starting a running engine just returns its URL. With an automatic port, another program
        can grab the port between our choice and the child's bind, so that case is retried on a
        fresh port a few times.
        """
        if self.running:
            return self.endpoint
        self.stop()  # a crashed run's log and atexit hook go before a new run starts
        timeout = self._start_timeout(timeout)
        retries = 0 if self._requested_port else AUTO_PORT_RETRIES
        for _ in range(retries):
            try:
                self._start_on(_free_port(self.host), timeout)
                return self.endpoint
            except PortInUseError:
                continue
        self._start_on(self._requested_port or _free_port(self.host), timeout)
        return self.endpoint

    def restart(self, timeout: float | None = None) -> str:
        """Start a stopped or crashed engine again on the same port; return its URL."""
        port = self._port
        self.stop()
        if port is None:
            return self.start(timeout)
        self._start_on(port, self._start_timeout(timeout))
        return self.endpoint

    def _start_timeout(self, timeout: float | None) -> float:
        if timeout is not None:
            return timeout
        return START_TIMEOUT_SECONDS if self.data_dir is None else DURABLE_START_TIMEOUT_SECONDS

    def stop(self) -> None:
        """Terminate the engine, killing it if it ignores SIGTERM. Safe to call repeatedly."""
        process, self._process = self._process, None
        self._health_client = None
        atexit.unregister(self.stop)
        if process is not None and process.poll() is None:
            process.terminate()
            grace = STOP_GRACE_SECONDS if self.data_dir is None else DURABLE_STOP_GRACE_SECONDS
            try:
                process.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        self._discard_temp_log()

    def alive(self) -> bool:
        """The process is running and answers its health check."""
        return self.running and self._answers(timeout=2.0)

    def state(self, *, timeout: float = 5.0, attempts: int = 3) -> EngineState:
        """DEAD at once if the process is gone; else RUNNING if it answers within `attempts`
        tries of `timeout` seconds each, BUSY if it does not."""
        for _ in range(attempts):
            if not self.running:
                return EngineState.DEAD
            if self._answers(timeout):
                return EngineState.RUNNING
        return EngineState.DEAD if not self.running else EngineState.BUSY

    def client(self, *, timeout: float = 5.0, max_attempts: int = 3) -> BaseClient:
        """A boto3 DynamoDB client for this engine, with local credentials."""
        return _dynamodb_client(self.endpoint, self.region, timeout, max_attempts)

    def log_tail(self) -> str:
        """The end of this run's log (not earlier runs in the same file), for error messages."""
        if self._active_log is None or not self._active_log.exists():
            return ""
        with self._active_log.open("rb") as log:
            size = log.seek(0, os.SEEK_END)
            log.seek(max(self._log_offset, size - LOG_TAIL_BYTES))
            text = log.read().decode("utf-8", errors="replace")
        return _ANSI_ESCAPE.sub("", text).strip()

    def __enter__(self) -> LocalEngine:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # -- internals ------------------------------------------------------------------------

    def _start_on(self, port: int, timeout: float) -> None:
        """Spawn on one port and wait for it; on any failure leave nothing running."""
        _check_port(self.host, port)
        self._port = port
        self._spawn(port)
        try:
            self._wait_until_ready(timeout)
        except BaseException:
            self.stop()
            raise

    def _spawn(self, port: int) -> None:
        log_path = self._open_log()
        with log_path.open("ab") as log:
            self._process = subprocess.Popen(
                self._command(port),
                stdin=subprocess.DEVNULL,
                cwd=PROJECT_ROOT,  # where `python -m engine` finds the package
                stdout=log,
                stderr=subprocess.STDOUT,
                # Ctrl-C in a terminal reaches the whole foreground process group: in a session
                # of its own the engine outlives the app's shutdown, and stop() ends it. If the
                # app dies without stopping it, the kernel sends it SIGTERM (Linux).
                start_new_session=True,
                preexec_fn=_die_with_parent,
            )
        atexit.register(self.stop)
        if self.stock_moto:
            self._health_client = _dynamodb_client(
                self.endpoint, self.region, timeout=1.0, max_attempts=1
            )

    def _command(self, port: int) -> list[str]:
        if self.stock_moto:
            return _server_command(self.host, port)
        options = ["--region", self.region]
        if self.data_dir is None:
            options.append("--in-memory")
        else:
            options += ["--data-dir", str(self.data_dir)]
        if self.ttl_interval is not None:
            options += ["--ttl-interval", f"{self.ttl_interval:g}"]
        if self.partition_limit is not None:
            options += ["--partition-limit", f"{self.partition_limit:g}"]
        if self.partitions is not None:
            options += ["--partitions", str(self.partitions)]
        if self.split_after_s is not None:
            options += ["--split-after-s", f"{self.split_after_s:g}"]
        if not self.fsync:
            options.append("--no-fsync")
        if self.gsi_lag_ms:
            options += ["--gsi-lag-ms", f"{self.gsi_lag_ms:g}"]
        if self.replica_lag_ms:
            options += ["--replica-lag-ms", f"{self.replica_lag_ms:g}"]
        return [*_engine_command(self.host, port), *options]

    def _open_log(self) -> Path:
        """Use the caller's log (appending, tail from this run only) or a temp file."""
        if self._log_path is not None:
            self._log_path.parent.mkdir(parents=True, exist_ok=True)
            self._active_log = self._log_path
            self._log_offset = self._log_path.stat().st_size if self._log_path.exists() else 0
        else:
            fd, name = tempfile.mkstemp(prefix="dynamodb-lab-moto-", suffix=".log")
            os.close(fd)
            self._active_log = Path(name)
            self._log_offset = 0
        return self._active_log

    def _discard_temp_log(self) -> None:
        if self._active_log is not None and self._active_log != self._log_path:
            self._active_log.unlink(missing_ok=True)
        self._active_log = None

    def _wait_until_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self._raise_if_exited()
            if self._answers(timeout=1.0):
                self._raise_if_exited()
                return
            time.sleep(POLL_INTERVAL_SECONDS)
        raise EngineError(
            f"the local engine at {self.endpoint} did not answer within {timeout:g}s"
            f"{_tail_suffix(self.log_tail())}"
        )

    def _raise_if_exited(self) -> None:
        assert self._process is not None
        code = self._process.poll()
        if code is None:
            return
        tail = self.log_tail()
        error = PortInUseError if "in use" in tail.lower() else EngineError
        raise error(
            f"the local engine on {self.host}:{self._port} exited with code {code}"
            f"{_tail_suffix(tail)}"
        )

    def _answers(self, timeout: float) -> bool:
        if self._port is None:
            return False
        if self.stock_moto:
            return self._lists_tables()
        try:
            with urllib.request.urlopen(self.endpoint + HEALTH_PATH, timeout=timeout) as reply:
                return bool(reply.status == 200)
        except (OSError, urllib.error.URLError):
            return False

    def _lists_tables(self) -> bool:
        if self._health_client is None:
            return False
        try:
            self._health_client.list_tables(Limit=1)
        except (BotoCoreError, ClientError):
            return False
        return True


def _dynamodb_client(endpoint: str, region: str, timeout: float, max_attempts: int) -> BaseClient:
    """A fresh session per client: boto3's default session is not safe to share across threads."""
    key_id, secret = LOCAL_CREDENTIALS
    return boto3.session.Session().client(
        "dynamodb",
        endpoint_url=endpoint,
        region_name=region,
        aws_access_key_id=key_id,
        aws_secret_access_key=secret,
        config=Config(
            connect_timeout=timeout,
            read_timeout=timeout,
            retries={"total_max_attempts": max_attempts, "mode": "standard"},
            max_pool_connections=CLIENT_POOL_CONNECTIONS,
        ),
    )


def _die_with_parent() -> None:
    """Runs in the child before exec: ask Linux for SIGTERM when the parent dies."""
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def _tail_suffix(tail: str) -> str:
    return f"; log tail:\n{tail}" if tail else " (its log is empty)"


def _family(host: str) -> socket.AddressFamily:
    return socket.AF_INET6 if ":" in host else socket.AF_INET


def _free_port(host: str) -> int:
    with socket.socket(_family(host), socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def _check_port(host: str, port: int) -> None:
    """Bind the way werkzeug will (SO_REUSEADDR on POSIX, so TIME_WAIT leftovers don't count).

    Checking first matters: a health check would otherwise be answered by whatever server
    already holds the port, and we would hand out someone else's engine.
    """
    with socket.socket(_family(host), socket.SOCK_STREAM) as sock:
        if os.name == "posix":
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as error:
            if error.errno == errno.EADDRINUSE:
                raise PortInUseError(f"port {port} on {host} is already in use") from error
            raise EngineError(f"cannot listen on {host}:{port}: {error.strerror}") from error


def _server_command(host: str, port: int) -> list[str]:
    """Stock moto 5's server (moto/server.py), from the same interpreter as the app."""
    return [sys.executable, "-m", "moto.server", "-H", host, "-p", str(port)]


def _engine_command(host: str, port: int) -> list[str]:
    """The lab's engine (`engine/server.py`), from the same interpreter and project."""
    return [sys.executable, "-m", "engine", "-H", host, "-p", str(port)]


def _url_host(host: str) -> str:
    """Where a client connects: wildcard binds are reached through loopback."""
    if host in ("", "0.0.0.0"):
        return "127.0.0.1"
    if host == "::":
        return "[::1]"
    return f"[{host}]" if ":" in host else host
