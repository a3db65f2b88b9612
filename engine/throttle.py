"""Per-partition write limits, modelled on DynamoDB's partitions, so that a hot partition, the
split that relieves it and the one item nothing relieves can all be shown for real.

DynamoDB stores a table on physical partitions and hashes each partition key value onto one of
them; a partition holds many partition key values, and each partition accepts at most 1,000
write units per second (3,000 read units). A partition that stays hot is split (AWS calls it
split for heat, part of adaptive capacity), so keys that shared it stop taking units from each
other; it can split between the items of one item collection too (when the table has no local
secondary index). One item can never be split: its writes stay capped at the partition limit,
however long it stays hot. That is the true reason to shard a hot counter.

This engine keeps that mechanism at a scale a lab can watch (`--partition-limit N` write units
per second instead of 1,000), a simplification in three ways: writes only (reads are never
throttled), no burst capacity, and the number of partitions is chosen, not derived from size:
- Each table and each global secondary index starts with `--partitions` partitions (default 4:
  a new on-demand table serves 4,000 writes per second, four partitions' worth), or, when it is
  provisioned, one partition per started `N` write units plus one per started `3N` read units,
  the rule of thumb AWS once published for sizing partitions.
- A partition key value lands on a partition by a stable hash; an item's place in its partition
  is (hash, sort key), so an item collection may be divided by sort key.
- A partition that keeps refusing writes for `--split-after-s` seconds splits in two at the
  point that halves the traffic it saw while hot. Its two halves each get the full limit.
  A partition whose hot traffic is one item does not split.

What a write costs and where: one write unit per started KB of the item (the larger of the
new item and the one it replaces, at least 1, sized by `engine.capacity`'s rules), charged to
the item's base-table partition and to the partition of each GSI the item appears in; a
transaction costs twice that (a simplification: `engine.capacity` bills a transaction's index
writes once and its ConditionChecks as writes; here the checks are free and the index buckets
pay double). Charged before
the write runs, as DynamoDB charges a write whose condition then fails. A bucket may go
into debt by one write (a 40 KB item on a 10 WCU/s limit still goes through, then the
partition rests for 4 s). Known simplification: an UpdateItem is charged to the GSI partitions
of the item as it was before the update (an update that first gives an item its GSI key is
charged to the table only), because the new item is known only after it was written.

Patched in: the write actions of `DynamoHandler` (moto 5.2.5). They run inside the gate's lock,
so buckets need no lock of their own. Upstream shape: an optional rate limiter in the backend.
A BatchWriteItem whose items are partly refused runs the others and returns the refused ones in
`UnprocessedItems`, as DynamoDB does; the journal records only what ran.
"""

from __future__ import annotations

import bisect
import functools
import hashlib
import itertools
import json
import math
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from moto.core.responses import ActionResult
from moto.dynamodb.exceptions import (
    ERROR_TYPE_PREFIX,
    DynamodbException,
    TransactionCanceledException,
)
from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.models.dynamo_type import DynamoType
from moto.dynamodb.models.table import Table
from moto.dynamodb.responses import DynamoHandler

from engine import capacity
from engine.gate import INTERNAL
from shared.capacity_rules import item_size, write_units

THROTTLED_REASON = "ThrottlingError"
DEFAULT_PARTITIONS = 4
HASH_SPACE = 2**32
# A partition counts as hot while it refused a write within this many seconds.
COOLS_AFTER_SECONDS = 1.0
# Bounded memory: a hot partition remembers the traffic of at most this many items.
TRAFFIC_ITEMS = 4096

Space = tuple[str, str, str, str]  # account, region, table, index ('' for the table itself)
Position = tuple[int, str]  # (hash of the partition key value, sort key value)
_originals: dict[str, Callable[[DynamoHandler], Any]] = {}
_active: PartitionThrottle | None = None


class ProvisionedThroughputExceeded(DynamodbException):
    error_type = ERROR_TYPE_PREFIX + "ProvisionedThroughputExceededException"

    def __init__(self, limit: float) -> None:
        super().__init__(
            self.error_type,
            message="Throughput exceeds the current capacity of your table or index "
            f"(this engine's limit: {limit:g} write units per second per partition).",
        )


