"""TransactWriteItems copies the items it touches, not whole tables (written against moto 5.2.5).

To roll back a cancelled transaction, moto deep-copies every table the transaction names before
it starts, and puts the copies back on failure: 58 ms per call on a 2,000-item table, 350 ms at
10,000, whatever the transaction's size, and (before `engine.memory`) 4 MB never freed per call.
This patch keeps moto's transaction code and only changes what its copy is: for the duration of
the call each named table copies as itself, and the items under the transaction's keys are
copied instead. If moto rolls back (it then raises), those items are put back as they were,
without the stream records the cancelled writes added, and the sorted structures of
`engine.indexes` are told.

A second patch makes `ClientRequestToken` mean what it means on DynamoDB (moto ignores it): a
transaction that succeeded with a token is remembered for 10 minutes. The same token with the
same request (its `TransactItems` and `ReturnItemCollectionMetrics`) answers success again
without applying anything, and reports, if asked, the read units of reading its items; the
same token with another request answers `IdempotentParameterMismatchException`. A transaction
that failed leaves its token unused. Tokens live in memory: the journal replays a repeated
request right after its first use, so it stays a no-op; one reused across a restart more than
10 minutes after its first use (which DynamoDB would apply again) is not applied again.

Upstream shape: an undo log of the items a transaction changed, in `transact_write_items`; a
token cache beside it.
"""

from __future__ import annotations

import copy
import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from moto.core.responses import ActionResult
from moto.dynamodb.exceptions import ERROR_TYPE_PREFIX, DynamodbException
from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.models.dynamo_type import DynamoType, Item
from moto.dynamodb.models.table import Table
from moto.dynamodb.responses import DynamoHandler

from engine import capacity, indexes
from shared.capacity_rules import read_units

Saved = tuple[Table, DynamoType, DynamoType | None, Item | None]
_MARK = "_dynamodb_lab_item_undo"
TOKEN_LIFETIME_SECONDS = 600.0
# What "the same request" compares; ReturnConsumedCapacity only shapes the answer.
_TOKEN_BOUND = ("TransactItems", "ReturnItemCollectionMetrics")


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
        with _tables_copy_as_themselves(tables), indexes.one_write():
            try:
                stock(self, transact_items)
            except BaseException:
                _put_back(saved, streams)
                raise

    DynamoDBBackend.transact_write_items = transact_write_items  # type: ignore[method-assign]
    setattr(DynamoDBBackend, _MARK, True)
    install_client_tokens()


class IdempotentParameterMismatch(DynamodbException):
    error_type = ERROR_TYPE_PREFIX + "IdempotentParameterMismatchException"

    def __init__(self) -> None:
        super().__init__(
            self.error_type,
            "The request uses the same client token as a previous, but non-identical request.",
        )


@dataclass(frozen=True)
class _Use:
    request: str  # the request's bound parameters, as canonical JSON
    at: float


class ClientTokens:
    """Tokens of the transactions that succeeded in the last 10 minutes, per account and region."""

    def __init__(self, lifetime: float = TOKEN_LIFETIME_SECONDS) -> None:
        self.lifetime = lifetime
        self._uses: dict[tuple[str, str, str], _Use] = {}
        self._lock = threading.Lock()

    def seen(self, scope: tuple[str, str, str], request: str) -> bool:
        """True if this token already applied this request; raises if it applied another."""
        now = time.monotonic()
        with self._lock:
            self._forget_older_than(now - self.lifetime)
            use = self._uses.get(scope)
        if use is None:
            return False
        if use.request != request:
            raise IdempotentParameterMismatch()
        return True

    def remember(self, scope: tuple[str, str, str], request: str) -> None:
        with self._lock:
            self._uses[scope] = _Use(request, time.monotonic())

    def _forget_older_than(self, moment: float) -> None:
        for scope, use in list(self._uses.items()):
            if use.at < moment:
                del self._uses[scope]


_tokens = ClientTokens()


def _bound_request(body: dict[str, Any]) -> str:
    bound = {name: body.get(name) for name in _TOKEN_BOUND}
    return json.dumps(bound, sort_keys=True, default=repr)


def _repeat_answer(handler: DynamoHandler) -> ActionResult:
    """What DynamoDB answers a repeated token: success, and the read units of reading the
    items (a strongly consistent read of each) if capacity was asked for."""
    body: dict[str, Any] = {"ItemCollectionMetrics": {}}
    mode = handler.body.get("ReturnConsumedCapacity", "NONE")
    if mode in ("TOTAL", "INDEXES"):
        usages: dict[str, capacity.Usage] = {}
        for table, _hash, _range, item in _keys(
            handler.dynamodb_backend, handler.body["TransactItems"]
        ):
            usage = usages.setdefault(table.name, capacity.Usage(table.name))
            size = capacity.stored_size(item)
            usage.add(capacity.TABLE, read=read_units(size, consistent=True))
        body["ConsumedCapacity"] = [usage.render(mode) for usage in usages.values()]
    return ActionResult(body)


def install_client_tokens() -> None:
    """Wrap the TransactWriteItems handler with the token cache (idempotent)."""
    stock = DynamoHandler.transact_write_items
    if getattr(stock, _MARK, False):
        return

    def transact_write_items(self: DynamoHandler) -> ActionResult:
        token = self.body.get("ClientRequestToken")
        if not token:
            return stock(self)
        scope = (self.current_account, self.region, str(token))
        request = _bound_request(self.body)
        if _tokens.seen(scope, request):
            return _repeat_answer(self)
        result = stock(self)
        _tokens.remember(scope, request)
        return result

    setattr(transact_write_items, _MARK, True)
    DynamoHandler.transact_write_items = transact_write_items  # type: ignore[method-assign]
