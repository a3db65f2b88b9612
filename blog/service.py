"""Blog use cases: users and posts. The only code that touches blog.models.

Creating and deleting a post also concern DynamoDB (the activity log; likes and comments to
remove). Those effects travel as events recorded in the outbox inside the same RDB transaction
as the post itself, so neither side is silently lost when DynamoDB is down.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import UTC, datetime

import peewee

from blog.models import Post, User, utcnow
from shared import events
from shared.auth import Viewer
from shared.database import database
from shared.errors import Conflict, Forbidden, InvalidInput, NotFound
from shared.i18n import gettext as _
from shared.text import check_text

AUTHOR_COLUMNS = (User.id, User.username, User.display_name)  # never the password hash
USERNAME_RE = re.compile(r"^[a-z0-9_]{3,30}$")
DISPLAY_NAME_MAX = 50
TITLE_MAX = 200
BODY_MAX = 20_000
PER_PAGE = 10


@dataclass(frozen=True)
class PostPage:
    items: list[Post]
    page: int
    pages: int
    total: int

    @property
    def has_next(self) -> bool:
        return self.page < self.pages

    @property
    def has_prev(self) -> bool:
        return self.page > 1


def viewer_of(user: User) -> Viewer:
    return Viewer(user_id=str(user.id), username=user.username, display_name=user.display_name)


def _check_username(username: str) -> str:
    username = username.strip().lower()
    if not USERNAME_RE.fullmatch(username):
        raise InvalidInput(
            _("A username is 3 to 30 characters: lowercase letters, digits and _."),
            field="username",
        )
    return username


@dataclass(frozen=True)
class NewUser:
    """A checked sign-up's names: nothing left but the insert."""

    username: str
    display_name: str


def prepare_user(*, username: str, display_name: str = "") -> NewUser:
    """Check the name fields, touching no store, so a caller can do this (and hash the password,
    slow on purpose) before it opens a transaction instead of holding the write lock for it."""
    username = _check_username(username)
    display_name = check_text(display_name.strip(), field="display_name") or username
    if len(display_name) > DISPLAY_NAME_MAX:
        raise InvalidInput(
            _("A display name is at most {max} characters.").format(max=DISPLAY_NAME_MAX),
            field="display_name",
        )
    return NewUser(username, display_name)


def add_user(*, new_user: NewUser, password_hash: str) -> User:
    """Insert a prepared user with the hash of their password; a taken username is a conflict."""
    try:
        with database.atomic():
            return User.create(
                username=new_user.username,
                display_name=new_user.display_name,
                password_hash=password_hash,
            )
    except peewee.IntegrityError:
        raise Conflict(
            _("The username {username!r} is taken.").format(username=new_user.username),
            field="username",
        ) from None


@dataclass(frozen=True)
class StoredPassword:
    """What sign-in needs of a user: who it is, and the hash to check a password against."""

    viewer: Viewer
    password_hash: str


def stored_password(*, username: str) -> StoredPassword | None:
    """The user of this name with their password hash, or None when there is none."""
    user = User.get_or_none(User.username == username.strip().lower())
    return StoredPassword(viewer_of(user), user.password_hash) if user is not None else None


def find_user(*, username: str) -> User:
    user = User.get_or_none(User.username == username.strip().lower())
    if user is None:
        raise NotFound(_("There is no user {username!r}.").format(username=username))
    return user


def find_user_by_id(*, user_id: str) -> User | None:
    return User.get_or_none(User.id == int(user_id)) if user_id.isdigit() else None


def user_count() -> int:
    return int(User.select().count())


def list_posts(*, page: int = 1, per_page: int = PER_PAGE) -> PostPage:
    """Newest first, with their authors in the same query (a JOIN: the RDB's strength)."""
    total = Post.select().count()
    pages = max(1, math.ceil(total / per_page))
    page = min(max(1, page), pages)
    query = (
        Post.select(Post, *AUTHOR_COLUMNS)
        .join(User)
        .order_by(Post.created_at.desc(), Post.id.desc())
        .paginate(page, per_page)
    )
    return PostPage(items=list(query), page=page, pages=pages, total=total)


def get_post(*, post_id: int) -> Post:
    post = Post.select(Post, *AUTHOR_COLUMNS).join(User).where(Post.id == post_id).first()
    if post is None:
        raise NotFound(_("There is no post {post_id}.").format(post_id=post_id))
    return post  # type: ignore[no-any-return]


def post_exists(*, post_id: int) -> bool:
    return bool(Post.select().where(Post.id == post_id).exists())


def post_titles(*, post_ids: list[int]) -> dict[int, str]:
    return {p.id: p.title for p in Post.select(Post.id, Post.title).where(Post.id.in_(post_ids))}


def _check_post(title: str, body: str) -> tuple[str, str]:
    title = check_text(title.strip(), field="title")
    body = check_text(body.strip(), field="body", multiline=True)
    if not title:
        raise InvalidInput(_("The title is empty."), field="title")
    if len(title) > TITLE_MAX:
        raise InvalidInput(
            _("The title is over {max} characters.").format(max=TITLE_MAX), field="title"
        )
    if not body:
        raise InvalidInput(_("The body is empty."), field="body")
    if len(body) > BODY_MAX:
        raise InvalidInput(
            _("The body is over {max:,} characters.").format(max=BODY_MAX), field="body"
        )
    return title, body


def _own_post(viewer: Viewer, post_id: int) -> Post:
    post = get_post(post_id=post_id)
    if str(post.author_id) != viewer.user_id:
        raise Forbidden(_("This post is not yours."))
    return post


def create_post(
    *, viewer: Viewer, title: str, body: str, created_at: datetime | None = None
) -> Post:
    title, body = _check_post(title, body)
    with database.atomic():
        post, row = _insert_post(viewer, title, body, created_at or utcnow())
    events.deliver([row])
    return get_post(post_id=post.id)


def _insert_post(viewer: Viewer, title: str, body: str, when: datetime) -> tuple[Post, int]:
    """The post and its PostCreated event, in the caller's transaction; the event's row id."""
    post = Post.create(
        title=title, body=body, author=int(viewer.user_id), created_at=when, updated_at=when
    )
    row = events.record(
        events.PostCreated(
            post_id=post.id,
            user_id=viewer.user_id,
            username=viewer.username,
            title=title,
            occurred_at=when.replace(tzinfo=UTC).timestamp(),
        )
    )
    return post, row


def update_post(*, viewer: Viewer, post_id: int, title: str, body: str) -> Post:
    post = _own_post(viewer, post_id)
    title, body = _check_post(title, body)
    post.title, post.body, post.updated_at = title, body, utcnow()
    post.save()
    return post


def delete_post(*, viewer: Viewer, post_id: int) -> None:
    """Deletes the post; its likes and comments in DynamoDB follow through the outbox."""
    post = _own_post(viewer, post_id)
    with database.atomic():
        post.delete_instance()
        row = events.record(
            events.PostDeleted(post_id=post_id, user_id=viewer.user_id, username=viewer.username)
        )
    events.deliver([row])


def newest_post_id() -> str | None:
    """An example for pages that take a post id (the design page's "run it" links)."""
    post = Post.select(Post.id).order_by(Post.id.desc()).first()
    return None if post is None else str(post.id)


def newest_username() -> str | None:
    user = User.select(User.username).order_by(User.id.desc()).first()
    return None if user is None else str(user.username)
