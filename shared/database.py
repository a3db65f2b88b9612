"""The relational side: one Peewee database, chosen by DATABASE_URL, and the model registry.

SQLite by default (a file under data/), PostgreSQL when DATABASE_URL says postgresql://.
Contexts declare Peewee models on `BaseModel`; `create_rdb_tables()` creates them all.

Connections come from a pool (playhouse's pooled databases) and belong to a request, not to a
thread: a request's work runs on several worker threads one after the other (dependencies,
then the route), and Peewee's usual per-thread connection would stay checked out by every
worker thread forever (40 idle PostgreSQL connections per process after a load run, so three
processes exhaust `max_connections=100`). `RdbConnectionPerRequest` gives each request its own
connection state and hands the connection back to the pool when the response is sent. Work
outside a request (the CLI, the outbox relay, tests calling services) keeps one connection per
thread, as Peewee does by default.

SQLite runs in WAL mode (readers never block the writer) with a busy timeout, and every
transaction begins IMMEDIATE: a transaction that reads and then writes would otherwise fail at
once with "database is locked" when another connection wrote in between, whatever the timeout.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from contextvars import ContextVar
from pathlib import Path
from typing import Any, cast

import peewee
from playhouse.db_url import connect
from starlette.types import ASGIApp, Receive, Scope, Send

from shared.settings import Settings

database = peewee.DatabaseProxy()
_rdb_models: list[type[peewee.Model]] = []
SQLITE_PRAGMAS = {"journal_mode": "wal", "foreign_keys": 1, "busy_timeout": 5000}
POOLED_SCHEMES = {
    "sqlite": "sqlite+pool",
    "postgresql": "postgresql+pool",
    "postgres": "postgres+pool",
}


class BaseModel(peewee.Model):
    class Meta:
        database = database


def register_rdb_model(model: type[peewee.Model]) -> type[peewee.Model]:
    if model not in _rdb_models:
        _rdb_models.append(model)
    return model


def rdb_models() -> list[type[peewee.Model]]:
    return list(_rdb_models)


def _fresh_state() -> dict[str, Any]:
    return {"closed": True, "conn": None, "ctx": [], "transactions": [], "commit_callbacks": []}


_request_state: ContextVar[dict[str, Any] | None] = ContextVar("rdb_request_state", default=None)


class _RequestOrThreadState:
    """Peewee's connection bookkeeping (`closed`, `conn`, open transactions...), kept per request
    while one is served, else per thread. Worker threads run in a copy of the request's context,
    so they all see the one state dict the request started with."""

    def __init__(self) -> None:
        object.__setattr__(self, "_thread", threading.local())

    def _store(self) -> dict[str, Any]:
        scoped = _request_state.get()
        if scoped is not None:
            return scoped
        local = object.__getattribute__(self, "_thread")
        if not hasattr(local, "state"):
            local.state = _fresh_state()
        return local.state  # type: ignore[no-any-return]

    def __getattr__(self, name: str) -> Any:
        try:
            return self._store()[name]
        except KeyError:
            raise AttributeError(name) from None

    def __setattr__(self, name: str, value: Any) -> None:
        self._store()[name] = value

    def reset(self) -> None:
        self._store().update(_fresh_state())

    def set_connection(self, conn: Any) -> None:
        self._store().update(_fresh_state(), conn=conn, closed=False)


def _pooled_url(url: str) -> str:
    scheme, sep, rest = url.partition("://")
    return POOLED_SCHEMES.get(scheme, scheme) + sep + rest


def connect_database(settings: Settings) -> peewee.Database:
    """Open the database named by DATABASE_URL (pooled) and bind it to every model."""
    url = settings.database_url
    pool = {
        "max_connections": settings.database_pool_size,
        "stale_timeout": settings.database_stale_seconds,
        "timeout": settings.database_pool_wait_seconds,
    }
    if url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        db = connect(
            _pooled_url(url),
            pragmas=SQLITE_PRAGMAS,
            lock_type="IMMEDIATE",
            check_same_thread=False,  # a request's connection moves between worker threads
            **pool,
        )
    else:
        db = connect(_pooled_url(url), **pool)
    db._state = _RequestOrThreadState()
    database.initialize(db)
    return cast(peewee.Database, db)


def close_connection() -> None:
    """Hand this request's (or thread's) connection back to the pool, if it opened one."""
    if database.obj is not None and not database.is_closed():
        database.close()


def release_connection() -> None:
    """Hand the connection back to the pool between two stretches of SQL (outside any
    transaction): a request about to wait on DynamoDB has no use for it meanwhile, and the
    next query takes one from the pool again. A like then holds one for its few milliseconds
    of SQL, not for its whole request: with one pooled connection and a DynamoDB taking a
    second per like, four concurrent likes all succeed, where three used to time out waiting."""
    if database.obj is not None and not database.in_transaction():
        close_connection()


class RdbConnectionPerRequest:
    """Each HTTP request gets its own connection state; its connection, if it used one, goes
    back to the pool when the request ends."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        token = _request_state.set(_fresh_state())
        try:
            await self.app(scope, receive, send)
        finally:
            close_connection()
            _request_state.reset(token)


def create_rdb_tables(models: Iterable[type[peewee.Model]] | None = None) -> None:
    with database.connection_context():
        database.create_tables(list(models or _rdb_models), safe=True)


def drop_rdb_tables() -> None:
    with database.connection_context():
        database.drop_tables(list(reversed(_rdb_models)), safe=True)
