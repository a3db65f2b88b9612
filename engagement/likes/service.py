"""Likes: the like protocol, the counts the pages read, and hot posts' sharded counters.

The only code that writes the likes table on a request. The table design, and why each write is
shaped the way it is, lives in the docstrings of `LikeCounter` and `UserLike`; this module
carries the protocol out. Clean-up after a deleted post and the operators' repair of likes left
midway run outside requests (`engagement.posts`, `engagement.cleanup`).
"""

from __future__ import annotations

import hashlib
import logging
import random
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from blog import service as blog_service
from engagement import posts
from engagement.likes.models import (
    COUNT_SK,
    MAX_SHARDS,
    LikeCounter,
    UserLike,
    bump_token,
    home_key,
    likes_key,
    shard_key,
    user_sk,
)
from shared import events
from shared.access_patterns import access_pattern
from shared.auth import Viewer
from shared.database import release_connection
from shared.dynamo import batch_get, bound_client, bound_settings, conditional_write, utc_now
from shared.errors import Conflict, Forbidden, InvalidInput, NotFound
from shared.i18n import gettext as _

log = logging.getLogger(__name__)
AUTO_SHARD_AT = 1_000
AUTO_SHARDS = 8
HOT_CACHE_SECONDS = 30.0
HOT_CACHE_MAX = 10_000
CONCURRENT_CLICK_WAITS = (0.02, 0.05, 0.1, 0.2, 0.4)


@dataclass(frozen=True)
class LikeSummary:
    count: int
    liked_by_me: bool
    shards: int


@dataclass(frozen=True)
class LikeChange:
    summary: LikeSummary
    changed: bool


# -- hot posts --------------------------------------------------------------------------------

# Hot posts seen recently, post_id -> (shards, until). A stale entry is harmless: too small an
# N only concentrates writes for a while (readers sum every shard the home counter names), and
# a shard that does not exist fails the condition in `_bump`, which then uses the home counter.
_hot_posts: dict[int, tuple[int, float]] = {}


def _remember_shards(post_id: int, shards: int) -> None:
    if shards <= 1:
        _hot_posts.pop(post_id, None)
        return
    if len(_hot_posts) >= HOT_CACHE_MAX:
        _hot_posts.clear()
    _hot_posts[post_id] = (shards, time.monotonic() + HOT_CACHE_SECONDS)


def forget_hot_post(post_id: int) -> None:
    _hot_posts.pop(post_id, None)


def _known_shards(post_id: int) -> int:
    shards, until = _hot_posts.get(post_id, (1, 0.0))
    return shards if until > time.monotonic() else 1


def _pick_shard(post_id: int) -> int:
    """A random shard of a known hot post; else the home counter, whose reply tells N."""
    return random.randrange(_known_shards(post_id))


def in_flight_limit() -> timedelta:
    """Longer than any request can keep a like's steps in flight (timeouts x attempts x steps)."""
    settings = bound_settings()
    per_call = settings.dynamodb_timeout_seconds * 3 * (1 + settings.dynamodb_max_retries)
    return timedelta(seconds=4 * per_call + 10)


# -- reads ------------------------------------------------------------------------------------


def _batch_get_likes(keys: Iterable[tuple[str, str]], *, consistent: bool) -> list[dict[str, Any]]:
    raw_keys = [likes_key(partition, sk) for partition, sk in keys]
    return batch_get(bound_client(), LikeCounter.Meta.table_name, raw_keys, consistent=consistent)


def _counters_by_key(raw_items: list[dict[str, Any]]) -> dict[str, LikeCounter]:
    return {
        item["post_id"]["S"]: LikeCounter.from_raw_data(item)
        for item in raw_items
        if item["sk"]["S"] == COUNT_SK
    }


