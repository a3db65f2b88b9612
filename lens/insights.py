"""Contributor insights: which partition keys take the traffic, per table and per index.

CloudWatch Contributor Insights does this on AWS (for a fee): the most accessed and the most
throttled partition keys of a table or a GSI. Here the app counts for itself, where it makes its
DynamoDB calls, so it works on any engine, AWS included.

Where: botocore's event system, as the inspector (`lens.inspector`). A `before-parameter-build`
handler reads the request's partition keys (the `Key`, the `Item`, the key condition of a Query,
every request of a batch or a transaction) and notes them in the call's context; `after-call`
counts them once the answer is in: a read or a write on each key, or a throttled request when
DynamoDB refused it for throughput (after the SDK's own retries). A write also counts on each
GSI whose key the written item carries (a PutItem's item is in the request; an UpdateItem's new
index key is not, so its index writes go uncounted: a simplification). A Scan has no key: it is
counted under `(Scan)`, for what it is, a read of every partition.

How much memory: a top-k sketch (Space-Saving, Metwally et al. 2005) of `TOP_K` keys per table
or index per minute, for the last 60 minutes. A key outside the top k of a minute is folded into
the smallest counter it replaces, so a heavy hitter is never missed; its counts are then upper
bounds (the `error` column bounds how much is inherited). Each target's total per minute is
counted exactly, for the shares.

Windows of 1, 5 and 60 minutes merge whole clock minutes: a window of N minutes is the minute in
progress plus the N minutes before it, so it always holds at least the last N minutes (and less
than N + 1). Counting the minute in progress alone as "the last minute" would show almost
nothing for the first seconds after each minute turns; 61 minutes are kept.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import botocore.handlers
from pynamodb.models import Model

from lens.capacity import TableSchema
from lens.inspector import schema_of
from shared.dynamo import base_table_name, registered_models

WINDOWS = (1, 5, 60)
TOP_K = 32
SCAN_KEY = "(Scan)"
_CONTEXT = "dynamodb_lab_insights"
THROTTLED = frozenset(
    {"ProvisionedThroughputExceededException", "ThrottlingException", "RequestLimitExceeded"}
)
KINDS = ("reads", "writes", "throttled")
_EQUALS = re.compile(r"(#?[A-Za-z0-9_]+)\s*=\s*(:[A-Za-z0-9_]+)")


@dataclass
class Counter:
    reads: int = 0
    writes: int = 0
    throttled: int = 0
    error: int = 0
    """How much of the total was inherited from the key this one replaced in the sketch."""

    @property
    def total(self) -> int:
        return self.reads + self.writes + self.throttled + self.error


@dataclass
class Sketch:
    """Space-Saving over one minute of one target: at most `TOP_K` counters."""

    counters: dict[str, Counter] = field(default_factory=dict)
    total: Counter = field(default_factory=Counter)

    def offer(self, key: str, kind: str) -> None:
        setattr(self.total, kind, getattr(self.total, kind) + 1)
        counter = self.counters.get(key)
        if counter is None:
            counter = self._make_room(key)
        setattr(counter, kind, getattr(counter, kind) + 1)

    def _make_room(self, key: str) -> Counter:
        if len(self.counters) < TOP_K:
            counter = self.counters[key] = Counter()
            return counter
        smallest = min(self.counters, key=lambda name: self.counters[name].total)
        counter = Counter(error=self.counters.pop(smallest).total)
        self.counters[key] = counter
        return counter


@dataclass(frozen=True)
class KeyTraffic:
    partition_key: str
    reads: int
    writes: int
    throttled: int
    error: int
    share: float

    def as_dict(self) -> dict[str, Any]:
        return {
            "partition_key": self.partition_key,
            "reads": self.reads,
            "writes": self.writes,
            "throttled": self.throttled,
            "error": self.error,
            "share": round(self.share, 4),
        }


@dataclass(frozen=True)
class TargetTraffic:
    table: str
    index: str | None
    requests: int
    keys: list[KeyTraffic]


class Recorder:
    """Per-minute sketches of the last 60 minutes; thread-safe (calls come from many threads)."""

    def __init__(self, clock: Any = time.time) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._minutes: dict[int, dict[tuple[str, str | None], Sketch]] = {}

    def record(self, touches: Iterable[tuple[str, str | None, str]], kind: str) -> None:
        minute = int(self._clock() // 60)
        with self._lock:
            sketches = self._minutes.get(minute)
            if sketches is None:
                sketches = self._minutes[minute] = {}
                self._forget_before(minute - max(WINDOWS))
            for table, index, key in touches:
                sketches.setdefault((table, index), Sketch()).offer(key, kind)

    def _forget_before(self, minute: int) -> None:
        for old in [m for m in self._minutes if m < minute]:
            del self._minutes[old]

    def clear(self) -> None:
        with self._lock:
            self._minutes.clear()

    def traffic(self, window: int, *, limit: int = 10) -> list[TargetTraffic]:
        """The top keys of every table and index seen in the last `window` minutes: the minute
        in progress and the `window` whole minutes before it."""
        now = int(self._clock() // 60)
        merged: dict[tuple[str, str | None], tuple[Counter, dict[str, Counter]]] = {}
        with self._lock:
            for minute, sketches in self._minutes.items():
                if minute < now - window:
                    continue
                for target, sketch in sketches.items():
                    total, keys = merged.setdefault(target, (Counter(), {}))
                    _add(total, sketch.total)
                    for key, counter in sketch.counters.items():
                        _add(keys.setdefault(key, Counter()), counter)
        return [
            _target(table, index, total, keys, limit)
            for (table, index), (total, keys) in sorted(merged.items(), key=_target_order)
        ]


def _target_order(item: tuple[tuple[str, str | None], Any]) -> tuple[str, str]:
    (table, index), _ = item
    return table, index or ""


def _add(into: Counter, other: Counter) -> None:
    for name in (*KINDS, "error"):
        setattr(into, name, getattr(into, name) + getattr(other, name))


def _target(
    table: str, index: str | None, total: Counter, keys: Mapping[str, Counter], limit: int
) -> TargetTraffic:
    requests = total.total
    ranked = sorted(keys.items(), key=lambda pair: (-pair[1].total, pair[0]))[:limit]
    return TargetTraffic(
        table,
        index,
        requests,
        [
            KeyTraffic(
                key,
                counter.reads,
                counter.writes,
                counter.throttled,
                counter.error,
                min(counter.total / requests, 1.0) if requests else 0.0,
            )
            for key, counter in ranked
        ],
    )


recorder = Recorder()


# -- which keys a request touches ------------------------------------------------------------


@dataclass(frozen=True)
class _Table:
    name: str
    schema: TableSchema


_tables: dict[str, tuple[tuple[type[Model], ...], _Table]] = {}


def _table(name: str) -> _Table | None:
    """The app's table bound to `name`, cached by name and checked against the registry (a
    re-bind under a new prefix, or a replaced model, is noticed), as the inspector does."""
    models = tuple(m for m in registered_models() if m.Meta.table_name == name)
    if not models:
        return None
    cached = _tables.get(name)
    if cached is None or cached[0] != models:
        cached = _tables[name] = (models, _Table(base_table_name(models[0]), schema_of(models)))
    return cached[1]


Touch = tuple[str, str | None, str]


def _value(value: Any) -> str:
    if not isinstance(value, Mapping) or len(value) != 1:
        return "?"
    ((_kind, inner),) = value.items()
    return str(inner)


def _item_touches(table: _Table, item: Mapping[str, Any]) -> Iterator[Touch]:
    """A written item: its table partition, and each GSI partition whose key it carries."""
    if table.schema.hash_key in item:
        yield table.name, None, _value(item[table.schema.hash_key])
    for index in table.schema.indexes:
        if all(name in item for name in index.key_attributes):
            yield table.name, index.name, _value(item[index.hash_key])


def _key_touch(table: _Table, key: Mapping[str, Any]) -> Iterator[Touch]:
    if table.schema.hash_key in key:
        yield table.name, None, _value(key[table.schema.hash_key])


def _query_touch(table: _Table, params: Mapping[str, Any]) -> Iterator[Touch]:
    index_name = params.get("IndexName")
    index = next((i for i in table.schema.indexes if i.name == index_name), None)
    hash_key = index.hash_key if index else table.schema.hash_key
    names = params.get("ExpressionAttributeNames") or {}
    values = params.get("ExpressionAttributeValues") or {}
    for name, placeholder in _EQUALS.findall(params.get("KeyConditionExpression", "")):
        if names.get(name, name) == hash_key and placeholder in values:
            yield table.name, index_name, _value(values[placeholder])
            return


def touches(operation: str, params: Mapping[str, Any]) -> tuple[list[Touch], str]:
    """(partition keys the request touches, "reads" or "writes")."""
    if operation in ("BatchGetItem", "BatchWriteItem"):
        return _batch_touches(params), "reads" if operation == "BatchGetItem" else "writes"
    if operation in ("TransactGetItems", "TransactWriteItems"):
        kind = "reads" if operation == "TransactGetItems" else "writes"
        return _transaction_touches(params), kind
    table = _table(str(params.get("TableName", "")))
    if table is None:
        return [], "reads"
    if operation == "PutItem":
        return list(_item_touches(table, params.get("Item") or {})), "writes"
    if operation in ("UpdateItem", "DeleteItem"):
        return list(_key_touch(table, params.get("Key") or {})), "writes"
    if operation == "GetItem":
        return list(_key_touch(table, params.get("Key") or {})), "reads"
    if operation == "Query":
        return list(_query_touch(table, params)), "reads"
    if operation == "Scan":
        return [(table.name, params.get("IndexName"), SCAN_KEY)], "reads"
    return [], "reads"


def _batch_touches(params: Mapping[str, Any]) -> list[Touch]:
    found: list[Touch] = []
    for name, request in (params.get("RequestItems") or {}).items():
        table = _table(name)
        if table is None:
            continue
        if isinstance(request, Mapping):
            for key in request.get("Keys", []):
                found += _key_touch(table, key)
            continue
        for write in request:
            if "PutRequest" in write:
                found += _item_touches(table, write["PutRequest"].get("Item") or {})
            elif "DeleteRequest" in write:
                found += _key_touch(table, write["DeleteRequest"].get("Key") or {})
    return found


def _transaction_touches(params: Mapping[str, Any]) -> list[Touch]:
    found: list[Touch] = []
    for entry in params.get("TransactItems") or []:
        for action, body in entry.items():
            table = _table(str(body.get("TableName", "")))
            if table is None:
                continue
            if action == "Put":
                found += _item_touches(table, body.get("Item") or {})
            else:
                found += _key_touch(table, body.get("Key") or {})
    return found


# -- botocore hooks ----------------------------------------------------------------------------


def _before(params: dict[str, Any], model: Any, context: dict[str, Any], **_: Any) -> None:
    try:
        context[_CONTEXT] = touches(model.name, params)
    except Exception:  # noqa: BLE001 - counting must never break the call it counts
        context.pop(_CONTEXT, None)


def _after(http_response: Any, parsed: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
    noted = context.pop(_CONTEXT, None)
    if not noted or not noted[0]:
        return
    found, kind = noted
    if http_response.status_code >= 300:
        code = parsed.get("Error", {}).get("Code")
        if code in THROTTLED:
            recorder.record(found, "throttled")
            return
        if code != "ConditionalCheckFailedException":
            return
    recorder.record(found, kind)


def _after_error(context: dict[str, Any], **_: Any) -> None:
    context.pop(_CONTEXT, None)


_HANDLERS = (
    ("before-parameter-build.dynamodb", _before),
    ("after-call.dynamodb", _after),
    ("after-call-error.dynamodb", _after_error),
)
_install_lock = threading.Lock()


def install_counting() -> None:
    """Count on every botocore session created from now on (see `lens.inspector`). Idempotent."""
    with _install_lock:
        for spec in _HANDLERS:
            if spec not in botocore.handlers.BUILTIN_HANDLERS:
                botocore.handlers.BUILTIN_HANDLERS.append(spec)
