"""Comments: threads read a page at a time, posts that a retry cannot double, safe edits.

The only code that writes the comments table on a request. The table design (one partition per
post, sort keys in the thread's order, request records, versions) lives in the docstrings of
`Comment` and `CommentRequest`; this module carries it out.
"""

from __future__ import annotations

import re
import secrets
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from pynamodb.constants import ALL_NEW

from engagement import posts
from engagement.comments.models import (
    REQUEST_PREFIX,
    Comment,
    CommentRequest,
    comment_id_at,
    is_comment_id,
    request_sk,
)
from shared import events
from shared.access_patterns import access_pattern
from shared.auth import Viewer
from shared.cursors import decode_cursor, encode_cursor
from shared.database import release_connection
from shared.dynamo import conditional_write, utc_now
from shared.errors import Conflict, Forbidden, InvalidInput, NotFound
from shared.i18n import N_
from shared.i18n import gettext as _
from shared.text import check_text

COMMENT_MAX = 4_000
COMMENTS_PER_PAGE = 20
COMMENTS_PAGE_MAX = 100
REQUEST_TTL = timedelta(hours=24)
CURSOR_MAX_AGE_SECONDS = 24 * 3600
IDEMPOTENCY_KEY_RE = re.compile(r"^[A-Za-z0-9_-]{8,64}$")
STALE_EDIT = N_(
    "This comment was changed after you opened it (in another tab or window?). "
    "Reload to see the current text, then edit again."
)
# PynamoDB builds a condition from `==`; it is not a Python comparison.
NOT_DELETED = Comment.deleted == False  # noqa: E712
IS_DELETED = Comment.deleted == True  # noqa: E712


@dataclass
class CommentNode:
    comment: Comment
    replies: list[CommentNode] = field(default_factory=list)


@dataclass(frozen=True)
class CommentPage:
    """One page of a thread: flat in sort-key order, and as trees.

    `roots` are the top-level comments of the page (with their replies on this page);
    `detached` holds, by parent id, replies whose parent is on an earlier page.
    """

    comments: list[Comment]
    roots: list[CommentNode]
    detached: dict[str, list[CommentNode]]
    next_cursor: str | None


@dataclass(frozen=True)
class CommentResult:
    comment: Comment
    created: bool


def new_idempotency_key() -> str:
    """A fresh key for a comment form: a retried POST of the same form creates one comment."""
    return secrets.token_urlsafe(18)


def _check_comment_id(comment_id: str, *, what: str = N_("comment")) -> str:
    if not is_comment_id(comment_id):
        raise NotFound(
            _("There is no {what} {comment_id!r}.").format(what=_(what), comment_id=comment_id)
        )
    return comment_id


def _check_body(body: str) -> str:
    body = check_text(body.strip(), field="body", multiline=True)
    if not body:
        raise InvalidInput(_("The comment is empty."), field="body")
    if len(body) > COMMENT_MAX:
        raise InvalidInput(
            _("A comment is at most {max:,} characters (this one has {length:,}).").format(
                max=COMMENT_MAX, length=len(body)
            ),
            field="body",
        )
    return body


# -- reading a thread -------------------------------------------------------------------------


def assemble_thread(
    comments: list[Comment],
) -> tuple[list[CommentNode], dict[str, list[CommentNode]]]:
    """Trees from comments in sort-key order, in one pass (a parent precedes its replies).

    A reply whose parent sorts after it (clock skew between servers) is attached afterwards;
    one whose parent is not in the list at all is returned in `detached`.
    """
    nodes: dict[str, CommentNode] = {}
    roots: list[CommentNode] = []
    waiting: dict[str, list[CommentNode]] = defaultdict(list)
    for comment in comments:
        node = nodes[comment.comment_id] = CommentNode(comment)
        node.replies.extend(waiting.pop(comment.comment_id, []))
        if comment.parent_id is None:
            roots.append(node)
        elif comment.parent_id in nodes:
            nodes[comment.parent_id].replies.append(node)
        else:
            waiting[comment.parent_id].append(node)
    return roots, dict(waiting)


