"""Comment pages and API: parse, call engagement.comments, render.

The post page hosts the comment thread from here; every htmx action also works as a plain form
post or link, answered with a redirect or a full page.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Header, Path, Query, Request, Response
from markupsafe import Markup

from engagement.comments import service as comments
from engagement.comments.models import Comment
from engagement.comments.schemas import CommentIn, CommentOut, CommentPageOut, CommentPatch
from shared.auth import CurrentViewer
from shared.cursors import CURSOR_PATTERN
from shared.errors import DomainError, InvalidInput
from shared.i18n import gettext as _
from shared.web import PostId, htmx_redirect, is_htmx, render, render_block

router = APIRouter(include_in_schema=False)
api = APIRouter(prefix="/api/v1", tags=["engagement"])

CommentId = Annotated[str, Path(max_length=64)]
Cursor = Annotated[str | None, Query(max_length=512, pattern=CURSOR_PATTERN)]
Limit = Annotated[int, Query(ge=1, le=comments.COMMENTS_PAGE_MAX)]


def _thread_context(post_id: int, page: comments.CommentPage) -> dict[str, Any]:
    return {
        "post_id": post_id,
        "page": page,
        "steps": comments.thread_steps(page.roots),
        "detached": {p: comments.thread_steps(nodes) for p, nodes in page.detached.items()},
        "form": _new_form(),
    }


def _new_form(**values: Any) -> dict[str, Any]:
    return {"mode": "new", "key": comments.new_idempotency_key(), "body": "", **values}


def thread_panel(request: Request, *, post_id: int, author_id: str | None = None) -> Markup:
    """The first page of the comment thread on the post page, with the form for a new one."""
    page = comments.list_comments(post_id=post_id)
    ctx = _thread_context(post_id, page)
    return render_block(request, "engagement/comments.html", "thread", ctx)


def _comment_block(request: Request, post_id: int, comment: Comment) -> Response:
    ctx = {"post_id": post_id, "c": comment}
    return render(request, "engagement/comment.html", ctx, block="self")


def _form_block(request: Request, post_id: int, form: dict[str, Any], **extra: Any) -> Response:
    """The comment form (new, reply or edit), without a created comment to append."""
    ctx = {"post_id": post_id, "form": form, "created": None, "append_to": None, **extra}
    return render(request, "engagement/comment_form.html", ctx, block="form")


# -- pages ------------------------------------------------------------------------------------


@router.get("/posts/{post_id}/comments")
def comments_page(request: Request, post_id: PostId, cursor: Cursor = None) -> Response:
    """The next page of a thread: htmx appends it in place; a plain load shows it as a page."""
    page = comments.list_comments(post_id=post_id, cursor=cursor)
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
        result = comments.create_comment(
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
        "created_steps": comments.thread_steps([comments.CommentNode(comment)]),
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
        ctx["parent"] = comments.get_comment(post_id=post_id, comment_id=form["parent_id"])
    return render(
        request, "engagement/comment_form.html", ctx, block="form", status_code=error.status_code
    )


@router.get("/posts/{post_id}/comments/{comment_id}")
def comment_page(request: Request, post_id: PostId, comment_id: CommentId) -> Response:
    comment = comments.get_comment(post_id=post_id, comment_id=comment_id)
    return _comment_block(request, post_id, comment)


@router.get("/posts/{post_id}/comments/{comment_id}/reply")
def reply_form_page(
    request: Request, post_id: PostId, comment_id: CommentId, viewer: CurrentViewer
) -> Response:
    parent = comments.get_comment(post_id=post_id, comment_id=comment_id)
    form = _new_form(mode="reply", parent_id=comment_id)
    return _form_block(request, post_id, form, parent=parent)


@router.get("/posts/{post_id}/comments/{comment_id}/edit")
def edit_form_page(
    request: Request, post_id: PostId, comment_id: CommentId, viewer: CurrentViewer
) -> Response:
    comment = comments.comment_to_edit(post_id=post_id, comment_id=comment_id, viewer=viewer)
    form = {"mode": "edit", "comment_id": comment_id, "version": comment.version}
    form["body"] = comment.body
    return _form_block(request, post_id, form)


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
        comment = comments.edit_comment(
            post_id=post_id, comment_id=comment_id, viewer=viewer, body=body, version=version
        )
    except DomainError as error:
        if error.status_code not in (409, 422):
            raise
        return _form_error(request, post_id, form, error)
    if not is_htmx(request):
        return htmx_redirect(request, f"/posts/{post_id}#c-{comment_id}")
    return _comment_block(request, post_id, comment)


@router.post("/posts/{post_id}/comments/{comment_id}/delete")
def delete_comment_form(
    request: Request, post_id: PostId, comment_id: CommentId, viewer: CurrentViewer
) -> Response:
    remaining = comments.delete_comment(post_id=post_id, comment_id=comment_id, viewer=viewer)
    if not is_htmx(request):
        return htmx_redirect(request, f"/posts/{post_id}")
    if remaining is None:
        return Response(headers={"HX-Retarget": f"#c-{comment_id}", "HX-Reswap": "delete"})
    return _comment_block(request, post_id, remaining)


# -- API --------------------------------------------------------------------------------------


@api.get("/posts/{post_id}/comments", summary="List a post's comments")
def api_comments(
    post_id: PostId, cursor: Cursor = None, limit: Limit = comments.COMMENTS_PER_PAGE
) -> CommentPageOut:
    """One page of the thread, oldest first, flat (each item names its `parent_id`)."""
    page = comments.list_comments(post_id=post_id, cursor=cursor, limit=limit)
    return CommentPageOut.of(page)


@api.post("/posts/{post_id}/comments", status_code=201, summary="Comment on a post, or reply")
def api_create_comment(
    post_id: PostId,
    body: CommentIn,
    response: Response,
    viewer: CurrentViewer,
    idempotency_key: Annotated[str | None, Header(max_length=64)] = None,
) -> CommentOut:
    """Post a comment or a reply. A retry with the same Idempotency-Key returns the same one."""
    if idempotency_key and body.idempotency_key and idempotency_key != body.idempotency_key:
        raise InvalidInput(_("The Idempotency-Key header and the body's idempotency_key differ."))
    result = comments.create_comment(
        post_id=post_id,
        viewer=viewer,
        body=body.body,
        parent_id=body.parent_id,
        idempotency_key=idempotency_key or body.idempotency_key,
    )
    if not result.created:
        response.headers["Idempotent-Replayed"] = "true"
    return CommentOut.of(result.comment)


@api.get("/posts/{post_id}/comments/{comment_id}", summary="Read one comment")
def api_comment(post_id: PostId, comment_id: CommentId) -> CommentOut:
    return CommentOut.of(comments.get_comment(post_id=post_id, comment_id=comment_id))


@api.patch("/posts/{post_id}/comments/{comment_id}", summary="Edit your comment")
def api_edit_comment(
    post_id: PostId, comment_id: CommentId, body: CommentPatch, viewer: CurrentViewer
) -> CommentOut:
    """Edit your comment. `version` is the one you read: a stale one is refused with 409."""
    comment = comments.edit_comment(
        post_id=post_id, comment_id=comment_id, viewer=viewer, body=body.body, version=body.version
    )
    return CommentOut.of(comment)


@api.delete(
    "/posts/{post_id}/comments/{comment_id}", status_code=204, summary="Delete your comment"
)
def api_delete_comment(post_id: PostId, comment_id: CommentId, viewer: CurrentViewer) -> Response:
    comments.delete_comment(post_id=post_id, comment_id=comment_id, viewer=viewer)
    return Response(status_code=204)
