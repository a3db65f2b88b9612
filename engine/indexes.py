"""Sorted partitions for moto's DynamoDB tables: Query and Scan pages at O(log n + page).

Written against moto 5.2.5. Stock moto answers every Query by walking the whole table
(`Table.all_items()` sorts every item, even for a base-table Query) and every Scan page by
sorting the whole table again and skipping to `ExclusiveStartKey`, so the cost of one call
follows the table, not the answer: a 20-item Query took 12 ms at 2,000 items and 1.3 s at
50,000. Here each table keeps, for the table itself and for each secondary index:

- per partition key value, the items sorted as moto sorts a Query's results;
- one list of all items sorted as moto sorts a Scan's.

A Query finds its partition by hash, bisects to `ExclusiveStartKey` and to the sort-key
condition, and reads only the page; a Scan page bisects to `ExclusiveStartKey`. The loops that
build the page are moto's own (`Limit`, the 1 MB page limit, `ScannedCount`, the legacy
`QueryFilter`/`ScanFilter`, projection, `FilterExpression` and `LastEvaluatedKey` behave
exactly as in moto); only the items they visit changed. A property test compares this engine
with stock moto on random tables and requests.

How the structures stay right: every change to an item goes through `Table.put_item`,
`Table.delete_item` or `DynamoDBBackend.update_item` (UpdateItem changes the item in place),
and the patch re-places that one item after each of them: PutItem, UpdateItem, DeleteItem,
BatchWriteItem, TransactWriteItems, PartiQL, table import, and anything else (a TTL sweeper, a
journal replay) that calls those methods. A table whose `items` were replaced wholesale
(restore from backup; moto's own rollback of a transaction, which swaps in a copy) or
whose indexes changed (UpdateTable) is rebuilt from its items on its next read. Code that
changes `Table.items` by hand calls `refresh` for each key it changed, or `invalidate(table)`.

When the structures cannot answer exactly as moto would, the call goes to moto's own code:
keys of several attributes per index, a sort-key comparison moto does not order by, an
`ExclusiveStartKey` without the index's key attributes or with other types, or items whose
index key types differ from the table's attribute definitions (moto accepts those, DynamoDB
does not).

The page loops size every item they visit (`Item.size()`, for the 1 MB page limit), and sizing
was most of a 1,000-item Scan page's CPU: they use the size kept on the item instead
(`sizing.page_size`). Every write but a put (which stores a new item) counts one more write on
the item `refresh` re-places, so a kept size is used only while the item is as it was sized.

With lag (`engine.lag`), a global secondary index's structures and a replica of the table's
are lagging views: a write is queued to them as a copy of the item, and applied when its moment
has come, checked before each read of the view and after each write. A lagging view may share
an item with the table until the item is changed in place (UpdateItem does that): just before,
the view gets its own copy. A transaction's writes are queued once it has finished, so a view
never shows a write that its rollback undid.

Upstream shape: a sorted container per partition in `Table`, maintained in `put_item` and
`delete_item`, and the same page loops fed from it.
"""

from __future__ import annotations

import copy
import threading
import weakref
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, cast

from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.models.dynamo_type import DynamoType, Item
from moto.dynamodb.models.table import (
    RESULT_SIZE_LIMIT,
    GlobalSecondaryIndex,
    SecondaryIndex,
    Table,
)
from sortedcontainers import SortedDict

from engine import lag, sizing

Key = tuple[Any, ...]
PrimaryKey = tuple[DynamoType, DynamoType | None]
ReadListener = Callable[[Table, SecondaryIndex | None, list[Item]], None]

# Items larger than this cannot be stored (moto's own limit, measured as `Item.size()`).
_MAX_ITEM_SIZE = 405_000
_ORDERED_COMPARISONS = frozenset({"=", "<", "<=", ">", ">=", "BETWEEN", "BEGINS_WITH"})
_REBUILD_ATTEMPTS = 5


class _Top:
    """Sorts after every value, so `(v, TOP)` follows every key that starts with `v`."""

    def __lt__(self, other: object) -> bool:
        return False

    def __le__(self, other: object) -> bool:
        return False

    def __gt__(self, other: object) -> bool:
        return True

    def __ge__(self, other: object) -> bool:
        return True


TOP = _Top()


class _Unorderable(Exception):
    """An item or a request that the sorted structures cannot place as moto would order it."""


