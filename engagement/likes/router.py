"""Like pages and API: parse, call engagement.likes, render.

The post page hosts the like button from here, and post lists a like badge per post; every
htmx action also works as a plain form post, answered with a redirect.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request, Response
from markupsafe import Markup

from engagement import posts
from engagement.likes import service as likes
from engagement.likes.models import MAX_SHARDS
from engagement.likes.schemas import LikeChangeOut, LikesOut, ShardsIn
from shared.auth import CurrentViewer, OptionalViewer, Viewer, optional_viewer
from shared.errors import InvalidInput
from shared.i18n import gettext as _
from shared.web import PostId, htmx_redirect, is_htmx, render, render_block

router = APIRouter(include_in_schema=False)
api = APIRouter(prefix="/api/v1", tags=["engagement"])


def _likes_context(
    post_id: int,
    summary: likes.LikeSummary,
    viewer: Viewer | None,
    author_id: str | None = None,
) -> dict[str, Any]:
    """`author_id` when the host page already knows it, else the blog is asked."""
    if viewer is None:
        is_author = False
    elif author_id is not None:
        is_author = author_id == viewer.user_id
    else:
        is_author = posts.is_post_author(viewer=viewer, post_id=post_id)
    next_shards = likes.AUTO_SHARDS if summary.shards == 1 else summary.shards * 2
    return {
        "post_id": post_id,
        "likes": summary,
        "can_shard": is_author and next_shards <= MAX_SHARDS,
        "next_shards": next_shards,
    }


def _likes_block(
    request: Request, post_id: int, summary: likes.LikeSummary, viewer: Viewer | None
) -> Response:
    ctx = _likes_context(post_id, summary, viewer)
    return render(request, "engagement/likes.html", ctx, block="likes")


def likes_panel(request: Request, *, post_id: int, author_id: str | None = None) -> Markup:
    """The like button on the post page."""
    viewer = optional_viewer(request)
    summary = likes.like_summary(post_id=post_id, user_id=viewer.user_id if viewer else None)
    ctx = _likes_context(post_id, summary, viewer, author_id)
    return render_block(request, "engagement/likes.html", "likes", ctx)


def like_badges(request: Request, *, ids: list[int]) -> dict[int, Markup]:
    counts = likes.like_counts(post_ids=ids)
    badge = Markup('<span class="like-badge" data-testid="like-badge">♥ {}</span>')
    return {post_id: badge.format(count) for post_id, count in counts.items()}


# -- pages ------------------------------------------------------------------------------------


@router.get("/posts/{post_id}/likes")
def likes_page(request: Request, post_id: PostId, viewer: OptionalViewer) -> Response:
    posts.require_post(post_id=post_id)
    summary = likes.like_summary(post_id=post_id, user_id=viewer.user_id if viewer else None)
    return _likes_block(request, post_id, summary, viewer)


@router.post("/posts/{post_id}/like")
def like_form(
    request: Request,
    post_id: PostId,
    viewer: CurrentViewer,
    action: Annotated[str, Form(max_length=10)] = "like",
) -> Response:
    if action not in ("like", "unlike"):
        raise InvalidInput(_("The action is 'like' or 'unlike'."))
    change_state = likes.like_post if action == "like" else likes.unlike_post
    change = change_state(post_id=post_id, viewer=viewer)
    if not is_htmx(request):
        return htmx_redirect(request, f"/posts/{post_id}")
    return _likes_block(request, post_id, change.summary, viewer)


@router.post("/posts/{post_id}/likes/shards")
def shard_form(
    request: Request,
    post_id: PostId,
    viewer: CurrentViewer,
    shards: Annotated[int, Form(ge=1, le=1000)],
) -> Response:
    likes.promote_hot_post_as_author(viewer=viewer, post_id=post_id, shards=shards)
    if not is_htmx(request):
        return htmx_redirect(request, f"/posts/{post_id}")
    summary = likes.like_summary(post_id=post_id, user_id=viewer.user_id)
    return _likes_block(request, post_id, summary, viewer)


# -- API --------------------------------------------------------------------------------------


@api.get("/posts/{post_id}/likes", summary="Count a post's likes")
def api_likes(post_id: PostId, viewer: OptionalViewer) -> LikesOut:
    """The like count and whether the caller liked the post."""
    posts.require_post(post_id=post_id)
    user_id = viewer.user_id if viewer else None
    return LikesOut.of(likes.like_summary(post_id=post_id, user_id=user_id))


@api.put("/posts/{post_id}/like", summary="Like a post")
def api_like(post_id: PostId, viewer: CurrentViewer) -> LikeChangeOut:
    """Idempotent: liking twice changes nothing (`changed` is false the second time)."""
    return LikeChangeOut.of_change(likes.like_post(post_id=post_id, viewer=viewer))


@api.delete("/posts/{post_id}/like", summary="Take back a like")
def api_unlike(post_id: PostId, viewer: CurrentViewer) -> LikeChangeOut:
    """Idempotent: unliking a post you do not like changes nothing."""
    return LikeChangeOut.of_change(likes.unlike_post(post_id=post_id, viewer=viewer))


@api.post("/posts/{post_id}/likes/shards", summary="Shard a post's like counter")
def api_shard(post_id: PostId, body: ShardsIn, viewer: CurrentViewer) -> LikesOut:
    """Spread the post's like counter over `shards` partition keys (the post's author only)."""
    likes.promote_hot_post_as_author(viewer=viewer, post_id=post_id, shards=body.shards)
    return LikesOut.of(likes.like_summary(post_id=post_id, user_id=viewer.user_id))
