"""DynamoDB wiring and idioms: the model registry, settings meeting PynamoDB, and the few ways
every context writes and reads in batches or under a condition.

Every context declares its PynamoDB models with a *base* table name (`Meta.table_name = "likes"`)
and registers them with `@register_model`. At start-up `bind_models(settings)` gives every
registered model its real table name (TABLE_PREFIX + base name), endpoint, region, credentials,
timeouts and retries, and drops any cached connection. PynamoDB reads `Meta` when it first
connects and caches the connection, so binding must happen once, before any call.

The idioms: `conditional_write()` tells a refused condition (an expected answer: "already
liked", "someone edited first") from every other error; `is_unavailable()` tells an error worth
a retry later (no answer, throttled) from a refusal; `batch_write()` and `batch_get()` retry what
DynamoDB left unprocessed, with backoff; `utc_now()` and `chunks()` are the clock and the
batching every context uses.
"""

from __future__ import annotations

import contextvars
import json
import os
import random
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import chain, islice
from typing import Any, TypeVar

import boto3
import botocore.session
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError
from pynamodb.connection import base as pynamodb_base
from pynamodb.exceptions import PynamoDBConnectionError, PynamoDBException
from pynamodb.models import Model

from shared.errors import ServiceUnavailable
from shared.settings import Settings

ModelT = TypeVar("ModelT", bound=type[Model])
T = TypeVar("T")

_registry: list[type[Model]] = []
_bound_settings: Settings | None = None
_bound_client: Any = None
LOCAL_CREDENTIALS = ("local", "local")


def register_model(model: ModelT) -> ModelT:
    """Class decorator: the model's table is created, described and exported by the project."""
    if model not in _registry:
        model.Meta.base_table_name = model.Meta.table_name  # type: ignore[attr-defined]
        _registry.append(model)
    return model


def registered_models() -> list[type[Model]]:
    return list(_registry)


def base_table_name(model: type[Model]) -> str:
    return model.Meta.base_table_name  # type: ignore[attr-defined,no-any-return]


def _credentials(settings: Settings) -> tuple[str | None, str | None]:
    """Local engines accept any key; real AWS uses the normal credential chain."""
    if settings.dynamodb_endpoint and not os.environ.get("AWS_ACCESS_KEY_ID"):
        return LOCAL_CREDENTIALS
    return None, None


def bind_models(settings: Settings, models: Iterable[type[Model]] | None = None) -> None:
    """Point every registered model at the configured DynamoDB and table prefix."""
    global _bound_settings, _bound_client
    key_id, secret = _credentials(settings)
    for model in models or _registry:
        meta = model.Meta
        meta.table_name = settings.table_prefix + base_table_name(model)
        meta.host = settings.dynamodb_endpoint
        meta.region = settings.aws_region
        meta.aws_access_key_id = key_id
        meta.aws_secret_access_key = secret
        # A web request must fail fast into a clear 503, not hang for a minute on a dead endpoint.
        meta.connect_timeout_seconds = settings.dynamodb_timeout_seconds
        meta.read_timeout_seconds = settings.dynamodb_timeout_seconds * 2
        meta.max_retry_attempts = settings.dynamodb_max_retries
        meta.max_pool_connections = 50
        model._connection = None
    _bound_settings = settings
    _bound_client = None


def open_connections() -> None:
    """Create every model's botocore client now, one after the other (no request is sent).

    PynamoDB creates a model's client lazily on its first call and without a lock: when the
    first burst of requests arrives together, every worker thread builds the same clients at
    once (about 50 ms of CPU each, under one GIL), and 32 concurrent first likes took 30 s.
    """
    for model in _registry:
        model._get_connection().connection.client  # noqa: B018 - the property builds it
    bound_client()


def bound_settings() -> Settings:
    if _bound_settings is None:
        raise RuntimeError("bind_models() has not been called")
    return _bound_settings


def bound_client() -> Any:
    """One low-level boto3 client for the bound settings (clients are thread-safe), for the
    batch operations PynamoDB does not retry with backoff."""
    global _bound_client
    if _bound_client is None:
        _bound_client = boto3_client(bound_settings())
    return _bound_client


