"""ConsumedCapacity by AWS's documented rules in moto's responses (written against moto 5.2.5).

Stock moto answers 1.0 for every Query or Scan page whatever it read, 0.5 for GetItem and for
any UpdateItem (even when nobody asked), 1.0 per table for batch writes and nothing for
TransactWriteItems. This patch wraps moto's DynamoDB request handlers and puts in what
DynamoDB would have charged, as `ReturnConsumedCapacity` asked (`NONE` omits it, `TOTAL` gives
the sum per table, `INDEXES` adds the table and each secondary index):

- Item size: `shared/capacity_rules.py`, the rule the lens uses too.
- Reads: 4 KB (4,096 bytes) units, at least one, halved when eventually consistent, doubled in
  a transaction. GetItem, BatchGetItem and TransactGetItems round each item on its own (a
  missing item still costs the minimum, a projection does not make it cheaper); a Query or
  Scan page adds up every item it read, before FilterExpression, and rounds once. An index is
  read in index entries (the projected attributes and the keys), charged to the index.
- Writes: 1 KB units, at least one, of the larger of the item before and after (a delete: the
  deleted item; nothing there: one unit), doubled on the table in a transaction (AWS: every
  item of a transaction is written twice, to prepare and to commit it). Each secondary index
  costs a write of its entry when the item enters it, one of the old entry when it leaves it,
  both when its index key changes, one of the larger entry when only projected attributes
  change, and nothing otherwise.
- Where AWS's guide is silent, measurements against real DynamoDB published by others decide:
  the index writes of a transaction are billed once (the guide says changes reach the indexes
  after the transaction, not that they are doubled), and a ConditionCheck is billed as a
  transactional write of its item.

The size and unit rules themselves live in the kernel (`shared/capacity_rules.py`), which the
lens prices calls with too: one rule, so the inspector's "reported" and "computed" columns can
differ only by what a client cannot see (an old item, the items a filter dropped).
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from moto.core.responses import ActionResult
from moto.dynamodb.models.dynamo_type import DynamoType, Item
from moto.dynamodb.models.table import GlobalSecondaryIndex, SecondaryIndex, Table
from moto.dynamodb.responses import DynamoHandler

from engine import indexes
from shared.capacity_rules import item_size, read_units, write_units

_MODES = ("TOTAL", "INDEXES")


def stored_size(item: Item | None) -> int:
    """The size of an item as moto stores it (no item: nothing to size)."""
    return item_size(item.attrs) if item is not None else 0


# -- what one call consumed ---------------------------------------------------------------------

Target = tuple[str, str]  # ("Table", ""), ("GlobalSecondaryIndexes", name) or the LSI group
TABLE: Target = ("Table", "")


@dataclass
class Usage:
    """Read and write units of one table (and its indexes) in one call."""

    table_name: str
    units: dict[Target, list[float]] = field(default_factory=dict)

    def add(self, target: Target, *, read: float = 0.0, write: float = 0.0) -> None:
        figures = self.units.setdefault(target, [0.0, 0.0])
        figures[0] += read
        figures[1] += write

    def render(self, mode: str) -> dict[str, Any]:
        """`TableName` and `CapacityUnits`, and under INDEXES `Table` and each index with its
        `CapacityUnits`: the shape the API reference's examples show for every operation (no
        operation here both reads and writes, so read and write units need no separate
        fields)."""
        body: dict[str, Any] = {"TableName": self.table_name, "CapacityUnits": self._sum()}
        if mode == "INDEXES":
            for (group, name), (read, write) in sorted(self.units.items()):
                capacity = {"CapacityUnits": read + write}
                if group == "Table":
                    body["Table"] = capacity
                else:
                    body.setdefault(group, {})[name] = capacity
            body.setdefault("Table", {"CapacityUnits": 0.0})
        return body

    def _sum(self) -> float:
        return sum(read + write for read, write in self.units.values())


def _target(index: SecondaryIndex) -> Target:
    group = (
        "GlobalSecondaryIndexes"
        if isinstance(index, GlobalSecondaryIndex)
        else "LocalSecondaryIndexes"
    )
    return group, index.name


def _entry_size(index: SecondaryIndex | None, item: Item) -> int:
    return stored_size(index.project(item) if index is not None else item)


# -- item images around a write -----------------------------------------------------------------


@dataclass(frozen=True)
class _Image:
    """An item as it was at one moment (a copy: UpdateItem changes the stored one in place)."""

    item: Item | None

    @classmethod
    def of(cls, table: Table, key: dict[str, Any] | None) -> _Image:
        stored = _stored(table, key)
        return cls(copy.deepcopy(stored) if stored is not None else None)


def _stored(table: Table, key: dict[str, Any] | None) -> Item | None:
    if not key or table.hash_key_attr not in key:
        return None
    try:
        hash_key = DynamoType(key[table.hash_key_attr])
        range_key = DynamoType(key[table.range_key_attr]) if table.range_key_attr in key else None
    except (TypeError, KeyError, IndexError, AttributeError):
        return None
    return indexes.stored_item(table, hash_key, range_key)


def _key_of_item(table: Table, item: dict[str, Any]) -> dict[str, Any]:
    return {name: item[name] for name in table.table_key_attrs if name in item}


def charge_write(
    usage: Usage, table: Table, before: _Image, after: _Image, *, transactional: bool = False
) -> None:
    """One item's write and the index writes it causes."""
    size = max(stored_size(before.item), stored_size(after.item))
    usage.add(TABLE, write=write_units(size, transactional=transactional))
    for index in table.all_indexes():
        for entry_size in _index_writes(index, before.item, after.item):
            usage.add(_target(index), write=write_units(entry_size))


