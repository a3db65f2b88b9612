"""Blog pages and the posts API: parse, call blog.service, render."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request, Response

from blog import service
from blog.schemas import PostIn, PostOut, PostPatch, PostsPageOut
from shared import events
from shared.auth import CurrentViewer, OptionalViewer
from shared.errors import DomainError
from shared.i18n import gettext as _
from shared.panels import POST_LIST, POST_PAGE, render_badges, render_slot
from shared.web import PostId, htmx_redirect, render

router = APIRouter(include_in_schema=False)
api = APIRouter(prefix="/api/v1/posts", tags=["posts"])


@router.get("/")
def post_list(request: Request, page: Annotated[int, Query(ge=1, le=100_000)] = 1) -> Response:
    posts = service.list_posts(page=page)
    badges = render_badges(POST_LIST, request, ids=[p.id for p in posts.items])
    return render(request, "blog/post_list.html", {"posts": posts, "badges": badges})


@router.get("/posts/new")
def new_post_page(request: Request, viewer: CurrentViewer) -> Response:
    ctx: dict[str, Any] = {"post": None, "values": {}, "error": None, "error_field": None}
    return render(request, "blog/post_form.html", ctx)


@router.post("/posts")
def create_post(
    request: Request,
    viewer: CurrentViewer,
    title: Annotated[str, Form()] = "",
    body: Annotated[str, Form()] = "",
) -> Response:
    try:
        post = service.create_post(viewer=viewer, title=title, body=body)
    except DomainError as error:
        return _form_error(request, None, error, title, body)
    return htmx_redirect(request, f"/posts/{post.id}")


@router.get("/posts/{post_id}")
def post_page(request: Request, post_id: PostId, viewer: OptionalViewer) -> Response:
    post = service.get_post(post_id=post_id)
    if viewer is not None:
        events.emit(
            events.PostViewed(post_id=post.id, user_id=viewer.user_id, username=viewer.username)
        )
    panels = render_slot(POST_PAGE, request, post_id=post.id, author_id=str(post.author_id))
    return render(request, "blog/post.html", {"post": post, "panels": panels})


@router.get("/posts/{post_id}/edit")
def edit_post_page(request: Request, post_id: PostId, viewer: CurrentViewer) -> Response:
    post = service.get_post(post_id=post_id)
    if str(post.author_id) != viewer.user_id:
        return render(
            request,
            "shared/error.html",
            {
                "status_code": 403,
                "title": _("Not allowed"),
                "message": _("This post is not yours."),
            },
            status_code=403,
        )
    ctx = {"post": post, "values": {"title": post.title, "body": post.body}, "error": None}
    return render(request, "blog/post_form.html", {**ctx, "error_field": None})


@router.post("/posts/{post_id}/edit")
def edit_post(
    request: Request,
    post_id: PostId,
    viewer: CurrentViewer,
    title: Annotated[str, Form()] = "",
    body: Annotated[str, Form()] = "",
) -> Response:
    try:
        service.update_post(viewer=viewer, post_id=post_id, title=title, body=body)
    except DomainError as error:
        if error.field is None:
            raise
        return _form_error(request, service.get_post(post_id=post_id), error, title, body)
    return htmx_redirect(request, f"/posts/{post_id}")


@router.post("/posts/{post_id}/delete")
def delete_post(request: Request, post_id: PostId, viewer: CurrentViewer) -> Response:
    service.delete_post(viewer=viewer, post_id=post_id)
    return htmx_redirect(request, "/")


def _form_error(request: Request, post, error: DomainError, title: str, body: str) -> Response:  # type: ignore[no-untyped-def]
    if error.field is None:
        raise error
    ctx = {
        "post": post,
        "values": {"title": title, "body": body},
        "error": error.detail,
        "error_field": error.field,
    }
    return render(request, "blog/post_form.html", ctx, block="form", status_code=error.status_code)


@api.get("", summary="List posts, newest first")
def api_list_posts(page: Annotated[int, Query(ge=1, le=100_000)] = 1) -> PostsPageOut:
    return PostsPageOut.of(service.list_posts(page=page))


@api.post("", status_code=201, summary="Write a post")
def api_create_post(body: PostIn, viewer: CurrentViewer) -> PostOut:
    return PostOut.of(service.create_post(viewer=viewer, title=body.title, body=body.body))


@api.get("/{post_id}", summary="Read one post")
def api_get_post(post_id: PostId) -> PostOut:
    return PostOut.of(service.get_post(post_id=post_id))


@api.patch("/{post_id}", summary="Edit your post")
def api_update_post(post_id: PostId, body: PostPatch, viewer: CurrentViewer) -> PostOut:
    current = service.get_post(post_id=post_id)
    post = service.update_post(
        viewer=viewer,
        post_id=post_id,
        title=current.title if body.title is None else body.title,
        body=current.body if body.body is None else body.body,
    )
    return PostOut.of(post)


@api.delete("/{post_id}", status_code=204, summary="Delete your post")
def api_delete_post(post_id: PostId, viewer: CurrentViewer) -> Response:
    service.delete_post(viewer=viewer, post_id=post_id)
    return Response(status_code=204)
