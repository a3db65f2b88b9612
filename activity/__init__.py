"""Activity context: the activity log, its two GSIs, TTL'd view logs and the global feed.

`install` is this context's whole wiring, called by the composition root (`app.py`).
"""

from __future__ import annotations

__doc_ja__ = """アクティビティのコンテキスト: アクティビティログとその 2 つの GSI、TTL
付きの閲覧ログ、サイト全体のフィード。

`install` がこのコンテキストの配線のすべてで、コンポジションルート（`app.py`）
から呼ばれます。
"""

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Sequence

    from fastapi import FastAPI

    from shared import events


def install(app: FastAPI | None = None) -> None:
    """Subscribe the log to the other contexts' events, add the post page's timeline panel and
    the activities seeder; with an app (not the CLI), also its pages and API."""
    from activity import router, seed
    from shared import events
    from shared.i18n import N_
    from shared.panels import POST_PAGE, TIMELINE_ORDER, register_panel
    from shared.seeding import Seeder, register_seeder

    events.subscribe(events.PostCreated, _on_logged_event, many=_on_logged_events)
    events.subscribe(events.PostLiked, _on_logged_event, many=_on_logged_events)
    events.subscribe(events.PostUnliked, _on_logged_event, many=_on_logged_events)
    events.subscribe(events.CommentAdded, _on_logged_event, many=_on_logged_events)
    events.subscribe(events.PostViewed, _on_post_viewed)
    register_panel(
        POST_PAGE,
        router.post_timeline_panel,
        order=TIMELINE_ORDER,
        unavailable=N_("DynamoDB is unavailable: the post's activity is not shown."),
    )
    register_seeder(Seeder(30, "activities", seed.seed_size, seed.seed_demo))
    if app is not None:
        app.include_router(router.router)
        app.include_router(router.api)


def _on_logged_event(
    event: events.PostCreated | events.PostLiked | events.PostUnliked | events.CommentAdded,
) -> None:
    from activity import service

    service.record_activity(event=event)


def _on_logged_events(
    run: Sequence[events.PostCreated | events.PostLiked | events.PostUnliked | events.CommentAdded],
) -> None:
    from activity import service

    service.record_activities(batch=run)


def _on_post_viewed(event: events.PostViewed) -> None:
    from activity import service

    service.record_view(event=event)