@dataclass(frozen=True)
class ThreadStep:
    """Opens `node` at `depth`, or (node None) closes the innermost open comment."""

    node: CommentNode | None
    depth: int


def thread_steps(roots: list[CommentNode]) -> list[ThreadStep]:
    """The trees as open/close steps, depth first, so that a template renders nested replies
    of any depth with a loop instead of recursion (which a deep thread would exhaust)."""
    steps: list[ThreadStep] = []
    stack: list[tuple[CommentNode, int, bool]] = [(node, 0, False) for node in reversed(roots)]
    while stack:
        node, depth, done = stack.pop()
        if done:
            steps.append(ThreadStep(None, depth))
            continue
        steps.append(ThreadStep(node, depth))
        stack.append((node, depth, True))
        stack.extend((reply, depth + 1, False) for reply in reversed(node.replies))
    return steps


def _encode_cursor(post_id: int, comment_id: str) -> str | None:
    return encode_cursor(kind="comments", bound_to=str(post_id), position=comment_id)


def _decode_cursor(post_id: int, cursor: str | None) -> str | None:
    """The last comment id of the previous page, from a cursor of this very post's thread."""
    comment_id: str | None = decode_cursor(
        kind="comments",
        bound_to=str(post_id),
        cursor=cursor,
        is_valid=lambda position: isinstance(position, str) and is_comment_id(position),
        max_age=CURSOR_MAX_AGE_SECONDS,
    )
    return comment_id


@access_pattern(
    name="A page of a post's comments, oldest first",
    model=Comment,
    operation="Query",
    key='post_id = :post AND comment_id < "~", Limit n + 1, ExclusiveStartKey from the cursor',
    page="/posts/{post_id}",
    notes="One item collection; the thread is assembled in the app in one pass. Strongly "
    "consistent: whoever has just posted or edited a comment sees it in the thread.",
    consistency="strong",
)
def list_comments(
    *, post_id: int, cursor: str | None = None, limit: int = COMMENTS_PER_PAGE
) -> CommentPage:
    """A strongly consistent Query: the page that follows posting, editing or deleting a comment
    shows the thread with that change, where an eventually consistent Query may be answered by
    a copy that has not applied it yet. It doubles the RCU of the page (1 per 4 KB of comments
    read instead of 0.5): a thread page of 20 short comments is a few KB, so 1 or 2 RCU.
    """
    if not 1 <= limit <= COMMENTS_PAGE_MAX:
        raise InvalidInput(
            _("A page holds 1 to {max} comments.").format(max=COMMENTS_PAGE_MAX), field="limit"
        )
    after = _decode_cursor(post_id, cursor)
    posts.require_post(post_id=post_id)
    start = None
    if after is not None:
        start = {"post_id": {"N": str(post_id)}, "comment_id": {"S": after}}
    results = Comment.query(
        post_id,
        Comment.comment_id < REQUEST_PREFIX,
        consistent_read=True,
        limit=limit + 1,
        page_size=limit + 1,
        last_evaluated_key=start,
    )
    comments = list(results)
    more = len(comments) > limit
    comments = comments[:limit]
    roots, detached = assemble_thread(comments)
    next_cursor = _encode_cursor(post_id, comments[-1].comment_id) if more else None
    return CommentPage(comments=comments, roots=roots, detached=detached, next_cursor=next_cursor)


