"""The operation inspector: every DynamoDB call and SQL statement of a request, and what it cost.

Nothing in the contexts feeds it; it listens where every call passes anyway.

DynamoDB: botocore's event system
    Three handlers (`before-parameter-build`, `after-call`, `after-call-error` on `dynamodb`)
    are appended to botocore's `BUILTIN_HANDLERS`, the list every new botocore session
    registers on its event emitter, which every client it creates copies. PynamoDB creates a
    session per connection and thread, lazily, and `bind_models` drops the connections; so each
    model's client, including after a re-bind, and any plain boto3 client created afterwards
    carries the handlers: `install_capture()` runs in `create_app`, before any connection of the
    app makes its first call. (moto's `mock_aws` hooks in the same way.) While a request is being
    recorded the first handler asks for `ReturnConsumedCapacity=INDEXES` on every operation that
    accepts it, and notes the clock and the service function that made the call; the second
    reads the response. Outside a recording they return at once and change nothing.

SQL: Peewee's query hooks
    A hook on the database (attached whenever `shared.database` initialises it) records each
    statement with its duration.

Request scope
    The middleware puts a fresh `Recording` in a ContextVar. Starlette runs sync routes in a
    thread pool with a copy of the context, so the route's thread appends to the same recording,
    and two concurrent requests never see each other's calls. The HTML panel is rendered from it
    by `shared.web`; every response also carries `Server-Timing` and `X-DynamoDB-Capacity`.

Across a redirect
    A form that succeeds answers with a redirect (303, or 204 with htmx's `HX-Redirect`), and
    the browser draws the page it is sent to: the writes the form made (the session's PutItem at
    sign-in, a post's SQL and activity write) would never reach a panel. So the middleware keeps
    the recording of a redirecting response in `carried` (this process's memory, for
    `CARRY_SECONDS`) under a random token, and gives the token to that browser alone in a
    short-lived cookie. The next panel drawn for the request that brings the cookie back takes
    the recording out of the store (once) and shows it above the page's own calls, labelled with
    the request that made it; the response then clears the cookie. A browser only ever holds
    tokens of its own redirects, and a token is 256 random bits used once, so one person's calls
    never show on another's page.
"""

from __future__ import annotations

import contextlib
import logging
import secrets
import sys
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator, Mapping
from contextvars import ContextVar
from dataclasses import dataclass, field
from types import FrameType
from typing import Any

import botocore.handlers
import peewee
from fastapi import FastAPI
from pynamodb.models import Model
from starlette.datastructures import MutableHeaders
from starlette.requests import cookie_parser
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from lens import capacity
from lens.capacity import IndexSchema, TableSchema, Units, format_units
from shared.access_patterns import AccessPattern, access_patterns
from shared.database import database
from shared.dynamo import registered_models
from shared.i18n import N_
from shared.i18n import gettext as _
from shared.settings import Settings

log = logging.getLogger(__name__)
_PENDING = "dynamodb_lab_inspector"
_REFUSALS = frozenset({"ConditionalCheckFailedException"})
_MAX_FRAMES = 80
_VALUE_CHARS = 48


@dataclass(frozen=True)
class DynamoCall:
    """One DynamoDB API call as the panel shows it."""

    operation: str
    table: str
    index: str | None
    key: str
    filter: str
    detail: tuple[tuple[str, str], ...]
    """(label, code) pairs: the label a msgid (or ""), translated where it is shown; the code the
    request's own words (an expression, a Limit), shown as code in every language."""
    items_returned: int | None
    items_scanned: int | None
    reported: Units | None
    computed: Units
    ms: float
    error: str | None = None
    served_by: str | None = None
    pattern: str | None = None
    consistency: str | None = None
    """`strong` or `eventual` for a read, None for a write (see `read_consistency`)."""


@dataclass(frozen=True)
class SqlStatement:
    sql: str
    params: tuple[str, ...]
    ms: float
    error: str | None = None