@dataclass
class _View:
    """The table, or one secondary index, as the sorted structures see it.

    `query_attrs` and `scan_attrs` are the attributes moto sorts by (its
    `_generate_attr_to_sort_by`); the first of `query_attrs` is the partition key.
    """

    index: SecondaryIndex | None
    query_attrs: list[str]
    scan_attrs: list[str]
    members: frozenset[str]
    types: dict[str, str]
    partitions: dict[tuple[str, Any], SortedDict] = field(default_factory=dict)
    scan_order: SortedDict = field(default_factory=SortedDict)
    placed: dict[PrimaryKey, tuple[tuple[str, Any], Key, Key]] = field(default_factory=dict)
    broken: bool = False
    backlog: lag.Backlog | None = None  # writes not applied yet, when the view lags

    def item_at(self, primary: PrimaryKey) -> Item | None:
        placed = self.placed.get(primary)
        return None if placed is None else self.partitions[placed[0]][placed[1]]

    def catch_up(self, table: Table) -> None:
        """Apply the queued writes whose moment has come. The last write of a key is the
        table's item as it is now: the view shares that item instead of keeping a copy."""
        if self.backlog is None:
            return
        for key, copied, last in self.backlog.due():
            primary = cast(PrimaryKey, key)
            item = stored_item(table, primary[0], primary[1]) if last else copied
            self.place(primary, item)

    def unshare(self, primary: PrimaryKey, live: Item) -> None:
        """Keep a copy of the item instead of the table's own, which is about to change."""
        placed = self.placed.get(primary)
        if placed is None or self.partitions[placed[0]][placed[1]] is not live:
            return
        copied = copy.deepcopy(live)
        self.partitions[placed[0]][placed[1]] = copied
        self.scan_order[placed[2]] = copied

    def place(self, primary: PrimaryKey, item: Item | None) -> None:
        """Put `primary`'s entry where `item` (None: deleted) now sorts."""
        if self.broken:
            return
        old = self.placed.pop(primary, None)
        if old is not None:
            partition_id, query_key, scan_key = old
            partition = self.partitions[partition_id]
            del partition[query_key]
            if not partition:
                del self.partitions[partition_id]
            del self.scan_order[scan_key]
        if item is None or not self.members.issubset(item.attrs):
            return
        try:
            partition_id = self._typed(item, self.query_attrs[0])
            query_key = self.sort_key(item, self.query_attrs[1:])
            scan_key = self.sort_key(item, self.scan_attrs)
            self.partitions.setdefault(partition_id, SortedDict())[query_key] = item
            self.scan_order[scan_key] = item
        except (_Unorderable, TypeError):
            self.broken = True  # moto's own code answers for this index from now on
            return
        self.placed[primary] = (partition_id, query_key, scan_key)

    def sort_key(self, item: Item, attrs: list[str]) -> Key:
        return tuple(self._typed(item, attr)[1] for attr in attrs)

    def _typed(self, item: Item, attr: str) -> tuple[str, Any]:
        value = item.attrs[attr]
        if value.type != self.types.get(attr):
            raise _Unorderable(attr)
        return value.type, value.cast_value

    def key_from(self, key: dict[str, Any], attrs: list[str]) -> Key:
        """A request's key (`ExclusiveStartKey`) in the same order, if it has every attribute
        with the table's type for it; otherwise moto's own code must judge it."""
        values = []
        for attr in attrs:
            value = key.get(attr)
            if not isinstance(value, dict) or list(value) != [self.types.get(attr)]:
                raise _Unorderable(attr)
            values.append(DynamoType(value).cast_value)
        return tuple(values)


class _State:
    """The sorted structures of one table, and what they were built from."""

    def __init__(self, table: Table) -> None:
        self.lock = threading.RLock()
        self.items_ref = table.items
        self.signature = _signature(table)
        self.lag = lag.current()
        self.views: dict[str | None, _View] = {}
        self.replica: _View | None = None  # the table as the lagging replica has it

    def populate(self, table: Table) -> None:
        """Place every item; a writer changing the dict meanwhile makes us read it again (its
        own re-placing waits for our lock, so it lands after this)."""
        for attempt in range(_REBUILD_ATTEMPTS):
            self.views = _views(table, self.lag)
            self.replica = None
            if self.lag.replica_ms > 0:
                self.replica = _base_view(table)
                self.replica.backlog = lag.Backlog(self.lag.replica_ms)
            try:
                for item in _all_items(table):
                    primary = (item.hash_key, item.range_key)
                    for view in self.all_views():
                        view.place(primary, item)
                return
            except RuntimeError:
                if attempt == _REBUILD_ATTEMPTS - 1:
                    raise

    def fresh_for(self, table: Table) -> bool:
        return (
            self.items_ref is table.items
            and self.signature == _signature(table)
            and self.lag == lag.current()
        )

    def all_views(self) -> list[_View]:
        return [*self.views.values(), *([self.replica] if self.replica else [])]

    def lagging(self) -> list[_View]:
        return [view for view in self.all_views() if view.backlog is not None]

    def view_for(self, table: Table, index_name: str | None, consistent: bool) -> _View | None:
        """The view a read uses, caught up to now: an eventually consistent read of the table
        may land on the replica."""
        view = self.views.get(index_name)
        on_replica = index_name is None and not consistent and lag.reads_replica(table.name)
        if on_replica and self.replica is not None:
            view = self.replica
        if view is not None:
            view.catch_up(table)
        return view

    def follow(self, table: Table, primary: PrimaryKey, item: Item | None) -> None:
        """Queue a write to every lagging view (one copy shared by all of them)."""
        views = self.lagging()
        if not views:
            return
        copied = copy.deepcopy(item)
        for view in views:
            assert view.backlog is not None
            view.backlog.add(primary, copied)
            view.catch_up(table)


