"""A census of the app's tables: how many items, how many bytes, how many partition key values.

The cost model needs the stored bytes of each table and index (storage is billed on them), and
the design advisor needs the spread of each partition key (few values mean a hot partition) and
the largest items and item collections. Both read it here, from one paginated Scan per table
that asks only for what DynamoDB would bill anyway: a Scan reads whole items whatever it
returns, so the census costs what a full read of the table costs, no more. `max_items` bounds
it on a big table, and the result says when it stopped early (a sample, not a count).

Sizes follow `lens.capacity` (DynamoDB's documented item-size rules). An index entry holds the
projected attributes of an item that carries the index's key (a sparse index skips the rest).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from pynamodb.models import Model

from lens.capacity import TableSchema
from lens.inspector import schema_of
from shared.capacity_rules import item_size
from shared.dynamo import models_by_table

STORAGE_OVERHEAD_BYTES = 100
"""DynamoDB bills 100 bytes of overhead per item, on the table and on each index entry."""
TOP_KEYS = 5


@dataclass
class TargetCensus:
    """One table or one index of it."""

    table: str
    index: str | None
    partition_key: str
    items: int = 0
    bytes: int = 0
    key_bytes: int = 0
    """What the entries would hold with a KEYS_ONLY projection."""
    largest_item: int = 0
    keys: Counter[str] = field(default_factory=Counter)

    @property
    def name(self) -> str:
        return f"{self.table}/{self.index}" if self.index else self.table

    @property
    def billed_bytes(self) -> int:
        return self.bytes + STORAGE_OVERHEAD_BYTES * self.items

    @property
    def distinct_keys(self) -> int:
        return len(self.keys)

    @property
    def largest_collection(self) -> tuple[str, int] | None:
        top = self.keys.most_common(1)
        return top[0] if top else None

    def add(self, key: Any, size: int, key_size: int) -> None:
        self.items += 1
        self.bytes += size
        self.key_bytes += key_size
        self.largest_item = max(self.largest_item, size)
        self.keys[_key_text(key)] += 1

    def as_dict(self) -> dict[str, Any]:
        return {
            "table": self.table,
            "index": self.index,
            "partition_key": self.partition_key,
            "items": self.items,
            "bytes": self.bytes,
            "key_bytes": self.key_bytes,
            "billed_bytes": self.billed_bytes,
            "largest_item_bytes": self.largest_item,
            "distinct_partition_keys": self.distinct_keys,
            "top_partition_keys": self.keys.most_common(TOP_KEYS),
        }


@dataclass
class TableCensus:
    table: str
    schema: TableSchema
    base: TargetCensus
    indexes: dict[str, TargetCensus]
    complete: bool = True

    @property
    def targets(self) -> list[TargetCensus]:
        return [self.base, *self.indexes.values()]

    def add(self, item: dict[str, Any]) -> None:
        keys = self.schema.key_attributes
        if self.schema.hash_key in item:
            self.base.add(item[self.schema.hash_key], item_size(item), _size_of(item, keys))
        for index in self.schema.indexes:
            entry = self.schema.entry(index, item)
            if entry is not None:
                size = _size_of(item, (*keys, *index.key_attributes))
                self.indexes[index.name].add(item[index.hash_key], item_size(entry), size)

    def as_dict(self) -> dict[str, Any]:
        return {
            "table": self.table,
            "complete": self.complete,
            "targets": [target.as_dict() for target in self.targets],
        }


def _size_of(item: dict[str, Any], names: Iterable[str]) -> int:
    return item_size({name: item[name] for name in dict.fromkeys(names) if name in item})


def _key_text(value: Any) -> str:
    ((_kind, inner),) = value.items()
    return str(inner)


def _empty(table: str, models: list[type[Model]]) -> TableCensus:
    schema = schema_of(tuple(models))
    indexes = {
        index.name: TargetCensus(table, index.name, index.hash_key) for index in schema.indexes
    }
    return TableCensus(table, schema, TargetCensus(table, None, schema.hash_key), indexes)


def take_census(client: Any, *, max_items: int | None = None) -> list[TableCensus]:
    """Every registered table of the app, read through `client` (a boto3 DynamoDB client bound
    to the engine that holds them), at most `max_items` items each."""
    return [
        _count(client, models[0].Meta.table_name, _empty(table, models), max_items)
        for table, models in models_by_table().items()
    ]


def _count(client: Any, name: str, census: TableCensus, max_items: int | None) -> TableCensus:
    for item in _items(client, name):
        if max_items is not None and census.base.items >= max_items:
            census.complete = False
            break
        census.add(item)
    return census


def _items(client: Any, name: str) -> Iterable[dict[str, Any]]:
    for page in client.get_paginator("scan").paginate(TableName=name):
        yield from page.get("Items", [])