def botocore_session() -> botocore.session.Session:
    """A new botocore session that shares one data loader with every other session.

    Each botocore session parses botocore's endpoint and service JSON again when it makes its
    first client (0.15 s of CPU), and PynamoDB makes a session per model and thread: most of a
    test's set-up and of the app's start went there. The loader only reads and caches files, so
    one can serve every session. PynamoDB is pointed at this function below.
    """
    global _shared_loader
    session = botocore.session.get_session()
    if _shared_loader is None:
        _shared_loader = session.get_component("data_loader")
    else:
        session.register_component("data_loader", _shared_loader)
    return session


_shared_loader: Any = None
pynamodb_base.get_session = botocore_session  # type: ignore[attr-defined]


def boto3_client(settings: Settings):  # type: ignore[no-untyped-def]
    """A plain boto3 client for admin work (table creation, TTL, snapshots).

    Each client gets a session of its own: botocore copies its list of built-in event handlers
    into a session when the session is created, so a client of boto3's shared default session
    (made by whichever call came first, perhaps before the app hooked botocore) could miss
    handlers registered since; the default session is not thread-safe either.
    """
    key_id, secret = _credentials(settings)
    return boto3.session.Session(botocore_session=botocore_session()).client(
        "dynamodb",
        endpoint_url=settings.dynamodb_endpoint,
        region_name=settings.aws_region,
        aws_access_key_id=key_id,
        aws_secret_access_key=secret,
        config=Config(
            connect_timeout=settings.dynamodb_timeout_seconds,
            read_timeout=settings.dynamodb_timeout_seconds * 5,
            retries={"total_max_attempts": 1 + settings.dynamodb_max_retries, "mode": "standard"},
        ),
    )


def utc_now() -> datetime:
    """Now, timezone-aware in UTC: PynamoDB's datetime and TTL attributes need aware times."""
    return datetime.now(UTC)


def chunks(items: Iterable[T], size: int) -> Iterator[list[T]]:
    """Consecutive lists of at most `size` items, taken lazily from any iterable."""
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk


# -- conditions, and errors worth a retry -----------------------------------------------------

CONDITION_FAILED = "ConditionalCheckFailedException"
RETRY_LATER = frozenset(
    {
        "ProvisionedThroughputExceededException",
        "ThrottlingException",
        "RequestLimitExceeded",
        "InternalServerError",
        "ServiceUnavailable",
    }
)
"""DynamoDB's answers that mean "not now": throttling, or trouble on its side."""


def error_code(error: BaseException) -> str | None:
    """DynamoDB's error code behind a PynamoDB or botocore exception; None when no answer came.

    Not PynamoDB's `cause_response_code`: it reads the cause's `response`, which botocore's
    transport errors (a connection closed or reset without an answer) carry set to None, and
    then fails inside whatever error handling asked."""
    cause = error.cause if isinstance(error, PynamoDBException) else error
    if isinstance(cause, ClientError):
        code = cause.response.get("Error", {}).get("Code")
        return str(code) if code is not None else None
    return None


def is_condition_failure(error: BaseException) -> bool:
    """DynamoDB refused a write because its condition was false: an answer, not a failure."""
    return error_code(error) == CONDITION_FAILED


def is_unavailable(error: BaseException) -> bool:
    """The same request may well succeed later (a 503, not a 500): DynamoDB gave no answer
    (connection refused, timeout) or asked to be called again (throttling, its own trouble).

    Any other answer (a failed condition, a bad request, a missing table) is a refusal."""
    code = error_code(error)
    cause = error.cause if isinstance(error, PynamoDBException) else error
    if code is not None:
        return code in RETRY_LATER or _http_status(cause) >= 500
    return isinstance(error, PynamoDBConnectionError) or isinstance(cause, BotoCoreError)


def _http_status(error: BaseException | None) -> int:
    """The HTTP status of DynamoDB's answer: a 5xx is trouble on its side whatever the code (an
    engine that crashed inside a request answers 500 with a code of its own, or none)."""
    if not isinstance(error, ClientError):
        return 0
    return int(error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0))


@dataclass
class ConditionalWrite:
    """What `conditional_write()` saw: `refused` when DynamoDB said the condition was false."""

    refused: bool = False