def _counter_keys(post_id: int, shards: range) -> list[tuple[str, str]]:
    return [(shard_key(post_id, s), COUNT_SK) for s in shards]


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
    notes="One request; a second one only when the post became hot since this server last saw "
    "it. Strongly consistent for a signed-in viewer (their own like must show at once), "
    "eventually consistent, at half the RCU, for a visitor.",
    consistency="own-strong",
)
def like_summary(*, post_id: int, user_id: str | None = None) -> LikeSummary:
    """The count and the viewer's like state, read strongly consistent for a signed-in viewer.

    Someone who has just liked a post and opens it (or whose like request answers with this
    summary) must see their heart filled and their like counted; an eventually consistent read
    may come from a copy of the data that has not applied the like yet and show it undone. The
    read is strong whenever there is a viewer, because nothing cheaper tells whether they wrote
    a moment ago: twice the RCU of an eventually consistent BatchGetItem (1 per item instead of
    0.5). A visitor who is not signed in has no like of their own to miss, so their read stays
    eventually consistent and may lag others' likes by a moment.
    """
    consistent = user_id is not None
    keys = _counter_keys(post_id, range(_known_shards(post_id)))
    if user_id:
        keys.append((home_key(post_id), user_sk(user_id)))
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
    notes="One request for the whole page (up to 100 keys), not one read per post. Eventually "
    "consistent: a like of the last moment may show on the list a moment later.",
)
def like_counts(*, post_ids: list[int]) -> dict[int, int]:
    """Counts for a list of posts, eventually consistent (half the RCU of a strong read): the
    list may lag a like by a moment; the post's own page reads strongly for its viewer."""
    if not post_ids:
        return {}
    keys = [key for p in post_ids for key in _counter_keys(p, range(_known_shards(p)))]
    raw = _batch_get_likes(keys, consistent=False)
    totals = _totals(post_ids, raw, {pk for pk, _ in keys}, consistent=False)
    return {post_id: count for post_id, (count, _) in totals.items()}


# -- like and unlike --------------------------------------------------------------------------