def _views(table: Table, lagging: lag.Lag) -> dict[str | None, _View]:
    views: dict[str | None, _View] = {None: _base_view(table)}
    for index in table.all_indexes():
        view = _index_view(table, index)
        if view is not None:
            if lagging.gsi_ms > 0 and isinstance(index, GlobalSecondaryIndex):
                view.backlog = lag.Backlog(lagging.gsi_ms)
            views[index.name] = view
    return views


_states: weakref.WeakKeyDictionary[Table, _State] = weakref.WeakKeyDictionary()
_states_lock = threading.Lock()
_read_listeners: list[ReadListener] = []


def on_read(listener: ReadListener) -> None:
    """Call `listener(table, index, items)` with the items each Query or Scan page read (before
    any filter), so capacity can be metered from them. Registering twice is a no-op. When moto's
    own code answers, only the items it returned are known: the listener gets those."""
    if listener not in _read_listeners:
        _read_listeners.append(listener)


def _notify_read(table: Table, index: SecondaryIndex | None, items: list[Item]) -> None:
    for listener in _read_listeners:
        listener(table, index, items)


def invalidate(table: Table) -> None:
    """Forget a table's structures: they are rebuilt from its items on its next read."""
    with _states_lock:
        _states.pop(table, None)


def _state_for(table: Table) -> _State:
    """The table's structures, built first if missing or stale. The new state is registered
    before it is filled, so a write made meanwhile is re-placed once the filling is done."""
    with _states_lock:
        state = _states.get(table)
        if state is not None and state.fresh_for(table):
            return state
        state = _State(table)
        state.lock.acquire()
        _states[table] = state
    try:
        state.populate(table)
    finally:
        state.lock.release()
    return state


def refresh(
    table: Table, hash_key: DynamoType, range_key: DynamoType | None, *, new: bool = False
) -> None:
    """Re-place one item after a write; a table not built yet is built when first read. Code
    that changes `Table.items` itself calls this for every key it changed. `new`: the write
    stored a new item (a put), so nothing changed in place."""
    item = stored_item(table, hash_key, range_key)
    if item is not None and not new:
        sizing.written(item)  # a size kept before this write no longer holds
    state = _states.get(table)
    if state is None or not state.fresh_for(table):
        return
    primary = (hash_key, range_key if table.range_key_attr else None)
    with state.lock:
        for view in state.views.values():
            if view.backlog is None:
                view.place(primary, item)
        if not state.lag.any:
            return
        if _one_write.keys is not None:
            _one_write.keys.append((table, primary))
        else:
            state.follow(table, primary, item)


def before_write(table: Table, key: dict[str, Any] | None = None) -> None:
    """Called before a write when the engine lags: the table's structures exist before its
    first write (or that write would be in them at once), and a lagging view that shares the
    item `key` names gets its own copy before the item changes in place."""
    if not lag.current().any:
        return
    state = _state_for(table)
    primary = _primary_of(table, key) if key is not None else None
    live = stored_item(table, *primary) if primary is not None else None
    if primary is None or live is None:
        return
    with state.lock:
        for view in state.lagging():
            view.unshare(primary, live)


class _OneWrite(threading.local):
    keys: list[tuple[Table, PrimaryKey]] | None = None


_one_write = _OneWrite()


