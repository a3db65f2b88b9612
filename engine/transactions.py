"""TransactWriteItems copies the items it touches, not whole tables (written against moto 5.2.5).

To roll back a cancelled transaction, moto deep-copies every table the transaction names before
it starts, and puts the copies back on failure: 58 ms per call on a 2,000-item table, 350 ms at
10,000, whatever the transaction's size, and (before `engine.memory`) 4 MB never freed per call.
This patch keeps moto's transaction code and only changes what its copy is: for the duration of
the call each named table copies as itself, and the items under the transaction's keys are
copied instead. If moto rolls back (it then raises), those items are put back as they were,
without the stream records the cancelled writes added, and the sorted structures of
`engine.indexes` are told.

Upstream shape: an undo log of the items a transaction changed, in `transact_write_items`.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.models.dynamo_type import DynamoType, Item
from moto.dynamodb.models.table import Table

from engine import indexes

Saved = tuple[Table, DynamoType, DynamoType | None, Item | None]
_MARK = "_dynamodb_lab_item_undo"


def _keys(backend: DynamoDBBackend, transact_items: list[dict[str, Any]]) -> Iterator[Saved]:
    """(table, hash, range, a copy of the item now) for every key the transaction names."""
    for entry in transact_items:
        if not isinstance(entry, dict) or len(entry) != 1:
            continue
        ((kind, operation),) = entry.items()
        name = operation.get("TableName") if isinstance(operation, dict) else None
        table = backend.tables.get(name) if isinstance(name, str) else None
        if table is None:
            continue
        key = operation.get("Item") if kind == "Put" else operation.get("Key")
        if not isinstance(key, dict) or table.hash_key_attr not in key:
            continue
        try:
            hash_key = DynamoType(key[table.hash_key_attr])
            range_key = (
                DynamoType(key[table.range_key_attr]) if table.range_key_attr in key else None
            )
        except (TypeError, KeyError, IndexError, AttributeError):
            continue
        stored = indexes.stored_item(table, hash_key, range_key)
        yield table, hash_key, range_key, copy.deepcopy(stored)


def _named_tables(backend: DynamoDBBackend, transact_items: list[dict[str, Any]]) -> list[Table]:
    names = {
        operation.get("TableName")
        for entry in transact_items
        if isinstance(entry, dict)
        for operation in entry.values()
        if isinstance(operation, dict)
    }
    return [backend.tables[name] for name in names if name in backend.tables]


def _put_back(saved: list[Saved], streams: dict[int, tuple[Table, int]]) -> None:
    for table, hash_key, range_key, item in reversed(saved):
        if table.range_key_attr is None:
            if item is None:
                table.items.pop(hash_key, None)
            else:
                table.items[hash_key] = item  # type: ignore[assignment]
        elif item is None:
            partition = table.items.get(hash_key)
            if partition is not None:
                partition.pop(range_key, None)
        else:
            table.items[hash_key][range_key] = item
        indexes.refresh(table, hash_key, range_key)
    for table, length in streams.values():
        if table.stream_shard is not None:
            del table.stream_shard.items[length:]


@contextmanager
def _tables_copy_as_themselves(tables: list[Table]) -> Iterator[None]:
    """moto's `copy.deepcopy(table)` for its rollback returns the table itself meanwhile."""
    for table in tables:
        table.__deepcopy__ = lambda memo, same=table: same  # type: ignore[attr-defined]
    try:
        yield
    finally:
        for table in tables:
            table.__dict__.pop("__deepcopy__", None)


def install() -> None:
    """Patch DynamoDBBackend.transact_write_items (idempotent)."""
    if getattr(DynamoDBBackend, _MARK, False):
        return
    stock: Callable[..., None] = DynamoDBBackend.transact_write_items

    def transact_write_items(self: DynamoDBBackend, transact_items: list[dict[str, Any]]) -> None:
        saved = list(_keys(self, transact_items))
        tables = _named_tables(self, transact_items)
        streams = {
            id(table): (table, len(table.stream_shard.items))
            for table in tables
            if table.stream_shard is not None
        }
        with _tables_copy_as_themselves(tables):
            try:
                stock(self, transact_items)
            except BaseException:
                _put_back(saved, streams)
                raise

    DynamoDBBackend.transact_write_items = transact_write_items  # type: ignore[method-assign]
    setattr(DynamoDBBackend, _MARK, True)
