"""The engine's lock: reads beside each other, a write alone (written against moto 5.2.5).

DynamoDB serves reads in parallel and applies the writes to one item one at a time. The engine
had one plain lock for every request, so a GetItem waited for every Scan page in front of it
(2.7 ms alone, 154 ms beside four scanning clients). Now a read takes the lock shared and runs
beside other reads; a write takes it alone, so a conditional write still sees and changes its
item in one step, and the journal is still appended in the order memory changed.

Why not finer (a lock per table or per item): a Scan page walks the table's sorted structures,
which any write to the table changes, and moto's backend keeps state across tables (a
transaction spans tables). A write holds the lock for about a millisecond, so a read waits for
at most the writes queued before it: requests are let in in the order they came, so neither a
stream of Scans nor a stream of writes can starve the other kind.

Reads must then not change anything: moto's `Table.get_item` does, for a table with a sort
key, when the partition key is missing (`self.items[hash_key]` on a defaultdict leaves an
empty partition behind), and a read iterating `Table.items` beside it (DescribeTable's item
count, moto's own Query) would fail with "dictionary changed size during iteration". The patch
below looks the partition up without adding it; an empty partition holds no items, so no
answer changes.

Upstream shape: a readers-writer lock around a backend's dispatch, and `dict.get` in
`Table.get_item`.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager

from moto.dynamodb.models.dynamo_type import DynamoType, Item
from moto.dynamodb.models.table import Table

# Operations that change nothing in moto's backend; every other one takes the lock alone
# (an operation added to moto later is a write until it is listed here).
READ_ONLY = frozenset(
    {
        "GetItem",
        "BatchGetItem",
        "Query",
        "Scan",
        "TransactGetItems",
        "DescribeTable",
        "ListTables",
        "DescribeTimeToLive",
        "ListTagsOfResource",
        "DescribeContinuousBackups",
        "DescribeEndpoints",
        "DescribeLimits",
        "ListBackups",
        "DescribeBackup",
        "GetResourcePolicy",
    }
)
_MARK = "_dynamodb_lab_read_only_get"


class ReadWriteLock:
    """Many readers or one writer, let in in the order they came. `with lock:` takes it alone,
    as a plain lock would, so code that only ever wrote keeps working; `with lock.shared():`
    reads.

    First come, first served: a reader behind a waiting writer waits, so Scans cannot starve
    writes, and a writer behind waiting readers waits, so a stream of writes (64 clients
    liking at once) cannot starve reads. Whoever leaves lets in the longest waiting: one
    writer, or every reader up to the next writer. Each waiter sleeps on a lock of its own,
    so a release wakes only those it lets in."""

    def __init__(self) -> None:
        self._mutex = threading.Lock()
        self._readers = 0
        self._writing = False
        self._waiting: deque[tuple[bool, threading.Lock]] = deque()

    @contextmanager
    def shared(self) -> Iterator[None]:
        self._acquire(writing=False)
        try:
            yield
        finally:
            self._release(writing=False)

    def __enter__(self) -> None:
        self._acquire(writing=True)

    def __exit__(self, *exc_info: object) -> None:
        self._release(writing=True)

    def locked(self) -> bool:
        """Someone reads or writes now (a moment's figure, for the health report)."""
        return self._writing or self._readers > 0

    def _acquire(self, *, writing: bool) -> None:
        with self._mutex:
            if not self._waiting and self._fits(writing):
                self._enter(writing)
                return
            turn = threading.Lock()
            turn.acquire()
            self._waiting.append((writing, turn))
        turn.acquire()  # released by the release that lets this waiter in (see `_release`)

    def _release(self, *, writing: bool) -> None:
        with self._mutex:
            if writing:
                self._writing = False
            else:
                self._readers -= 1
            while self._waiting and self._fits(self._waiting[0][0]):
                waiter_writes, turn = self._waiting.popleft()
                self._enter(waiter_writes)
                turn.release()

    def _fits(self, writing: bool) -> bool:
        return not self._writing and not (writing and self._readers)

    def _enter(self, writing: bool) -> None:
        if writing:
            self._writing = True
        else:
            self._readers += 1


def install() -> None:
    """Make `Table.get_item` read without adding an empty partition (idempotent)."""
    if getattr(Table, _MARK, False):
        return
    stock = Table.get_item

    def get_item(
        self: Table,
        hash_key: DynamoType,
        range_key: DynamoType | None = None,
        projection_expression: list[list[str]] | None = None,
    ) -> Item | None:
        if range_key and hash_key not in self.items:
            return None  # where moto would add an empty partition, then find nothing in it
        return stock(self, hash_key, range_key, projection_expression)

    Table.get_item = get_item  # type: ignore[method-assign]
    setattr(Table, _MARK, True)