@contextmanager
def one_write() -> Iterator[None]:
    """Writes made inside reach the lagging views together, as they are at the end: a
    transaction's cancelled writes, put back before the end, never reach them, nor does the
    bare key an UpdateItem stores before it applies its expression to a new item."""
    if _one_write.keys is not None or not lag.current().any:
        yield  # inside another one, which queues them at its end; or nothing lags
        return
    _one_write.keys = []
    try:
        yield
    finally:
        keys, _one_write.keys = _one_write.keys, None
        for table, primary in dict.fromkeys(keys or []):
            state = _states.get(table)
            if state is not None and state.fresh_for(table):
                with state.lock:
                    state.follow(table, primary, stored_item(table, *primary))


def replica_item(table: Table, hash_key: DynamoType, range_key: DynamoType | None) -> Item | None:
    """The item as the lagging replica has it now; the stored item when nothing lags."""
    state = _states.get(table)
    if state is None or not state.fresh_for(table) or state.replica is None or state.replica.broken:
        return stored_item(table, hash_key, range_key)
    with state.lock:
        state.replica.catch_up(table)
        return state.replica.item_at((hash_key, range_key if table.range_key_attr else None))


def backlog() -> dict[str, dict[str, int]]:
    """Writes each lagging view has not applied yet, for the health report: per index
    ("table/index") and per table's replica; views with nothing waiting are left out."""
    with _states_lock:
        states = list(_states.items())
    report: dict[str, dict[str, int]] = {"gsi": {}, "replica": {}}
    for table, state in states:
        for name, view in list(state.views.items()):
            if view.backlog is not None and (waiting := view.backlog.waiting()):
                report["gsi"][f"{table.name}/{name}"] = waiting
        replica = state.replica
        waiting = replica.backlog.waiting() if replica and replica.backlog else 0
        if waiting:
            report["replica"][table.name] = waiting
    return report


def stored_item(table: Table, hash_key: DynamoType, range_key: DynamoType | None) -> Item | None:
    """The stored item, without the empty partition moto's `get_item` leaves behind."""
    stored = table.items.get(hash_key)
    if table.range_key_attr is None:
        return stored if isinstance(stored, Item) else None
    return stored.get(range_key) if stored and range_key is not None else None


def _all_items(table: Table) -> Iterator[Item]:
    for stored in list(table.items.values()):
        if isinstance(stored, Item):
            yield stored
        else:
            yield from list(stored.values())


def _signature(table: Table) -> tuple[Any, ...]:
    definitions = tuple(sorted((a["AttributeName"], a["AttributeType"]) for a in table.attr))
    indexes = tuple(
        (
            type(index).__name__,
            index.name,
            tuple((k["AttributeName"], k["KeyType"]) for k in index.schema),
        )
        for index in table.all_indexes()
    )
    return (tuple(table.table_key_attrs), definitions, indexes)


def _types(table: Table) -> dict[str, str]:
    return {a["AttributeName"]: a["AttributeType"] for a in table.attr}


def _base_view(table: Table) -> _View:
    attrs = table._generate_attr_to_sort_by([table.hash_key_attr], [table.range_key_attr])
    return _View(
        index=None,
        query_attrs=attrs,
        scan_attrs=attrs,
        members=frozenset(table.table_key_attrs),
        types=_types(table),
    )


def _index_view(table: Table, index: SecondaryIndex) -> _View | None:
    """None for an index of several hash or range attributes: moto's code serves those."""
    hashes = [k["AttributeName"] for k in index.schema if k["KeyType"] == "HASH"]
    ranges = [k["AttributeName"] for k in index.schema if k["KeyType"] == "RANGE"]
    if len(hashes) != 1 or len(ranges) > 1:
        return None
    query_range = ranges[0] if ranges else _range_stand_in(table, index)
    query_attrs = table._generate_attr_to_sort_by(
        [hashes[0], table.hash_key_attr], [query_range, table.range_key_attr]
    )
    scan_ranges = [ranges[0], table.range_key_attr] if ranges else [table.range_key_attr]
    scan_attrs = table._generate_attr_to_sort_by([hashes[0], table.hash_key_attr], scan_ranges)
    return _View(
        index=index,
        query_attrs=query_attrs,
        scan_attrs=scan_attrs,
        members=frozenset(index.schema_key_attrs),
        types=_types(table),
    )


def _range_stand_in(table: Table, index: SecondaryIndex) -> str:
    """What moto sorts a Query on an index without a range key by."""
    if isinstance(index, GlobalSecondaryIndex) and table.range_key_attr:
        return table.range_key_attr
    return table.hash_key_attr


# -- Query ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _QueryPlan:
    view: _View
    partition_id: tuple[str, Any]
    comparison: str | None
    bounds: tuple[Any, ...]
    start_key: Key | None


