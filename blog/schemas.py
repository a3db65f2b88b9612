"""What the posts API accepts and returns: the contract `/openapi.json` publishes.

Shaping a response is not a use case, so it lives here, beside the request models, and the
service keeps returning model instances.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

from pydantic import BaseModel, Field, StringConstraints

from blog.service import BODY_MAX, TITLE_MAX
from shared.text import FILLED_LINE_PATTERN, FILLED_TEXT_PATTERN, MANY_LINES, ONE_LINE

if TYPE_CHECKING:
    from blog.models import Post
    from blog.service import PostPage

TIME_NOTE = "UTC, ISO 8601 without an offset (the RDB stores naive UTC)."


Title = Annotated[str, StringConstraints(max_length=TITLE_MAX), ONE_LINE, FILLED_LINE_PATTERN]
"""One line, not blank once trimmed."""
Body = Annotated[str, StringConstraints(max_length=BODY_MAX), MANY_LINES, FILLED_TEXT_PATTERN]
"""Not blank once trimmed."""


class PostIn(BaseModel):
    title: Title
    body: Body


class PostPatch(BaseModel):
    """Only the fields given change; the others keep their current value."""

    title: Title | None = None
    body: Body | None = None


class AuthorOut(BaseModel):
    username: str
    display_name: str


class PostOut(BaseModel):
    id: int
    title: str
    body: str
    author: AuthorOut
    created_at: str = Field(description=TIME_NOTE)
    updated_at: str = Field(description=TIME_NOTE)

    @classmethod
    def of(cls, post: Post) -> PostOut:
        author = AuthorOut(username=post.author.username, display_name=post.author.display_name)
        return cls(
            id=post.id,
            title=post.title,
            body=post.body,
            author=author,
            created_at=post.created_at.isoformat(),
            updated_at=post.updated_at.isoformat(),
        )


class PostsPageOut(BaseModel):
    """One page of posts, newest first; `page` is clamped to `1..pages`."""

    items: list[PostOut]
    page: int
    pages: int
    total: int

    @classmethod
    def of(cls, posts: PostPage) -> PostsPageOut:
        items = [PostOut.of(post) for post in posts.items]
        return cls(items=items, page=posts.page, pages=posts.pages, total=posts.total)
