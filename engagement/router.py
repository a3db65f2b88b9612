"""Engagement pages and API: parse, call engagement.service, render.

The post page hosts two panels from here (the like button, the comment thread); every htmx
action also works as a plain form post or link, answered with a redirect or a full page.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Header, Path, Query, Request, Response
from markupsafe import Markup
from pydantic import BaseModel

from engagement import service
from shared.auth import CurrentViewer, OptionalViewer, Viewer, optional_viewer
from shared.errors import DomainError, InvalidInput
from shared.i18n import gettext as _
from shared.web import PostId, htmx_redirect, is_htmx, render, render_block

router = APIRouter()
api = APIRouter(prefix="/api/v1", tags=["engagement"])

CommentId = Annotated[str, Path(max_length=64)]
Cursor = Annotated[str | None, Query(max_length=512)]
Limit = Annotated[int, Query(ge=1, le=service.COMMENTS_PAGE_MAX)]


# -- panels -----------------------------------------------------------------------------------


def _likes_context(
    post_id: int,
    summary: service.LikeSummary,
    viewer: Viewer | None,
    author_id: str | None = None,
) -> dict[str, Any]:
    """`author_id` when the host page already knows it, else the blog is asked."""
    if viewer is None:
        is_author = False
    elif author_id is not None:
        is_author = author_id == viewer.user_id
    else:
        is_author = service.is_post_author(viewer=viewer, post_id=post_id)
    next_shards = service.AUTO_SHARDS if summary.shards == 1 else summary.shards * 2
    return {
        "post_id": post_id,
        "likes": summary,
        "can_shard": is_author and next_shards <= service.MAX_SHARDS,
        "next_shards": next_shards,
    }


def _thread_context(post_id: int, page: service.CommentPage) -> dict[str, Any]:
    return {
        "post_id": post_id,
        "page": page,
        "steps": service.thread_steps(page.roots),
        "detached": {p: service.thread_steps(nodes) for p, nodes in page.detached.items()},
        "form": _new_form(),
    }


def _new_form(**values: Any) -> dict[str, Any]:
    return {"mode": "new", "key": service.new_idempotency_key(), "body": "", **values}


def post_panel(request: Request, *, post_id: int, author_id: str | None = None) -> Markup:
    viewer = optional_viewer(request)
    summary = service.like_summary(post_id=post_id, user_id=viewer.user_id if viewer else None)
    ctx = _likes_context(post_id, summary, viewer, author_id)
    likes = render_block(request, "engagement/likes.html", "likes", ctx)
    page = service.list_comments(post_id=post_id)
    thread = render_block(
        request, "engagement/comments.html", "thread", _thread_context(post_id, page)
    )
    return likes + thread


def like_badges(request: Request, *, ids: list[int]) -> dict[int, Markup]:
    counts = service.like_counts(post_ids=ids)
    badge = Markup('<span class="like-badge" data-testid="like-badge">♥ {}</span>')
    return {post_id: badge.format(count) for post_id, count in counts.items()}


# -- like pages -------------------------------------------------------------------------------


@router.get("/posts/{post_id}/likes")
def likes_page(request: Request, post_id: PostId, viewer: OptionalViewer) -> Response:
    service.require_post(post_id=post_id)
    summary = service.like_summary(post_id=post_id, user_id=viewer.user_id if viewer else None)
    ctx = _likes_context(post_id, summary, viewer)
    return render(request, "engagement/likes.html", ctx, block="likes")


@router.post("/posts/{post_id}/like")
def like_form(
    request: Request,
    post_id: PostId,
    viewer: CurrentViewer,
    action: Annotated[str, Form(max_length=10)] = "like",
) -> Response:
    if action not in ("like", "unlike"):
        raise InvalidInput(_("The action is 'like' or 'unlike'."))
    change_state = service.like_post if action == "like" else service.unlike_post
    change = change_state(post_id=post_id, viewer=viewer)
    if not is_htmx(request):
        return htmx_redirect(request, f"/posts/{post_id}")
    ctx = _likes_context(post_id, change.summary, viewer)
    return render(request, "engagement/likes.html", ctx, block="likes")


@router.post("/posts/{post_id}/likes/shards")
def shard_form(
    request: Request,
    post_id: PostId,
    viewer: CurrentViewer,
    shards: Annotated[int, Form(ge=1, le=1000)],
) -> Response:
    service.promote_hot_post_as_author(viewer=viewer, post_id=post_id, shards=shards)
    if not is_htmx(request):
        return htmx_redirect(request, f"/posts/{post_id}")
    summary = service.like_summary(post_id=post_id, user_id=viewer.user_id, consistent=True)
    ctx = _likes_context(post_id, summary, viewer)
    return render(request, "engagement/likes.html", ctx, block="likes")


# -- comment pages ----------------------------------------------------------------------------


@router.get("/posts/{post_id}/comments")
def comments_page(request: Request, post_id: PostId, cursor: Cursor = None) -> Response:
    """The next page of a thread: htmx appends it in place; a plain load shows it as a page."""
    page = service.list_comments(post_id=post_id, cursor=cursor)
    return render(request, "engagement/comments.html", _thread_context(post_id, page), block="more")


@router.post("/posts/{post_id}/comments")
def create_comment_form(
    request: Request,
    post_id: PostId,
    viewer: CurrentViewer,
    body: Annotated[str, Form()] = "",
    parent_id: Annotated[str, Form(max_length=64)] = "",
    idempotency_key: Annotated[str, Form(max_length=64)] = "",
    thread_complete: Annotated[str, Form(max_length=1)] = "",
) -> Response:
    mode = "reply" if parent_id else "new"
    form = {"mode": mode, "key": idempotency_key, "body": body, "parent_id": parent_id or None}
    try:
        result = service.create_comment(
            post_id=post_id,
            viewer=viewer,
            body=body,
            parent_id=parent_id or None,
            idempotency_key=idempotency_key or None,
        )
    except DomainError as error:
        if error.field is None:
            raise
        return _form_error(request, post_id, form, error)
    comment = result.comment
    if not is_htmx(request):
        return htmx_redirect(request, f"/posts/{post_id}#c-{comment.comment_id}")
    ctx = {
        "post_id": post_id,
        "form": _new_form(mode="done") if parent_id else _new_form(),
        "created": comment,
        "created_steps": service.thread_steps([service.CommentNode(comment)]),
        "append_to": (f"replies-c-{parent_id}" if parent_id else "comment-thread")
        if thread_complete == "1"
        else None,
    }
    return render(request, "engagement/comment_form.html", ctx, block="form")


def _form_error(
    request: Request, post_id: int, form: dict[str, Any], error: DomainError
) -> Response:
    ctx: dict[str, Any] = {"post_id": post_id, "form": {**form, "error": error.detail}}
    ctx["created"] = ctx["append_to"] = None
    if form.get("parent_id") and error.field != "parent_id":
        ctx["parent"] = service.get_comment(post_id=post_id, comment_id=form["parent_id"])
    return render(
        request, "engagement/comment_form.html", ctx, block="form", status_code=error.status_code
    )


@router.get("/posts/{post_id}/comments/{comment_id}")
def comment_page(request: Request, post_id: PostId, comment_id: CommentId) -> Response:
    comment = service.get_comment(post_id=post_id, comment_id=comment_id)
    return render(
        request, "engagement/comment.html", {"post_id": post_id, "c": comment}, block="self"
    )


@router.get("/posts/{post_id}/comments/{comment_id}/reply")
def reply_form_page(
    request: Request, post_id: PostId, comment_id: CommentId, viewer: CurrentViewer
) -> Response:
    parent = service.get_comment(post_id=post_id, comment_id=comment_id)
    form = _new_form(mode="reply", parent_id=comment_id)
    ctx = {"post_id": post_id, "form": form, "parent": parent, "created": None, "append_to": None}
    return render(request, "engagement/comment_form.html", ctx, block="form")


@router.get("/posts/{post_id}/comments/{comment_id}/edit")
def edit_form_page(
    request: Request, post_id: PostId, comment_id: CommentId, viewer: CurrentViewer
) -> Response:
    comment = service.comment_to_edit(post_id=post_id, comment_id=comment_id, viewer=viewer)
    form = {"mode": "edit", "comment_id": comment_id, "version": comment.version}
    form["body"] = comment.body
    ctx = {"post_id": post_id, "form": form, "created": None, "append_to": None}
    return render(request, "engagement/comment_form.html", ctx, block="form")


@router.post("/posts/{post_id}/comments/{comment_id}/edit")
def edit_comment_form(
    request: Request,
    post_id: PostId,
    comment_id: CommentId,
    viewer: CurrentViewer,
    version: Annotated[int, Form(ge=0, le=2**53)],
    body: Annotated[str, Form()] = "",
) -> Response:
    form = {"mode": "edit", "comment_id": comment_id, "version": version, "body": body}
    try:
        comment = service.edit_comment(
            post_id=post_id, comment_id=comment_id, viewer=viewer, body=body, version=version
        )
    except DomainError as error:
        if error.status_code not in (409, 422):
            raise
        return _form_error(request, post_id, form, error)
    if not is_htmx(request):
        return htmx_redirect(request, f"/posts/{post_id}#c-{comment_id}")
    return render(
        request, "engagement/comment.html", {"post_id": post_id, "c": comment}, block="self"
    )


@router.post("/posts/{post_id}/comments/{comment_id}/delete")
def delete_comment_form(
    request: Request, post_id: PostId, comment_id: CommentId, viewer: CurrentViewer
) -> Response:
    remaining = service.delete_comment(post_id=post_id, comment_id=comment_id, viewer=viewer)
    if not is_htmx(request):
        return htmx_redirect(request, f"/posts/{post_id}")
    if remaining is None:
        return Response(headers={"HX-Retarget": f"#c-{comment_id}", "HX-Reswap": "delete"})
    return render(
        request, "engagement/comment.html", {"post_id": post_id, "c": remaining}, block="self"
    )


# -- API --------------------------------------------------------------------------------------


class CommentIn(BaseModel):
    body: str
    parent_id: str | None = None
    idempotency_key: str | None = None


class CommentPatch(BaseModel):
    body: str
    version: int


class ShardsIn(BaseModel):
    shards: int


def _likes_json(summary: service.LikeSummary, **extra: object) -> dict[str, object]:
    return {
        "count": summary.count,
        "liked_by_me": summary.liked_by_me,
        "shards": summary.shards,
        **extra,
    }


@api.get("/posts/{post_id}/likes")
def api_likes(post_id: PostId, viewer: OptionalViewer) -> dict[str, object]:
    """The like count and whether the caller liked the post."""
    service.require_post(post_id=post_id)
    user_id = viewer.user_id if viewer else None
    return _likes_json(service.like_summary(post_id=post_id, user_id=user_id))


@api.put("/posts/{post_id}/like")
def api_like(post_id: PostId, viewer: CurrentViewer) -> dict[str, object]:
    """Idempotent: liking twice changes nothing (`changed` is false the second time)."""
    change = service.like_post(post_id=post_id, viewer=viewer)
    return _likes_json(change.summary, changed=change.changed)


@api.delete("/posts/{post_id}/like")
def api_unlike(post_id: PostId, viewer: CurrentViewer) -> dict[str, object]:
    """Idempotent: unliking a post you do not like changes nothing."""
    change = service.unlike_post(post_id=post_id, viewer=viewer)
    return _likes_json(change.summary, changed=change.changed)


@api.post("/posts/{post_id}/likes/shards")
def api_shard(post_id: PostId, body: ShardsIn, viewer: CurrentViewer) -> dict[str, object]:
    """Spread the post's like counter over `shards` partition keys (the post's author only)."""
    service.promote_hot_post_as_author(viewer=viewer, post_id=post_id, shards=body.shards)
    return _likes_json(service.like_summary(post_id=post_id, user_id=viewer.user_id))


@api.get("/posts/{post_id}/comments")
def api_comments(
    post_id: PostId, cursor: Cursor = None, limit: Limit = service.COMMENTS_PER_PAGE
) -> dict[str, object]:
    """One page of the thread, oldest first, flat (each item names its `parent_id`)."""
    page = service.list_comments(post_id=post_id, cursor=cursor, limit=limit)
    return {
        "items": [service.comment_as_dict(c) for c in page.comments],
        "next_cursor": page.next_cursor,
    }


@api.post("/posts/{post_id}/comments", status_code=201)
def api_create_comment(
    post_id: PostId,
    body: CommentIn,
    response: Response,
    viewer: CurrentViewer,
    idempotency_key: Annotated[str | None, Header(max_length=64)] = None,
) -> dict[str, object]:
    """Post a comment or a reply. A retry with the same Idempotency-Key returns the same one."""
    if idempotency_key and body.idempotency_key and idempotency_key != body.idempotency_key:
        raise InvalidInput(_("The Idempotency-Key header and the body's idempotency_key differ."))
    result = service.create_comment(
        post_id=post_id,
        viewer=viewer,
        body=body.body,
        parent_id=body.parent_id,
        idempotency_key=idempotency_key or body.idempotency_key,
    )
    if not result.created:
        response.headers["Idempotent-Replayed"] = "true"
    return service.comment_as_dict(result.comment)


@api.get("/posts/{post_id}/comments/{comment_id}")
def api_comment(post_id: PostId, comment_id: CommentId) -> dict[str, object]:
    return service.comment_as_dict(service.get_comment(post_id=post_id, comment_id=comment_id))


@api.patch("/posts/{post_id}/comments/{comment_id}")
def api_edit_comment(
    post_id: PostId, comment_id: CommentId, body: CommentPatch, viewer: CurrentViewer
) -> dict[str, object]:
    """Edit your comment. `version` is the one you read: a stale one is refused with 409."""
    comment = service.edit_comment(
        post_id=post_id, comment_id=comment_id, viewer=viewer, body=body.body, version=body.version
    )
    return service.comment_as_dict(comment)


@api.delete("/posts/{post_id}/comments/{comment_id}", status_code=204)
def api_delete_comment(post_id: PostId, comment_id: CommentId, viewer: CurrentViewer) -> Response:
    service.delete_comment(post_id=post_id, comment_id=comment_id, viewer=viewer)
    return Response(status_code=204)