@dataclass
class Recording:
    """What one request did. Appended to from the request's threads; read when rendering."""

    local_engine: bool = False
    calls: list[DynamoCall] = field(default_factory=list)
    statements: list[SqlStatement] = field(default_factory=list)
    method: str = ""
    path: str = ""
    carry_token: str | None = None
    """The token of the carry cookie this request brought, if any (see `previous`)."""
    _previous: tuple[Carried, ...] | None = field(default=None, init=False, repr=False)

    @property
    def previous(self) -> tuple[Carried, ...]:
        """What the redirecting requests that led here did, oldest first: taken out of the
        store on first use (the panel drawing it), so it is shown once."""
        if self._previous is None:
            self._previous = carried.take(self.carry_token) if self.carry_token else ()
        return self._previous

    @property
    def took_previous(self) -> bool:
        return self._previous is not None

    @property
    def dynamodb_ms(self) -> float:
        return sum(call.ms for call in self.calls)

    @property
    def sql_ms(self) -> float:
        return sum(statement.ms for statement in self.statements)

    @property
    def computed(self) -> Units:
        return capacity.total_of(call.computed for call in self.calls)

    @property
    def reported(self) -> Units | None:
        figures = [call.reported for call in self.calls if call.reported is not None]
        return capacity.total_of(figures) if figures else None


@dataclass(frozen=True)
class Carried:
    """The recording of a request that answered with a redirect, kept for the page it led to."""

    method: str
    path: str
    answer: str
    """How it redirected, as HTTP says it: `303 → /` or `204 HX-Redirect: /posts/7`."""
    recording: Recording


CARRY_COOKIE = "lab_inspector_carry"
CARRY_SECONDS = 60
"""How long a redirect's recording waits for the page it led to: the browser follows a redirect
at once; a recording nobody came back for is dropped."""
CARRY_CHAIN = 3
"""At most this many redirects in a row are shown (a redirect to a redirect...)."""


