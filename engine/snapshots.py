"""Snapshot DynamoDB tables to files and restore them, in the format of AWS's export to S3.

Why: the embedded engine (moto's server) keeps nothing on disk, so `make run` snapshots the
tables to `data/` periodically and on shutdown, and restores them on start. The files use
the DynamoDB JSON of AWS's "export to S3" (one `{"Item": {...}}` object per line, Binary as
base64), so a learner can read them, and they resemble what a real export produces.

Layout of a snapshot directory:
- `<table_name>.json`: the table's items, one per line;
- `manifest.json`: the tables of the latest export, their item counts and its time.

A snapshot is a full Scan, not a point-in-time copy: writes made while it runs may or may not
be in it. That is fine for a dev engine that survives a restart, not for a backup of prod.
"""

from __future__ import annotations

import base64
import json
import logging
import os
import re
import tempfile
import threading
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from botocore.client import BaseClient
from botocore.exceptions import ClientError, HTTPClientError
from botocore.exceptions import ConnectionError as BotoConnectionError

from shared.dynamo import UnprocessedWrites, batch_write, chunks

logger = logging.getLogger(__name__)

Item = dict[str, Any]
Progress = Callable[[str, int], None]

MANIFEST_NAME = "manifest.json"
EXPORT_FORMAT = "DYNAMODB_JSON"
BATCH_SIZE = 25  # items read per chunk; batch_write splits at BatchWriteItem's limit of 25
DEFAULT_MAX_ATTEMPTS = 8
MISSING_TABLE = -1
# DynamoDB's own rule; checked here because moto does not, and the name becomes a file name.
_TABLE_NAME = re.compile(r"[A-Za-z0-9_.-]{3,255}")


class SnapshotError(RuntimeError):
    """A snapshot could not be written or restored."""


# -- export ---------------------------------------------------------------------------------


def export_tables(
    client: BaseClient,
    table_names: list[str],
    directory: Path,
    progress: Progress | None = None,
) -> dict[str, int]:
    """Scan every table into `<directory>/<table>.json`; return the item count per table.

    Every table is first written to a temp file; the real files are replaced (renamed over)
    only once all scans have succeeded, and the manifest last. So a failure or crash during
    the scans, which is where the time goes, leaves the previous snapshot whole; no file is
    ever truncated. Files of tables not named here are left as they are.
    """
    names = list(dict.fromkeys(table_names))
    for name in names:
        _check_table_name(name)
    directory.mkdir(parents=True, exist_ok=True)
    started_at = _now()
    staged: dict[str, Path] = {}
    counts: dict[str, int] = {}
    try:
        for name in names:
            staged[name], counts[name] = _scan_to_temp(client, name, directory, progress)
        for name, temp in staged.items():
            os.replace(temp, table_file(directory, name))
    finally:
        for temp in staged.values():
            temp.unlink(missing_ok=True)
    _write_manifest(directory, counts, started_at)
    _fsync_directory(directory)
    return counts


def table_file(directory: Path, table_name: str) -> Path:
    return directory / f"{table_name}.json"


