"""Export DynamoDB tables to files over the API, and import them back, in AWS's export format.

These work against any endpoint (the embedded engine, DynamoDB Local, real AWS) through plain
Scan and BatchWriteItem calls: `manage.py export-data` and `import-data`, and the one-time
import of a snapshot that `make run` wrote before the engine took its own (such a snapshot has
no table definitions, so the app creates the tables first). The embedded engine itself no
longer needs them: it journals every write and snapshots its own state (`engine.compaction`).

An export is a full Scan, not a point-in-time copy: writes made while it runs may or may not be
in it.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any

from botocore.client import BaseClient
from botocore.exceptions import ClientError

from engine.export_format import (
    EXPORT_FORMAT,
    MANIFEST_NAME,
    Item,
    SnapshotError,
    check_table_name,
    flush_to_disk,
    item_line,
    now_iso,
    read_items,
    read_manifest,
    sync_directory,
    table_file,
    temp_file,
    write_json_atomically,
)
from shared.dynamo import UnprocessedWrites, batch_write, chunks

__all__ = [
    "MANIFEST_NAME",
    "MISSING_TABLE",
    "SnapshotError",
    "export_tables",
    "import_tables",
    "read_manifest",
    "table_file",
]

logger = logging.getLogger(__name__)

Progress = Callable[[str, int], None]

BATCH_SIZE = 25  # items read per chunk; batch_write splits at BatchWriteItem's limit of 25
DEFAULT_MAX_ATTEMPTS = 8
MISSING_TABLE = -1


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
        check_table_name(name)
    directory.mkdir(parents=True, exist_ok=True)
    started_at = now_iso()
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
    sync_directory(directory)
    return counts


def _scan_to_temp(
    client: BaseClient, table: str, directory: Path, progress: Progress | None
) -> tuple[Path, int]:
    """Write the table's items to a hidden temp file (ignored by import); return it and count."""
    handle = temp_file(directory, table)
    path = Path(handle.name)
    try:
        with handle:
            count = _write_items(client, table, handle, progress)
            flush_to_disk(handle)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return path, count


def _write_items(client: BaseClient, table: str, out: IO[str], progress: Progress | None) -> int:
    count = 0
    for page in _scan_pages(client, table):
        for item in page:
            out.write(item_line(item))
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
        "exported_at": now_iso(),
        "tables": {
            name: {"file": table_file(directory, name).name, "item_count": count}
            for name, count in counts.items()
        },
    }
    write_json_atomically(directory / MANIFEST_NAME, manifest)


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
        for chunk in chunks(read_items(path, lines), BATCH_SIZE):
            try:
                batch_write(client, table, puts=chunk, max_attempts=max_attempts)
            except UnprocessedWrites as error:
                raise SnapshotError(str(error)) from error
            written += len(chunk)
            if progress is not None:
                progress(table, written)
    return written