class CarryStore:
    """Recordings of redirecting requests, by a random token, each taken at most once.

    Bounded in time (`ttl` seconds) and size (the oldest go first), so a client that never
    follows its redirects cannot make it grow. Thread-safe: a panel is drawn in the route's
    worker thread, the middleware puts from the event loop."""

    def __init__(
        self,
        *,
        ttl: float = CARRY_SECONDS,
        capacity: int = 1000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.ttl = ttl
        self.capacity = capacity
        self.clock = clock
        self._entries: OrderedDict[str, tuple[float, tuple[Carried, ...]]] = OrderedDict()
        self._lock = threading.Lock()

    def put(self, chain: tuple[Carried, ...]) -> str:
        token = secrets.token_urlsafe(32)
        with self._lock:
            self._drop_expired()
            self._entries[token] = (self.clock() + self.ttl, chain[-CARRY_CHAIN:])
            while len(self._entries) > self.capacity:
                self._entries.popitem(last=False)
        return token

    def take(self, token: str) -> tuple[Carried, ...]:
        with self._lock:
            self._drop_expired()
            entry = self._entries.pop(token, None)
        return entry[1] if entry else ()

    def __len__(self) -> int:
        with self._lock:
            self._drop_expired()
            return len(self._entries)

    def _drop_expired(self) -> None:
        now = self.clock()
        while self._entries:
            token, (expires, _chain) = next(iter(self._entries.items()))
            if expires > now:
                break
            del self._entries[token]


carried = CarryStore()
"""The process's store: the app serves from one process (`manage.py run`), and the inspector is
off in production."""


_current: ContextVar[Recording | None] = ContextVar("inspector_recording", default=None)
CallObserver = Callable[[DynamoCall, Mapping[str, Any]], None]
_observers: list[CallObserver] = []


@contextlib.contextmanager
def observing(observer: CallObserver) -> Iterator[None]:
    """Also hand every recorded call, with its request parameters, to `observer` (whatever
    recording it lands in): the cost model drives the app's pages and keeps what they cost."""
    _observers.append(observer)
    try:
        yield
    finally:
        _observers.remove(observer)


def current() -> Recording | None:
    """The recording of the request being handled, or None (inspector off, CLI, tests)."""
    return _current.get()


@contextlib.contextmanager
def recording(*, local_engine: bool = False) -> Iterator[Recording]:
    """Record every DynamoDB call and SQL statement made inside the block (this context only)."""
    install_capture()
    rec = Recording(local_engine=local_engine)
    token = _current.set(rec)
    try:
        yield rec
    finally:
        _current.reset(token)


# -- DynamoDB capture ------------------------------------------------------------------------


@dataclass
class _Pending:
    params: Mapping[str, Any]
    started: float
    served_by: str | None
    patterns: tuple[AccessPattern, ...]


def _before_call(params: dict[str, Any], model: Any, context: dict[str, Any], **_: Any) -> None:
    rec = _current.get()
    if rec is None or _PENDING in context:
        return
    try:
        shape = model.input_shape
        if shape is not None and "ReturnConsumedCapacity" in shape.members:
            params["ReturnConsumedCapacity"] = "INDEXES"
        served_by, patterns = _caller()
    except Exception:  # noqa: BLE001 - the lens must never break the call it watches
        log.exception("inspector: could not prepare a %s call", model.name)
        served_by, patterns = None, ()
    context[_PENDING] = _Pending(params, time.perf_counter(), served_by, patterns)


def _after_call(
    http_response: Any, parsed: dict[str, Any], model: Any, context: dict[str, Any], **_: Any
) -> None:
    pending: _Pending | None = context.pop(_PENDING, None)
    rec = _current.get()
    if pending is None or rec is None:
        return
    error = parsed.get("Error", {}).get("Code") if http_response.status_code >= 300 else None
    _record(rec, model.name, pending, None if error else parsed, error)


def _after_error(exception: Exception, context: dict[str, Any], **kwargs: Any) -> None:
    pending: _Pending | None = context.pop(_PENDING, None)
    rec = _current.get()
    if pending is None or rec is None:
        return
    operation = kwargs.get("event_name", "").rsplit(".", 1)[-1]
    _record(rec, operation, pending, None, type(exception).__name__)


def _record(
    rec: Recording,
    operation: str,
    pending: _Pending,
    response: dict[str, Any] | None,
    error: str | None,
) -> None:
    """Describe the call; a fault of the inspector's own is logged and shown, never raised into
    the application's DynamoDB call."""
    try:
        call = _describe(operation, pending, response, error)
    except Exception:  # noqa: BLE001 - the lens must never break the call it watches
        log.exception("inspector: could not describe a %s call", operation)
        call = DynamoCall(
            operation=operation,
            table=str(pending.params.get("TableName", "")),
            index=pending.params.get("IndexName"),
            key="",
            filter="",
            detail=(),
            items_returned=None,
            items_scanned=None,
            reported=capacity.reported(operation, response),
            computed=Units(
                precision=capacity.Precision.AT_LEAST,
                notes=(_("The inspector could not describe this call (see the server log)."),),
            ),
            ms=(time.perf_counter() - pending.started) * 1000,
            error=error,
            served_by=pending.served_by,
        )
    rec.calls.append(call)
    for observer in tuple(_observers):
        observer(call, pending.params)


_HANDLERS = (
    ("before-parameter-build.dynamodb", _before_call),
    ("after-call.dynamodb", _after_call),
    ("after-call-error.dynamodb", _after_error),
)
_install_lock = threading.Lock()
_sql_hooked = False


def install_capture() -> None:
    """Hook botocore (every session created from now on) and Peewee. Idempotent."""
    global _sql_hooked
    with _install_lock:
        for spec in _HANDLERS:
            if spec not in botocore.handlers.BUILTIN_HANDLERS:
                botocore.handlers.BUILTIN_HANDLERS.append(spec)
        if not _sql_hooked:
            database.attach_callback(_attach_sql_hook)
            _attach_sql_hook(database.obj)
            _sql_hooked = True


def _describe(
    operation: str, pending: _Pending, response: dict[str, Any] | None, error: str | None
) -> DynamoCall:
    params = pending.params
    ms = (time.perf_counter() - pending.started) * 1000
    refused = error in _REFUSALS
    if error and not refused:
        units = Units(
            notes=(_("The call failed ({error}): no capacity is computed.").format(error=error),)
        )
    else:
        units = capacity.computed(
            operation, params, response, schemas=_schema_for, succeeded=not refused
        )
    return DynamoCall(
        operation=operation,
        table=_tables(params),
        index=params.get("IndexName"),
        key=_key_text(operation, params),
        filter=_expression(params, "FilterExpression"),
        detail=_detail(params),
        items_returned=_returned(operation, response),
        items_scanned=(response or {}).get("ScannedCount"),
        reported=capacity.reported(operation, response),
        computed=units,
        ms=ms,
        error=error,
        served_by=pending.served_by,
        pattern=_pattern_name(operation, params.get("IndexName"), pending.patterns),
        consistency=read_consistency(operation, params),
    )


_READS = frozenset({"GetItem", "Query", "Scan", "BatchGetItem", "TransactGetItems"})


def read_consistency(operation: str, params: Mapping[str, Any]) -> str | None:
    """How a read was served: `strong` (ConsistentRead, or a transaction, which reads the latest
    committed version) or `eventual` (DynamoDB's default, and the only way a GSI is read: it
    refuses ConsistentRead on one). A BatchGetItem is strong only if every table in it asked for
    it. None for anything that is not a read."""
    if operation not in _READS:
        return None
    if operation == "TransactGetItems":
        return "strong"
    if operation == "BatchGetItem":
        requests = (params.get("RequestItems") or {}).values()
        strong = bool(requests) and all(r.get("ConsistentRead") for r in requests)
    else:
        strong = bool(params.get("ConsistentRead")) and not params.get("IndexName")
    return "strong" if strong else "eventual"


def _returned(operation: str, response: Mapping[str, Any] | None) -> int | None:
    if response is None:
        return None
    if operation == "GetItem":
        return 1 if response.get("Item") else 0
    if "Count" in response:
        return int(response["Count"])
    answers = response.get("Responses")
    if isinstance(answers, dict):
        return sum(len(items) for items in answers.values())
    if isinstance(answers, list):
        return sum(1 for answer in answers if answer.get("Item"))
    return None


def _pattern_name(
    operation: str, index: str | None, patterns: tuple[AccessPattern, ...]
) -> str | None:
    for pattern in patterns:
        if pattern.operation == operation and pattern.index == index:
            return pattern.name
    return patterns[0].name if patterns else None


# -- who made the call -------------------------------------------------------------------------

_by_function: dict[str, tuple[AccessPattern, ...]] = {}
_indexed: tuple[int, int] = (-1, 0)


def _patterns_by_function() -> dict[str, tuple[AccessPattern, ...]]:
    """Declared patterns grouped by serving function, rebuilt when the registry changes (it only
    grows, so its length and last entry identify its state). The new map replaces the old in
    one assignment: a concurrent reader sees one or the other, never half of one."""
    global _by_function, _indexed
    declared = access_patterns()
    state = (len(declared), id(declared[-1]) if declared else 0)
    if state != _indexed:
        grouped: dict[str, list[AccessPattern]] = {}
        for pattern in declared:
            grouped.setdefault(pattern.function, []).append(pattern)
        _by_function = {name: tuple(group) for name, group in grouped.items()}
        _indexed = state
    return _by_function


def _caller() -> tuple[str | None, tuple[AccessPattern, ...]]:
    """The innermost function with a declared access pattern, else the innermost service
    function, on the stack of the call being made."""
    by_function = _patterns_by_function()
    frame: FrameType | None = sys._getframe(2)
    service: str | None = None
    for _depth in range(_MAX_FRAMES):
        if frame is None:
            break
        module = str(frame.f_globals.get("__name__", ""))
        name = f"{module}.{frame.f_code.co_qualname}"
        if name in by_function:
            return name, by_function[name]
        if service is None and module.endswith(".service"):
            service = name
        frame = frame.f_back
    return service, ()


# -- table schemas, from the registered classes -----------------------------------------------

_schemas: dict[str, tuple[tuple[type[Model], ...], TableSchema]] = {}


def _schema_for(table: str) -> TableSchema | None:
    """The schema of the table bound to `table` (the union of its item types' indexes).

    Cached by table name and checked against the registry, so a re-bind (new prefix) or a
    replaced model is noticed."""
    models = tuple(m for m in registered_models() if m.Meta.table_name == table)
    if not models:
        return None
    cached = _schemas.get(table)
    if cached is None or cached[0] != models:
        cached = _schemas[table] = (models, schema_of(models))
    return cached[1]


def schema_of(models: tuple[type[Model], ...]) -> TableSchema:
    """Keys and indexes of a table's model classes, in the shape capacity computations need.

    PynamoDB has no public schema API; `_get_schema()` is what its own `create_table` sends.
    """
    indexes: dict[str, IndexSchema] = {}
    for model in models:
        schema = model._get_schema()
        for group in ("global_secondary_indexes", "local_secondary_indexes"):
            for index in schema[group]:
                indexes.setdefault(index["index_name"], _index_schema(index))
    hash_key, range_key = _keys(models[0]._get_schema()["key_schema"])
    return TableSchema(hash_key=hash_key, range_key=range_key, indexes=tuple(indexes.values()))


def _keys(key_schema: Any) -> tuple[str, str | None]:
    keys = {entry["KeyType"]: entry["AttributeName"] for entry in key_schema}
    return keys["HASH"], keys.get("RANGE")


def _index_schema(index: Mapping[str, Any]) -> IndexSchema:
    hash_key, range_key = _keys(index["key_schema"])
    projection = index["projection"]
    return IndexSchema(
        name=index["index_name"],
        hash_key=hash_key,
        range_key=range_key,
        projection=projection["ProjectionType"],
        non_key_attributes=tuple(projection.get("NonKeyAttributes", ())),
    )


# -- readable requests -------------------------------------------------------------------------


def readable_value(value: Mapping[str, Any]) -> str:
    """A short, human form of a low-level attribute value."""
    ((kind, inner),) = value.items()
    if kind == "S":
        text = inner if len(inner) <= _VALUE_CHARS else inner[: _VALUE_CHARS - 1] + "…"
        return f"'{text}'"
    if kind == "N":
        return str(inner)
    if kind == "B":
        return f"<{len(inner)} bytes>"
    if kind == "BOOL":
        return "true" if inner else "false"
    if kind == "NULL":
        return "null"
    if kind == "L":
        return f"[{len(inner)} elements]"
    if kind == "M":
        return f"{{{len(inner)} keys}}"
    return f"{{set of {len(inner)}}}"


def readable(expression: str, params: Mapping[str, Any]) -> str:
    """An expression with its `#name` and `:value` placeholders replaced."""
    names = params.get("ExpressionAttributeNames") or {}
    values = params.get("ExpressionAttributeValues") or {}

    def replace(token: str) -> str:
        if token.startswith("#"):
            return str(names.get(token, token))
        return readable_value(values[token]) if token in values else token

    return capacity.PLACEHOLDER.sub(lambda m: replace(m.group(0)), expression)


def _expression(params: Mapping[str, Any], name: str) -> str:
    return readable(params[name], params) if params.get(name) else ""


def _key_of(key: Mapping[str, Any]) -> str:
    return " AND ".join(f"{name} = {readable_value(value)}" for name, value in key.items())


def _key_text(operation: str, params: Mapping[str, Any]) -> str:
    if "KeyConditionExpression" in params:
        return _expression(params, "KeyConditionExpression")
    if "Key" in params:
        return _key_of(params["Key"])
    if operation == "PutItem":
        schema = _schema_for(params.get("TableName", ""))
        keys = schema.key_attributes if schema else ()
        return _key_of({k: v for k, v in params["Item"].items() if k in keys})
    if operation == "Scan":
        return "(no key: every item of the table)"
    return _batch_key_text(params)


def _batch_key_text(params: Mapping[str, Any]) -> str:
    """BatchGetItem asks `{table: {"Keys": [...]}}`, BatchWriteItem `{table: [requests]}`."""
    requests = params.get("RequestItems") or {}
    if requests:
        counts = [
            f"{len(request['Keys'])} keys on {table}"
            if isinstance(request, Mapping)
            else f"{len(request)} write requests on {table}"
            for table, request in requests.items()
        ]
        return ", ".join(counts)
    items = params.get("TransactItems") or []
    return f"{len(items)} item(s) in one transaction" if items else ""


def _tables(params: Mapping[str, Any]) -> str:
    if "TableName" in params:
        return str(params["TableName"])
    if "RequestItems" in params:
        return ", ".join(params["RequestItems"])
    bodies = [next(iter(entry.values())) for entry in params.get("TransactItems", [])]
    return ", ".join(dict.fromkeys(str(body.get("TableName", "")) for body in bodies))


def _detail(params: Mapping[str, Any]) -> tuple[tuple[str, str], ...]:
    parts = [
        (label, _expression(params, name))
        for name, label in (
            ("UpdateExpression", N_("update:")),
            ("ConditionExpression", N_("condition:")),
            ("ProjectionExpression", N_("projection:")),
        )
        if params.get(name)
    ]
    if "Limit" in params:
        parts.append(("", f"Limit {params['Limit']}"))
    if params.get("ScanIndexForward") is False:
        parts.append((N_("descending"), ""))
    return tuple(parts)


# -- SQL capture ------------------------------------------------------------------------------


def _attach_sql_hook(db: peewee.Database | None) -> None:
    if db is not None and _on_sql not in db.query_hooks:
        db.query_hooks.append(_on_sql)


def _on_sql(event: Any) -> None:
    rec = _current.get()
    if rec is None:
        return
    try:
        params = tuple(_sql_param(value) for value in (event.params or ()))
    except Exception:  # noqa: BLE001 - the lens must never break the query it watches
        log.exception("inspector: could not show the parameters of a SQL statement")
        params = ("<not shown>",)
    error = type(event.exception).__name__ if event.exception else None
    rec.statements.append(SqlStatement(event.sql, params, event.duration * 1000, error))


def _sql_param(value: Any) -> str:
    """Parameters as text; password hashes never leave the server, even to their owner."""
    text = str(value)
    if text.startswith("$argon2"):
        return "<password hash>"
    return text if len(text) <= _VALUE_CHARS else text[: _VALUE_CHARS - 1] + "…"


# -- HTTP ------------------------------------------------------------------------------------


def response_headers(rec: Recording) -> dict[str, str]:
    """`Server-Timing` (DevTools shows it) and a one-line capacity summary, for curl users."""
    timing = (
        f'dynamodb;dur={rec.dynamodb_ms:.1f};desc="{_count(rec.calls, "DynamoDB call")}", '
        f'sql;dur={rec.sql_ms:.1f};desc="{_count(rec.statements, "SQL statement")}"'
    )
    computed = rec.computed
    reported = rec.reported
    summary = [f"calls={len(rec.calls)}"]
    if reported is not None:
        summary += [
            f"reported-rcu={format_units(reported.read)}",
            f"reported-wcu={format_units(reported.write)}",
        ]
    summary += [
        f"computed-rcu={format_units(computed.read)}",
        f"computed-wcu={format_units(computed.write)}",
        f"computed-precision={computed.precision.label.replace(' ', '-')}",
        f"reported-by={'local-engine' if rec.local_engine else 'dynamodb'}",
    ]
    return {"Server-Timing": timing, "X-DynamoDB-Capacity": "; ".join(summary)}


def _count(things: list[Any], noun: str) -> str:
    return f"{len(things)} {noun}" + ("" if len(things) == 1 else "s")


def redirect_answer(status: int, headers: MutableHeaders) -> str | None:
    """How a response sends the browser elsewhere (a 3xx's Location, or htmx's HX-Redirect),
    as HTTP says it; None when it does not."""
    if 300 <= status < 400 and "location" in headers:
        return f"{status} → {headers['location']}"
    if "hx-redirect" in headers:
        return f"{status} HX-Redirect: {headers['hx-redirect']}"
    return None


def _carry_token(scope: Scope) -> str | None:
    for name, value in scope["headers"]:
        if name == b"cookie":
            token = cookie_parser(value.decode("latin-1")).get(CARRY_COOKIE)
            if token:
                return token
    return None


def carry_cookie(token: str | None, *, secure: bool) -> str:
    """The Set-Cookie value that hands a browser its token, or (None) clears it."""
    response = Response()
    if token is None:
        response.delete_cookie(CARRY_COOKIE, httponly=True, samesite="lax", secure=secure)
    else:
        response.set_cookie(
            CARRY_COOKIE,
            token,
            max_age=CARRY_SECONDS,
            httponly=True,
            samesite="lax",
            secure=secure,
        )
    return response.headers["set-cookie"]


class InspectorMiddleware:
    """Gives every HTTP request its own recording and adds the summary headers to its response;
    carries the recording of a redirecting response to the page it leads to."""

    def __init__(self, app: ASGIApp, *, local_engine: bool, secure_cookie: bool = False) -> None:
        self.app = app
        self.local_engine = local_engine
        self.secure_cookie = secure_cookie

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith("/static/"):
            await self.app(scope, receive, send)
            return
        rec = Recording(
            local_engine=self.local_engine,
            method=scope["method"],
            path=scope["path"],
            carry_token=_carry_token(scope),
        )
        token = _current.set(rec)

        async def send_with_summary(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in response_headers(rec).items():
                    headers.append(name, value)
                cookie = self._carry(rec, message["status"], headers)
                if cookie:
                    headers.append("set-cookie", cookie)
            await send(message)

        try:
            await self.app(scope, receive, send_with_summary)
        finally:
            _current.reset(token)

    def _carry(self, rec: Recording, status: int, headers: MutableHeaders) -> str | None:
        """The Set-Cookie this response needs: a new token when it redirects after doing
        something (with what the requests before it carried, if no panel showed that yet), a
        cleared cookie once the carried recording has been shown, else none."""
        answer = redirect_answer(status, headers)
        if answer is not None:
            chain = rec.previous
            if rec.calls or rec.statements:
                snapshot = Recording(
                    local_engine=rec.local_engine,
                    calls=list(rec.calls),
                    statements=list(rec.statements),
                    method=rec.method,
                    path=rec.path,
                )
                chain += (Carried(rec.method, rec.path, answer, snapshot),)
            if chain:
                return carry_cookie(carried.put(chain), secure=self.secure_cookie)
        if rec.carry_token and rec.took_previous:
            return carry_cookie(None, secure=self.secure_cookie)
        return None


def install_inspector(app: FastAPI, settings: Settings) -> None:
    """Add the middleware (outermost, so the whole request is recorded) when enabled."""
    if not settings.inspector_enabled:
        return
    install_capture()
    app.add_middleware(
        InspectorMiddleware,
        local_engine=bool(settings.dynamodb_endpoint),
        secure_cookie=not settings.is_dev,
    )
