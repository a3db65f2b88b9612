"""Blog use cases: users and posts. The only code that touches blog.models.

Creating and deleting a post also concern DynamoDB (the activity log; likes and comments to
remove). Those effects travel as events recorded in the outbox inside the same RDB transaction
as the post itself, so neither side is silently lost when DynamoDB is down.
"""

from __future__ import annotations

import functools
import math
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import peewee
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerifyMismatchError

from blog.models import Post, User, utcnow
from shared import events
from shared.auth import Viewer
from shared.database import database
from shared.errors import Conflict, Forbidden, InvalidInput, NotAuthenticated, NotFound
from shared.i18n import gettext as _
from shared.seeding import Progress, SeedPlan
from shared.text import check_text

AUTHOR_COLUMNS = (User.id, User.username, User.display_name)  # never the password hash
USERNAME_RE = re.compile(r"^[a-z0-9_]{3,30}$")
PASSWORD_MIN, PASSWORD_MAX = 8, 128
DISPLAY_NAME_MAX = 50
TITLE_MAX = 200
BODY_MAX = 20_000
PER_PAGE = 10

_hasher = PasswordHasher()


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


def _check_password(password: str) -> str:
    if not PASSWORD_MIN <= len(password) <= PASSWORD_MAX:
        raise InvalidInput(
            _("A password is {min} to {max} characters.").format(
                min=PASSWORD_MIN, max=PASSWORD_MAX
            ),
            field="password",
        )
    return check_text(password, field="password")


@dataclass(frozen=True)
class NewUser:
    """A checked sign-up whose password is already hashed: nothing left but the insert."""

    username: str
    display_name: str
    password_hash: str


def prepare_user(*, username: str, password: str, display_name: str = "") -> NewUser:
    """Check the fields and hash the password (argon2, slow on purpose), touching no store, so a
    caller can do this before it opens a transaction instead of holding the write lock for it."""
    username = _check_username(username)
    _check_password(password)
    display_name = check_text(display_name.strip(), field="display_name") or username
    if len(display_name) > DISPLAY_NAME_MAX:
        raise InvalidInput(
            _("A display name is at most {max} characters.").format(max=DISPLAY_NAME_MAX),
            field="display_name",
        )
    return NewUser(username, display_name, _hasher.hash(password))


def add_user(*, new_user: NewUser) -> User:
    """Insert a prepared user; a taken username is a conflict."""
    try:
        with database.atomic():
            return User.create(  # type: ignore[no-any-return]
                username=new_user.username,
                display_name=new_user.display_name,
                password_hash=new_user.password_hash,
            )
    except peewee.IntegrityError:
        raise Conflict(
            _("The username {username!r} is taken.").format(username=new_user.username),
            field="username",
        ) from None


def create_user(*, username: str, password: str, display_name: str = "") -> User:
    return add_user(
        new_user=prepare_user(username=username, password=password, display_name=display_name)
    )


@functools.cache
def _unknown_user_hash() -> str:
    """A hash of a password nobody knows, with the hasher's current parameters."""
    return _hasher.hash(secrets.token_urlsafe(32))


def authenticate(*, username: str, password: str) -> User:
    """The user whose password this is; the same error whether the name or password is wrong.

    An unknown username is checked against a hash too, so both answers take one argon2 check:
    without it an unknown name answers about a hundred times sooner, which tells a guesser
    which usernames exist.
    """
    user = User.get_or_none(User.username == username.strip().lower())
    try:
        if user is None:
            _hasher.verify(_unknown_user_hash(), password)
            raise VerifyMismatchError
        _hasher.verify(user.password_hash, password)
    except (VerifyMismatchError, InvalidHashError):
        raise NotAuthenticated(_("Wrong username or password.")) from None
    return user  # type: ignore[no-any-return]


def find_user(*, username: str) -> User:
    user = User.get_or_none(User.username == username.strip().lower())
    if user is None:
        raise NotFound(_("There is no user {username!r}.").format(username=username))
    return user  # type: ignore[no-any-return]


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