@contextmanager
def conditional_write() -> Iterator[ConditionalWrite]:
    """Run a conditional write; a failed condition is noted and swallowed, every other error
    (throttling, no answer, a bad request) propagates.

        with conditional_write() as write:
            item.update(actions=[...], condition=UserLike.version == seen)
        if write.refused:
            ...  # someone else changed it first: the expected answer of a conditional write
    """
    outcome = ConditionalWrite()
    try:
        yield outcome
    except (PynamoDBException, ClientError) as error:
        if not is_condition_failure(error):
            raise
        outcome.refused = True


# -- batches ----------------------------------------------------------------------------------

BATCH_WRITE_MAX = 25
BATCH_GET_MAX = 100
BATCH_ATTEMPTS = 8
BASE_DELAY_SECONDS = 0.05
MAX_DELAY_SECONDS = 2.0


class UnprocessedWrites(ServiceUnavailable):
    """DynamoDB kept part of a BatchWriteItem unprocessed through every retry (throttling)."""


class UnprocessedReads(ServiceUnavailable):
    """DynamoDB kept part of a BatchGetItem unprocessed through every retry (throttling)."""


def backoff_delay(retry: int) -> float:
    """The wait before retry number `retry` (1-based): doubling, capped, with equal jitter.

    Jitter spreads retries from concurrent writers so they do not hit the table in lockstep.
    """
    ceiling = min(MAX_DELAY_SECONDS, BASE_DELAY_SECONDS * 2 ** (retry - 1))
    return float(ceiling / 2 + random.uniform(0, ceiling / 2))


def _until_processed(
    send: Callable[[list[T]], list[T]], pending: list[T], max_attempts: int
) -> list[T]:
    """Call `send` with what is pending until nothing is, backing off between attempts;
    returns what is still pending after the last attempt."""
    for attempt in range(max_attempts):
        if attempt:
            time.sleep(backoff_delay(attempt))
        pending = send(pending)
        if not pending:
            break
    return pending


def batch_write(
    client: Any,
    table: str,
    *,
    puts: Iterable[dict[str, Any]] = (),
    deletes: Iterable[dict[str, Any]] = (),
    max_attempts: int = BATCH_ATTEMPTS,
    in_flight: int = 1,
    progress: Callable[[int], None] | None = None,
) -> int:
    """BatchWriteItem in chunks of 25 (raw DynamoDB JSON items and keys); returns the count.

    A batch can come back with UnprocessedItems under load: those are retried with exponential
    backoff. PynamoDB's own batch write retries at once, without backoff, hence this function.

    `puts` and `deletes` may be generators: items are taken 25 at a time, so a million never
    sit in memory at once. With `in_flight` above 1, that many batches are sent at once from a
    small pool of threads while the caller's thread builds the next ones: the server then never
    waits for the client between two batches (the seed's activities: 0.54 s -> 0.40 s). Batches
    may then land in any order, so every key must appear once in the whole stream. `progress`
    is called, in the caller's thread, with the size of each batch once it is written.
    """

    def send(batch: list[dict[str, Any]]) -> list[dict[str, Any]]:
        response = client.batch_write_item(RequestItems={table: batch})
        return response.get("UnprocessedItems", {}).get(table, [])  # type: ignore[no-any-return]

    def write(chunk: list[dict[str, Any]]) -> int:
        if left := _until_processed(send, chunk, max_attempts):
            raise UnprocessedWrites(
                f"{len(left)} writes to table {table} were still unprocessed after "
                f"{max_attempts} BatchWriteItem attempts"
            )
        return len(chunk)

    def done(count: int) -> int:
        if progress is not None:
            progress(count)
        return count

    requests = chain(
        ({"PutRequest": {"Item": item}} for item in puts),
        ({"DeleteRequest": {"Key": key}} for key in deletes),
    )
    batches = chunks(requests, BATCH_WRITE_MAX)
    if in_flight <= 1:
        return sum(done(write(chunk)) for chunk in batches)
    written = 0
    pool = ThreadPoolExecutor(max_workers=in_flight, thread_name_prefix="batch-write")
    try:
        sent: deque[Future[int]] = deque()
        for chunk in batches:
            # Each batch runs in a copy of the caller's context: the inspector still sees it.
            sent.append(pool.submit(contextvars.copy_context().run, write, chunk))
            if len(sent) > in_flight:
                written += done(sent.popleft().result())
        while sent:
            written += done(sent.popleft().result())
    finally:
        # After a failure nothing more is sent; batches already on their way finish first.
        pool.shutdown(wait=True, cancel_futures=True)
    return written