@dataclass(frozen=True)
class Placement:
    """Where one write lands: a table or index, and the item's place in its key space."""

    space: Space
    position: Position
    provisioned: tuple[int, int]  # write and read capacity units; (0, 0) when on-demand


@dataclass(frozen=True)
class Write:
    """One item write: the places it lands in and its cost in write units."""

    placements: tuple[Placement, ...]
    units: int


@dataclass
class _Partition:
    tokens: float
    updated: float
    hot_since: float | None = None
    refused_at: float = -math.inf
    traffic: Counter[Position] = field(default_factory=Counter)


class _KeySpace:
    """The partitions of one table or index: sorted start positions, a bucket each."""

    def __init__(self, count: int, limit: float, now: float) -> None:
        self.starts: list[Position] = [(n * HASH_SPACE // count, "") for n in range(count)]
        self.partitions = {start: _Partition(limit, now) for start in self.starts}

    def locate(self, position: Position) -> Position:
        return self.starts[bisect.bisect_right(self.starts, position) - 1]


class PartitionThrottle:
    """A token bucket of `limit` write units per second for every partition, and splits for
    heat after `split_after` seconds hot (never when None)."""

    def __init__(
        self,
        limit: float,
        *,
        partitions: int = DEFAULT_PARTITIONS,
        split_after: float | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if limit <= 0 or partitions < 1:
            raise ValueError("the partition limit and count must be positive")
        self.limit = limit
        self.start_partitions = partitions
        self.split_after = split_after
        self.splits = 0
        self._clock = clock
        self._spaces: dict[Space, _KeySpace] = {}

    def admit(self, writes: list[Write], multiplier: int = 1) -> bool:
        """Charge the writes and return True, or charge nothing and return False if any of
        their partitions has no units left."""
        now = self._clock()
        found = [self._refilled(p, now) for write in writes for p in write.placements]
        dry = [(keys, start) for keys, start, part in found if part.tokens <= 0]
        for write in writes:
            for placement in write.placements:
                keys, start, part = self._refilled(placement, now)
                if not dry:
                    part.tokens -= write.units * multiplier
                refused = (keys, start) in dry
                self._note_heat(part, placement.position, write.units, now, refused)
        for keys, start in dry:
            self._split_if_due(keys, start, now)
        return not dry

    def exhausted(self, write: Write) -> bool:
        """Whether one of the write's partitions has no units left now."""
        now = self._clock()
        return any(self._refilled(p, now)[2].tokens <= 0 for p in write.placements)

    def partition_counts(self) -> dict[str, int]:
        """Partitions per table and index ('table' or 'table/index'), for the engine's health."""
        return {
            "/".join(filter(None, space[2:])): len(keys.starts)
            for space, keys in self._spaces.items()
        }

    def _refilled(self, placement: Placement, now: float) -> tuple[_KeySpace, Position, _Partition]:
        keys = self._spaces.get(placement.space)
        if keys is None:
            count = self._start_count(*placement.provisioned)
            keys = self._spaces[placement.space] = _KeySpace(count, self.limit, now)
        start = keys.locate(placement.position)
        part = keys.partitions[start]
        part.tokens = min(self.limit, part.tokens + (now - part.updated) * self.limit)
        part.updated = now
        return keys, start, part

    def _start_count(self, writes: int, reads: int) -> int:
        if not writes and not reads:
            return self.start_partitions
        return max(1, math.ceil(writes / self.limit) + math.ceil(reads / (3 * self.limit)))

    def _note_heat(
        self, part: _Partition, position: Position, units: int, now: float, refused: bool
    ) -> None:
        """Remember the traffic of a partition while it is hot: where to split it."""
        if refused:
            part.refused_at = now
            part.hot_since = part.hot_since if part.hot_since is not None else now
        elif part.hot_since is not None and now - part.refused_at > COOLS_AFTER_SECONDS:
            part.hot_since = None
            part.traffic.clear()
        if part.hot_since is not None and (
            position in part.traffic or len(part.traffic) < TRAFFIC_ITEMS
        ):
            part.traffic[position] += units

    def _split_if_due(self, keys: _KeySpace, start: Position, now: float) -> None:
        part = keys.partitions[start]
        if self.split_after is None or part.hot_since is None:
            return
        if now - part.hot_since < self.split_after or len(part.traffic) < 2:
            return  # not hot for long enough, or one item: nothing to split apart
        positions = sorted(part.traffic)
        running = list(itertools.accumulate(part.traffic[p] for p in positions))
        cut = bisect.bisect_left(running, running[-1] / 2)
        middle = positions[min(cut + 1, len(positions) - 1)]
        keys.partitions[start] = _Partition(self.limit, now)
        keys.partitions[middle] = _Partition(self.limit, now)
        bisect.insort(keys.starts, middle)
        self.splits += 1


def provisioned_for(partitions: int, limit: float) -> tuple[int, int]:
    """Write and read capacity units on which a provisioned table starts with `partitions`
    partitions on this engine (at least 2: DynamoDB takes at least one read unit, which is a
    partition of its own here)."""
    return max(1, partitions - 1) * math.ceil(limit), 1


def partitions_apart(hash_values: list[str]) -> int:
    """The fewest partitions on which these string partition key values each land on a
    partition of their own, by this engine's hash; a lab sizes a table with it, so a run
    whose keys must not share a partition does not depend on luck."""
    positions = {_position(DynamoType({"S": value}), None) for value in hash_values}
    count = max(2, len(positions))
    while len({_KeySpace(count, 1.0, 0.0).locate(p) for p in positions}) < len(positions):
        count += 1
    return count


def install(throttle: PartitionThrottle) -> None:
    """Put the throttle in front of every write action (idempotent)."""
    global _active
    _active = throttle
    for action, guard in _GUARDS.items():
        original = _originals.setdefault(action, getattr(DynamoHandler, action))
        setattr(DynamoHandler, action, _guarded(original, guard))


def _guarded(original: Callable[[DynamoHandler], Any], guard: Callable[..., Any]) -> Any:
    @functools.wraps(original)
    def action(handler: DynamoHandler) -> Any:
        if _active is None or getattr(handler, INTERNAL, False):
            return original(handler)  # TTL deletions and replays are not client traffic
        return guard(_active, handler, lambda: original(handler))

    return action


# -- what each write action costs, and where -----------------------------------------------------


def _single(throttle: PartitionThrottle, handler: DynamoHandler, run: Callable[[], Any]) -> Any:
    write = _write_of(handler.dynamodb_backend, handler.body, _kind(handler))
    if write is not None and not throttle.admit([write]):
        raise ProvisionedThroughputExceeded(throttle.limit)
    return run()


def _kind(handler: DynamoHandler) -> str:
    return "Put" if "Item" in handler.body else "Key"


def _write_of(backend: DynamoDBBackend, request: dict[str, Any], kind: str) -> Write | None:
    """The write a Put (`Item`) or an Update/Delete/ConditionCheck (`Key`) makes; None when the
    table or key is invalid, which moto then reports as usual."""
    try:
        table = backend.get_table(request["TableName"])
        attributes = request["Item"] if kind == "Put" else request["Key"]
        hash_value, range_value = backend.get_keys_value(table, attributes)
        stored = table.get_item(hash_value, range_value)
    except (DynamodbException, KeyError, TypeError):
        return None
    if kind == "Put":
        values = {name: DynamoType(value) for name, value in attributes.items()}
    else:
        values = stored.attrs if stored is not None else {}
    new = item_size(values) if kind == "Put" else 0
    units = write_units(max(new, capacity.stored_size(stored)))
    return Write(_placements(table, hash_value, range_value, values), math.ceil(units))


def _placements(
    table: Table,
    hash_value: DynamoType,
    range_value: DynamoType | None,
    values: dict[str, DynamoType],
) -> tuple[Placement, ...]:
    """The item's place in the table, and in each GSI it appears in."""
    where = (table.account_id, table.region_name, table.name)
    found = [Placement((*where, ""), _position(hash_value, range_value), _provisioned(table))]
    for index in table.global_indexes:
        names = [key["AttributeName"] for key in index.schema]
        if names[0] not in values:
            continue  # a sparse index: the item is not in it
        sort = values.get(names[1]) if len(names) > 1 else None
        found.append(
            Placement((*where, index.name), _position(values[names[0]], sort), _provisioned(index))
        )
    return tuple(found)


def _position(hash_value: DynamoType, range_value: DynamoType | None) -> Position:
    digest = hashlib.blake2b(repr(hash_value.value).encode(), digest_size=4).digest()
    return int.from_bytes(digest, "big"), "" if range_value is None else repr(range_value.value)


def _provisioned(table_or_index: Any) -> tuple[int, int]:
    throughput = getattr(table_or_index, "throughput", None) or {}
    return throughput.get("WriteCapacityUnits") or 0, throughput.get("ReadCapacityUnits") or 0


def _batch(throttle: PartitionThrottle, handler: DynamoHandler, run: Callable[[], Any]) -> Any:
    """Run the admitted items, return the refused ones as UnprocessedItems."""
    backend = handler.dynamodb_backend
    admitted: dict[str, list[int]] = {}
    refused: dict[str, list[Any]] = {}
    for table_name, requests in handler.body["RequestItems"].items():
        for position, request in enumerate(requests):
            write = _batch_write(backend, table_name, request)
            if write is None or throttle.admit([write]):
                admitted.setdefault(table_name, []).append(position)
            else:
                refused.setdefault(table_name, []).append(request)
    if not refused:
        return run()
    if not admitted:
        raise ProvisionedThroughputExceeded(throttle.limit)
    _keep_only(handler, admitted)
    result = run()
    assert isinstance(result, ActionResult)
    result.result["UnprocessedItems"] = refused  # type: ignore[index]
    return result


def _batch_write(backend: DynamoDBBackend, table: str, request: dict[str, Any]) -> Write | None:
    if "PutRequest" in request:
        return _write_of(backend, {"TableName": table, **request["PutRequest"]}, "Put")
    return _write_of(backend, {"TableName": table, **request.get("DeleteRequest", {})}, "Key")


def _keep_only(handler: DynamoHandler, admitted: dict[str, list[int]]) -> None:
    """Narrow the request, parsed and raw alike, to the admitted items: the journal records
    the raw body, and a replay must write exactly what ran."""
    parsed = handler.body["RequestItems"]
    raw = json.loads(handler.raw_body)
    for source in (parsed, raw["RequestItems"]):
        for table_name in list(source):
            positions = admitted.get(table_name, [])
            source[table_name] = [source[table_name][p] for p in positions]
            if not source[table_name]:
                del source[table_name]
    handler.raw_body = json.dumps(raw, separators=(",", ":"), ensure_ascii=False).encode()


def _transaction(
    throttle: PartitionThrottle, handler: DynamoHandler, run: Callable[[], Any]
) -> Any:
    """All or nothing, at twice the cost, as DynamoDB bills transactions."""
    backend = handler.dynamodb_backend
    writes: list[Write | None] = []
    for entry in handler.body["TransactItems"]:
        ((kind, request),) = entry.items()
        if kind == "ConditionCheck":
            writes.append(None)
        else:
            writes.append(_write_of(backend, request, "Put" if kind == "Put" else "Key"))
    known = [write for write in writes if write is not None]
    if known and not throttle.admit(known, multiplier=2):
        raise TransactionCanceledException([_reason(throttle, write) for write in writes])
    return run()


def _reason(throttle: PartitionThrottle, write: Write | None) -> tuple[str | None, ...]:
    """A cancellation reason per item, as DynamoDB lists them: the throttled ones say so."""
    if write is None or not throttle.exhausted(write):
        return (None, None, None)
    message = "Throughput exceeds the current capacity for one or more of the item's partitions."
    return (THROTTLED_REASON, message, None)


_GUARDS: dict[str, Callable[..., Any]] = {
    "put_item": _single,
    "update_item": _single,
    "delete_item": _single,
    "batch_write_item": _batch,
    "transact_write_items": _transaction,
}
