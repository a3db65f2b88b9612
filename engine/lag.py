"""How late the engine's eventually consistent reads see a write, as DynamoDB's do.

On DynamoDB a write is acknowledged once two of the three copies of its partition hold it; a
read without `ConsistentRead` may be served by the third, which has not applied it yet. And a
global secondary index is always updated after the write that changed its table, usually
within a second. Local engines answer every read as if strongly consistent, so an app that
reads its own write back eventually consistently works locally and fails on AWS. With these
settings the engine shows the lag:

- `gsi_ms`: each write reaches each global secondary index after a delay drawn between half
  of it and all of it, applied in write order per index; a Query or Scan of the index reads it
  as it stands then.
- `replica_ms`: each table keeps a lagging replica that applies writes the same way. About one
  eventually consistent read out of three (GetItem, BatchGetItem, Query, Scan of the table)
  lands on it; `ConsistentRead=True` always reads the leader. Conditional writes, updates and
  transactions always evaluate on the leader.

Simplifications: a local secondary index is read from the leader; a restart, a restore or an
UpdateTable starts every index and replica caught up; a Query or Scan that moto's own code
answers (see `engine.indexes`) reads the leader.

This module holds the settings and the queue of writes a lagging view has not applied yet;
`engine.indexes` keeps the lagging views and `engine.replicas` decides which reads land on one.
"""

from __future__ import annotations

import random
import threading
import time
from collections import Counter, deque
from collections.abc import Hashable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

REPLICA_SHARE = 1 / 3  # one copy of three has not applied the write yet


@dataclass(frozen=True)
class Lag:
    gsi_ms: float = 0.0
    replica_ms: float = 0.0

    @property
    def any(self) -> bool:
        return self.gsi_ms > 0 or self.replica_ms > 0


_current = Lag()


def configure(lag: Lag) -> None:
    """Set the lag of every view built from now on (the engine sets it once it has recovered,
    so that recovery itself leaves everything caught up)."""
    global _current
    _current = lag


def current() -> Lag:
    return _current


def lands_on_replica() -> bool:
    """Whether one eventually consistent read is served by the copy that lags."""
    return _current.replica_ms > 0 and random.random() < REPLICA_SHARE


class _ReplicaReads(threading.local):
    tables: frozenset[str] = frozenset()


_replica_reads = _ReplicaReads()


@contextmanager
def replica_reads(tables: frozenset[str]) -> Iterator[None]:
    """The request running in this thread reads these tables from their lagging replica."""
    _replica_reads.tables = tables
    try:
        yield
    finally:
        _replica_reads.tables = frozenset()


def reads_replica(table_name: str) -> bool:
    return table_name in _replica_reads.tables


class Backlog:
    """Writes a lagging view has not applied yet, oldest first, each with the moment it will.

    A write's moment is drawn between half the lag and the whole lag after it was made, and
    never before the moment of the write before it: a view applies writes in their order."""

    def __init__(self, lag_ms: float) -> None:
        self.lag_ms = lag_ms
        self._entries: deque[tuple[float, Hashable, Any]] = deque()
        self._waiting: Counter[Hashable] = Counter()
        self._last = 0.0
        self._lock = threading.Lock()

    def add(self, key: Hashable, value: Any) -> None:
        delay = random.uniform(self.lag_ms / 2, self.lag_ms) / 1000
        with self._lock:
            self._last = max(self._last, time.monotonic() + delay)
            self._entries.append((self._last, key, value))
            self._waiting[key] += 1

    def due(self) -> Iterator[tuple[Hashable, Any, bool]]:
        """(key, value, last) for each write whose moment has come, in order; `last` says no
        later write of the same key is waiting."""
        now = time.monotonic()
        while True:
            with self._lock:
                if not self._entries or self._entries[0][0] > now:
                    return
                _, key, value = self._entries.popleft()
                self._waiting[key] -= 1
                last = self._waiting[key] == 0
                if last:
                    del self._waiting[key]
            yield key, value, last

    def waiting(self) -> int:
        """Writes not applied yet whose moment has not come (read without the view's lock)."""
        now = time.monotonic()
        return sum(1 for moment, _, _ in list(self._entries) if moment > now)