def _plan_query(table: Table, args: dict[str, Any], state: _State) -> _QueryPlan:
    """Check the request is one the structures answer exactly as moto does, or raise."""
    index_name = args["index_name"]
    hash_conditions = args["hash_key_conditions"] or []
    range_conditions = args["range_key_conditions"] or []
    if index_name is not None:
        index = {i.name: i for i in table.all_indexes()}.get(index_name)
        if index is None or (args["consistent_read"] and index in table.global_indexes):
            raise _Unorderable("moto reports this request's error")
    view = state.view_for(table, index_name, bool(args["consistent_read"]))
    limit = args["limit"]
    if view is None or view.broken or len(hash_conditions) > 1 or len(range_conditions) > 1:
        raise _Unorderable("not a single-attribute key")
    if limit is not None and (not isinstance(limit, int) or limit < 1):
        raise _Unorderable("moto reports this Limit's error")
    hash_key = args["hash_key"]
    if hash_key is None:
        raise _Unorderable("no hash key")
    comparison, bounds = args["range_comparison"], tuple(args["range_objs"] or ())
    if comparison is not None:
        _check_range(view, comparison, bounds, range_conditions)
    start = args["exclusive_start_key"]
    start_key = None if start is None else view.key_from(start, view.query_attrs)
    return _QueryPlan(
        view=view,
        partition_id=(hash_key.type, hash_key.cast_value),
        comparison=comparison,
        bounds=tuple(value.cast_value for value in bounds),
        start_key=start_key,
    )


def _check_range(
    view: _View, comparison: str, bounds: tuple[DynamoType, ...], conditions: list[Any]
) -> None:
    sort_attr = view.query_attrs[1] if len(view.query_attrs) > 1 else None
    expected = 2 if comparison == "BETWEEN" else 1
    if (
        comparison not in _ORDERED_COMPARISONS
        or not conditions
        or conditions[-1][0] != sort_attr
        or len(bounds) != expected
        or any(value.type != view.types.get(sort_attr or "") for value in bounds)
        or (comparison == "BEGINS_WITH" and bounds[0].type not in ("S", "B"))
    ):
        raise _Unorderable("a sort-key condition moto does not order by")


def _range_slice(partition: SortedDict, comparison: str | None, bounds: tuple[Any, ...]) -> range:
    """Positions (ascending) of the partition's items that meet the sort-key condition."""
    low, high = 0, len(partition)
    if comparison in ("=", ">=", "BETWEEN", "BEGINS_WITH"):
        low = partition.bisect_left((bounds[0],))
    elif comparison == ">":
        low = partition.bisect_left((bounds[0], TOP))
    if comparison in ("=", "<="):
        high = partition.bisect_left((bounds[0], TOP))
    elif comparison == "<":
        high = partition.bisect_left((bounds[0],))
    elif comparison == "BETWEEN":
        high = partition.bisect_left((bounds[1], TOP))
    elif comparison == "BEGINS_WITH":
        successor = _prefix_successor(bounds[0])
        high = len(partition) if successor is None else partition.bisect_left((successor,))
    return range(low, max(low, high))


def _prefix_successor(prefix: str | bytes) -> str | bytes | None:
    """The least value greater than every value that starts with `prefix` (None: none).

    Strings order by code point, binary values (bytes, once moto has decoded them) by byte."""
    if isinstance(prefix, bytes):
        stripped_bytes = prefix.rstrip(b"\xff")
        if not stripped_bytes:
            return None
        return stripped_bytes[:-1] + bytes([stripped_bytes[-1] + 1])
    stripped = prefix.rstrip(chr(0x10FFFF))
    if not stripped:
        return None
    return stripped[:-1] + chr(ord(stripped[-1]) + 1)


def _after_start(partition: SortedDict, plan: _QueryPlan, forward: bool) -> range:
    """Positions (ascending) that moto's ExclusiveStartKey skipping keeps."""
    size = len(partition)
    if plan.start_key is None:
        return range(size)
    start_hash, rest = plan.start_key[0], plan.start_key[1:]
    here = plan.partition_id[1]
    if here != start_hash:
        keep_all = here > start_hash if forward else here < start_hash
        return range(size) if keep_all else range(0)
    if forward:
        return range(partition.bisect_right(rest), size)
    return range(0, partition.bisect_left(rest))


def _intersect(a: range, b: range) -> range:
    low, high = max(a.start, b.start), min(a.stop, b.stop)
    return range(low, max(low, high))


