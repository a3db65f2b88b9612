"""The relational side of the lab: users and posts.

Why these live in an RDB and not in DynamoDB: they are normalised business data with few,
simple, changing access patterns (list newest posts with their authors, edit a post, look a
user up by name), small volume and a need for uniqueness constraints (usernames) and ad-hoc
queries. A relational table with indexes answers all of that with no design up front.
Everything event-like, counter-like or time-series (activity, likes, comments, sessions) lives
in DynamoDB, keyed by what it is read by; it refers to posts and users by id only.
"""

from __future__ import annotations

__doc_ja__ = """このラボのリレーショナル側: ユーザーと投稿。

これらを DynamoDB ではなく RDB に置く理由: 正規化された業務データで、
アクセスパターンが少なく単純で、しかも変わりやすい（最新の投稿を投稿者つきで一覧
する、投稿を編集する、名前でユーザーを探す）。量は小さく、一意性制約（ユーザー名）
やその場で考えたクエリも必要になる。インデックスを付けたリレーショナルテーブルな
ら、事前に設計しなくてもそのすべてに答えられる。イベント、カウンター、
時系列のようなデータ（アクティビティ、いいね、コメント、セッション）はすべて
DynamoDB に置き、読まれ方に合わせたキーを付ける。それらは投稿やユーザーを ID
だけで参照する。
"""

from datetime import UTC, datetime

import peewee

from shared.database import BaseModel, register_rdb_model


def utcnow() -> datetime:
    """Naive UTC: stored the same way by SQLite and PostgreSQL (`timestamp without time zone`)."""
    return datetime.now(UTC).replace(tzinfo=None)


@register_rdb_model
class User(BaseModel):
    """A person who writes posts. `username` is unique and never changes (it is in URLs)."""

    __doc_ja__ = "投稿を書く人。`username` は一意で、変更されない（URL に含まれるため）。"

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

    __doc_ja__ = """ブログの投稿。新しい順に一覧され、(created_at, id)
    のインデックスがその並び順を支える。
    """

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
