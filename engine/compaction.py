"""Snapshots the engine takes of its own state: compaction of the journal.

A snapshot is a point-in-time copy: `capture` runs under the gate's lock, together with the
journal's rotation, so the snapshot holds exactly the writes of the generations before the new
one, and recovery replays the new one on top. The lock is held only to copy the items (about
20 microseconds each); turning them into lines and writing files happen after it is released.

The files are those of `engine.export_format` (`<table>.json` in AWS's export format, readable
by `manage.py import-data` and other tools) plus, in `manifest.json`, what is needed to rebuild
each table without the app: its CreateTable request, TTL setting, region and account, and the
journal generation that follows the snapshot (`engine.journal_generation`). Tables of the
engine's home region and moto's default account are written as `<table>.json`; others, which
could share a name, under `<account>/<region>/`.

Switching snapshots must be atomic although it replaces several files. The new table files are
first written to temp files; then `.manifest.next.json` names them; then they are renamed into
place and `.manifest.next.json` becomes `manifest.json`. A crash before the next manifest exists
leaves the old snapshot whole; after it, recovery finishes the renames (`finish_interrupted`).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from moto.core.models import DEFAULT_ACCOUNT_ID
from moto.dynamodb.models import dynamodb_backends
from moto.dynamodb.models.dynamo_type import Item, LimitedSizeDict
from moto.dynamodb.models.table import Table

from engine.export_format import (
    EXPORT_FORMAT,
    MANIFEST_NAME,
    SnapshotError,
    flush_to_disk,
    item_line,
    now_iso,
    read_items,
    read_manifest,
    sync_directory,
    temp_file,
    write_json_atomically,
)
from engine.gate import Gate, backends, stored_items

logger = logging.getLogger(__name__)

NEXT_MANIFEST_NAME = ".manifest.next.json"  # hidden: importers skip it
SNAPSHOT_VERSION = 1


@dataclass
class TableCapture:
    account: str
    region: str
    name: str
    definition: dict[str, Any]
    time_to_live: dict[str, Any] | None
    items: list[dict[str, Any]]


@dataclass
class Capture:
    tables: list[TableCapture] = field(default_factory=list)
    started_at: str = field(default_factory=now_iso)

    @property
    def item_count(self) -> int:
        return sum(len(table.items) for table in self.tables)


# -- capture (under the gate's lock) -----------------------------------------------------------


def capture() -> Capture:
    """Every table of every account and region: definition, TTL and a copy of its items."""
    result = Capture()
    for account, region, backend in backends():
        for name, table in sorted(backend.tables.items()):
            result.tables.append(
                TableCapture(
                    account,
                    region,
                    name,
                    table_definition(table),
                    _time_to_live(table),
                    [_copy(item) for item in stored_items(table)],
                )
            )
    return result


def _copy(item: Item) -> dict[str, Any]:
    """The item's attributes, sharing nothing that a later write could change in place:
    `to_json` copies maps and lists; sets are copied here."""
    attributes: dict[str, Any] = item.to_json()["Attributes"]
    for name, value in attributes.items():
        ((kind, inner),) = value.items()
        if kind in ("SS", "NS", "BS"):
            attributes[name] = {kind: list(inner)}
    return attributes


def table_definition(table: Table) -> dict[str, Any]:
    """The CreateTable request that makes an empty copy of `table`."""
    provisioned = table.billing_mode != "PAY_PER_REQUEST"
    definition: dict[str, Any] = {
        "TableName": table.name,
        "KeySchema": table.schema,
        "AttributeDefinitions": table.attr,
        "BillingMode": "PROVISIONED" if provisioned else "PAY_PER_REQUEST",
    }
    if provisioned:
        definition["ProvisionedThroughput"] = _throughput(table.throughput)
    if table.global_indexes:
        definition["GlobalSecondaryIndexes"] = [
            {
                "IndexName": index.name,
                "KeySchema": index.schema,
                "Projection": index.projection,
                **({"ProvisionedThroughput": _throughput(index.throughput)} if provisioned else {}),
            }
            for index in table.global_indexes
        ]
    if table.indexes:
        definition["LocalSecondaryIndexes"] = [
            {"IndexName": index.name, "KeySchema": index.schema, "Projection": index.projection}
            for index in table.indexes
        ]
    if table.stream_specification and table.stream_specification.get("StreamEnabled"):
        definition["StreamSpecification"] = table.stream_specification
    if table.sse_specification and table.sse_specification.get("Enabled"):
        definition["SSESpecification"] = table.sse_specification
    if table.tags:
        definition["Tags"] = table.tags
    if table.deletion_protection_enabled:
        definition["DeletionProtectionEnabled"] = True
    return definition


def _throughput(throughput: dict[str, Any]) -> dict[str, int]:
    return {
        "ReadCapacityUnits": int(throughput.get("ReadCapacityUnits", 0)),
        "WriteCapacityUnits": int(throughput.get("WriteCapacityUnits", 0)),
    }


def _time_to_live(table: Table) -> dict[str, Any] | None:
    if table.ttl.get("TimeToLiveStatus") != "ENABLED" or "AttributeName" not in table.ttl:
        return None
    return {"AttributeName": table.ttl["AttributeName"], "Enabled": True}


# -- write (outside the lock) -----------------------------------------------------------------


def relative_file(table: TableCapture, home_region: str) -> str:
    if table.account == DEFAULT_ACCOUNT_ID and table.region == home_region:
        return f"{table.name}.json"
    return f"{table.account}/{table.region}/{table.name}.json"


def write_snapshot(
    directory: Path, snapshot: Capture, generation: int, home_region: str
) -> tuple[int, int]:
    """Write the captured tables as the snapshot followed by journal `generation`.
    Returns (items, bytes) written."""
    staged: dict[str, str] = {}
    tables: dict[str, dict[str, Any]] = {}
    written = 0
    try:
        for table in snapshot.tables:
            relative = relative_file(table, home_region)
            staged[relative], size = _stage(directory, relative, table.items)
            written += size
            tables[table.name if relative == f"{table.name}.json" else relative] = {
                "file": relative,
                "item_count": len(table.items),
                "account": table.account,
                "region": table.region,
                "create_table": table.definition,
                "time_to_live": table.time_to_live,
            }
        manifest = {
            "format": EXPORT_FORMAT,
            "started_at": snapshot.started_at,
            "exported_at": now_iso(),
            "engine": {"version": SNAPSHOT_VERSION, "journal_generation": generation},
            "tables": tables,
            "staged": staged,
            "replaces": _files_of(read_manifest(directory)),
        }
        write_json_atomically(directory / NEXT_MANIFEST_NAME, manifest)
        sync_directory(directory)
    except BaseException:
        for temp in staged.values():
            (directory / temp).unlink(missing_ok=True)
        raise
    finish_interrupted(directory)
    return snapshot.item_count, written


def _stage(directory: Path, relative: str, items: list[dict[str, Any]]) -> tuple[str, int]:
    """Write one table's items to a temp file beside its final place; return it and its size."""
    final = directory / relative
    final.parent.mkdir(parents=True, exist_ok=True)
    handle = temp_file(final.parent, final.stem)
    with handle:
        handle.writelines(item_line(item) for item in items)
        flush_to_disk(handle)
        size = handle.tell()
    return str(Path(handle.name).relative_to(directory)), size