def _index_writes(index: SecondaryIndex, old: Item | None, new: Item | None) -> list[int]:
    """The sizes of the index entries a write puts or deletes."""
    keys = index.schema_key_attrs
    old_in = old is not None and all(k in old.attrs for k in keys)
    new_in = new is not None and all(k in new.attrs for k in keys)
    if not old_in and not new_in:
        return []
    if not old_in:
        return [_entry_size(index, new)]  # type: ignore[arg-type]
    if not new_in:
        return [_entry_size(index, old)]  # type: ignore[arg-type]
    assert old is not None and new is not None
    old_entry, new_entry = index.project(old), index.project(new)
    if any(old.attrs[k] != new.attrs[k] for k in keys):
        return [stored_size(old_entry), stored_size(new_entry)]
    if old_entry.attrs == new_entry.attrs:
        return []
    return [max(stored_size(old_entry), stored_size(new_entry))]


# -- reads of a Query or Scan page ----------------------------------------------------------------


class _PageReads(threading.local):
    reads: list[tuple[SecondaryIndex | None, list[Item]]] | None = None


_page = _PageReads()


def _record_read(_table: Table, index: SecondaryIndex | None, items: list[Item]) -> None:
    if _page.reads is not None:
        _page.reads.append((index, items))


def _charge_page(usage: Usage, table: Table, body: dict[str, Any]) -> None:
    consistent = bool(body.get("ConsistentRead"))
    index = table.get_index(body["IndexName"]) if body.get("IndexName") else None
    size = sum(
        _entry_size(read_index, item) for read_index, items in _page.reads or [] for item in items
    )
    usage.add(
        TABLE if index is None else _target(index), read=read_units(size, consistent=consistent)
    )


# -- per operation ------------------------------------------------------------------------------

Charge = Callable[[DynamoHandler, Any], list[Usage]]
Prepare = Callable[[DynamoHandler], Any]


def _table(handler: DynamoHandler, name: str) -> Table:
    return handler.dynamodb_backend.get_table(name)


def _before_single(key_of: Callable[[Table, dict[str, Any]], dict[str, Any] | None]) -> Prepare:
    def prepare(handler: DynamoHandler) -> Any:
        table = _table(handler, handler.body["TableName"])
        key = key_of(table, handler.body)
        return table, key, _Image.of(table, key)

    return prepare


def _charge_single_write(handler: DynamoHandler, prepared: Any) -> list[Usage]:
    table, key, before = prepared
    usage = Usage(handler.body["TableName"])
    charge_write(usage, table, before, _Image.of(table, key))
    return [usage]


def _charge_get(handler: DynamoHandler, _prepared: Any) -> list[Usage]:
    body = handler.body
    table = _table(handler, body["TableName"])
    size = stored_size(_stored(table, body.get("Key")))
    usage = Usage(body["TableName"])
    usage.add(TABLE, read=read_units(size, consistent=bool(body.get("ConsistentRead"))))
    return [usage]


def _prepare_page(_handler: DynamoHandler) -> None:
    _page.reads = []


def _charge_page_call(handler: DynamoHandler, _prepared: Any) -> list[Usage]:
    try:
        usage = Usage(handler.body["TableName"])
        _charge_page(usage, _table(handler, handler.body["TableName"]), handler.body)
        return [usage]
    finally:
        _page.reads = None


def _charge_batch_get(handler: DynamoHandler, _prepared: Any) -> list[Usage]:
    usages = []
    for name, request in handler.body.get("RequestItems", {}).items():
        table, usage = _table(handler, name), Usage(name)
        consistent = bool(request.get("ConsistentRead"))
        for key in request.get("Keys", []):
            usage.add(
                TABLE, read=read_units(stored_size(_stored(table, key)), consistent=consistent)
            )
        usages.append(usage)
    return usages


def _charge_transact_get(handler: DynamoHandler, _prepared: Any) -> list[Usage]:
    usages: dict[str, Usage] = {}
    for entry in handler.body.get("TransactItems", []):
        get = entry["Get"]
        size = stored_size(_stored(_table(handler, get["TableName"]), get.get("Key")))
        usage = usages.setdefault(get["TableName"], Usage(get["TableName"]))
        usage.add(TABLE, read=read_units(size, consistent=True, transactional=True))
    return list(usages.values())