@access_pattern(
    name="One comment",
    model=Comment,
    operation="GetItem",
    key="post_id = :post, comment_id = :id",
    page="/posts/{post_id}/comments/{comment_id}",
    notes="Strongly consistent: the permalink, edit and delete of a comment just written or "
    "edited must see that very version.",
    consistency="strong",
)
def get_comment(*, post_id: int, comment_id: str) -> Comment:
    """A strongly consistent GetItem (1 RCU per 4 KB): after an edit the comment's page shows
    the new text; an edit or delete starts from the current version; a retried POST returns the
    comment its first attempt wrote."""
    _check_comment_id(comment_id)
    try:
        return Comment.get(post_id, comment_id, consistent_read=True)
    except Comment.DoesNotExist:
        raise NotFound(
            _("There is no comment {comment_id!r} on post {post_id}.").format(
                comment_id=comment_id, post_id=post_id
            )
        ) from None


# -- posting ----------------------------------------------------------------------------------


@access_pattern(
    name="Post a comment or a reply (idempotent with a key)",
    model=Comment,
    operation="PutItem",
    key="post_id = :post, comment_id = <now>Z-<random>; condition attribute_not_exists",
    page="/posts/{post_id}",
    notes="With a key, first a conditional PutItem of the CommentRequest; a reply also bumps "
    "the parent's reply_count (UpdateItem, condition: parent exists and is not deleted).",
)
def create_comment(
    *,
    post_id: int,
    viewer: Viewer,
    body: str,
    parent_id: str | None = None,
    idempotency_key: str | None = None,
) -> CommentResult:
    body = _check_body(body)
    if parent_id is not None:
        _check_comment_id(parent_id, what=N_("comment to reply to"))
    posts.require_post(post_id=post_id)
    release_connection()  # DynamoDB's turn: the RDB connection goes back to the pool meanwhile
    now = utc_now()
    comment_id = comment_id_at(now, secrets.randbits(48))
    if idempotency_key is not None:
        recorded = _record_request(post_id, viewer, idempotency_key, comment_id, now)
        if isinstance(recorded, Comment):
            return CommentResult(comment=recorded, created=False)
        comment_id = recorded
    if parent_id is not None:
        _add_reply_to(post_id, parent_id)
    comment = Comment(
        post_id,
        comment_id,
        parent_id=parent_id,
        user_id=viewer.user_id,
        username=viewer.username,
        display_name=viewer.display_name or viewer.username,
        body=body,
        created_at=now,
    )
    with conditional_write() as write:
        comment.save(condition=Comment.comment_id.does_not_exist())
    if write.refused:
        return CommentResult(
            comment=get_comment(post_id=post_id, comment_id=comment_id), created=False
        )
    posts.require_post_after_write(
        post_id=post_id,
        event=events.CommentAdded(
            post_id=post_id, comment_id=comment_id, user_id=viewer.user_id, username=viewer.username
        ),
    )
    return CommentResult(comment=comment, created=True)


@access_pattern(
    name="Remember a comment POST by its idempotency key",
    model=CommentRequest,
    operation="PutItem",
    key='post_id = :post, comment_id = "~request#<viewer>#<key>"; '
    "condition attribute_not_exists OR expired",
    notes="On ConditionalCheckFailed: GetItem of the record, then of the comment it names, "
    "both strongly consistent (the first attempt may have written them a moment ago).",
)
def _record_request(
    post_id: int, viewer: Viewer, key: str, comment_id: str, now: datetime
) -> Comment | str:
    """The comment an earlier POST with this key made, or the id this POST must write."""
    if not IDEMPOTENCY_KEY_RE.fullmatch(key):
        raise InvalidInput(
            _("An idempotency key is 8 to 64 characters: letters, digits, '-' and '_'."),
            field="idempotency_key",
        )
    request = CommentRequest(
        post_id,
        request_sk(viewer.user_id, key),
        target_comment_id=comment_id,
        expires_at=now + REQUEST_TTL,
    )
    with conditional_write() as write:
        request.save(
            condition=CommentRequest.comment_id.does_not_exist() | (CommentRequest.expires_at < now)
        )
    if not write.refused:
        return comment_id
    earlier = CommentRequest.get(post_id, request.comment_id, consistent_read=True)
    try:
        return Comment.get(post_id, earlier.target_comment_id, consistent_read=True)
    except Comment.DoesNotExist:
        return earlier.target_comment_id  # the first attempt died before writing its comment


