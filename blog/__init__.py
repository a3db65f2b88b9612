"""Blog context: users and posts, normalised business data in the RDB (Peewee).

`install` is this context's whole wiring, called by the composition root (`app.py`).
"""

from __future__ import annotations

__doc_ja__ = """ブログのコンテキスト: ユーザーと投稿。RDB（Peewee）に置く正規化された業務データ。

`install` がこのコンテキストの配線のすべてで、コンポジションルート（`app.py`）
から呼ばれます。
"""

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from fastapi import FastAPI


def install(app: FastAPI | None = None) -> None:
    """The users-and-posts seeder; with an app, also the pages and API."""
    from blog import router, seed
    from shared.seeding import Seeder, register_seeder

    register_seeder(Seeder(10, "users and posts", seed.seed_size, seed.seed_demo))
    if app is not None:
        app.include_router(router.router)
        app.include_router(router.api)
