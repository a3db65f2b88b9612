"""`python -m engine` (and `manage.py engine`): the lab's DynamoDB, on its own port.

moto's DynamoDB, with its API coverage, served by a production WSGI server (`engine.front`)
with what the lab needs added: every request through one gate (reads beside each other, a
write alone, so conditional writes are atomic), a journal of every write synced before the
answer, snapshots taken from the engine's own state, a TTL sweeper and,
if asked, per-partition write limits. Any DynamoDB client can use it: the app, the AWS CLI,
NoSQL Workbench, dynamodb-admin (`--endpoint-url http://127.0.0.1:8001`, any credentials).

    python -m engine --port 8001 --data-dir data/dynamodb
    python -m engine --in-memory --ttl-interval 1 --partition-limit 10
    python -m engine --in-memory --gsi-lag-ms 1000 --replica-lag-ms 1000

`GET /_engine/health` answers without waiting for the lock, so a client can tell an engine that
is busy (a long Scan, a snapshot) from one that is dead: the launcher asks it.

SIGTERM or Ctrl-C: the engine refuses new requests, takes a last snapshot, closes the journal
and exits. `kill -9` loses nothing acknowledged either; the next start replays the journal.
"""

from __future__ import annotations

import argparse
import gc
import json
import logging
import os
import signal
import sys
from collections.abc import Callable, Iterable
from dataclasses import asdict
from pathlib import Path
from types import FrameType
from typing import Any

from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

from engine import front, indexes, lag, patches
from engine import gate as gate_module
from engine import throttle as throttle_module
from engine.export_format import SnapshotError
from engine.gate import Gate
from engine.journal import JournalCorrupt
from engine.store import COMPACT_AFTER_RECORDS, DirectoryInUse, Recovery, Store
from engine.ttl import DEFAULT_INTERVAL_SECONDS, TtlSweeper
from shared.process import settle_start_up_heap

logger = logging.getLogger("engine")

DEFAULT_PORT = 8001
DEFAULT_DATA_DIR = Path("data/dynamodb")
DEFAULT_REGION = "ap-northeast-1"
# AWS does not publish how long a partition must stay hot before it splits: a lab shortens it.
DEFAULT_SPLIT_AFTER_SECONDS = 300.0
HEALTH_PATH = "/_engine/health"
MOTO_RESET_PATH = "/moto-api/reset"

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class Engine:
    """The engine's parts, started in order and stopped in reverse."""

    def __init__(self, options: argparse.Namespace) -> None:
        self.options = options
        self.store = (
            None
            if options.in_memory
            else Store(
                options.data_dir,
                sync=options.fsync,
                home_region=options.region,
                compact_after=options.compact_after,
            )
        )
        self.gate = self.store.gate if self.store is not None else Gate()
        self.sweeper = TtlSweeper(self.gate, options.ttl_interval)
        self.recovery: Recovery | None = None
        self.throttle: throttle_module.PartitionThrottle | None = None

    def start(self) -> None:
        patches.install_all()  # before any table exists: the indexes follow every write
        if self.store is not None:
            self.recovery = self.store.open()
            # The recovered items live as long as the engine: out of the collector's sight,
            # later collections (which may run while the lock is held) no longer walk them.
            gc.collect()
            gc.freeze()
        gate_module.install(self.gate)
        # After recovery, which leaves every index and replica caught up, as a restart does
        lag.configure(
            lag.Lag(gsi_ms=self.options.gsi_lag_ms, replica_ms=self.options.replica_lag_ms)
        )
        if self.options.partition_limit:
            self.throttle = throttle_module.PartitionThrottle(
                self.options.partition_limit,
                partitions=self.options.partitions,
                split_after=self.options.split_after_s,
            )
            throttle_module.install(self.throttle)
        self.sweeper.start()

    def stop(self) -> None:
        self.sweeper.stop()
        if self.store is not None:
            self.store.close(compact=True)

    def status(self) -> dict[str, Any]:
        """What `/_engine/health` reports; read without the lock, so figures may be a moment old."""
        journal = self.gate.journal
        last = self.store.last_compaction if self.store is not None else None
        return {
            "engine": "dynamodb-lab",
            "pid": os.getpid(),
            "durable": self.store is not None,
            "busy": self.gate.lock.locked(),
            "fsync": bool(self.store and self.store.sync),
            "journal_records_since_snapshot": journal.records_since_snapshot if journal else 0,
            "journal_replay_seconds": journal.replay_seconds_since_snapshot if journal else 0.0,
            "ttl_interval_seconds": self.options.ttl_interval,
            "partition_limit": self.options.partition_limit,
            "split_after_s": self.options.split_after_s if self.options.partition_limit else None,
            "partitions": self.throttle.partition_counts() if self.throttle else {},
            "splits": self.throttle.splits if self.throttle else 0,
            "gsi_lag_ms": self.options.gsi_lag_ms,
            "replica_lag_ms": self.options.replica_lag_ms,
            # Writes not yet visible in each lagging index and table replica ("table/index")
            "lag_backlog": indexes.backlog(),
            "recovery": asdict(self.recovery) if self.recovery else None,
            "last_snapshot": asdict(last) if last else None,
            # Objects the collector no longer walks (see shared.process): 0 means it walks all.
            "gc_frozen_objects": gc.get_freeze_count(),
        }

    def describe(self) -> str:
        if self.store is None:
            where = "in memory (no journal, no snapshots)"
        else:
            sync = "synced before each answer" if self.options.fsync else "not fsynced"
            where = f"data in {self.options.data_dir} (journal {sync})"
        limit = self.options.partition_limit
        throttling = (
            f"{limit:g} WCU/s per partition, {self.options.partitions} partitions per table, "
            f"split after {self.options.split_after_s:g}s hot"
            if limit
            else "off"
        )
        options = self.options
        lagging = f"GSI lag {options.gsi_lag_ms:g} ms, replica lag {options.replica_lag_ms:g} ms"
        sweep = f"TTL sweep every {options.ttl_interval:g}s"
        return f"{where}; {sweep}; throttling {throttling}; {lagging}"