DEMO_PASSWORD = "demo-password"
POSTS_PER_ROUND = 500  # demo posts per transaction, their events delivered together
DEMO_NAMES = [
    "alice",
    "bob",
    "carol",
    "dave",
    "erin",
    "frank",
    "grace",
    "heidi",
    "ivan",
    "judy",
    "mallory",
    "niaj",
    "olivia",
    "peggy",
    "rupert",
    "sybil",
]
DEMO_TOPICS = [
    "Access patterns first",
    "Why my sort key has a random suffix",
    "GSIs are extra doors",
    "Counting likes without losing any",
    "Hot partitions, cool heads",
    "TTL as a garbage collector",
    "Scan is a full-table walk",
    "What stays in the RDB",
    "Single-table or not",
    "Pagination that never repeats",
    "Conditional writes explained",
    "Sessions that expire",
    "Reading the capacity bill",
    "Strongly consistent reads, and when to pay for them",
    "Sparse indexes on purpose",
    "Projections: ALL, KEYS_ONLY or INCLUDE",
    "Idempotent retries",
    "Optimistic locking with a version number",
    "Transactions cost twice",
    "BatchWriteItem and its unprocessed items",
    "Item collections and their size",
    "The 400 KB item limit",
    "Write sharding a counter",
    "Time-bucketed feeds",
    "Filter expressions do not save reads",
    "Designing for one query at a time",
    "Moving a table to on-demand",
    "Streams for side effects",
    "Keys that sort by time",
    "Deleting a post and everything under it",
    "Outbox before events",
    "Local engine, real AWS",
    "Query with a Limit",
    "Counting without a COUNT(*)",
    "Composite sort keys",
    "Where GSIs lag behind",
    "Lessons from a hot key",
    "ProjectionExpression trims the payload, not the bill",
    "Throttling and how to see it",
    "Modelling comments as one item collection",
]


def seed_size(plan: SeedPlan) -> int:
    return plan.users + plan.posts


def seed_demo(plan: SeedPlan, progress: Progress) -> int:
    """Demo users (password `demo-password`) and posts spread over the last 30 days. Idempotent:
    existing demo users are reused and only the missing number of posts is written.

    The password is hashed once for all demo users (argon2 takes ~0.1 s on purpose; they share
    the password, so a salt each buys nothing), and the posts go in transactions of 500 with
    their events, delivered as runs: 2 BatchWriteItems for 40 "post" activities, not 40 PutItems.
    """
    names = [DEMO_NAMES[i] if i < len(DEMO_NAMES) else f"demo_{i}" for i in range(plan.users)]
    created = 0
    demo_hash: str | None = None
    for name in names:
        user = User.get_or_none(User.username == name)
        if user is None:
            demo_hash = demo_hash or _hasher.hash(DEMO_PASSWORD)
            user = add_user(new_user=NewUser(_check_username(name), name.title(), demo_hash))
            created += 1
        plan.viewers.append(viewer_of(user))
        progress(1)
    author_ids = [int(v.user_id) for v in plan.viewers]
    existing = Post.select().where(Post.author.in_(author_ids)).count()
    progress(min(existing, plan.posts))
    for numbers in peewee.chunked(range(existing, plan.posts), POSTS_PER_ROUND):
        with database.atomic():
            rows = [_demo_post(plan, i) for i in numbers]
        events.deliver(rows)
        created += len(rows)
        progress(len(rows))
    demo_posts = Post.select(Post.id, Post.created_at).where(Post.author.in_(author_ids))
    plan.post_times = {p.id: p.created_at.replace(tzinfo=UTC) for p in demo_posts.order_by(Post.id)}
    plan.post_ids = list(plan.post_times)
    return created


def _demo_title(i: int) -> str:
    """Distinct titles: the topics in order, then the same topics as numbered sequels."""
    topic = DEMO_TOPICS[i % len(DEMO_TOPICS)]
    sequel = i // len(DEMO_TOPICS)
    return f"{topic}, part {sequel + 1}" if sequel else topic


def _demo_post(plan: SeedPlan, i: int) -> int:
    """Demo post number i (with its outbox event, in the caller's transaction); the event row."""
    viewer = plan.viewers[i % len(plan.viewers)]
    topic = DEMO_TOPICS[i % len(DEMO_TOPICS)]
    when = utcnow() - timedelta(minutes=(plan.posts - i) * 30 * 24 * 60 // max(plan.posts, 1))
    body = f"{topic}: demo post {i + 1} by {viewer.display_name}.\n\n" + (
        "DynamoDB rewards knowing your access patterns before you pick your keys. " * 3
    )
    _, row = _insert_post(viewer, _demo_title(i), body, when)
    return row
