"""Activity use cases: record what happened, read it back newest first. The only code that touches
activity.models.

Recording is driven by events: the blog and engagement contexts publish `PostCreated`,
`PostLiked`, `PostUnliked`, `CommentAdded` through the outbox (at-least-once, so every write here
is idempotent) and emit `PostViewed` as a disposable signal (a failed view log is logged and
dropped, never raised into the page).

Every read filters expired views in code and keeps reading until it has `limit` items or the
end: a page of DynamoDB results can come back short, or empty, after filtering and still have
more behind it. Each read returns what it cost (`ReadStats`), computed from the documented rules.
"""

from __future__ import annotations

import heapq
import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from pynamodb.exceptions import PynamoDBException
from pynamodb.pagination import ResultIterator

from activity.feed_cost import ReadStats, scan_cost
from activity.models import (
    ACTIVITY_TYPES,
    FEED_SHARDS,
    VIEW_TTL_DAYS,
    Activity,
    event_suffix,
    feed_bucket,
    feed_key,
    sort_key,
    time_key,
    view_expiry,
    view_sort_key,
    view_window_start,
)
from blog import service as blog_service
from sessions import service as sessions_service
from shared import events
from shared.access_patterns import access_pattern
from shared.cursors import Key, decode_cursor, dynamodb_key_check, encode_cursor
from shared.dynamo import batch_write, bound_client, conditional_write, utc_now
from shared.errors import InvalidInput, NotFound
from shared.i18n import N_
from shared.i18n import gettext as _
from shared.settings import active_settings

log = logging.getLogger(__name__)

DEFAULT_LIMIT = 20
MAX_LIMIT = 100
MAX_CALLS_PER_READ = 10
FEED_LOOKBACK_DAYS = 7
SCAN_PAGE_ITEMS = 1_000
FEED_MODES = ("scan", "index")
FeedMode = Literal["scan", "index"]
TABLE_KEY = ("user_id", "timestamp")
TYPE_INDEX_KEY = ("activity_type", "timestamp", "user_id")
POST_INDEX_KEY = ("post_id", "timestamp", "user_id")

QueryFn = Callable[[Key | None, int], ResultIterator[Activity]]


__all__ = ["ACTIVITY_TYPES", "FEED_SHARDS", "VIEW_TTL_DAYS"]  # shown by the pages


@dataclass(frozen=True)
class ActivityPage:
    """One page of a newest-first list, the cursor of the next page (or None), and its cost."""

    items: list[Activity]
    next_cursor: str | None
    stats: ReadStats


@dataclass(frozen=True)
class Feed:
    mode: FeedMode
    items: list[Activity]
    stats: ReadStats


def _event_time(event: events.Event) -> datetime:
    return datetime.fromtimestamp(event.occurred_at, UTC)


# -- recording ----------------------------------------------------------------------------------

LoggedEvent = events.PostCreated | events.PostLiked | events.PostUnliked | events.CommentAdded
_EVENT_TYPES: dict[type[events.Event], str] = {
    events.PostCreated: "post",
    events.PostLiked: "like",
    events.PostUnliked: "unlike",
    events.CommentAdded: "comment",
}


def _put_once(activity: Activity) -> bool:
    """PutItem unless the key exists. False means it was already there: the write is done."""
    with conditional_write() as write:
        activity.save(condition=Activity.user_id.does_not_exist())
    return not write.refused


@access_pattern(
    name="Record an activity from an outbox event (post, like, unlike, comment)",
    model=Activity,
    operation="PutItem",
    key="user_id = :u, timestamp = <event time>#<sha256(event_id)[:16]>, "
    "condition attribute_not_exists(user_id)",
    notes="At-least-once delivery: a redelivered event builds the same key and the condition "
    "refuses it. Writes the table, ActivityTypeIndex, PostActivityIndex and FeedIndex: 4 WCU.",
)
def record_activity(*, event: LoggedEvent) -> bool:
    """Write the activity an event describes; True if new. Errors propagate: the outbox retries."""
    return _put_once(_activity_of(event))


@access_pattern(
    name="Record a run of activities from outbox events",
    model=Activity,
    operation="BatchWriteItem",
    key="25 PutRequests a call, keys built from each event as for one event",
    notes="The seed's posts and the relay's backlog after an outage arrive as runs: one call "
    "per 25 events instead of 25. BatchWriteItem takes no condition, so a redelivered event "
    "overwrites its item with the same attributes: still idempotent, without the 'already "
    "there' answer.",
)
def record_activities(*, batch: Sequence[LoggedEvent]) -> int:
    """Write the activities of many events at once; returns how many items were written."""
    items = [_activity_of(event).serialize() for event in batch]
    return batch_write(bound_client(), Activity.Meta.table_name, puts=items)


