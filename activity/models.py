"""The `activities` table: who did what and when, read newest first by user, type, post, site.

Access patterns (each a Query, newest first, with `Limit` and a cursor)
    * A user's latest N activities: Query on the table, `user_id = :u`, descending.
    * The latest N activities of one type across the site: Query on `ActivityTypeIndex`,
      `activity_type = :t`, descending.
    * The timeline of one post: Query on `PostActivityIndex`, `post_id = :p`, descending.
    * The global feed ("what is happening on the whole site"): one Query per shard of the newest
      day bucket on `FeedIndex`, `feed_key = "<yyyy-mm-dd>#<shard>"`, merged in the app; older
      buckets only when the newest one holds fewer than N items.
    * The seed's global feed was a Scan of the whole table. It is kept, on purpose, as the
      anti-pattern beside the indexed feed: its cost grows with the table, the index's does not.

Why these keys
    `user_id` spreads the table over as many partitions as there are users, and one user's
    history sits in one partition sorted by time: "latest N" is a single Query that stops after
    N items. `timestamp` is the sort key, and it is not a bare time: two events of one user in
    the same microsecond (a double click, two tabs, a relayed outbox batch) would share a key
    and the second PutItem would silently overwrite the first. The sort key is therefore
    `2025-11-25T13:45:12.123456Z#<suffix>`: a fixed-width UTC time (lexical order = time order)
    plus a suffix derived from the event's `event_id` (16 hex digits of its SHA-256). Unique,
    still sorted by time, and deterministic: an outbox event delivered twice (at-least-once)
    builds the same key, so the conditional PutItem of the redelivery fails and changes nothing.

View logs are disposable and deduplicated
    A view is recorded on every post page a signed-in user opens, so it is by far the most
    frequent activity and the least valuable. Two choices keep it cheap:
    * One view per user per post per `VIEW_DEDUP_MINUTES`: the sort key of a view is the start of
      its time window plus `#view-<post_id>` (no randomness), so re-opening the page within the
      window rebuilds the same key and the conditional PutItem is refused (1 WCU on the table,
      no index writes) instead of adding an item to the table and to two indexes.
      A view therefore shows the start of its window as its time.
    * `expires_at` is the table's TTL attribute (epoch seconds), set on views only, to
      `VIEW_TTL_DAYS` after the view. DynamoDB deletes expired items lazily (AWS: typically
      within a few days; the local engine: never), so every read drops an item whose
      `expires_at` has passed. TTL is the garbage collector, not the access control.

Indexes: what each costs, and the projections
    Every GSI is a second copy of the items that carry its key, written by DynamoDB on every
    PutItem: an activity costs 1 WCU on the table plus 1 per index it appears in (items here are
    about 150 bytes, far under the 1 KB of one write unit). GSIs are eventually consistent (on
    AWS usually under a second behind): the app never reads its own write back through one.
    All three indexes project ALL attributes. The items are tiny, so a GSI write costs 1 WCU
    whatever the projection, and the pages show every attribute. KEYS_ONLY would turn one
    Query (20 items of 150 bytes = 3 KB = 0.5 RCU) into that Query plus a BatchGetItem of 20
    items at 0.5 RCU each (every item is rounded up to 4 KB): 10.5 RCU and a second round trip.
    It would also hide `expires_at`, which the reads need to drop expired views. KEYS_ONLY or
    INCLUDE win when items are large and the index is read rarely; neither is true here.

    `ActivityTypeIndex` (PK `activity_type`, SK `timestamp`): five distinct partition key values
    for the whole site, so every view of every user lands on the one `view` partition of the
    index: a hot partition (1,000 WCU/s per partition; a GSI that cannot keep up throttles
    the writes to the table itself). Fine for a demo; at scale, shard the key (`like#0..K-1`)
    as the feed key does, and as the hot-partition lab shows.

    `PostActivityIndex` (PK `post_id`, SK `timestamp`) is sparse: an item without `post_id` is
    not copied into it. Every activity type today concerns a post, but an activity that does
    not (a sign-up, a follow) would leave `post_id` absent, never empty or zero, and cost
    nothing in this index.

    `FeedIndex` (PK `feed_key`, SK `timestamp`) is the proper global feed. A single key such as
    `feed_key = "all"` would put every write of the site into one partition (1,000 WCU/s for the
    whole site) and let one partition grow forever. The key is `<UTC day>#<shard>`: the day
    bucket bounds each partition to one day of activity and lets the read start at today; the
    shard (`FEED_SHARDS` of them, chosen from the event's hash) spreads one day's writes over
    several partitions. Reading the newest N costs one Query with `Limit N` per shard of the
    newest bucket whatever the size of the table. The index is sparse too: views carry no
    `feed_key`, so the feed shows what people did (posts, likes, comments), and the commonest,
    most disposable writes skip a third index write.

Limits that matter
    Items are small and bounded (400 KB is the item limit; an activity is about 150 bytes).
    A user's partition grows without bound; a Query with `Limit` reads only what it returns,
    so that is fine. Per-partition throughput (1,000 WCU/s, 3,000 RCU/s) is only a concern for
    the low-cardinality `ActivityTypeIndex` (above).
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

from pynamodb.attributes import NumberAttribute, TTLAttribute, UnicodeAttribute
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.models import Model

from shared.dynamo import register_model

ACTIVITY_TYPES = ("post", "view", "like", "unlike", "comment")
VIEW_TTL_DAYS = 7
VIEW_DEDUP_MINUTES = 10
FEED_SHARDS = 4
TIME_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"


def time_key(at: datetime) -> str:
    """Fixed-width UTC time with microseconds: its lexical order is its time order."""
    return at.astimezone(UTC).strftime(TIME_FORMAT)


def event_suffix(event_id: str) -> str:
    """16 hex digits derived from the event id: unique per event, the same on redelivery."""
    return hashlib.sha256(event_id.encode()).hexdigest()[:16]


def sort_key(at: datetime, suffix: str) -> str:
    return f"{time_key(at)}#{suffix}"


def view_window_start(at: datetime) -> datetime:
    """The start of the dedup window that contains `at`."""
    window = VIEW_DEDUP_MINUTES * 60
    return datetime.fromtimestamp(int(at.timestamp()) // window * window, UTC)


def view_sort_key(at: datetime, post_id: int) -> str:
    """The same key for every view of one post by one user within one window."""
    return sort_key(view_window_start(at), f"view-{post_id}")


def feed_key(at: datetime, suffix: str) -> str:
    """`<UTC day>#<shard>`, the shard derived from the suffix so a redelivery picks the same one."""
    return feed_bucket(at, int(suffix[:8], 16) % FEED_SHARDS)


def feed_bucket(at: datetime, shard: int) -> str:
    return f"{at.astimezone(UTC):%Y-%m-%d}#{shard}"


def time_of(timestamp: str) -> datetime:
    """The time part of a sort key."""
    return datetime.strptime(timestamp.split("#", 1)[0], TIME_FORMAT).replace(tzinfo=UTC)


def view_expiry(at: datetime) -> datetime:
    return at.astimezone(UTC) + timedelta(days=VIEW_TTL_DAYS)


class ActivityTypeIndex(GlobalSecondaryIndex["Activity"]):
    """Latest N of one type site-wide. Five key values: the `view` partition is hot (see module)."""

    class Meta:
        index_name = "ActivityTypeIndex"
        projection = AllProjection()

    activity_type = UnicodeAttribute(hash_key=True)
    timestamp = UnicodeAttribute(range_key=True)


class PostActivityIndex(GlobalSecondaryIndex["Activity"]):
    """The timeline of one post. Sparse: items without `post_id` are not in it."""

    class Meta:
        index_name = "PostActivityIndex"
        projection = AllProjection()

    post_id = NumberAttribute(hash_key=True)
    timestamp = UnicodeAttribute(range_key=True)


class FeedIndex(GlobalSecondaryIndex["Activity"]):
    """The global feed: `<UTC day>#<shard>`, queried newest first per shard. Views are not in it."""

    class Meta:
        index_name = "FeedIndex"
        projection = AllProjection()

    feed_key = UnicodeAttribute(hash_key=True)
    timestamp = UnicodeAttribute(range_key=True)


@register_model
class Activity(Model):
    """One thing a user did. PK `user_id`, SK `timestamp` = `<UTC time>#<suffix>` (unique, sorted).

    `user_id` is the blog's numeric user id as text; `username` is copied in so a list needs no
    lookup per row. `post_id` and `feed_key` are absent when they do not apply (sparse
    indexes); `expires_at` (TTL) is set on views only.
    """

    class Meta:
        table_name = "activities"

    user_id = UnicodeAttribute(hash_key=True)
    timestamp = UnicodeAttribute(range_key=True)
    activity_type = UnicodeAttribute()
    username = UnicodeAttribute()
    post_id = NumberAttribute(null=True)
    comment_id = UnicodeAttribute(null=True)
    feed_key = UnicodeAttribute(null=True)
    expires_at = TTLAttribute(null=True)

    type_index = ActivityTypeIndex()
    post_index = PostActivityIndex()
    feed_index = FeedIndex()

    def expired(self, now: datetime) -> bool:
        """Past its TTL: absent for every read, whether or not DynamoDB has deleted it yet."""
        return self.expires_at is not None and self.expires_at <= now

    @property
    def occurred_at(self) -> datetime:
        return time_of(self.timestamp)