def query(table: Table, **args: Any) -> tuple[list[Item], int, dict[str, Any] | None]:
    """Table.query's answer, read from the sorted partitions; moto's page loop."""
    state = _state_for(table)
    with state.lock:
        plan = _plan_query(table, args, state)
        forward = args["scan_index_forward"] is not False
        partition = plan.view.partitions.get(plan.partition_id, SortedDict())
        kept = _after_start(partition, plan, forward)
        if args["filter_kwargs"]:
            # moto's legacy QueryFilter visits every item of the partition: so do we
            visit, rest = kept, range(0)
        else:
            visit = _intersect(kept, _range_slice(partition, plan.comparison, plan.bounds))
            tail = range(visit.stop, kept.stop) if forward else range(kept.start, visit.start)
            rest = tail if visit else range(0)
        values = partition.values()
        ordered = visit if forward else reversed(visit)
        after = rest if forward else reversed(rest)
        results, scanned, last_key, read = _query_page(
            table,
            args,
            (values[i] for i in ordered),
            (values[i] for i in after),
            in_range=not args["filter_kwargs"],
        )
    _notify_read(table, plan.view.index, read)
    return _finish_query(table, args, results), scanned, last_key


def _query_page(
    table: Table,
    args: dict[str, Any],
    candidates: Iterable[Item],
    beyond: Iterable[Item],
    *,
    in_range: bool,
) -> tuple[list[Item], int, dict[str, Any] | None, list[Item]]:
    """moto's Query loop over `candidates`; `beyond` are the partition's items past the
    sort-key range, which moto visits only to decide whether the page ends with a key."""
    limit, index_name = args["limit"], args["index_name"]
    comparison, range_objs = args["range_comparison"], args["range_objs"]
    filter_kwargs = args["filter_kwargs"]
    compare_attr = (args["range_key_conditions"] or [[None]])[-1][0]
    results: list[Item] = []
    read: list[Item] = []
    size = scanned = 0
    for item in candidates:
        item_size = sizing.page_size(item)
        if len(results) == limit or size + item_size > RESULT_SIZE_LIMIT:
            return results, scanned, table._get_last_evaluated_key(results[-1], index_name), read
        if comparison is None and not filter_kwargs:
            results.append(item)
            size += item_size
            scanned += 1
            read.append(item)
        if comparison is not None:
            value = item.attrs.get(compare_attr)
            if in_range or (value is not None and value.compare(comparison, range_objs)):
                results.append(item)
                size += item_size
                scanned += 1
                read.append(item)
        if filter_kwargs:
            for name, condition in filter_kwargs.items():
                wanted = [DynamoType(element) for element in condition["AttributeValueList"]]
                if _meets(item.attrs.get(name), condition["ComparisonOperator"], wanted):
                    results.append(item)
                    size += item_size
            scanned += 1
            read.append(item)
    if results and (len(results) == limit or size > RESULT_SIZE_LIMIT - _MAX_ITEM_SIZE):
        # Only a full page, or one so large that another item could not fit, ends with a key
        # when more items follow: no need to walk the rest of the partition otherwise.
        for item in beyond:
            if len(results) == limit or size + sizing.page_size(item) > RESULT_SIZE_LIMIT:
                last = table._get_last_evaluated_key(results[-1], index_name)
                return results, scanned, last, read
    return results, scanned, None, read


def _meets(attribute: DynamoType | None, operator: str, wanted: list[DynamoType]) -> bool:
    """A legacy QueryFilter condition. An item without the attribute meets only `NULL`, as in
    a ScanFilter (moto 5.2.5 calls `compare` on the missing value and answers HTTP 500)."""
    if attribute is None:
        return operator == "NULL"
    return bool(attribute.compare(operator, wanted))


def _finish_query(table: Table, args: dict[str, Any], results: list[Item]) -> list[Item]:
    """moto's post-processing: index projection, FilterExpression, ProjectionExpression.

    moto deep-copies the page first; we answer with the stored items themselves (a fifth of a
    20-item Query's CPU went to the copy). Nothing here changes them: a projection builds a new
    item, a filter only reads, and the handler turns the page into plain JSON values
    (`DynamoResult`) before the request lets go of the engine's shared lock, so no write can
    change an item while its answer is being written."""
    if args["index_name"]:
        index = table.get_index(args["index_name"])
        results = [index.project(item) for item in results]
    if args["filter_expression"] is not None:
        results = [item for item in results if args["filter_expression"].expr(item)]
    if args["projection_expressions"]:
        results = [item.project(args["projection_expressions"]) for item in results]
    return results


# -- Scan -------------------------------------------------------------------------------------


