"""Which reads land on a table's lagging replica (written against moto 5.2.5; see `engine.lag`).

An eventually consistent GetItem, BatchGetItem (per table), Query or Scan of a table is served
by the lagging replica about one time in three, as a read that reached the copy of DynamoDB's
three that has not applied the latest writes yet. A read with `ConsistentRead=True`, and every
read a write makes to evaluate its condition, reads the leader. The choice is made per request
in moto's handler; `engine.indexes` then reads the replica's view.

Upstream shape: a `consistent_read` argument to `Table.get_item`, and a replica view beside the
table's items.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from moto.core.responses import ActionResult
from moto.dynamodb.models.dynamo_type import DynamoType, Item
from moto.dynamodb.models.table import Table
from moto.dynamodb.responses import DynamoHandler

from engine import indexes, lag

_MARK = "_dynamodb_lab_replicas"
Choose = Callable[[dict[str, Any]], Iterable[tuple[str, bool]]]


def _table_name(name: str) -> str:
    """A table's name, also when the request names it by ARN (`arn:...:table/<name>`)."""
    return name.rsplit(":table/", 1)[-1]


def _single(body: dict[str, Any]) -> Iterable[tuple[str, bool]]:
    if body.get("IndexName"):
        return []  # an index is read as it stands (a global one lags on its own)
    return [(str(body.get("TableName", "")), bool(body.get("ConsistentRead")))]


def _batch(body: dict[str, Any]) -> Iterable[tuple[str, bool]]:
    requests = body.get("RequestItems")
    if not isinstance(requests, dict):
        return []
    return [
        (str(name), bool(request.get("ConsistentRead")) if isinstance(request, dict) else True)
        for name, request in requests.items()
    ]


def _choosing(stock: Callable[[DynamoHandler], ActionResult], choose: Choose) -> Any:
    def handler_method(self: DynamoHandler) -> ActionResult:
        if lag.current().replica_ms <= 0:
            return stock(self)
        tables = frozenset(
            _table_name(name)
            for name, consistent in choose(self.body)
            if not consistent and lag.lands_on_replica()
        )
        with lag.replica_reads(tables):
            return stock(self)

    handler_method.__name__ = stock.__name__
    handler_method.__doc__ = stock.__doc__
    return handler_method


_READS: dict[str, Choose] = {
    "get_item": _single,
    "query": _single,
    "scan": _single,
    "batch_get_item": _batch,
}


def install() -> None:
    """Wrap moto's read handlers and `Table.get_item` (idempotent)."""
    if getattr(Table, _MARK, False):
        return
    for name, choose in _READS.items():
        setattr(DynamoHandler, name, _choosing(getattr(DynamoHandler, name), choose))
    stock_get = Table.get_item

    def get_item(
        self: Table,
        hash_key: DynamoType,
        range_key: DynamoType | None = None,
        projection_expression: list[list[str]] | None = None,
    ) -> Item | None:
        missing_range = self.has_range_key and not range_key  # moto's own error follows
        if missing_range or not lag.reads_replica(self.name):
            return stock_get(self, hash_key, range_key, projection_expression)
        item = indexes.replica_item(self, hash_key, range_key)
        if projection_expression and item is not None:
            return item.project(projection_expression)
        return item

    Table.get_item = get_item  # type: ignore[method-assign]
    setattr(Table, _MARK, True)