def _activity_of(event: LoggedEvent) -> Activity:
    """The item an event describes: a pure function of the event, so writing it twice leaves
    one item with the same attributes."""
    at = _event_time(event)
    suffix = event_suffix(event.event_id)
    return Activity(
        event.user_id,
        sort_key(at, suffix),
        activity_type=_EVENT_TYPES[type(event)],
        username=event.username,
        post_id=event.post_id,
        comment_id=getattr(event, "comment_id", None),
        feed_key=feed_key(at, suffix),
    )


@access_pattern(
    name="Record a post view (deduplicated, TTL'd)",
    model=Activity,
    operation="PutItem",
    key="user_id = :u, timestamp = <window start>#view-<post_id>, "
    "condition attribute_not_exists(user_id)",
    page="/posts/{post_id}",
    notes="One PutItem; a repeat view in the same window fails its condition (1 WCU, no index "
    "writes). Any DynamoDB error is logged and swallowed: a lost view never breaks the page.",
)
def record_view(*, event: events.PostViewed) -> bool:
    """Log a view, at most once per user, post and window. True if a new item was written."""
    window = view_window_start(_event_time(event))
    activity = Activity(
        event.user_id,
        view_sort_key(window, event.post_id),
        activity_type="view",
        username=event.username,
        post_id=event.post_id,
        expires_at=view_expiry(window),
    )
    try:
        return _put_once(activity)
    except PynamoDBException as error:
        log.warning("view of post %s not logged: %s", event.post_id, error)
        return False


# -- reading newest first -----------------------------------------------------------------------


def _check_limit(limit: int) -> int:
    if not 1 <= limit <= MAX_LIMIT:
        raise InvalidInput(
            _("limit must be between 1 and {max}.").format(max=MAX_LIMIT), field="limit"
        )
    return limit


def _check_activity_type(activity_type: str) -> str:
    if activity_type not in ACTIVITY_TYPES:
        raise InvalidInput(
            _("Unknown activity type {activity_type!r}. Choose one of: {types}.").format(
                activity_type=activity_type, types=", ".join(ACTIVITY_TYPES)
            ),
            field="type",
        )
    return activity_type


def _key_of(raw: dict[str, Any], key_names: tuple[str, ...]) -> Key:
    return {name: raw[name] for name in key_names}


def _read_newest(
    query: QueryFn,
    *,
    start: Key | None,
    limit: int,
    stats: ReadStats,
    key_names: tuple[str, ...] | None,
    now: datetime,
) -> tuple[list[Activity], Key | None]:
    """Up to `limit` unexpired items, newest first, and the exact key to resume after them.

    With `key_names` (a paginated list) each request asks for `limit + 1` items: the first
    unexpired item beyond `limit` tells "there is more" from "this was the end" without an empty
    last page, and the resume key is that of the last item evaluated before it, so expired items
    skipped on the way are not read again. Past MAX_CALLS_PER_READ requests (a long run of
    expired views) the page comes back short, with DynamoDB's own LastEvaluatedKey. Without
    `key_names` (the feed's shards) it asks for exactly what is still missing.
    """
    found: list[Activity] = []
    last_raw: dict[str, Any] | None = None
    for _call in range(MAX_CALLS_PER_READ):
        ask = limit + 1 if key_names else limit - len(found)
        if ask == 0:
            return found, None
        page = next(query(start, ask).page_iter)
        stats.add_page(page)
        for raw in page.get("Items", []):
            activity = Activity.from_raw_data(raw)
            if activity.expired(now):
                stats.hidden_expired += 1
            elif len(found) < limit:
                found.append(activity)
            elif key_names and last_raw is not None:
                return found, _key_of(last_raw, key_names)
            last_raw = raw
        start = page.get("LastEvaluatedKey")
        if start is None:
            return found, None
    return found, start


def _paged_read(
    query: QueryFn,
    *,
    kind: str,
    bound_to: str,
    cursor: str | None,
    limit: int,
    key_names: tuple[str, ...],
    stats: ReadStats,
) -> ActivityPage:
    start = decode_cursor(
        kind=kind, bound_to=bound_to, cursor=cursor, is_valid=dynamodb_key_check(key_names)
    )
    limit = _check_limit(limit)
    items, resume = _read_newest(
        query, start=start, limit=limit, stats=stats, key_names=key_names, now=utc_now()
    )
    next_cursor = encode_cursor(kind=kind, bound_to=bound_to, position=resume)
    return ActivityPage(items=items, next_cursor=next_cursor, stats=stats)


