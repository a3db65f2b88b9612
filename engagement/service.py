"""Engagement use cases: likes and comments. The only code that touches engagement.models.

The table design, and why each write is shaped the way it is, lives in the model docstrings;
this module carries the protocols out. Posts belong to the blog context: it is asked through
its service whether a post exists and who wrote it.
"""

from __future__ import annotations

import random
import re
import secrets
import time
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from pynamodb.constants import ALL_NEW
from pynamodb.exceptions import DeleteError, PutError, PynamoDBException, UpdateError
from pynamodb.models import Model

from blog import service as blog_service
from engagement.models import (
    COUNT_SK,
    REQUEST_PREFIX,
    USER_SK_PREFIX,
    Comment,
    CommentRequest,
    LikeCounter,
    UserLike,
)
from lens.access_patterns import access_pattern
from shared import events
from shared.auth import Viewer
from shared.cursors import decode_cursor, encode_cursor
from shared.dynamo import (
    UnprocessedWrites,
    backoff_delay,
    batch_write,
    bound_client,
    bound_settings,
)
from shared.errors import Conflict, Forbidden, InvalidInput, NotFound, ServiceUnavailable
from shared.i18n import N_
from shared.i18n import gettext as _
from shared.seeding import Progress, SeedPlan

AUTO_SHARD_AT = 1_000
AUTO_SHARDS = 8
MAX_SHARDS = 32
HOT_CACHE_SECONDS = 30.0
HOT_CACHE_MAX = 10_000
CONCURRENT_CLICK_WAITS = (0.02, 0.05, 0.1, 0.2, 0.4)
BATCH_GET_MAX, BATCH_ATTEMPTS = 100, 8

COMMENT_MAX = 4_000
COMMENTS_PER_PAGE = 20
COMMENTS_PAGE_MAX = 100
REQUEST_TTL = timedelta(hours=24)
CURSOR_MAX_AGE_SECONDS = 24 * 3600
COMMENT_ID_RE = re.compile(r"^\d{8}T\d{12}Z-[0-9a-f]{12}$")
IDEMPOTENCY_KEY_RE = re.compile(r"^[A-Za-z0-9_-]{8,64}$")
STALE_EDIT = N_(
    "This comment was changed after you opened it (in another tab or window?). "
    "Reload to see the current text, then edit again."
)
# PynamoDB builds a condition from `==`; it is not a Python comparison.
NOT_DELETED = Comment.deleted == False  # noqa: E712
IS_DELETED = Comment.deleted == True  # noqa: E712


def _now() -> datetime:
    return datetime.now(UTC)


def _condition_failed(error: PynamoDBException) -> bool:
    return error.cause_response_code == "ConditionalCheckFailedException"


def require_post(*, post_id: int) -> None:
    if not blog_service.post_exists(post_id=post_id):
        raise NotFound(_("There is no post {post_id}.").format(post_id=post_id))


def _forget_if_post_vanished(post_id: int) -> None:
    """A post deleted while this write was in flight would leave the write an orphan: its
    clean-up may already have run. The delete commits in the RDB before its clean-up starts,
    and this check runs after our write has landed, so one side always sees the other: either
    the clean-up finds our item, or we find the post gone and clean up ourselves."""
    if not blog_service.post_exists(post_id=post_id):
        delete_engagement_of_post(post_id=post_id)
        raise NotFound(_("There is no post {post_id}.").format(post_id=post_id))


def is_post_author(*, viewer: Viewer, post_id: int) -> bool:
    return str(blog_service.get_post(post_id=post_id).author_id) == viewer.user_id


# -- likes: keys ------------------------------------------------------------------------------


@dataclass(frozen=True)
class LikeSummary:
    count: int
    liked_by_me: bool
    shards: int


@dataclass(frozen=True)
class LikeChange:
    summary: LikeSummary
    changed: bool


def _shard_key(post_id: int, shard: int) -> str:
    """Shard 0 is the home counter ("42"); shard s > 0 has its own partition key ("42#s")."""
    return str(post_id) if shard == 0 else f"{post_id}#{shard}"


def _user_sk(user_id: str) -> str:
    return USER_SK_PREFIX + user_id


def _token(item: UserLike) -> str:
    """Names one state change of one user's like: the idempotency key of its counter bump."""
    return f"{item.user_id}:{item.version}"


