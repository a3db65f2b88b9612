"""The JSON API's bodies for comments: what a request sends, what a response holds.

Used as the routes' response models, so `/openapi.json` documents every body. Times are
ISO 8601 with the UTC offset ("2026-11-25T13:45:01.123456+00:00").
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, StringConstraints

from engagement.comments.models import Comment
from engagement.comments.service import COMMENT_MAX, CommentPage
from shared.openapi import IsoTime
from shared.text import FILLED_TEXT_PATTERN, MANY_LINES, CleanLine

CommentBody = Annotated[
    str, StringConstraints(max_length=COMMENT_MAX), MANY_LINES, FILLED_TEXT_PATTERN
]
"""Not blank once trimmed."""


class CommentIn(BaseModel):
    body: CommentBody
    parent_id: CleanLine | None = None
    idempotency_key: CleanLine | None = None


class CommentPatch(BaseModel):
    body: CommentBody
    version: int


class AuthorOut(BaseModel):
    user_id: str
    username: str
    display_name: str


class CommentOut(BaseModel):
    """One comment or reply; a deleted one that still has replies keeps its place, empty."""

    comment_id: str
    post_id: int
    parent_id: str | None
    body: str
    deleted: bool
    author: AuthorOut
    created_at: IsoTime
    edited_at: IsoTime | None
    reply_count: int
    version: int

    @classmethod
    def of(cls, comment: Comment) -> CommentOut:
        return cls(
            comment_id=comment.comment_id,
            post_id=int(comment.post_id),
            parent_id=comment.parent_id,
            body=comment.body,
            deleted=bool(comment.deleted),
            author=AuthorOut(
                user_id=comment.user_id,
                username=comment.username,
                display_name=comment.display_name,
            ),
            created_at=comment.created_at,
            edited_at=comment.edited_at,
            reply_count=int(comment.reply_count),
            version=int(comment.version),
        )


class CommentPageOut(BaseModel):
    """One page of a thread, oldest first and flat; `next_cursor` is null on the last page."""

    items: list[CommentOut]
    next_cursor: str | None

    @classmethod
    def of(cls, page: CommentPage) -> CommentPageOut:
        return cls(items=[CommentOut.of(c) for c in page.comments], next_cursor=page.next_cursor)
