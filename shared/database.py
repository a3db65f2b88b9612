"""The relational side: one Peewee database, chosen by DATABASE_URL, and the model registry.

SQLite by default (a file under data/), PostgreSQL when DATABASE_URL says postgresql://.
Contexts declare Peewee models on `BaseModel`; `create_rdb_tables()` creates them all.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import peewee
from playhouse.db_url import connect

from shared.settings import Settings

database = peewee.DatabaseProxy()
_rdb_models: list[type[peewee.Model]] = []


class BaseModel(peewee.Model):
    class Meta:
        database = database


def register_rdb_model(model: type[peewee.Model]) -> type[peewee.Model]:
    if model not in _rdb_models:
        _rdb_models.append(model)
    return model


def rdb_models() -> list[type[peewee.Model]]:
    return list(_rdb_models)


def connect_database(settings: Settings) -> peewee.Database:
    """Open the database named by DATABASE_URL and bind it to every model."""
    url = settings.database_url
    if url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        db = connect(url, pragmas={"journal_mode": "wal", "foreign_keys": 1, "busy_timeout": 5000})
    else:
        db = connect(url)
    database.initialize(db)
    return db


def create_rdb_tables(models: Iterable[type[peewee.Model]] | None = None) -> None:
    with database.connection_context():
        database.create_tables(list(models or _rdb_models), safe=True)


def drop_rdb_tables() -> None:
    with database.connection_context():
        database.drop_tables(list(reversed(_rdb_models)), safe=True)
