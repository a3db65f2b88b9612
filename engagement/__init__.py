"""Engagement context: likes (atomic, idempotent, shardable counters) and threaded comments.

`install` is this context's whole wiring, called by the composition root (`app.py`).
"""

from __future__ import annotations

__doc_ja__ = """エンゲージメントのコンテキスト: いいね（アトミックで冪等、
シャーディングできるカウンター）とスレッド形式のコメント。

`install` がこのコンテキストの配線のすべてで、コンポジションルート（`app.py`）
から呼ばれます。
"""

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from fastapi import FastAPI


def install(app: FastAPI | None = None) -> None:
    """Add the like button and comment thread to the post page, like badges to post lists,
    clean-up when a post is deleted and the seeder; with an app, also the pages and API."""
    from engagement import router, service
    from shared import events
    from shared.panels import (
        ENGAGEMENT_ORDER,
        POST_LIST,
        POST_PAGE,
        register_badges,
        register_panel,
    )
    from shared.seeding import Seeder, register_seeder

    register_panel(POST_PAGE, router.post_panel, order=ENGAGEMENT_ORDER)
    register_badges(POST_LIST, router.like_badges)
    events.subscribe(events.PostDeleted, service.on_post_deleted)
    register_seeder(Seeder(20, "likes and comments", service.seed_size, service.seed_engagement))
    if app is not None:
        app.include_router(router.router)
        app.include_router(router.api)