def read_manifest(directory: Path) -> dict[str, Any] | None:
    """The latest export's manifest, or None when the directory holds no snapshot."""
    path = directory / MANIFEST_NAME
    if not path.exists():
        return None
    return json.loads(path.read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def _check_table_name(name: str) -> None:
    if not _TABLE_NAME.fullmatch(name) or f"{name}.json" == MANIFEST_NAME:
        raise ValueError(f"not a table name that can be snapshotted: {name!r}")


def _scan_to_temp(
    client: BaseClient, table: str, directory: Path, progress: Progress | None
) -> tuple[Path, int]:
    """Write the table's items to a hidden temp file (ignored by import); return it and count."""
    handle = _temp_file(directory, table)
    path = Path(handle.name)
    try:
        with handle:
            count = _write_items(client, table, handle, progress)
            _flush_to_disk(handle)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return path, count


def _write_items(client: BaseClient, table: str, out: IO[str], progress: Progress | None) -> int:
    count = 0
    for page in _scan_pages(client, table):
        for item in page:
            record = {"Item": _convert_item(item, _encode_binary)}
            out.write(json.dumps(record, ensure_ascii=False, separators=(",", ":")) + "\n")
        count += len(page)
        if progress is not None:
            progress(table, count)
    return count


def _scan_pages(client: BaseClient, table: str) -> Iterator[list[Item]]:
    """Every page of a full Scan. A page can be empty and still not be the last one."""
    request: dict[str, Any] = {"TableName": table, "ConsistentRead": True}
    while True:
        response = client.scan(**request)
        yield response.get("Items", [])
        if "LastEvaluatedKey" not in response:
            return
        request["ExclusiveStartKey"] = response["LastEvaluatedKey"]


def _write_manifest(directory: Path, counts: dict[str, int], started_at: str) -> None:
    manifest = {
        "format": EXPORT_FORMAT,
        "started_at": started_at,
        "exported_at": _now(),
        "tables": {
            name: {"file": table_file(directory, name).name, "item_count": count}
            for name, count in counts.items()
        },
    }
    handle = _temp_file(directory, "manifest")
    path = Path(handle.name)
    try:
        with handle:
            json.dump(manifest, handle, indent=2)
            _flush_to_disk(handle)
        os.replace(path, directory / MANIFEST_NAME)
    finally:
        path.unlink(missing_ok=True)


def _temp_file(directory: Path, stem: str) -> IO[str]:
    """A temp file in the target directory, so os.replace stays on one file system."""
    return tempfile.NamedTemporaryFile(
        "w", encoding="utf-8", dir=directory, prefix=f".{stem}.", suffix=".tmp", delete=False
    )


def _flush_to_disk(handle: IO[str]) -> None:
    handle.flush()
    os.fsync(handle.fileno())


def _fsync_directory(directory: Path) -> None:
    """Make the renames themselves durable (POSIX only; Windows cannot open a directory)."""
    if os.name != "posix":
        return
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


# -- import ---------------------------------------------------------------------------------


def import_tables(
    client: BaseClient,
    directory: Path,
    table_names: list[str] | None = None,
    progress: Progress | None = None,
    *,
    max_attempts: int = DEFAULT_MAX_ATTEMPTS,
) -> dict[str, int]:
    """Put every item of every snapshot file (limited to `table_names` if given) back.

    Returns the items written per table. A file whose table does not exist is skipped with a
    warning and reported as MISSING_TABLE (-1) rather than raising: a restore at start-up
    should bring back every table it can, and a table dropped from the models since the
    snapshot must not block the others. The caller creates the tables first. A directory
    without snapshot files (a first run) gives an empty result.
    """
    result: dict[str, int] = {}
    for path in _snapshot_files(directory, table_names):
        table = path.name.removesuffix(".json")
        if not _table_exists(client, table):
            logger.warning("snapshot %s skipped: table %s does not exist", path, table)
            result[table] = MISSING_TABLE
            continue
        result[table] = _import_file(client, table, path, progress, max_attempts)
    return result


def _snapshot_files(directory: Path, table_names: list[str] | None) -> list[Path]:
    """Table files only: the manifest and hidden temp files of an interrupted export are not."""
    wanted = None if table_names is None else set(table_names)
    return [
        path
        for path in sorted(directory.glob("*.json"))
        if path.name != MANIFEST_NAME
        and not path.name.startswith(".")
        and (wanted is None or path.name.removesuffix(".json") in wanted)
    ]


def _table_exists(client: BaseClient, table: str) -> bool:
    try:
        client.describe_table(TableName=table)
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") == "ResourceNotFoundException":
            return False
        raise
    return True


def _import_file(
    client: BaseClient, table: str, path: Path, progress: Progress | None, max_attempts: int
) -> int:
    written = 0
    with path.open(encoding="utf-8") as lines:
        for chunk in chunks(_read_items(path, lines), BATCH_SIZE):
            try:
                batch_write(client, table, puts=chunk, max_attempts=max_attempts)
            except UnprocessedWrites as error:
                raise SnapshotError(str(error)) from error
            written += len(chunk)
            if progress is not None:
                progress(table, written)
    return written


def _read_items(path: Path, lines: Iterable[str]) -> Iterator[Item]:
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)["Item"]
        except (ValueError, KeyError, TypeError) as error:
            raise SnapshotError(f"{path}:{number}: not a DynamoDB JSON item line") from error
        yield _convert_item(item, _decode_binary)


