"""Engagement context: likes (atomic, idempotent, shardable counters) and threaded comments.

    models.py           the likes and comments tables, and their key builders
    likes.py            the like protocol, like counts, hot posts' sharded counters
    comments.py         threads, idempotent posts, edits and deletes
    posts.py            the blog's posts as seen from here; removing all of a deleted one
    cleanup.py          outside requests: after PostDeleted, and likes left midway
    seed.py             demo likes and comments
    schemas.py          the JSON API's bodies
    likes_router.py     like button, badges, pages and API
    comments_router.py  comment thread, pages and API

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
    from engagement import cleanup, seed
    from engagement.comments import router as comments_router
    from engagement.likes import router as likes_router
    from shared import events
    from shared.i18n import N_
    from shared.panels import (
        ENGAGEMENT_ORDER,
        POST_LIST,
        POST_PAGE,
        register_badges,
        register_panel,
    )
    from shared.seeding import Seeder, register_seeder

    register_panel(
        POST_PAGE,
        likes_router.likes_panel,
        order=ENGAGEMENT_ORDER,
        unavailable=N_("DynamoDB is unavailable: the like count is not shown."),
    )
    register_panel(
        POST_PAGE,
        comments_router.thread_panel,
        order=ENGAGEMENT_ORDER + 1,
        unavailable=N_(
            "DynamoDB is unavailable: the comments are not shown, and none can be added now."
        ),
    )
    register_badges(POST_LIST, likes_router.like_badges)
    events.subscribe(events.PostDeleted, cleanup.on_post_deleted)
    events.subscribe(events.LikeChangeUnfinished, cleanup.on_like_change_unfinished)
    register_seeder(Seeder(20, "likes and comments", seed.seed_size, seed.seed_demo))
    if app is not None:
        for router in (likes_router, comments_router):
            app.include_router(router.router)
            app.include_router(router.api)
