"""The one gate every DynamoDB request of the engine passes: the lock, then the journal.

moto's server answers on many threads, and moto's DynamoDB backend was not written for that:
two conditional UpdateItems on one item can both read the old value and both succeed (300
contested updates gave 301 winners), and a Scan can walk a dict that another thread changes.
DynamoDB applies the writes to an item one at a time, which is what makes a condition
expression mean something. So a request that changes anything holds the lock alone
(`engine.locking`), while reads share it and run beside each other. A mutating request is
written to the journal under the lock, right after it was applied, so the journal's order is
the order in which memory changed. The response then waits, outside the lock, until its record
is on disk (group commit, see `engine.journal`).

Patched in: `DynamoHandler.call_action` (moto 5.2.5), the method every DynamoDB request of
moto's server goes through. Upstream shape: a lock around a backend's dispatch, and a hook
called after each mutating action with the request that made it.
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Callable, Iterator
from typing import Any, cast

from moto.core.common_types import TYPE_RESPONSE
from moto.core.exceptions import ServiceException
from moto.core.parse import PROTOCOL_PARSERS
from moto.core.utils import camelcase_to_underscores, get_service_model
from moto.dynamodb.models import DynamoDBBackend, dynamodb_backends
from moto.dynamodb.models.dynamo_type import Item
from moto.dynamodb.models.table import Table
from moto.dynamodb.responses import DynamoHandler
from moto.utilities.utils import get_partition
from werkzeug.exceptions import HTTPException

from engine.journal import Journal, JournalWriteFailed, encode
from engine.locking import READ_ONLY, ReadWriteLock

logger = logging.getLogger(__name__)

MUTATING = frozenset(
    {
        "CreateTable",
        "UpdateTable",
        "DeleteTable",
        "PutItem",
        "UpdateItem",
        "DeleteItem",
        "BatchWriteItem",
        "TransactWriteItems",
        "UpdateTimeToLive",
        "TagResource",
        "UntagResource",
        "ExecuteStatement",
        "BatchExecuteStatement",
        "ExecuteTransaction",
        "UpdateContinuousBackups",
        "CreateBackup",
        "DeleteBackup",
        "RestoreTableFromBackup",
        "RestoreTableToPointInTime",
        "PutResourcePolicy",
        "DeleteResourcePolicy",
    }
)
# Failures that moto raises before it changes anything (a transaction restores its tables
# before it raises). Other failed mutating requests are journalled too: moto can fail after a
# partial change (an UpdateItem that creates an item, then fails validating its expression,
# leaves the new key behind), and replaying the request reproduces exactly that.
UNCHANGED_ON_FAILURE = frozenset(
    {
        "ConditionalCheckFailedException",
        "TransactionCanceledException",
        "ProvisionedThroughputExceededException",
        "ResourceNotFoundException",
        "ResourceInUseException",
    }
)
FAIL_STOP_EXIT_CODE = 70
_JSON_HEADERS = {"Content-Type": "application/x-amz-json-1.0"}

INTERNAL = "dynamodb_lab_internal"  # set on handlers of the engine's own requests
_SHUTTING_DOWN: TYPE_RESPONSE = (
    503,
    {**_JSON_HEADERS},
    json.dumps({"__type": "ServiceUnavailable", "message": "the engine is shutting down"}),
)

_original_call_action = DynamoHandler.call_action
_active: Gate | None = None


class Gate:
    """The engine's lock, its journal (None in memory-only mode) and its hooks."""

    def __init__(self, journal: Journal | None = None) -> None:
        self.lock = ReadWriteLock()
        self.journal = journal
        self.after_journal_write: Callable[[], None] | None = None
        self.closed = False  # set at shutdown: nothing may change after the last snapshot

    # -- requests from clients ------------------------------------------------------------------

    def handle(self, handler: DynamoHandler) -> TYPE_RESPONSE:
        """Run one request from the HTTP server: locked, journalled, synced before answering."""
        operation = handler._get_action()
        if operation in READ_ONLY:
            with self.lock.shared():
                if self.closed:
                    return _SHUTTING_DOWN
                return cast(TYPE_RESPONSE, _original_call_action(handler))
        ticket = None
        with self.lock:
            if self.closed:
                return _SHUTTING_DOWN
            journal = self.journal  # close() may drop it once the lock is released
            started = time.thread_time()
            status, headers, body = _original_call_action(handler)
            if journal is not None and _changed_state(operation, status, body):
                cost = time.thread_time() - started  # about what replaying it will take
                region, account = handler.region, handler.current_account
                ticket = self._append(operation, region, account, status, handler.raw_body, cost)
        if journal is not None and ticket is not None:
            self._wait_durable(journal, ticket)
        return status, headers, body

    # -- requests from the engine itself (recovery, TTL sweeper, snapshot load) -----------------

    def replay(self, operation: str, region: str, account: str, raw_request: bytes) -> bool:
        """Apply a journalled request again, without journalling it; True if it succeeded.
        Called at start-up, before the server listens, so without the lock."""
        return _execute(operation, region, account, raw_request)

    def apply(self, operation: str, region: str, account: str, request: dict[str, Any]) -> bool:
        """Apply the engine's own request (the caller holds the lock) and journal it; True if it
        succeeded. Nobody waits for an answer, so it is not synced at once: the next client
        write's sync covers it (a power loss before that only undoes what the engine will
        simply do again, such as a TTL deletion)."""
        raw = json.dumps(request, separators=(",", ":"), ensure_ascii=False).encode()
        succeeded = _execute(operation, region, account, raw)
        if self.journal is not None and succeeded:
            self._append(operation, region, account, 200, raw)
        return succeeded

    # -- the journal ----------------------------------------------------------------------------

    def _append(
        self, operation: str, region: str, account: str, status: int, raw: bytes, cost: float = 0.0
    ) -> int:
        assert self.journal is not None
        line = encode(operation, region, account, status, time.time(), raw)
        try:
            return self.journal.append(line, cost)
        except JournalWriteFailed as error:
            _fail_stop(error)
            raise

    def _wait_durable(self, journal: Journal, ticket: int) -> None:
        try:
            journal.wait_durable(ticket)
        except JournalWriteFailed as error:
            _fail_stop(error)
            raise
        if self.after_journal_write is not None:
            self.after_journal_write()