def with_engine_paths(app: WsgiApp, engine: Engine) -> WsgiApp:
    """The health URL, answered without the lock; and moto's reset URL refused when the engine
    is durable, because a reset the journal does not record would come back at the next start."""

    def wsgi(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if path == HEALTH_PATH:
            return _json(start_response, "200 OK", engine.status())
        if path.startswith(MOTO_RESET_PATH) and engine.store is not None:
            message = "a durable engine is not reset through moto's API: stop it and delete "
            message += "its data directory, or run it with --in-memory"
            return _json(start_response, "409 Conflict", {"message": message})
        return app(environ, start_response)

    return wsgi


def _json(start_response: Callable[..., Any], status: str, body: dict[str, Any]) -> list[bytes]:
    payload = json.dumps(body).encode()
    start_response(
        status, [("Content-Type", "application/json"), ("Content-Length", str(len(payload)))]
    )
    return [payload]


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m engine", description=__doc__.split("\n")[0])
    parser.add_argument("-H", "--host", default="127.0.0.1")
    parser.add_argument("-p", "--port", type=int, default=DEFAULT_PORT)
    parser.add_argument("--data-dir", type=Path, default=DEFAULT_DATA_DIR)
    parser.add_argument(
        "--in-memory", action="store_true", help="Keep nothing on disk (no journal, no snapshots)."
    )
    parser.add_argument(
        "--ttl-interval",
        type=_positive,
        default=DEFAULT_INTERVAL_SECONDS,
        help="Seconds between TTL sweeps (default: %(default)s).",
    )
    parser.add_argument(
        "--partition-limit",
        type=_positive,
        default=None,
        metavar="WCU_PER_S",
        help="Refuse writes to a partition beyond this many write units per second.",
    )
    parser.add_argument(
        "--partitions",
        type=int,
        default=throttle_module.DEFAULT_PARTITIONS,
        help="Partitions an on-demand table or index starts with (default: %(default)s).",
    )
    parser.add_argument(
        "--split-after-s",
        type=_positive,
        default=DEFAULT_SPLIT_AFTER_SECONDS,
        help="Seconds a partition refuses writes before it splits for heat (default: %(default)s).",
    )
    parser.add_argument(
        "--gsi-lag-ms",
        type=_not_negative,
        default=0.0,
        metavar="MS",
        help="Each write reaches each global secondary index after MS/2 to MS milliseconds "
        "(default: %(default)s, no lag).",
    )
    parser.add_argument(
        "--replica-lag-ms",
        type=_not_negative,
        default=0.0,
        metavar="MS",
        help="About one eventually consistent read in three sees a write only MS/2 to MS "
        "milliseconds after it; ConsistentRead=True always sees it (default: %(default)s).",
    )
    parser.add_argument(
        "--no-fsync",
        dest="fsync",
        action="store_false",
        help="Do not sync the journal: a crash loses nothing, a power loss the last seconds.",
    )
    parser.add_argument(
        "--region",
        default=DEFAULT_REGION,
        help="Tables of this region are snapshotted as <table>.json (default: %(default)s).",
    )
    parser.add_argument(
        "--compact-after",
        type=int,
        default=COMPACT_AFTER_RECORDS,
        help="Journal records that trigger a snapshot (default: %(default)s).",
    )
    return parser.parse_args(argv)


def _positive(text: str) -> float:
    value = float(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be positive, not {text}")
    return value


def _not_negative(text: str) -> float:
    value = float(text)
    if not value >= 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, not {text}")
    return value


def main(argv: list[str] | None = None) -> int:
    options = parse_args(argv)
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    engine = Engine(options)
    try:
        engine.start()
    except (DirectoryInUse, JournalCorrupt, SnapshotError) as error:
        print(f"the engine cannot start: {error}", file=sys.stderr)
        if isinstance(error, JournalCorrupt):
            print(
                f"to see the damage: manage.py engine-check --data-dir {options.data_dir}; "
                "to keep a copy and recover the rest: add --repair",
                file=sys.stderr,
            )
        return 1
    _report_recovery(engine.recovery)
    moto_app = DomainDispatcherApplication(create_backend_app)
    app = with_engine_paths(front.application(moto_app), engine)
    try:
        server = front.server(app, options.host, options.port)
    except OSError as error:
        engine.stop()
        print(f"cannot listen on {options.host}:{options.port}: {error}", file=sys.stderr)
        return 1
    signal.signal(signal.SIGTERM, _interrupt)
    settle_start_up_heap()  # moto, botocore's models, the recovered items (freed when replaced)
    port = server.bind_addr[1]
    print(f"Running on http://{options.host}:{port}  ({engine.describe()})", flush=True)
    try:
        server.serve()
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)  # the last snapshot must not be cut short
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        server.stop()  # lets the requests in flight finish first
        engine.stop()
        logger.info("engine stopped")
    return 0


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def _report_recovery(recovery: Recovery | None) -> None:
    if recovery is None:
        return
    logger.info(
        "recovered %d items from the snapshot in %.2fs and replayed %d journal records in %.2fs",
        recovery.snapshot_items,
        recovery.snapshot_seconds,
        recovery.replayed,
        recovery.replay_seconds,
    )