@access_pattern(
    name="A user's latest N activities",
    model=Activity,
    operation="Query",
    key="user_id = :u, ScanIndexForward=false, Limit N+1",
    page="/users/{username}",
    notes="Strongly consistent when you read your own page (your new post, like or comment "
    "shows at once); eventually consistent, at half the RCU, on anyone else's.",
    consistency="own-strong",
)
def latest_activities_of_user(
    *, username: str, limit: int = DEFAULT_LIMIT, cursor: str | None = None, own: bool = False
) -> ActivityPage:
    """`own`: the viewer is this user. Their page must show what they have just done (the
    activity of their new post, like or comment is written before their request answers), so
    it is read strongly consistent, at twice the RCU; another reader's page may lag a moment,
    and is read eventually consistent. A Query on the table's own key can be either; through a
    GSI it could only be eventual."""
    user_id = str(blog_service.find_user(username=username).id)

    def query(start: Key | None, size: int) -> ResultIterator[Activity]:
        return Activity.query(
            user_id,
            scan_index_forward=False,
            consistent_read=own,
            page_size=size,
            last_evaluated_key=start,
        )

    return _paged_read(
        query,
        kind="user",
        bound_to=user_id,
        cursor=cursor,
        limit=limit,
        key_names=TABLE_KEY,
        stats=ReadStats("Query", "activities"),
    )


@access_pattern(
    name="The latest N activities of one type across the site",
    model=Activity,
    operation="Query",
    index="ActivityTypeIndex",
    key="activity_type = :t, ScanIndexForward=false, Limit N+1",
    page="/activity?type=like",
    notes="Five key values for the whole site: the `view` key of the index is hot. Through a "
    "GSI, so eventually consistent: a new activity may show a moment later.",
)
def latest_activities_of_type(
    *, activity_type: str, limit: int = DEFAULT_LIMIT, cursor: str | None = None
) -> ActivityPage:
    activity_type = _check_activity_type(activity_type)

    def query(start: Key | None, size: int) -> ResultIterator[Activity]:
        return Activity.type_index.query(
            activity_type, scan_index_forward=False, page_size=size, last_evaluated_key=start
        )

    return _paged_read(
        query,
        kind="type",
        bound_to=activity_type,
        cursor=cursor,
        limit=limit,
        key_names=TYPE_INDEX_KEY,
        stats=ReadStats("Query", "activities / ActivityTypeIndex"),
    )


@access_pattern(
    name="The timeline of one post",
    model=Activity,
    operation="Query",
    index="PostActivityIndex",
    key="post_id = :p, ScanIndexForward=false, Limit N+1",
    page="/posts/{post_id}",
    notes="Sparse index: only activities that carry a post_id are in it. Through a GSI, so "
    "eventually consistent: your own like or comment may show a moment later (the like "
    "button and the thread, read from the tables, show it at once).",
)
def post_timeline(
    *, post_id: int, limit: int = DEFAULT_LIMIT, cursor: str | None = None
) -> ActivityPage:
    if not blog_service.post_exists(post_id=post_id):
        raise NotFound(_("There is no post {post_id}.").format(post_id=post_id))

    def query(start: Key | None, size: int) -> ResultIterator[Activity]:
        return Activity.post_index.query(
            post_id, scan_index_forward=False, page_size=size, last_evaluated_key=start
        )

    return _paged_read(
        query,
        kind="post",
        bound_to=str(post_id),
        cursor=cursor,
        limit=limit,
        key_names=POST_INDEX_KEY,
        stats=ReadStats("Query", "activities / PostActivityIndex"),
    )


# -- the global feed ----------------------------------------------------------------------------


def _newest_first(activity: Activity) -> tuple[str, str]:
    return activity.timestamp, activity.user_id


def _feed_cutoff(now: datetime) -> datetime:
    return now - timedelta(days=FEED_LOOKBACK_DAYS)


def _in_feed(activity: Activity, *, now: datetime, cutoff_key: str) -> bool:
    """The feed's rule, the same for both modes: what FeedIndex holds (items with a feed_key,
    i.e. no views), unexpired, within the look-back window."""
    return (
        activity.feed_key is not None
        and not activity.expired(now)
        and activity.timestamp >= cutoff_key
    )