def scan(table: Table, **args: Any) -> tuple[list[Item], int, dict[str, Any] | None]:
    """Table.scan's answer, starting at ExclusiveStartKey in the sorted list; moto's loop."""
    state = _state_for(table)
    index_name = args["index_name"]
    with state.lock:
        if index_name is not None:
            index = {i.name: i for i in table.all_indexes()}.get(index_name)
            if index is None or (args["consistent_read"] and index in table.global_indexes):
                raise _Unorderable("moto reports this request's error")
        view = state.view_for(table, index_name, bool(args["consistent_read"]))
        limit = args["limit"]
        if view is None or view.broken:
            raise _Unorderable("not a single-attribute key")
        if limit is not None and (not isinstance(limit, int) or limit < 1):
            raise _Unorderable("moto reports this Limit's error")
        if args["segments"] != (None, None) and table.hash_key_type == "B":
            # moto fails to hash a binary key into a segment; it must fail on the items we
            # would skip too, so its own loop answers
            raise _Unorderable("a segment of a binary partition key")
        start = args["exclusive_start_key"]
        order = view.scan_order
        first = 0
        if start is not None:
            first = order.bisect_right(view.key_from(start, view.scan_attrs))
        values = order.values()
        results, scanned, last_key, read = _scan_page(
            table, args, (values[i] for i in range(first, len(order)))
        )
    _notify_read(table, view.index, read)
    if args["filter_expression"] is not None:
        results = [item for item in results if args["filter_expression"].expr(item)]
    if args["projection_expression"]:
        results = [item.project(args["projection_expression"]) for item in results]
    return results, scanned, last_key


def _scan_page(
    table: Table, args: dict[str, Any], candidates: Iterable[Item]
) -> tuple[list[Item], int, dict[str, Any] | None, list[Item]]:
    """moto's Scan loop (segments, Limit, 1 MB, legacy ScanFilter) over `candidates`."""
    limit, index_name, filters = args["limit"], args["index_name"], args["filters"]
    segments = args["segments"]
    index = table.get_index(index_name) if index_name else None
    results: list[Item] = []
    read: list[Item] = []
    size = scanned = 0
    for item in candidates:
        if not item.is_within_segment(segments):
            continue
        item_size = sizing.page_size(item)
        if len(results) == limit or size + item_size > RESULT_SIZE_LIMIT:
            return results, scanned, table._get_last_evaluated_key(results[-1], index_name), read
        if _passes_scan_filters(item, filters):
            # the stored item itself, as in `_finish_query` (moto copies it first)
            results.append(index.project(item) if index else item)
            size += item_size
        scanned += 1
        read.append(item)
    return results, scanned, None, read


def _passes_scan_filters(item: Item, filters: dict[str, Any]) -> bool:
    for name, (operator, values) in filters.items():
        attribute = item.attrs.get(name)
        if attribute:
            if not attribute.compare(operator, values):
                return False
        elif operator != "NULL":
            return False
    return True


# -- installing ---------------------------------------------------------------------------------

_QUERY_PARAMS = (
    "hash_key",
    "range_comparison",
    "range_objs",
    "limit",
    "exclusive_start_key",
    "scan_index_forward",
    "projection_expressions",
    "index_name",
    "consistent_read",
    "filter_expression",
)
_SCAN_PARAMS = (
    "filters",
    "limit",
    "exclusive_start_key",
    "filter_expression",
    "index_name",
    "consistent_read",
    "projection_expression",
)
_MARK = "_dynamodb_lab_sorted"