def _adjust_replies(post_id: int, comment_id: str, delta: int, condition: Any) -> Comment:
    """ADD to reply_count without touching `version`: a reply is not an edit of its parent."""
    data = Comment._get_connection().update_item(
        Comment.post_id.serialize(post_id),
        range_key=comment_id,
        actions=[Comment.reply_count.add(delta)],
        condition=condition,
        return_values=ALL_NEW,
    )
    return Comment.from_raw_data(data["Attributes"])


def _add_reply_to(post_id: int, parent_id: str) -> None:
    with conditional_write() as write:
        _adjust_replies(post_id, parent_id, 1, Comment.comment_id.exists() & NOT_DELETED)
    if write.refused:
        raise InvalidInput(_("The comment you are replying to was deleted."), field="parent_id")


# -- editing and deleting ---------------------------------------------------------------------


def _own_comment(post_id: int, comment_id: str, viewer: Viewer) -> Comment:
    comment = get_comment(post_id=post_id, comment_id=comment_id)
    if comment.user_id != viewer.user_id:
        raise Forbidden(_("This comment is not yours."))
    return comment


def comment_to_edit(*, post_id: int, comment_id: str, viewer: Viewer) -> Comment:
    comment = _own_comment(post_id, comment_id, viewer)
    if comment.deleted:
        raise Conflict(_("This comment was deleted; there is nothing to edit."))
    return comment


@access_pattern(
    name="Edit your comment (optimistic locking)",
    model=Comment,
    operation="UpdateItem",
    key="post_id = :post, comment_id = :id; condition version = <the version you saw>",
    page="/posts/{post_id}/comments/{comment_id}/edit",
)
def edit_comment(
    *, post_id: int, comment_id: str, viewer: Viewer, body: str, version: int
) -> Comment:
    body = _check_body(body)
    comment = comment_to_edit(post_id=post_id, comment_id=comment_id, viewer=viewer)
    if comment.version != version:
        raise Conflict(_(STALE_EDIT))
    with conditional_write() as write:
        comment.update(actions=[Comment.body.set(body), Comment.edited_at.set(utc_now())])
    if write.refused:
        raise Conflict(_(STALE_EDIT))
    return comment


@access_pattern(
    name="Delete your comment (keeps the thread's shape)",
    model=Comment,
    operation="DeleteItem",
    key="post_id = :post, comment_id = :id; condition reply_count <= 0",
    page="/posts/{post_id}",
    notes="With replies: UpdateItem deleted = true instead. Then the parent's reply_count - 1, "
    "and a deleted parent left without replies is removed too.",
)
def delete_comment(*, post_id: int, comment_id: str, viewer: Viewer) -> Comment | None:
    """Returns the comment marked deleted, or None when its item is gone."""
    comment = _own_comment(post_id, comment_id, viewer)
    if comment.deleted:
        return comment
    with conditional_write() as write:
        comment.delete(condition=Comment.reply_count <= 0, add_version_condition=False)
    if write.refused:
        comment.update(
            actions=[Comment.deleted.set(True), Comment.body.set("")],
            condition=Comment.comment_id.exists(),
            add_version_condition=False,
        )
        return comment
    _release_parent(post_id, comment.parent_id)
    return None


def _release_parent(post_id: int, parent_id: str | None) -> None:
    """One reply fewer; a deleted parent without replies left goes too, up the thread."""
    while parent_id is not None:
        with conditional_write() as write:
            parent = _adjust_replies(post_id, parent_id, -1, Comment.comment_id.exists())
        if write.refused or not (parent.deleted and parent.reply_count <= 0):
            return
        with conditional_write() as write:
            Comment(post_id, parent_id).delete(
                condition=IS_DELETED & (Comment.reply_count <= 0), add_version_condition=False
            )
        if write.refused:
            return
        parent_id = parent.parent_id
