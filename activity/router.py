"""Activity pages and API: parse, call activity.service, render.

Pages and API read through the same service functions, so they always agree. A list page
renders whole on a normal load and only its `page` block (the next items and the next "Older"
link) when htmx asks for the older items.
"""

from __future__ import annotations

import logging
from typing import Annotated, Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Query, Request, Response
from markupsafe import Markup
from pynamodb.exceptions import PynamoDBException

from activity import service
from activity.models import ActivityType
from activity.schemas import ActivityPageOut, FeedOut
from shared.auth import OptionalViewer
from shared.cursors import CURSOR_PATTERN
from shared.web import PostId, client_address, render, render_block

log = logging.getLogger(__name__)

router = APIRouter(include_in_schema=False)
api = APIRouter(prefix="/api/v1", tags=["activity"])

PANEL_LIMIT = 10
Limit = Annotated[int, Query(ge=1, le=service.MAX_LIMIT)]
Cursor = Annotated[str | None, Query(max_length=2000, pattern=CURSOR_PATTERN)]
TypeParam = Annotated[ActivityType, Query(alias="type")]


def _older_url(path: str, page: service.ActivityPage, **params: str | int) -> str | None:
    """The link to the next (older) page: the same list, resumed from the signed cursor."""
    if page.next_cursor is None:
        return None
    return f"{path}?{urlencode({**params, 'cursor': page.next_cursor})}"


def _list_context(page: service.ActivityPage, older_url: str | None) -> dict[str, Any]:
    return {
        "page": page,
        "titles": service.post_titles_of(page.items),
        "older_url": older_url,
        "view_ttl_days": service.VIEW_TTL_DAYS,
    }


@router.get("/users/{username}")
def user_page(
    request: Request,
    username: str,
    viewer: OptionalViewer,
    limit: Limit = 20,
    cursor: Cursor = None,
) -> Response:
    own = viewer is not None and viewer.username == username
    page = service.latest_activities_of_user(username=username, limit=limit, cursor=cursor, own=own)
    older = _older_url(f"/users/{quote(username)}", page, limit=limit)
    ctx = {"username": username, **_list_context(page, older)}
    return render(request, "activity/user.html", ctx, block="page" if cursor else None)


@router.get("/activity")
def type_page(
    request: Request, activity_type: TypeParam = "like", limit: Limit = 20, cursor: Cursor = None
) -> Response:
    """A plain GET form picks the type (a full page load); "Older" appends the `page` block."""
    page = service.latest_activities_of_type(
        activity_type=activity_type, limit=limit, cursor=cursor
    )
    older = _older_url("/activity", page, type=activity_type, limit=limit)
    ctx = {
        "activity_type": activity_type,
        "types": service.ACTIVITY_TYPES,
        **_list_context(page, older),
    }
    return render(request, "activity/by_type.html", ctx, block="page" if cursor else None)


def _timeline_context(post_id: int, page: service.ActivityPage, limit: int) -> dict[str, Any]:
    older = _older_url(f"/posts/{post_id}/activity", page, limit=limit)
    return {"post_id": post_id, **_list_context(page, older)}


@router.get("/posts/{post_id}/activity")
def post_timeline_page(
    request: Request, post_id: PostId, limit: Limit = PANEL_LIMIT, cursor: Cursor = None
) -> Response:
    page = service.post_timeline(post_id=post_id, limit=limit, cursor=cursor)
    ctx = {
        "post_title": service.post_title(post_id=post_id),
        **_timeline_context(post_id, page, limit),
    }
    return render(request, "activity/post_timeline.html", ctx, block="page" if cursor else None)


def post_timeline_panel(request: Request, *, post_id: int, **_host_facts: object) -> Markup:
    """The post page's timeline panel. DynamoDB failing hides the panel, never the post."""
    try:
        page = service.post_timeline(post_id=post_id, limit=PANEL_LIMIT)
    except PynamoDBException as error:
        log.warning("timeline of post %s unavailable: %s", post_id, error)
        return render_block(request, "activity/post_timeline.html", "unavailable", {})
    ctx = _timeline_context(post_id, page, PANEL_LIMIT)
    return render_block(request, "activity/post_timeline.html", "panel", ctx)


@router.get("/feed")
def feed_page(request: Request, limit: Limit = 20) -> Response:
    service.admit_scan_feed(client_address=client_address(request))
    feeds = [service.feed_by_scan(limit=limit), service.feed_by_index(limit=limit)]
    titles = service.post_titles_of([a for feed in feeds for a in feed.items])
    ctx = {
        "feeds": feeds,
        "titles": titles,
        "limit": limit,
        "same": [_key(a) for a in feeds[0].items] == [_key(a) for a in feeds[1].items],
        "shards": service.FEED_SHARDS,
        "lookback_days": service.FEED_LOOKBACK_DAYS,
        "scan_at_million": service.scan_cost_at(items=1_000_000, measured=feeds[0].stats),
    }
    return render(request, "activity/feed.html", ctx)


def _key(activity: Any) -> tuple[str, str]:
    return activity.user_id, activity.timestamp


@api.get("/users/{username}/activities", summary="A user's latest activities")
def api_user_activities(
    username: str, viewer: OptionalViewer, limit: Limit = 20, cursor: Cursor = None
) -> ActivityPageOut:
    """A user's latest activities, newest first (Query on the table; strongly consistent when
    the caller is that user, as on their page)."""
    own = viewer is not None and viewer.username == username
    page = service.latest_activities_of_user(username=username, limit=limit, cursor=cursor, own=own)
    return ActivityPageOut.of(page)


@api.get("/activities", summary="The latest activities of one type")
def api_activities_of_type(
    activity_type: TypeParam, limit: Limit = 20, cursor: Cursor = None
) -> ActivityPageOut:
    """The latest activities of one type across the site (Query on ActivityTypeIndex)."""
    page = service.latest_activities_of_type(
        activity_type=activity_type, limit=limit, cursor=cursor
    )
    return ActivityPageOut.of(page)


@api.get("/posts/{post_id}/activities", summary="A post's activity timeline")
def api_post_activities(
    post_id: PostId, limit: Limit = 20, cursor: Cursor = None
) -> ActivityPageOut:
    """The timeline of one post, newest first (Query on PostActivityIndex)."""
    return ActivityPageOut.of(service.post_timeline(post_id=post_id, limit=limit, cursor=cursor))


@api.get("/feed", summary="The site's activity feed")
def api_feed(request: Request, mode: service.FeedMode = "index", limit: Limit = 20) -> FeedOut:
    """What is happening on the site: `scan` (the anti-pattern, a few loads a minute per
    client address, then 429) or `index` (FeedIndex)."""
    if mode == "scan":
        service.admit_scan_feed(client_address=client_address(request))
    return FeedOut.of(service.global_feed(mode=mode, limit=limit))