# Hot posts seen recently, post_id -> (shards, until). A stale entry is harmless: too small an
# N only concentrates writes for a while (readers sum every shard the home counter names), and
# a shard that does not exist fails the condition in `_settle`, which then uses the home counter.
_hot_posts: dict[int, tuple[int, float]] = {}


def _remember_shards(post_id: int, shards: int) -> None:
    if shards <= 1:
        _hot_posts.pop(post_id, None)
        return
    if len(_hot_posts) >= HOT_CACHE_MAX:
        _hot_posts.clear()
    _hot_posts[post_id] = (shards, time.monotonic() + HOT_CACHE_SECONDS)


def _pick_shard(post_id: int) -> int:
    """A random shard of a known hot post; else the home counter, whose reply tells N."""
    shards, until = _hot_posts.get(post_id, (1, 0.0))
    return random.randrange(shards) if until > time.monotonic() else 0


def _in_flight_limit() -> timedelta:
    """Longer than any request can keep a like's steps in flight (timeouts x attempts x steps)."""
    settings = bound_settings()
    per_call = settings.dynamodb_timeout_seconds * 3 * (1 + settings.dynamodb_max_retries)
    return timedelta(seconds=4 * per_call + 10)


# -- likes: reads -----------------------------------------------------------------------------


def _chunks(items: list[Any], size: int) -> Iterator[list[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _batch_get_likes(keys: Iterable[tuple[str, str]], *, consistent: bool) -> list[dict[str, Any]]:
    """Raw items of the likes table, UnprocessedKeys retried with backoff."""
    connection = LikeCounter._get_connection()
    table = LikeCounter.Meta.table_name
    wanted = [{"post_id": pk, "sk": sk} for pk, sk in dict.fromkeys(keys)]
    found: list[dict[str, Any]] = []
    for chunk in _chunks(wanted, BATCH_GET_MAX):
        pending: list[dict[str, Any]] = chunk
        for attempt in range(BATCH_ATTEMPTS):
            if attempt:
                time.sleep(backoff_delay(attempt))
            data = connection.batch_get_item(pending, consistent_read=consistent)  # type: ignore[arg-type]
            found.extend(data.get("Responses", {}).get(table, []))
            pending = data.get("UnprocessedKeys", {}).get(table, {}).get("Keys", [])
            if not pending:
                break
        else:
            raise ServiceUnavailable(_("DynamoDB kept some like counters unprocessed. Try again."))
    return found


def _counters_by_key(raw_items: list[dict[str, Any]]) -> dict[str, LikeCounter]:
    return {
        item["post_id"]["S"]: LikeCounter.from_raw_data(item)
        for item in raw_items
        if item["sk"]["S"] == COUNT_SK
    }


def _counter_keys(post_id: int, shards: range) -> list[tuple[str, str]]:
    return [(_shard_key(post_id, s), COUNT_SK) for s in shards]


def _known_shards(post_id: int) -> int:
    shards, until = _hot_posts.get(post_id, (1, 0.0))
    return shards if until > time.monotonic() else 1


def _totals(
    post_ids: list[int], raw: list[dict[str, Any]], asked: set[str], *, consistent: bool
) -> dict[int, tuple[int, int]]:
    """(count, shards) of each post, the count summed over its shards.

    Shards the first BatchGetItem did not ask for (the post became hot since this process last
    saw it) are fetched with one more BatchGetItem.
    """
    counters = _counters_by_key(raw)
    shards = {p: int(h.shards or 1) if (h := counters.get(str(p))) else 1 for p in post_ids}
    missing = [
        key
        for p, n in shards.items()
        for key in _counter_keys(p, range(1, n))
        if key[0] not in asked
    ]
    if missing:
        counters |= _counters_by_key(_batch_get_likes(missing, consistent=consistent))
    for post_id, n in shards.items():
        _remember_shards(post_id, n)
    return {
        p: (
            sum(int(c.like_count) for k, _ in _counter_keys(p, range(n)) if (c := counters.get(k))),
            n,
        )
        for p, n in shards.items()
    }


@access_pattern(
    name="Like count of a post, and whether the viewer liked it",
    model=LikeCounter,
    operation="BatchGetItem",
    key='(post_id = "<post>" and each "<post>#<s>", sk = "COUNT"), '
    '(post_id = "<post>", sk = "USER#<viewer>")',
    page="/posts/{post_id}",
    notes="One request; a second one only when the post became hot since this server last saw it.",
)
def like_summary(
    *, post_id: int, user_id: str | None = None, consistent: bool = False
) -> LikeSummary:
    keys = _counter_keys(post_id, range(_known_shards(post_id)))
    if user_id:
        keys.append((_shard_key(post_id, 0), _user_sk(user_id)))
    raw = _batch_get_likes(keys, consistent=consistent)
    mine = [UserLike.from_raw_data(item) for item in raw if item["sk"]["S"] != COUNT_SK]
    asked = {pk for pk, _ in keys}
    count, shards = _totals([post_id], raw, asked, consistent=consistent)[post_id]
    return LikeSummary(count=count, liked_by_me=bool(mine and mine[0].liked), shards=shards)


@access_pattern(
    name="Like counts of a page of posts",
    model=LikeCounter,
    operation="BatchGetItem",
    key='post_id IN ("<post 1>", ..., "<post n>" and the shards of known hot posts), sk = "COUNT"',
    page="/",
    notes="One request for the whole page (up to 100 keys), not one read per post.",
)
def like_counts(*, post_ids: list[int]) -> dict[int, int]:
    if not post_ids:
        return {}
    keys = [key for p in post_ids for key in _counter_keys(p, range(_known_shards(p)))]
    raw = _batch_get_likes(keys, consistent=False)
    totals = _totals(post_ids, raw, {pk for pk, _ in keys}, consistent=False)
    return {post_id: count for post_id, (count, _) in totals.items()}


# -- likes: writes ----------------------------------------------------------------------------


@access_pattern(
    name="Like a post (idempotent, counted exactly once)",
    model=UserLike,
    operation="UpdateItem",
    key='post_id = "<post>", sk = "USER#<viewer>"; condition: not liked, no bump pending',
    page="/posts/{post_id}",
    notes="Then a conditional ADD on one counter shard; see UserLike's docstring.",
)
def like_post(*, post_id: int, viewer: Viewer) -> LikeChange:
    return _set_like(post_id, viewer, want=True)


@access_pattern(
    name="Unlike a post (idempotent, counted exactly once)",
    model=UserLike,
    operation="UpdateItem",
    key='post_id = "<post>", sk = "USER#<viewer>"; condition: liked, no bump pending',
    page="/posts/{post_id}",
    notes="Then a conditional ADD -1 on one counter shard.",
)
def unlike_post(*, post_id: int, viewer: Viewer) -> LikeChange:
    return _set_like(post_id, viewer, want=False)


def _set_like(post_id: int, viewer: Viewer, *, want: bool) -> LikeChange:
    """Change the state if needed; publish an event only when it really changed."""
    require_post(post_id=post_id)
    changed = _change_state(post_id, viewer.user_id, want)
    _forget_if_post_vanished(post_id)
    if changed:
        event_type = events.PostLiked if want else events.PostUnliked
        events.publish(
            event_type(post_id=post_id, user_id=viewer.user_id, username=viewer.username)
        )
    summary = like_summary(post_id=post_id, user_id=viewer.user_id, consistent=True)
    return LikeChange(summary=summary, changed=changed)


def _change_state(post_id: int, user_id: str, want: bool) -> bool:
    """True if this call changed the state (and counted it); False if it was already so."""
    for wait in (*CONCURRENT_CLICK_WAITS, None):
        started = _start_change(post_id, user_id, want)
        if started is not None:
            _settle(started)
            return True
        current = _user_like(post_id, user_id)
        if current is None or current.pending_shard is None:
            if (current is not None and current.liked) == want:
                return False
        elif _now() - current.pending_since > _in_flight_limit():
            _settle_stale(current)
        elif current.liked == want:
            return False  # the same click, still being counted by a concurrent request
        if wait is not None:
            time.sleep(wait)
    raise Conflict(_("Your previous click on this post is still being counted. Try again shortly."))


def _user_like(post_id: int, user_id: str) -> UserLike | None:
    try:
        return UserLike.get(_shard_key(post_id, 0), _user_sk(user_id), consistent_read=True)
    except UserLike.DoesNotExist:
        return None


def _start_change(post_id: int, user_id: str, want: bool) -> UserLike | None:
    """Step 1: flip the user's state and mark the bump pending, or None if the state is taken."""
    was = UserLike.liked == (not want)
    if want:
        was = was | UserLike.liked.does_not_exist()
    item = UserLike(_shard_key(post_id, 0), _user_sk(user_id))
    now = _now()
    try:
        item.update(
            actions=[
                UserLike.user_id.set(user_id),
                UserLike.liked.set(want),
                UserLike.version.add(1),
                UserLike.changed_at.set(now),
                UserLike.pending_shard.set(_pick_shard(post_id)),
                UserLike.pending_since.set(now),
            ],
            condition=was & UserLike.pending_shard.does_not_exist(),
        )
    except UpdateError as error:
        if _condition_failed(error):
            return None
        raise
    return item


@access_pattern(
    name="Count a like change exactly once on one counter shard",
    model=LikeCounter,
    operation="UpdateItem",
    key='post_id = "<post>" or "<post>#<shard>", sk = "COUNT"; '
    "ADD like_count :d, inflight {token}; condition NOT contains(inflight, :token)",
    notes="Then REMOVE pending_shard on the UserLike, then DELETE the token from inflight.",
)
def _settle(item: UserLike) -> None:
    """Steps 2-3. Safe to replay: the token makes the bump happen once."""
    post_id = int(item.post_id)
    shard = int(item.pending_shard)
    token = _token(item)
    counter = LikeCounter(_shard_key(post_id, shard), COUNT_SK)
    once = ~LikeCounter.inflight.contains(token)
    try:
        counter.update(
            actions=[
                LikeCounter.like_count.add(1 if item.liked else -1),
                LikeCounter.inflight.add({token}),
            ],
            # Shards are created at promotion: a missing one means a stale hot-post cache.
            condition=once & LikeCounter.post_id.exists() if shard else once,
        )
        bumped = True
    except UpdateError as error:
        if not _condition_failed(error):
            raise
        if shard and not _counter_exists(post_id, shard):
            _repoint_to_home(item)
            return
        bumped = False
    _ignore_condition_failure(
        lambda: item.update(
            actions=[UserLike.pending_shard.remove(), UserLike.pending_since.remove()],
            condition=UserLike.version == item.version,
        )
    )
    _ignore_condition_failure(
        lambda: counter.update(
            actions=[LikeCounter.inflight.delete({token})], condition=LikeCounter.post_id.exists()
        )
    )
    if bumped and shard == 0:
        _after_home_write(post_id, counter)


def _counter_exists(post_id: int, shard: int) -> bool:
    try:
        LikeCounter.get(_shard_key(post_id, shard), COUNT_SK, consistent_read=True)
    except LikeCounter.DoesNotExist:
        return False
    return True


def _repoint_to_home(item: UserLike) -> None:
    """The chosen shard does not exist (the post is not, or no longer, hot): use shard 0."""
    _hot_posts.pop(int(item.post_id), None)
    try:
        item.update(
            actions=[UserLike.pending_shard.set(0)],
            condition=(UserLike.version == item.version)
            & (UserLike.pending_shard == item.pending_shard),
        )
    except UpdateError as error:
        if _condition_failed(error):
            return
        raise
    _settle(item)


def _ignore_condition_failure(write: Any) -> None:
    try:
        write()
    except (UpdateError, PutError, DeleteError) as error:
        if not _condition_failed(error):
            raise


def _settle_stale(item: UserLike) -> bool:
    """Replay the steps of a change whose request died; claim it first so only one replays it."""
    try:
        item.update(
            actions=[UserLike.pending_since.set(_now())],
            condition=(UserLike.version == item.version)
            & (UserLike.pending_since == item.pending_since),
        )
    except UpdateError as error:
        if _condition_failed(error):
            return False
        raise
    _settle(item)
    return True


def _after_home_write(post_id: int, home: LikeCounter) -> None:
    """The home counter's reply tells N, and whether the post just became hot."""
    shards = int(home.shards or 1)
    _remember_shards(post_id, shards)
    if shards == 1 and int(home.like_count) >= AUTO_SHARD_AT:
        promote_hot_post(post_id=post_id, shards=AUTO_SHARDS)


@access_pattern(
    name="Finish like changes whose request died midway",
    model=UserLike,
    operation="Query",
    key='post_id = "<post>", sk BEGINS_WITH "USER#"; filter attribute_exists(pending_shard)',
    notes="Operators' repair; the same user's next click also finishes their own.",
)
def settle_pending_likes(*, post_id: int) -> int:
    """Replays every stale pending change of a post; returns how many it finished."""
    pending = UserLike.query(
        _shard_key(post_id, 0),
        UserLike.sk.startswith(USER_SK_PREFIX),
        filter_condition=UserLike.pending_shard.exists(),
        consistent_read=True,
    )
    limit = _in_flight_limit()
    return sum(_settle_stale(item) for item in pending if _now() - item.pending_since > limit)


@access_pattern(
    name="Shard a hot post's like counter",
    model=LikeCounter,
    operation="PutItem + UpdateItem",
    key='post_id = "<post>#<s>", sk = "COUNT" for each new shard; then the home counter',
    page="/posts/{post_id}",
    notes="Creates the new shard items, then sets `shards` on the home counter (N only grows).",
)
def promote_hot_post(*, post_id: int, shards: int) -> int:
    """Spread the post's counter over `shards` partition keys. Returns the post's N."""
    if not 2 <= shards <= MAX_SHARDS:
        raise InvalidInput(
            _("A counter is split into 2 to {max} shards.").format(max=MAX_SHARDS), field="shards"
        )
    try:
        home = LikeCounter.get(_shard_key(post_id, 0), COUNT_SK, consistent_read=True)
        current = int(home.shards or 1)
    except LikeCounter.DoesNotExist:
        current = 1
    if shards <= current:
        return current
    for shard in range(current, shards):
        _ignore_condition_failure(
            lambda s=shard: LikeCounter(_shard_key(post_id, s), COUNT_SK, like_count=0).save(
                condition=LikeCounter.post_id.does_not_exist()
            )
        )
    _ignore_condition_failure(
        lambda: LikeCounter(_shard_key(post_id, 0), COUNT_SK).update(
            actions=[LikeCounter.shards.set(shards), LikeCounter.like_count.add(0)],
            condition=LikeCounter.shards.does_not_exist() | (LikeCounter.shards < shards),
        )
    )
    _remember_shards(post_id, shards)
    return shards


def promote_hot_post_as_author(*, viewer: Viewer, post_id: int, shards: int) -> int:
    if not is_post_author(viewer=viewer, post_id=post_id):
        raise Forbidden(_("Only the post's author can shard its like counter."))
    return promote_hot_post(post_id=post_id, shards=shards)


# -- comments ---------------------------------------------------------------------------------


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


def _new_comment_id(now: datetime) -> str:
    return f"{now:%Y%m%dT%H%M%S%f}Z-{secrets.token_hex(6)}"


def _check_comment_id(comment_id: str, *, what: str = N_("comment")) -> str:
    if not COMMENT_ID_RE.fullmatch(comment_id):
        raise NotFound(
            _("There is no {what} {comment_id!r}.").format(what=_(what), comment_id=comment_id)
        )
    return comment_id


def _check_body(body: str) -> str:
    body = body.strip()
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
        is_valid=lambda position: (
            isinstance(position, str) and COMMENT_ID_RE.fullmatch(position) is not None
        ),
        max_age=CURSOR_MAX_AGE_SECONDS,
    )
    return comment_id


@access_pattern(
    name="A page of a post's comments, oldest first",
    model=Comment,
    operation="Query",
    key='post_id = :post AND comment_id < "~", Limit n + 1, ExclusiveStartKey from the cursor',
    page="/posts/{post_id}",
    notes="One partition; the thread is assembled in the app in one pass.",
)
def list_comments(
    *, post_id: int, cursor: str | None = None, limit: int = COMMENTS_PER_PAGE
) -> CommentPage:
    if not 1 <= limit <= COMMENTS_PAGE_MAX:
        raise InvalidInput(
            _("A page holds 1 to {max} comments.").format(max=COMMENTS_PAGE_MAX), field="limit"
        )
    after = _decode_cursor(post_id, cursor)
    require_post(post_id=post_id)
    start = None
    if after is not None:
        start = {"post_id": {"N": str(post_id)}, "comment_id": {"S": after}}
    results = Comment.query(
        post_id,
        Comment.comment_id < REQUEST_PREFIX,
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
)
def get_comment(*, post_id: int, comment_id: str, consistent: bool = False) -> Comment:
    _check_comment_id(comment_id)
    try:
        return Comment.get(post_id, comment_id, consistent_read=consistent)
    except Comment.DoesNotExist:
        raise NotFound(
            _("There is no comment {comment_id!r} on post {post_id}.").format(
                comment_id=comment_id, post_id=post_id
            )
        ) from None


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
    require_post(post_id=post_id)
    now = _now()
    comment_id = _new_comment_id(now)
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
    try:
        comment.save(condition=Comment.comment_id.does_not_exist())
    except PutError as error:
        if not _condition_failed(error):
            raise
        return CommentResult(
            comment=get_comment(post_id=post_id, comment_id=comment_id), created=False
        )
    _forget_if_post_vanished(post_id)
    events.publish(
        events.CommentAdded(
            post_id=post_id, comment_id=comment_id, user_id=viewer.user_id, username=viewer.username
        )
    )
    return CommentResult(comment=comment, created=True)


@access_pattern(
    name="Remember a comment POST by its idempotency key",
    model=CommentRequest,
    operation="PutItem",
    key='post_id = :post, comment_id = "~request#<viewer>#<key>"; '
    "condition attribute_not_exists OR expired",
    notes="On ConditionalCheckFailed: GetItem of the record, then of the comment it names.",
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
        f"{REQUEST_PREFIX}{viewer.user_id}#{key}",
        target_comment_id=comment_id,
        expires_at=now + REQUEST_TTL,
    )
    try:
        request.save(
            condition=CommentRequest.comment_id.does_not_exist() | (CommentRequest.expires_at < now)
        )
        return comment_id
    except PutError as error:
        if not _condition_failed(error):
            raise
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
    try:
        _adjust_replies(post_id, parent_id, 1, Comment.comment_id.exists() & NOT_DELETED)
    except UpdateError as error:
        if _condition_failed(error):
            raise InvalidInput(
                _("The comment you are replying to was deleted."), field="parent_id"
            ) from None
        raise


def _own_comment(post_id: int, comment_id: str, viewer: Viewer) -> Comment:
    comment = get_comment(post_id=post_id, comment_id=comment_id, consistent=True)
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
    try:
        comment.update(actions=[Comment.body.set(body), Comment.edited_at.set(_now())])
    except UpdateError as error:
        if _condition_failed(error):
            raise Conflict(_(STALE_EDIT)) from None
        raise
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
    try:
        comment.delete(condition=Comment.reply_count <= 0, add_version_condition=False)
    except DeleteError as error:
        if not _condition_failed(error):
            raise
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
        try:
            parent = _adjust_replies(post_id, parent_id, -1, Comment.comment_id.exists())
            if not (parent.deleted and parent.reply_count <= 0):
                return
            Comment(post_id, parent_id).delete(
                condition=IS_DELETED & (Comment.reply_count <= 0), add_version_condition=False
            )
        except (UpdateError, DeleteError) as error:
            if _condition_failed(error):
                return
            raise
        parent_id = parent.parent_id


def comment_as_dict(comment: Comment) -> dict[str, object]:
    return {
        "comment_id": comment.comment_id,
        "post_id": int(comment.post_id),
        "parent_id": comment.parent_id,
        "body": comment.body,
        "deleted": bool(comment.deleted),
        "author": {
            "user_id": comment.user_id,
            "username": comment.username,
            "display_name": comment.display_name,
        },
        "created_at": comment.created_at.isoformat(),
        "edited_at": comment.edited_at.isoformat() if comment.edited_at else None,
        "reply_count": int(comment.reply_count),
        "version": int(comment.version),
    }


# -- a deleted post ---------------------------------------------------------------------------


def _write_batches(
    model: type[Model],
    *,
    puts: Sequence[dict[str, Any]] = (),
    deletes: Sequence[dict[str, Any]] = (),
) -> int:
    """BatchWriteItem in chunks of 25, UnprocessedItems retried with exponential backoff."""
    try:
        return batch_write(bound_client(), model.Meta.table_name, puts=puts, deletes=deletes)
    except UnprocessedWrites as error:
        raise ServiceUnavailable(str(error)) from error


def _keys_of(model: type[Model], hash_key: Any) -> list[dict[str, Any]]:
    hash_name = model._hash_key_attribute().attr_name
    range_name = model._range_key_attribute().attr_name
    items = model.query(hash_key, attributes_to_get=[hash_name, range_name], consistent_read=True)
    keys = (hash_name, range_name)
    return [
        {k: v for k, v in item.serialize(null_check=False).items() if k in keys} for item in items
    ]


@access_pattern(
    name="Delete all likes and comments of a deleted post",
    model=UserLike,
    operation="Query + BatchWriteItem",
    key='likes: post_id = "<post>" (and BatchGetItem of "<post>#1".."<post>#31"); '
    "comments: post_id = :post",
    notes="Runs from the PostDeleted event through the outbox: retried until DynamoDB answers.",
)
def delete_engagement_of_post(*, post_id: int) -> int:
    """Idempotent: a redelivered event finds nothing left. Returns the items deleted."""
    possible_shards = [(_shard_key(post_id, s), COUNT_SK) for s in range(1, MAX_SHARDS)]
    shard_keys = [
        {"post_id": item["post_id"], "sk": item["sk"]}
        for item in _batch_get_likes(possible_shards, consistent=True)
    ]
    deleted = _write_batches(LikeCounter, deletes=shard_keys)
    deleted += _write_batches(UserLike, deletes=_keys_of(UserLike, _shard_key(post_id, 0)))
    deleted += _write_batches(Comment, deletes=_keys_of(Comment, post_id))
    _hot_posts.pop(post_id, None)
    return deleted


def on_post_deleted(event: events.PostDeleted) -> None:
    delete_engagement_of_post(post_id=event.post_id)


# -- demo data --------------------------------------------------------------------------------

DEMO_COMMENTS = [
    "Great explanation of why the key design comes first.",
    "Does this still hold when the table has a GSI?",
    "I tried this with a Scan first. Never again.",
    "The random suffix on the sort key saved me last week.",
    "How many WCU did that cost?",
    "Conditional writes are underrated.",
]


def seed_size(plan: SeedPlan) -> int:
    likes = min(plan.likes_per_post, len(plan.viewers))
    return len(plan.post_ids) * (likes + plan.comments_per_post)


@access_pattern(
    name="Seed likes and comments",
    model=Comment,
    operation="BatchWriteItem",
    key="likes: home counters and USER# items; comments: post_id = :post",
    notes="Posts that already have a counter or a comment are skipped, so a rerun adds nothing.",
)
def seed_engagement(plan: SeedPlan, progress: Progress) -> int:
    """Demo likes and comments by the demo viewers, written in batches. Idempotent."""
    if not plan.viewers:
        return 0
    counters = _counters_by_key(
        _batch_get_likes([(_shard_key(p, 0), COUNT_SK) for p in plan.post_ids], consistent=True)
    )
    written = 0
    for post_id in plan.post_ids:
        likers = plan.rng.sample(plan.viewers, k=min(plan.likes_per_post, len(plan.viewers)))
        if _shard_key(post_id, 0) not in counters and likers:
            written += _write_batches(UserLike, puts=_demo_likes(post_id, likers))
        progress(len(likers))
        comments = _demo_comments(plan, post_id)
        if comments and not _has_comments(post_id):
            written += _write_batches(Comment, puts=[c.serialize() for c in comments])
        progress(plan.comments_per_post)
    return written


def _demo_likes(post_id: int, likers: list[Viewer]) -> list[dict[str, Any]]:
    now = _now()
    items: list[Model] = [
        UserLike(
            _shard_key(post_id, 0),
            _user_sk(v.user_id),
            user_id=v.user_id,
            liked=True,
            version=1,
            changed_at=now,
        )
        for v in likers
    ]
    items.append(LikeCounter(_shard_key(post_id, 0), COUNT_SK, like_count=len(likers)))
    return [item.serialize() for item in items]


def _demo_comments(plan: SeedPlan, post_id: int) -> list[Comment]:
    start = _now() - timedelta(minutes=plan.comments_per_post)
    comments: list[Comment] = []
    for i in range(plan.comments_per_post):
        author = plan.rng.choice(plan.viewers)
        parent = plan.rng.choice(comments) if comments and plan.rng.random() < 0.4 else None
        when = start + timedelta(minutes=i)
        comments.append(
            Comment(
                post_id,
                f"{when:%Y%m%dT%H%M%S%f}Z-{plan.rng.getrandbits(48):012x}",
                parent_id=parent.comment_id if parent else None,
                user_id=author.user_id,
                username=author.username,
                display_name=author.display_name,
                body=plan.rng.choice(DEMO_COMMENTS),
                created_at=when,
                version=1,
            )
        )
        if parent is not None:
            parent.reply_count = int(parent.reply_count) + 1
    return comments


def _has_comments(post_id: int) -> bool:
    return any(Comment.query(post_id, Comment.comment_id < REQUEST_PREFIX, limit=1))