@access_pattern(
    name="Global feed by Scan (the anti-pattern, kept on purpose)",
    model=Activity,
    operation="Scan",
    key="(none: every item of the table, 1,000 per request)",
    page="/feed",
    notes="Reads the whole table to return N items; cost grows with the table, not the answer. "
    "Shown beside the indexed feed so the difference can be measured. Eventually consistent, "
    "as a feed of everyone can be.",
)
def feed_by_scan(*, limit: int = DEFAULT_LIMIT) -> Feed:
    """The seed's feed: read everything, keep the newest N in the app.

    Pages of SCAN_PAGE_ITEMS rather than DynamoDB's 1 MB (about 7,000 activities): the read
    units are the same, and each request stays short enough for the per-request read timeout.
    The local engine needs about a second per 1,000-item page of a 10,000-item table, and a
    1 MB page under load outlasts the 4 s timeout. The request count then grows with the table
    too, as it would with 1 MB pages on a bigger one.
    """
    now = utc_now()
    cutoff_key = time_key(_feed_cutoff(now))
    stats = ReadStats("Scan", "activities")

    def evaluated() -> Iterable[Activity]:
        for page in Activity.scan(page_size=SCAN_PAGE_ITEMS).page_iter:
            stats.add_page(page)
            yield from (Activity.from_raw_data(raw) for raw in page.get("Items", []))

    kept = (a for a in evaluated() if _in_feed(a, now=now, cutoff_key=cutoff_key))
    items = heapq.nlargest(_check_limit(limit), kept, key=_newest_first)
    return Feed(mode="scan", items=items, stats=stats)


SCAN_FEED_REFUSAL = N_(
    "The Scan feed reads the whole activities table on every load, so each network may load it "
    "only a few times a minute (the indexed feed has no such limit)."
)


def admit_scan_feed(*, client_address: str) -> None:
    """Count one load of the Scan feed against the client's address; past the minute's limit,
    TooManyAttempts (429, Retry-After). The anti-pattern is on display, not an open door: a
    few clients loading it in a loop would slow every other read of the engine."""
    limit = sessions_service.RateLimit(
        "scan-feed-address",
        active_settings().scan_feed_reads_per_minute,
        60,
        SCAN_FEED_REFUSAL,
    )
    sessions_service.count_attempt(limit=limit, subject=client_address)


@access_pattern(
    name="Global feed by FeedIndex (the proper pattern)",
    model=Activity,
    operation="Query",
    index="FeedIndex",
    key="feed_key = <today>#<shard> for each shard, timestamp >= now - 7 days, "
    "ScanIndexForward=false, Limit N; earlier days only while fewer than N",
    page="/feed",
    notes="One Query per shard of the newest day bucket, merged in the app: the cost depends "
    "on N and the number of shards, never on the size of the table. Through a GSI, so "
    "eventually consistent.",
)
def feed_by_index(*, limit: int = DEFAULT_LIMIT) -> Feed:
    """Newest first through the day buckets, each bucket one Query per shard, merged."""
    limit = _check_limit(limit)
    now = utc_now()
    cutoff = _feed_cutoff(now)
    stats = ReadStats("Query", f"activities / FeedIndex x {FEED_SHARDS} shards")
    items: list[Activity] = []
    cutoff_key = time_key(cutoff)
    day = now
    while len(items) < limit and day.date() >= cutoff.date():
        need = limit - len(items)
        bucket: list[Activity] = []
        for shard in range(FEED_SHARDS):
            key = feed_bucket(day, shard)
            bucket += _read_feed_shard(key, cutoff_key=cutoff_key, need=need, stats=stats, now=now)
        items += heapq.nlargest(need, bucket, key=_newest_first)
        day -= timedelta(days=1)
    return Feed(mode="index", items=items, stats=stats)


def _read_feed_shard(
    key: str, *, cutoff_key: str, need: int, stats: ReadStats, now: datetime
) -> list[Activity]:
    def query(start: Key | None, size: int) -> ResultIterator[Activity]:
        return Activity.feed_index.query(
            key,
            Activity.timestamp >= cutoff_key,
            scan_index_forward=False,
            page_size=size,
            last_evaluated_key=start,
        )

    found, _ = _read_newest(query, start=None, limit=need, stats=stats, key_names=None, now=now)
    return found


def global_feed(*, mode: str, limit: int = DEFAULT_LIMIT) -> Feed:
    if mode == "scan":
        return feed_by_scan(limit=limit)
    if mode == "index":
        return feed_by_index(limit=limit)
    raise InvalidInput(
        _("mode must be one of: {modes}.").format(modes=", ".join(FEED_MODES)), field="mode"
    )


def scan_cost_at(*, items: int, measured: ReadStats) -> tuple[float, int] | None:
    """(RCU, requests) of the same Scan on a table of `items` items of the measured size."""
    if not measured.scanned:
        return None
    return scan_cost(items=items, average_item_bytes=measured.average_item_bytes)


def post_titles_of(items: Iterable[Activity]) -> dict[int, str]:
    """Titles of the posts a list mentions, in one RDB query (posts live in the RDB)."""
    post_ids = sorted({int(a.post_id) for a in items if a.post_id is not None})
    return blog_service.post_titles(post_ids=post_ids) if post_ids else {}


def post_title(*, post_id: int) -> str:
    return blog_service.get_post(post_id=post_id).title
