"""Per-partition write limits, so that a hot partition and its cure can be shown for real.

DynamoDB serves each partition key from one partition, and a partition accepts at most 1,000
write units per second whatever the table's capacity; writes beyond that are refused with
ProvisionedThroughputExceededException. An emulator without partitions never refuses, so the
hot-partition lesson stayed on paper. With `--partition-limit N` the engine keeps a token bucket
of N write units per second (and N of burst) for every partition key of every table and every
global secondary index, and refuses a write whose partitions have run dry.

What a write costs and where: one write unit per started KB of the item (the larger of the
new item and the one it replaces, at least 1, sized by `engine.capacity`'s rules), charged to
the item's base-table partition and to the partition of each GSI the item appears in; a
transaction costs twice that (its ConditionChecks are reads, and free here). Charged before
the write runs, as DynamoDB charges a write whose condition then fails. A bucket may go
into debt by one write (a 40 KB item on a 10 WCU/s limit still goes through, then the key
rests for 4 s). Known simplification: an UpdateItem is charged to the GSI partitions of the
item as it was before the update (an update that first gives an item its GSI key is charged to
the table only), because the new item is known only after it was written.

Patched in: the write actions of `DynamoHandler` (moto 5.2.5). They run inside the gate's lock,
so buckets need no lock of their own. Upstream shape: an optional rate limiter in the backend.
A BatchWriteItem whose items are partly refused runs the others and returns the refused ones in
`UnprocessedItems`, as DynamoDB does; the journal records only what ran.
"""

from __future__ import annotations

import functools
import json
import math
import time
from collections.abc import Callable, Hashable
from dataclasses import dataclass
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

THROTTLED_REASON = "ThrottlingError"

Partition = tuple[Hashable, ...]
_originals: dict[str, Callable[[DynamoHandler], Any]] = {}
_active: PartitionThrottle | None = None


class ProvisionedThroughputExceeded(DynamodbException):
    error_type = ERROR_TYPE_PREFIX + "ProvisionedThroughputExceededException"

    def __init__(self, limit: float) -> None:
        super().__init__(
            self.error_type,
            message="Throughput exceeds the current capacity of your table or index "
            f"(this engine's limit: {limit:g} write units per second per partition key).",
        )


@dataclass
class _Bucket:
    tokens: float
    updated: float


@dataclass(frozen=True)
class Write:
    """One item write: the partitions it lands in and its cost in write units."""

    partitions: tuple[Partition, ...]
    units: int


class PartitionThrottle:
    """A token bucket of `limit` write units per second for every partition key."""

    def __init__(self, limit: float, clock: Callable[[], float] = time.monotonic) -> None:
        if limit <= 0:
            raise ValueError("the partition limit must be positive")
        self.limit = limit
        self._clock = clock
        self._buckets: dict[Partition, _Bucket] = {}

    def admit(self, writes: list[Write], multiplier: int = 1) -> bool:
        """Charge the writes and return True, or charge nothing and return False if any of
        their partitions has no units left."""
        now = self._clock()
        buckets = [self._refilled(p, now) for write in writes for p in write.partitions]
        if any(bucket.tokens <= 0 for bucket in buckets):
            return False
        for write in writes:
            for partition in write.partitions:
                self._buckets[partition].tokens -= write.units * multiplier
        return True

    def exhausted(self, write: Write) -> bool:
        """Whether one of the write's partitions has no units left now."""
        now = self._clock()
        return any(self._refilled(p, now).tokens <= 0 for p in write.partitions)

    def _refilled(self, partition: Partition, now: float) -> _Bucket:
        bucket = self._buckets.get(partition)
        if bucket is None:
            bucket = self._buckets[partition] = _Bucket(self.limit, now)
        elapsed = now - bucket.updated
        bucket.tokens = min(self.limit, bucket.tokens + elapsed * self.limit)
        bucket.updated = now
        return bucket


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
    new = _size(values) if kind == "Put" else 0
    units = capacity.write_units(max(new, capacity.item_size(stored)))
    return Write(_partitions(table, hash_value, values), math.ceil(units))


def _partitions(
    table: Table, hash_value: DynamoType, values: dict[str, DynamoType]
) -> tuple[Partition, ...]:
    """The item's base-table partition and its partition in each GSI it appears in."""
    where = (table.account_id, table.region_name, table.name)
    indexed = [
        (*where, index.name, values[index.schema[0]["AttributeName"]])
        for index in table.global_indexes
        if index.schema[0]["AttributeName"] in values
    ]
    return ((*where, "", hash_value), *indexed)


def _size(values: dict[str, DynamoType]) -> int:
    return sum(len(name.encode()) + capacity.value_size(value) for name, value in values.items())


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