def install(gate: Gate) -> None:
    """Route every DynamoDB request of this process through `gate` (idempotent)."""
    global _active
    _active = gate
    DynamoHandler.call_action = _gated_call_action  # type: ignore[method-assign]


def _gated_call_action(handler: DynamoHandler) -> TYPE_RESPONSE:
    assert _active is not None
    return _active.handle(handler)


def backends() -> list[tuple[str, str, DynamoDBBackend]]:
    """Every (account, region, backend) that holds state, in a stable order."""
    return [
        (account, region, backend)
        for account, regions in sorted(dynamodb_backends.items())
        for region, backend in sorted(regions.items())
    ]


def stored_items(table: Table) -> Iterator[Item]:
    """Every item of a table in storage order (moto's `all_items()` sorts them all first, which
    costs more than the whole snapshot of them)."""
    for entry in list(table.items.values()):
        if table.range_key_attr:
            yield from list(entry.values())
        else:
            yield cast(Item, entry)  # moto annotates the items as dicts of ranges only


def _changed_state(operation: str, status: int, body: Any) -> bool:
    if operation not in MUTATING:
        return False
    return status == 200 or _error_type(body) not in UNCHANGED_ON_FAILURE


def _error_type(body: Any) -> str:
    """`ConditionalCheckFailedException` from `{"__type": "com.amazonaws...#Conditional..."}`."""
    try:
        return str(json.loads(body).get("__type", "")).rsplit("#", 1)[-1]
    except (ValueError, TypeError, AttributeError):
        return ""


def _execute(operation: str, region: str, account: str, raw_request: bytes) -> bool:
    """Run one request through moto's DynamoDB handler without HTTP: parse the body as the
    server does, call the action. About 5x faster than building a request, so recovery of a
    long journal takes seconds, not minutes."""
    handler = DynamoHandler()
    handler.region = region
    handler.partition = get_partition(region)
    handler.current_account = account
    handler.headers = {**_JSON_HEADERS, "X-Amz-Target": f"DynamoDB_20120810.{operation}"}
    handler.response_headers = {}
    handler.querystring = {}
    handler.params = _parse(operation, raw_request)
    handler.body = handler.params
    setattr(handler, INTERNAL, True)
    try:
        getattr(handler, camelcase_to_underscores(operation))()
    except (ServiceException, HTTPException) as error:
        logger.debug("%s failed: %s", operation, error)
        return False
    return True


def _parse(operation: str, raw_request: bytes) -> Any:
    """The request's parameters exactly as moto's server parses them (binary values decoded)."""
    service = get_service_model("dynamodb")
    parser = PROTOCOL_PARSERS["json"](
        service.operation_model(operation), map_type=DynamoHandler.PROTOCOL_PARSER_MAP_TYPE
    )
    request: Any = {
        "method": "POST",
        "values": {},
        "headers": {**_JSON_HEADERS, "X-Amz-Target": f"DynamoDB_20120810.{operation}"},
        "body": raw_request,
        "url_path": "/",
        "url_params": {},
    }
    return parser.parse(request)


def _fail_stop(error: Exception) -> None:
    """The journal no longer matches memory: stop now, so that nothing more is acknowledged,
    and let recovery rebuild the state from what the journal holds."""
    logger.critical("stopping the engine: %s", error)
    logging.shutdown()
    os._exit(FAIL_STOP_EXIT_CODE)