@access_pattern(
    name="Like a post (idempotent, counted exactly once)",
    model=UserLike,
    operation="UpdateItem",
    key='post_id = "<post>", sk = "USER#<viewer>"; condition: not liked, no bump pending',
    page="/posts/{post_id}",
    notes="Then a conditional ADD on one counter shard; see UserLike's docstring. The answer "
    "shows the new count without a read: the last UpdateItem returns the home counter as it is "
    "after that write (ReturnValues ALL_NEW: strongly consistent, and it consumes no RCU). "
    "Only a hot post, whose count is spread over shards, costs a BatchGetItem after the change.",
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
    """Change the state if needed; publish an event only when it really changed.

    The change stays pending (its user item keeps `pending_shard`) until its event is in the
    outbox: a process that dies after counting the change and before recording its event
    leaves it pending, and the replay (`settle_stale`) publishes the event. The event's id and
    time come from the user item, so a replay of a change whose event did reach the outbox
    publishes the same event again, which the outbox and the activity log each keep once."""
    posts.require_post(post_id=post_id)
    release_connection()  # DynamoDB's turn: the RDB connection goes back to the pool meanwhile
    try:
        change = _change_state(post_id, viewer.user_id, want)
    except Conflict:
        raise  # another request of this user is counting its click: it finishes the change
    except Exception:
        _leave_to_the_relay(post_id, viewer.user_id)
        raise
    event = change_event(change[0], viewer.username) if change else None
    try:
        posts.require_post_after_write(post_id=post_id, event=event)
    except NotFound:
        raise  # the post went: its clean-up has deleted the change's items
    except Exception:
        if change:  # the event may not be in the outbox: left pending, the replay publishes it
            _leave_to_the_relay(post_id, viewer.user_id)
        raise
    release_connection()
    counter = None
    if change:
        try:
            counter = _finish(*change)
        except Exception:
            _leave_to_the_relay(post_id, viewer.user_id)
            raise
    summary = _summary_from_reply(post_id, counter, liked=want)
    if summary is None:
        summary = like_summary(post_id=post_id, user_id=viewer.user_id)
    return LikeChange(summary=summary, changed=change is not None)


def change_event_id(item: UserLike) -> str:
    """The id of a change's event, from the user item as the change's first step wrote it: the
    request and any replay of the change build the same id (32 hex digits, the outbox's)."""
    changed_at = item.changed_at.isoformat()
    text = f"like:{item.post_id}:{item.user_id}:{int(item.version)}:{changed_at}"
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def change_event(item: UserLike, username: str) -> events.Event:
    """PostLiked or PostUnliked for the change `item` records, at the time of the click."""
    event_type = events.PostLiked if item.liked else events.PostUnliked
    return event_type(
        event_id=change_event_id(item),
        occurred_at=item.changed_at.timestamp(),
        post_id=int(item.post_id),
        user_id=item.user_id,
        username=username,
    )


def _summary_from_reply(
    post_id: int, counter: LikeCounter | None, *, liked: bool
) -> LikeSummary | None:
    """The summary this change's own writes already returned, or None when a read is needed.

    The last step of a counted change is an UpdateItem of the counter shard, and PynamoDB asks
    for ReturnValues ALL_NEW: the reply is the item as it stands after that write, so it holds
    every change counted on that shard up to then, this one included. When the shard is the
    home counter of a post that has only one counter, that is the post's whole count, and the
    viewer's state is the one this request just wrote: no BatchGetItem is needed. A hot post's
    count is the sum over its shards, and an unchanged state was not written: both are read.
    """
    if counter is None or counter.post_id != home_key(post_id) or int(counter.shards or 1) > 1:
        return None
    return LikeSummary(count=int(counter.like_count), liked_by_me=liked, shards=1)


def _leave_to_the_relay(post_id: int, user_id: str) -> None:
    """The change may now be half done (its first write landed, the error came after): an
    outbox event has the relay finish it (`cleanup.on_like_change_unfinished`). Best effort:
    if the RDB is down too, the user's next click or the start-up repair still finishes it."""
    try:
        events.record_alone(events.LikeChangeUnfinished(post_id=post_id, user_id=user_id))
    except Exception:  # noqa: BLE001 - the original error is the one to report
        log.warning("could not leave like %s/%s to the relay", post_id, user_id, exc_info=True)


Change = tuple[UserLike, "Bump | None"]


def _change_state(post_id: int, user_id: str, want: bool) -> Change | None:
    """Steps 1-2: (the user item, still pending, and its bump) if this call changed the state
    and counted it; None if the state was already so. The caller finishes it (`_finish`)."""
    for wait in (*CONCURRENT_CLICK_WAITS, None):
        started = _start_change(post_id, user_id, want)
        if started is not None:
            return started, _bump(started)
        current = user_like(post_id, user_id)
        if current is None or current.pending_shard is None:
            if (current is not None and current.liked) == want:
                return None
        elif utc_now() - current.pending_since > in_flight_limit():
            settle_stale(current)
        elif current.liked == want:
            return None  # the same click, still being counted by a concurrent request
        if wait is not None:
            time.sleep(wait)
    raise Conflict(_("Your previous click on this post is still being counted. Try again shortly."))


def user_like(post_id: int, user_id: str) -> UserLike | None:
    try:
        return UserLike.get(home_key(post_id), user_sk(user_id), consistent_read=True)
    except UserLike.DoesNotExist:
        return None


def _start_change(post_id: int, user_id: str, want: bool) -> UserLike | None:
    """Step 1: flip the user's state and mark the bump pending, or None if the state is taken."""
    was = UserLike.liked == (not want)
    if want:
        was = was | UserLike.liked.does_not_exist()
    item = UserLike(home_key(post_id), user_sk(user_id))
    now = utc_now()
    with conditional_write() as write:
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
    return None if write.refused else item


# -- counting a change exactly once -----------------------------------------------------------


@dataclass(frozen=True)
class Bump:
    """Step 2 done: the counter shard written (or found already counted) and the change's token."""

    counter: LikeCounter
    token: str
    counted_now: bool  # False: the token was there already, a replay found the change counted


@access_pattern(
    name="Count a like change exactly once on one counter shard",
    model=LikeCounter,
    operation="UpdateItem",
    key='post_id = "<post>" or "<post>#<shard>", sk = "COUNT"; '
    "ADD like_count :d, inflight {token}; condition NOT contains(inflight, :token)",
    notes="Then, once the change's event is in the outbox, REMOVE pending_shard on the "
    "UserLike, then DELETE the token from inflight.",
)
def _bump(item: UserLike) -> Bump | None:
    """Step 2. Safe to replay: the token makes the bump happen once. None if the change is no
    longer this caller's to count (another one moved it to the home counter first)."""
    post_id = int(item.post_id)
    shard = int(item.pending_shard)
    token = bump_token(item.user_id, int(item.version))
    counter = LikeCounter(shard_key(post_id, shard), COUNT_SK)
    once = ~LikeCounter.inflight.contains(token)
    with conditional_write() as bump:
        counter.update(
            actions=[
                LikeCounter.like_count.add(1 if item.liked else -1),
                LikeCounter.inflight.add({token}),
            ],
            # Shards are created at promotion: a missing one means a stale hot-post cache.
            condition=once & LikeCounter.post_id.exists() if shard else once,
        )
    if bump.refused and shard and not _counter_exists(post_id, shard):
        return _repoint_to_home(item)
    return Bump(counter, token, counted_now=not bump.refused)


def _finish(item: UserLike, bump: Bump | None) -> LikeCounter | None:
    """Step 3: the change is settled, and its token can leave the counter. Returns the counter
    shard with the attributes its last write returned, or None if that write found no shard.
    Without a bump (another caller moved the change to the home counter), that caller counts
    it and settles it: the change stays pending here."""
    if bump is None:
        return None
    with conditional_write():
        item.update(
            actions=[UserLike.pending_shard.remove(), UserLike.pending_since.remove()],
            condition=UserLike.version == item.version,
        )
    counter = bump.counter
    with conditional_write() as tidy:
        counter.update(
            actions=[LikeCounter.inflight.delete({bump.token})],
            condition=LikeCounter.post_id.exists(),
        )
    if bump.counted_now and counter.post_id == home_key(int(item.post_id)):
        _after_home_write(int(item.post_id), counter)
    return None if tidy.refused else counter


def _counter_exists(post_id: int, shard: int) -> bool:
    try:
        LikeCounter.get(shard_key(post_id, shard), COUNT_SK, consistent_read=True)
    except LikeCounter.DoesNotExist:
        return False
    return True


def _repoint_to_home(item: UserLike) -> Bump | None:
    """The chosen shard does not exist (the post is not, or no longer, hot): use shard 0."""
    forget_hot_post(int(item.post_id))
    with conditional_write() as write:
        item.update(
            actions=[UserLike.pending_shard.set(0)],
            condition=(UserLike.version == item.version)
            & (UserLike.pending_shard == item.pending_shard),
        )
    return None if write.refused else _bump(item)


def settle_stale(item: UserLike) -> bool:
    """Replay the steps of a change whose request died; claim it first so only one replays it.
    True if this call replayed it.

    A request leaves its change pending until the change's event is in the outbox, so one
    that died midway may not have recorded it: the replay publishes it, with the id and time
    the request would have given it (`change_event`). If the request did record it, the outbox
    and the activity log find the same event and keep it once. The user is looked up before
    the claim: if the RDB does not answer, nothing is replayed, and a later replay does it all."""
    user = blog_service.find_user_by_id(user_id=item.user_id)
    with conditional_write() as claim:
        item.update(
            actions=[UserLike.pending_since.set(utc_now())],
            condition=(UserLike.version == item.version)
            & (UserLike.pending_since == item.pending_since),
        )
    if claim.refused:
        return False
    bump = _bump(item)
    if user is not None:  # a user deleted since has no activity log to add to
        events.publish(change_event(item, user.username))
    _finish(item, bump)
    return True


def _after_home_write(post_id: int, home: LikeCounter) -> None:
    """The home counter's reply tells N, and whether the post just became hot."""
    shards = int(home.shards or 1)
    _remember_shards(post_id, shards)
    if shards == 1 and int(home.like_count) >= AUTO_SHARD_AT:
        promote_hot_post(post_id=post_id, shards=AUTO_SHARDS)


# -- hot posts: sharding ----------------------------------------------------------------------


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
        home = LikeCounter.get(home_key(post_id), COUNT_SK, consistent_read=True)
        current = int(home.shards or 1)
    except LikeCounter.DoesNotExist:
        current = 1
    if shards <= current:
        return current
    for shard in range(current, shards):
        with conditional_write():
            LikeCounter(shard_key(post_id, shard), COUNT_SK, like_count=0).save(
                condition=LikeCounter.post_id.does_not_exist()
            )
    with conditional_write():
        LikeCounter(home_key(post_id), COUNT_SK).update(
            actions=[LikeCounter.shards.set(shards), LikeCounter.like_count.add(0)],
            condition=LikeCounter.shards.does_not_exist() | (LikeCounter.shards < shards),
        )
    _remember_shards(post_id, shards)
    return shards


def promote_hot_post_as_author(*, viewer: Viewer, post_id: int, shards: int) -> int:
    if not posts.is_post_author(viewer=viewer, post_id=post_id):
        raise Forbidden(_("Only the post's author can shard its like counter."))
    return promote_hot_post(post_id=post_id, shards=shards)