def _files_of(manifest: dict[str, Any] | None) -> list[str]:
    if manifest is None:
        return []
    return [str(entry["file"]) for entry in manifest.get("tables", {}).values()]


def finish_interrupted(directory: Path) -> None:
    """Complete a snapshot switch that `.manifest.next.json` describes (idempotent)."""
    pending = directory / NEXT_MANIFEST_NAME
    if not pending.exists():
        return
    manifest = json.loads(pending.read_text(encoding="utf-8"))
    for final, temp in manifest.pop("staged").items():
        with contextlib.suppress(FileNotFoundError):  # renamed before a crash
            os.replace(directory / temp, directory / final)
    kept = set(_files_of(manifest))
    for stale in manifest.pop("replaces"):
        if stale not in kept:  # a table deleted since the last snapshot
            (directory / stale).unlink(missing_ok=True)
    write_json_atomically(directory / MANIFEST_NAME, manifest)
    pending.unlink()
    sync_directory(directory)


# -- load (at start-up) -----------------------------------------------------------------------


def is_engine_snapshot(manifest: dict[str, Any] | None) -> bool:
    return manifest is not None and "engine" in manifest


def load_snapshot(directory: Path, gate: Gate) -> tuple[int, int]:
    """Rebuild every table of the engine's snapshot; return (next journal generation, items).
    A directory without one (a first start, or a snapshot `make run` wrote before the engine
    took its own, which has no table definitions) gives (0, 0)."""
    finish_interrupted(directory)
    manifest = read_manifest(directory)
    if not is_engine_snapshot(manifest):
        return 0, 0
    assert manifest is not None
    items = 0
    with _size_checked_once():
        for entry in manifest["tables"].values():
            items += _load_table(directory, gate, entry)
    return int(manifest["engine"]["journal_generation"]), items


@contextlib.contextmanager
def _size_checked_once() -> Iterator[None]:
    """moto checks an item's 400 KB limit on every attribute it sets, summing the sizes of all
    the attributes set before (quadratic in their number): over half the time of loading a
    snapshot. Its items passed that check when they were written, so while the snapshot loads
    (at start-up, before any other thread runs) attributes are set without it."""
    checked = LimitedSizeDict.__setitem__
    LimitedSizeDict.__setitem__ = dict.__setitem__  # type: ignore[method-assign]
    try:
        yield
    finally:
        LimitedSizeDict.__setitem__ = checked  # type: ignore[method-assign]


def _load_table(directory: Path, gate: Gate, entry: dict[str, Any]) -> int:
    account, region = entry["account"], entry["region"]
    definition = entry["create_table"]
    name = definition["TableName"]
    if not gate.replay("CreateTable", region, account, _raw(definition)):
        raise SnapshotError(f"cannot recreate table {name} from the snapshot")
    if entry.get("time_to_live"):
        ttl = {"TableName": name, "TimeToLiveSpecification": entry["time_to_live"]}
        gate.replay("UpdateTimeToLive", region, account, _raw(ttl))
    path = directory / entry["file"]
    backend = dynamodb_backends[account][region]
    count = 0
    with path.open(encoding="utf-8") as lines:
        for item in read_items(path, lines):
            backend.put_item(name, item)
            count += 1
    return count


def _raw(request: dict[str, Any]) -> bytes:
    return json.dumps(request, separators=(",", ":"), ensure_ascii=False).encode()