def batch_get(
    client: Any,
    table: str,
    keys: Iterable[dict[str, Any]],
    *,
    consistent: bool = False,
    max_attempts: int = BATCH_ATTEMPTS,
) -> list[dict[str, Any]]:
    """BatchGetItem in chunks of 100 raw keys; returns the raw items found, in no set order.

    Keys come back in UnprocessedKeys under load: they are asked again with the same backoff
    as `batch_write`. A key named twice in one request is refused by DynamoDB, so repeats are
    dropped first; a key with no item simply finds nothing.
    """
    found: list[dict[str, Any]] = []

    def send(batch: list[dict[str, Any]]) -> list[dict[str, Any]]:
        response = client.batch_get_item(
            RequestItems={table: {"Keys": batch, "ConsistentRead": consistent}}
        )
        found.extend(response.get("Responses", {}).get(table, []))
        return response.get("UnprocessedKeys", {}).get(table, {}).get("Keys", [])  # type: ignore[no-any-return]

    unique = {json.dumps(key, sort_keys=True): key for key in keys}
    for chunk in chunks(unique.values(), BATCH_GET_MAX):
        if left := _until_processed(send, chunk, max_attempts):
            raise UnprocessedReads(
                f"{len(left)} keys of table {table} were still unprocessed after "
                f"{max_attempts} BatchGetItem attempts"
            )
    return found


def ttl_attribute_name(model: type[Model]) -> str | None:
    from pynamodb.attributes import TTLAttribute

    for name, attr in model.get_attributes().items():
        if isinstance(attr, TTLAttribute):
            return attr.attr_name or name
    return None


def models_by_table(models: Iterable[type[Model]] | None = None) -> dict[str, list[type[Model]]]:
    """Models (by default the registered ones) grouped by base table name, in order.

    Several classes may share a table, one per kind of item (the single-table pattern); the
    first registered class of a table creates it.
    """
    groups: dict[str, list[type[Model]]] = {}
    for model in _registry if models is None else models:
        groups.setdefault(base_table_name(model), []).append(model)
    return groups


def _index_names(model: type[Model]) -> set[str]:
    schema = model._get_schema()
    return {
        index["index_name"]
        for kind in ("global_secondary_indexes", "local_secondary_indexes")
        for index in schema[kind]
    }


def _shared_table_ttl(models: list[type[Model]]) -> str | None:
    """The table's one TTL attribute; classes sharing a table must agree on keys and indexes."""
    owner, *others = models
    for other in others:
        if other._get_schema()["key_schema"] != owner._get_schema()["key_schema"]:
            raise RuntimeError(f"{other.__name__} and {owner.__name__} share a table: same keys")
        if not _index_names(other) <= _index_names(owner):
            raise RuntimeError(
                f"{other.__name__} declares an index that {owner.__name__}, which creates the "
                "shared table, does not: declare every index on the first registered class"
            )
    ttls = {name for model in models if (name := ttl_attribute_name(model))}
    if len(ttls) > 1:
        raise RuntimeError(f"a table has one TTL attribute, not {sorted(ttls)}")
    return ttls.pop() if ttls else None


def create_tables(settings: Settings, *, recreate: bool = False) -> list[tuple[str, str]]:
    """Create every registered table with its GSIs, on-demand billing and TTL. Idempotent.

    Returns (table name, what happened) pairs.
    """
    client = boto3_client(settings)
    results: list[tuple[str, str]] = []
    for models in models_by_table().values():
        owner = models[0]
        name = owner.Meta.table_name
        ttl = _shared_table_ttl(models)
        if recreate and owner.exists():
            owner.delete_table()
            results.append((name, "deleted"))
        if owner.exists():
            results.append((name, "exists"))
        else:
            owner.create_table(billing_mode="PAY_PER_REQUEST", wait=True)
            results.append((name, "created"))
        if ttl:
            current = client.describe_time_to_live(TableName=name)["TimeToLiveDescription"]
            if current.get("TimeToLiveStatus") not in ("ENABLED", "ENABLING"):
                client.update_time_to_live(
                    TableName=name,
                    TimeToLiveSpecification={"Enabled": True, "AttributeName": ttl},
                )
                results.append((name, f"TTL enabled on {ttl}"))
    return results