# -- DynamoDB JSON <-> file -------------------------------------------------------------------


def _convert_item(item: Item, binary: Callable[[Any], Any]) -> Item:
    return {name: _convert_value(value, binary) for name, value in item.items()}


def _convert_value(value: dict[str, Any], binary: Callable[[Any], Any]) -> dict[str, Any]:
    """Apply `binary` to every B and BS value, however deeply nested in L and M."""
    ((kind, inner),) = value.items()
    if kind == "B":
        return {"B": binary(inner)}
    if kind == "BS":
        return {"BS": [binary(element) for element in inner]}
    if kind == "L":
        return {"L": [_convert_value(element, binary) for element in inner]}
    if kind == "M":
        return {"M": _convert_item(inner, binary)}
    return value


def _encode_binary(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _decode_binary(text: str) -> bytes:
    return base64.b64decode(text, validate=True)


# -- periodic snapshots ---------------------------------------------------------------------

_UNREACHABLE = (BotoConnectionError, HTTPClientError)


class PeriodicSnapshot:
    """Snapshot some tables every `interval_seconds` from a daemon thread, and once at stop.

    A round in which the engine cannot be reached is skipped with a warning (the engine may
    be restarting, and the previous snapshot stays intact); any other error is logged with
    its traceback and the thread carries on, so one bad round never ends the snapshots.
    """

    def __init__(
        self,
        client_factory: Callable[[], BaseClient],
        table_names: list[str],
        directory: Path,
        interval_seconds: float = 30.0,
    ) -> None:
        if interval_seconds <= 0:
            raise ValueError("interval_seconds must be positive")
        self.table_names = list(table_names)
        self.directory = directory
        self.interval_seconds = interval_seconds
        self._client_factory = client_factory
        self._client: BaseClient | None = None
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Start the thread. The client is made here, in the caller's thread, because creating
        boto3 clients from a shared session is not thread-safe."""
        if self._thread is not None:
            raise RuntimeError("PeriodicSnapshot is already running")
        self._get_client()
        self._stopping.clear()
        self._thread = threading.Thread(target=self._run, name="periodic-snapshot", daemon=True)
        self._thread.start()

    def stop(self, final_snapshot: bool = True) -> dict[str, int] | None:
        """Stop the thread (waiting for a round in progress), then take a final snapshot.

        Returns the final snapshot's counts, or None when none was taken (not asked for, or
        engine unreachable). Errors other than an unreachable engine propagate: at shutdown
        the caller must learn that what was written has not been saved.
        """
        thread, self._thread = self._thread, None
        if thread is not None:
            self._stopping.set()
            thread.join()
        return self.snapshot_now() if final_snapshot else None

    def snapshot_now(self) -> dict[str, int] | None:
        """One snapshot; None (and a warning) when the engine cannot be reached."""
        with self._lock:
            try:
                return export_tables(self._get_client(), self.table_names, self.directory)
            except _UNREACHABLE as error:
                logger.warning(
                    "snapshot to %s skipped: engine unreachable (%s)", self.directory, error
                )
                return None

    def _get_client(self) -> BaseClient:
        if self._client is None:
            self._client = self._client_factory()
        return self._client

    def _run(self) -> None:
        while not self._stopping.wait(self.interval_seconds):
            try:
                self.snapshot_now()
            except Exception:
                logger.exception("periodic snapshot to %s failed", self.directory)
