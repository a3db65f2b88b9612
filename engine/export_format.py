"""The files of a snapshot, in the format of AWS's DynamoDB export to S3, written crash-safely.

- `<table_name>.json`: the table's items, one `{"Item": {...}}` object per line, in DynamoDB
  JSON (Binary as base64), as an AWS export writes them: a learner can read them, and other
  tools can load them.
- `manifest.json`: what the snapshot holds: per table its file and item count, and, in the
  engine's own snapshots, everything needed to recreate the table (see `engine.compaction`).

A file is always written to a hidden temp file in the same directory, synced, then renamed over
the real one, so a crash never leaves a half-written file under a real name.
"""

from __future__ import annotations

import base64
import json
import os
import re
import tempfile
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

Item = dict[str, Any]

MANIFEST_NAME = "manifest.json"
EXPORT_FORMAT = "DYNAMODB_JSON"
# DynamoDB's own rule; checked here because moto does not, and the name becomes a file name.
_TABLE_NAME = re.compile(r"[A-Za-z0-9_.-]{3,255}")


class SnapshotError(RuntimeError):
    """A snapshot could not be written or restored."""


def table_file(directory: Path, table_name: str) -> Path:
    return directory / f"{table_name}.json"


def check_table_name(name: str) -> None:
    if not _TABLE_NAME.fullmatch(name) or f"{name}.json" == MANIFEST_NAME:
        raise ValueError(f"not a table name that can be snapshotted: {name!r}")


def read_manifest(directory: Path) -> dict[str, Any] | None:
    """The latest snapshot's manifest, or None when the directory holds no snapshot."""
    path = directory / MANIFEST_NAME
    if not path.exists():
        return None
    return json.loads(path.read_text(encoding="utf-8"))  # type: ignore[no-any-return]


# -- items <-> lines ----------------------------------------------------------------------------


def item_line(item: Item) -> str:
    """One item as a line of the export (binary values given as bytes are base64-encoded)."""
    record = {"Item": convert_item(item, _encode_binary)}
    return json.dumps(record, ensure_ascii=False, separators=(",", ":")) + "\n"


def read_items(path: Path, lines: Iterable[str]) -> Iterator[Item]:
    """The items of an export file, binary values decoded to bytes."""
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)["Item"]
        except (ValueError, KeyError, TypeError) as error:
            raise SnapshotError(f"{path}:{number}: not a DynamoDB JSON item line") from error
        yield convert_item(item, _decode_binary)


def convert_item(item: Item, binary: Callable[[Any], Any]) -> Item:
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
        return {"M": convert_item(inner, binary)}
    return value


def _encode_binary(data: bytes | str) -> str:
    if isinstance(data, str):  # already base64, as some clients' items are kept
        return data
    return base64.b64encode(data).decode("ascii")


def _decode_binary(text: str) -> bytes:
    return base64.b64decode(text, validate=True)


# -- writing files that survive a crash -----------------------------------------------------------


def temp_file(directory: Path, stem: str) -> IO[str]:
    """A hidden temp file in the target directory, so os.replace stays on one file system."""
    return tempfile.NamedTemporaryFile(
        "w", encoding="utf-8", dir=directory, prefix=f".{stem}.", suffix=".tmp", delete=False
    )


def flush_to_disk(handle: IO[str]) -> None:
    handle.flush()
    os.fsync(handle.fileno())


def write_json_atomically(path: Path, document: dict[str, Any]) -> None:
    """Replace `path` with `document` in one rename, after the new content is on disk."""
    handle = temp_file(path.parent, path.stem)
    temp = Path(handle.name)
    try:
        with handle:
            json.dump(document, handle, indent=2)
            flush_to_disk(handle)
        os.replace(temp, path)
    finally:
        temp.unlink(missing_ok=True)


def sync_directory(directory: Path) -> None:
    """Make renames and new names in `directory` durable (POSIX; Windows has no such call)."""
    if os.name != "posix":
        return
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