def _prepare_batch_write(handler: DynamoHandler) -> list[tuple[str, Table, Any, _Image]]:
    prepared = []
    for name, requests in handler.body.get("RequestItems", {}).items():
        table = _table(handler, name)
        for request in requests:
            if "PutRequest" in request:
                key = _key_of_item(table, request["PutRequest"]["Item"])
            else:
                key = request.get("DeleteRequest", {}).get("Key")
            prepared.append((name, table, key, _Image.of(table, key)))
    return prepared


def _charge_batch_write(handler: DynamoHandler, prepared: Any) -> list[Usage]:
    usages: dict[str, Usage] = {}
    for name, table, key, before in prepared:
        usage = usages.setdefault(name, Usage(name))
        charge_write(usage, table, before, _Image.of(table, key))
    return list(usages.values())


def _prepare_transact_write(handler: DynamoHandler) -> list[tuple[str, str, Table, Any, _Image]]:
    prepared = []
    for entry in handler.body.get("TransactItems", []):
        if len(entry) != 1:
            return []  # moto refuses an entry of several operations, as DynamoDB does
        ((kind, body),) = entry.items()
        table = _table(handler, body["TableName"])
        key = _key_of_item(table, body["Item"]) if kind == "Put" else body.get("Key")
        prepared.append((kind, body["TableName"], table, key, _Image.of(table, key)))
    return prepared


def _charge_transact_write(handler: DynamoHandler, prepared: Any) -> list[Usage]:
    usages: dict[str, Usage] = {}
    for kind, name, table, key, before in prepared:
        usage = usages.setdefault(name, Usage(name))
        if kind == "ConditionCheck":
            usage.add(TABLE, write=write_units(stored_size(before.item), transactional=True))
        else:
            charge_write(usage, table, before, _Image.of(table, key), transactional=True)
    return list(usages.values())


def _no_preparation(_handler: DynamoHandler) -> None:
    return None


@dataclass(frozen=True)
class _Operation:
    prepare: Prepare
    charge: Charge
    listed: bool  # batches and transactions answer a list, one entry per table


_OPERATIONS: dict[str, _Operation] = {
    "get_item": _Operation(_no_preparation, _charge_get, listed=False),
    "query": _Operation(_prepare_page, _charge_page_call, listed=False),
    "scan": _Operation(_prepare_page, _charge_page_call, listed=False),
    "batch_get_item": _Operation(_no_preparation, _charge_batch_get, listed=True),
    "transact_get_items": _Operation(_no_preparation, _charge_transact_get, listed=True),
    "put_item": _Operation(
        _before_single(lambda table, body: _key_of_item(table, body["Item"])),
        _charge_single_write,
        listed=False,
    ),
    "update_item": _Operation(
        _before_single(lambda _table, body: body.get("Key")),
        _charge_single_write,
        listed=False,
    ),
    "delete_item": _Operation(
        _before_single(lambda _table, body: body.get("Key")),
        _charge_single_write,
        listed=False,
    ),
    "batch_write_item": _Operation(_prepare_batch_write, _charge_batch_write, listed=True),
    "transact_write_items": _Operation(
        _prepare_transact_write, _charge_transact_write, listed=True
    ),
}


def _metered(stock: Callable[[DynamoHandler], ActionResult], operation: _Operation) -> Any:
    def handler_method(self: DynamoHandler) -> ActionResult:
        mode = self.body.get("ReturnConsumedCapacity", "NONE")
        if mode not in _MODES:
            # Nobody asked: the figures would be thrown away (sizing every item a page read
            # was a fifth of a 20-item Query's CPU), so only moto's own figures are taken out.
            result = stock(self)
            _answer(result.result, mode, (), operation)
            return result
        prepared = operation.prepare(self)
        try:
            result = stock(self)
            usages = operation.charge(self, prepared)
        finally:
            _page.reads = None
        _answer(result.result, mode, usages, operation)
        return result

    handler_method.__name__ = stock.__name__
    handler_method.__doc__ = stock.__doc__
    return handler_method


def _answer(body: Any, mode: str, usages: Iterable[Usage], operation: _Operation) -> None:
    if not isinstance(body, dict):
        return
    body.pop("ConsumedCapacity", None)
    body.pop("ConsumedCapacityUnits", None)  # a field DynamoDB has not sent for years
    if mode not in _MODES:
        return
    rendered = [usage.render(mode) for usage in usages]
    if operation.listed:
        body["ConsumedCapacity"] = rendered
    elif rendered:
        body["ConsumedCapacity"] = rendered[0]


_MARK = "_dynamodb_lab_capacity"


def install() -> None:
    """Wrap moto's DynamoDB handlers (idempotent)."""
    if getattr(DynamoHandler, _MARK, False):
        return
    indexes.on_read(_record_read)
    for name, operation in _OPERATIONS.items():
        setattr(DynamoHandler, name, _metered(getattr(DynamoHandler, name), operation))
    setattr(DynamoHandler, _MARK, True)