def install() -> None:
    """Patch Table.query, Table.scan and the three write paths (idempotent)."""
    if getattr(Table, _MARK, False):
        return
    stock_query, stock_scan = Table.query, Table.scan
    stock_put, stock_delete = Table.put_item, Table.delete_item
    stock_update = DynamoDBBackend.update_item

    def patched_query(self: Table, *args: Any, **kwargs: Any) -> Any:
        named = dict(zip(_QUERY_PARAMS, args, strict=False))
        named.update(kwargs)
        named.setdefault("index_name", None)
        named.setdefault("consistent_read", False)
        named.setdefault("filter_expression", None)
        named["hash_key_conditions"] = named.pop("hash_key_conditions", None)
        named["range_key_conditions"] = named.pop("range_key_conditions", None)
        known = set(_QUERY_PARAMS) | {"hash_key_conditions", "range_key_conditions"}
        named["filter_kwargs"] = {k: v for k, v in named.items() if k not in known}
        for name in named["filter_kwargs"]:
            named.pop(name)
        try:
            return query(self, **named)
        except _Unorderable:
            if named["filter_kwargs"]:
                return _stock_query_filtered(stock_query, self, named)
            answer = stock_query(self, *args, **kwargs)
            _notify_read(self, _index_or_none(self, named["index_name"]), answer[0])
            return answer

    def patched_scan(self: Table, *args: Any, **kwargs: Any) -> Any:
        named = dict(zip(_SCAN_PARAMS, args, strict=False))
        named.update(kwargs)
        named.setdefault("filter_expression", None)
        named.setdefault("index_name", None)
        named.setdefault("consistent_read", False)
        named.setdefault("projection_expression", None)
        named.setdefault("segments", (None, None))
        try:
            return scan(self, **named)
        except _Unorderable:
            answer = stock_scan(self, *args, **kwargs)
            _notify_read(self, _index_or_none(self, named["index_name"]), answer[0])
            return answer

    def patched_put(self: Table, *args: Any, **kwargs: Any) -> Item:
        before_write(self)  # a put replaces the stored item: nothing changes in place
        item = stock_put(self, *args, **kwargs)
        refresh(self, item.hash_key, item.range_key, new=True)
        return item

    def patched_delete(self: Table, hash_key: DynamoType, range_key: DynamoType | None) -> Any:
        before_write(self)
        try:
            return stock_delete(self, hash_key, range_key)
        finally:
            refresh(self, hash_key, range_key)

    def patched_update(
        self: DynamoDBBackend, table_name: str, key: Any, *args: Any, **kwargs: Any
    ) -> Any:
        table = self.tables.get(table_name)
        if table is not None:
            before_write(table, key if isinstance(key, dict) else None)
        with one_write():
            try:
                return stock_update(self, table_name, key, *args, **kwargs)
            finally:
                _refresh_key(self, table_name, key)

    Table.query = patched_query  # type: ignore[method-assign]
    Table.scan = patched_scan  # type: ignore[method-assign]
    Table.put_item = patched_put  # type: ignore[method-assign]
    Table.delete_item = patched_delete  # type: ignore[method-assign]
    DynamoDBBackend.update_item = patched_update  # type: ignore[method-assign]
    setattr(Table, _MARK, True)


def _stock_query_filtered(
    stock_query: Callable[..., Any], table: Table, named: dict[str, Any]
) -> tuple[list[Item], int, dict[str, Any] | None]:
    """A legacy QueryFilter on a Query that moto's own loop answers (keys of several
    attributes, a request the sorted views cannot place). moto's loop calls `compare` on a
    missing attribute and answers HTTP 500, so it reads the page unfiltered here and the
    filter runs afterwards, as DynamoDB runs it: after the key condition and after `Limit`
    (which counts the items evaluated, so `ScannedCount` is the page before the filter), before
    the projection."""
    filters = named["filter_kwargs"]
    plain = {name: value for name, value in named.items() if name != "filter_kwargs"}
    projection = plain.pop("projection_expressions", None)
    read, scanned, last_key = stock_query(table, **plain, projection_expressions=None)
    _notify_read(table, _index_or_none(table, named["index_name"]), read)
    kept = [
        item
        for item in read
        if all(
            _meets(
                item.attrs.get(name),
                condition["ComparisonOperator"],
                [DynamoType(element) for element in condition.get("AttributeValueList", [])],
            )
            for name, condition in filters.items()
        )
    ]
    if projection:
        kept = [item.project(projection) for item in kept]
    return kept, scanned, last_key


def _index_or_none(table: Table, name: str | None) -> SecondaryIndex | None:
    return {index.name: index for index in table.all_indexes()}.get(name) if name else None


def _refresh_key(backend: DynamoDBBackend, table_name: str, key: Any) -> None:
    """After an UpdateItem, successful or not (it can fail half-way through changing the item
    in place), re-place the item its key names."""
    table = backend.tables.get(table_name)
    primary = _primary_of(table, key) if table is not None else None
    if table is not None and primary is not None:
        refresh(table, primary[0], primary[1])


def _primary_of(table: Table, key: Any) -> PrimaryKey | None:
    """The (hash, range) a request's key names, None when it names none."""
    if not isinstance(key, dict) or table.hash_key_attr not in key:
        return None
    try:
        hash_key = DynamoType(key[table.hash_key_attr])
        range_key = DynamoType(key[table.range_key_attr]) if table.range_key_attr in key else None
    except (TypeError, KeyError, IndexError, AttributeError):
        return None
    return hash_key, range_key if table.range_key_attr else None
