"""The relational side of the lab: users and posts.

Why these live in an RDB and not in DynamoDB: they are normalised business data with few,
simple, changing access patterns (list newest posts with their authors, edit a post, look a
user up by name), small volume and a need for uniqueness constraints (usernames) and ad-hoc
queries. A relational table with indexes answers all of that with no design up front.
Everything event-like, counter-like or time-series (activity, likes, comments, sessions) lives
in DynamoDB, keyed by what it is read by; it refers to posts and users by id only.
"""

from __future__ import annotations

from datetime import UTC, datetime

import peewee

from shared.database import BaseModel, register_rdb_model


def utcnow() -> datetime:
    """Naive UTC: stored the same way by SQLite and PostgreSQL (`timestamp without time zone`)."""
    return datetime.now(UTC).replace(tzinfo=None)


@register_rdb_model
class User(BaseModel):
    """A person who writes posts. `username` is unique and never changes (it is in URLs)."""

    id = peewee.AutoField()

    username = peewee.CharField(max_length=30, unique=True)
    display_name = peewee.CharField(max_length=50)
    password_hash = peewee.CharField(max_length=255)
    created_at = peewee.DateTimeField(default=utcnow)

    class Meta:
        table_name = "users"


@register_rdb_model
class Post(BaseModel):
    """A blog post. Listed newest first: the (created_at, id) index serves that ordering."""

    id = peewee.AutoField()
    author_id: int  # the foreign key column, set by Peewee

    title = peewee.CharField(max_length=200)
    body = peewee.TextField()
    author = peewee.ForeignKeyField(User, backref="posts", on_delete="CASCADE")
    created_at = peewee.DateTimeField(default=utcnow)
    updated_at = peewee.DateTimeField(default=utcnow)

    class Meta:
        table_name = "posts"
        indexes = ((("created_at", "id"), False),)
