"""The `likes` and `comments` tables: counters that never count twice, and threads in one partition.

Two tables, each holding two kinds of item. The items of one kind are one model class, so every
class below documents one item shape; both classes of a table share its key schema.

likes (PK `post_id` string, SK `sk`)
    Access patterns
        * Like count of one post: one BatchGetItem of its counter items (the home counter, and
          the shards of a hot post) (`engagement.likes.like_summary`).
        * Like counts of a page of posts: one BatchGetItem of all their counter items
          (`like_counts`), not one read per post.
        * Has this user liked this post: GetItem `(post_id, "USER#<user_id>")`; fetched in the
          same BatchGetItem as the home counter.
        * Like / unlike: conditional UpdateItem of the user's item, then a conditional ADD on one
          counter shard (`like_post`, `unlike_post`).
        * Delete everything of a post: Query the home partition and each shard partition,
          BatchWriteItem deletes (`engagement.posts.delete_engagement_of_post`).

comments (PK `post_id` number, SK `comment_id` string)
    Access patterns
        * A page of a post's thread, oldest first: Query `post_id = :p AND comment_id < "~"`,
          Limit, ExclusiveStartKey from a signed cursor (`engagement.comments.list_comments`).
        * One comment (permalink, edit, delete): GetItem.
        * Post / reply / edit / delete: PutItem, UpdateItem, DeleteItem with conditions.
        * A retried POST: GetItem/PutItem of the request marker `(post_id, "~request#...")`.
        * Delete everything of a post: Query the partition, BatchWriteItem deletes.

The naive seed design and its flaws are in each class's docstring.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

from pynamodb.attributes import (
    BooleanAttribute,
    NumberAttribute,
    TTLAttribute,
    UnicodeAttribute,
    UnicodeSetAttribute,
    UTCDateTimeAttribute,
    VersionAttribute,
)
from pynamodb.models import Model

from shared.dynamo import register_model

COUNT_SK = "COUNT"
USER_SK_PREFIX = "USER#"
REQUEST_PREFIX = "~request#"
MAX_SHARDS = 32
"""A hot post's counter is spread over at most this many partition keys (see `LikeCounter`)."""
COMMENT_ID_RE = re.compile(r"^\d{8}T\d{12}Z-[0-9a-f]{12}$")


# -- likes: keys ------------------------------------------------------------------------------


def shard_key(post_id: int, shard: int) -> str:
    """The partition key of counter shard `shard` of a post: shard 0 is the home counter ("42"),
    shard s > 0 has a partition key of its own ("42#s"); see `LikeCounter`."""
    return str(post_id) if shard == 0 else f"{post_id}#{shard}"


def likes_key(partition: str, sk: str) -> dict[str, dict[str, str]]:
    """An item's key in the likes table, in DynamoDB's JSON as the batch calls take it."""
    return {"post_id": {"S": partition}, "sk": {"S": sk}}


def home_key(post_id: int) -> str:
    """The post's home partition: its home counter and every user's like item."""
    return shard_key(post_id, 0)


def user_sk(user_id: str) -> str:
    """The sort key of one user's like item in the post's home partition ("USER#7")."""
    return USER_SK_PREFIX + user_id


def bump_token(user_id: str, version: int) -> str:
    """Names one state change of one user's like: the idempotency key of its counter bump
    ("7:3", the user and the version of their like item after the change)."""
    return f"{user_id}:{version}"


@register_model
class LikeCounter(Model):
    """A post's like count: one home counter item, plus N-1 shard items once the post is hot.

    Keys
        Home counter: PK `post_id` = "42", SK "COUNT". It holds `like_count` and `shards` (N,
        absent means 1). Shard s (1 <= s < N): PK "42#s", SK "COUNT", holding `like_count`.
        The count of the post is the sum over the N items, read with one BatchGetItem. A server
        remembers for a few seconds which posts are hot, so it asks for all N keys at once; a
        post that became hot since costs one more BatchGetItem, once.

    Why the shards have their own partition keys
        DynamoDB places an item by the hash of its partition key. Shards written as
        "42"/"COUNT#3" would all share partition key "42" and so one partition, whose limit of
        1,000 WCU/s (and 3,000 RCU/s) they would share. One counter item can never take more
        than 1,000 writes a second however the table is split; N partition keys take N times
        that. Writers pick a shard at random, so the load spreads evenly. A write to a shard
        other than the home counter is also conditional on the shard existing: a writer that
        still believes an old N (its cache of hot posts is a few seconds stale, or the post id
        was reused after a deletion) falls back to the home counter instead of counting where
        no reader looks.

    The cost of sharding
        A read becomes a BatchGetItem of N items (N x 0.5 RCU instead of 0.5), which is why
        only hot posts are sharded: a post is promoted when its count reaches a threshold
        (`AUTO_SHARD_AT` in the service, a proxy for its write rate) or by hand. N only grows:
        folding shards back safely would need every writer to stop using them first.

    Exactly once, without a transaction
        `ADD like_count :1` alone is not idempotent: an SDK retry after a lost response adds
        twice. So every bump is conditional on its own token: `ADD like_count :d, inflight {t}`
        with `NOT contains(inflight, :t)`, where t = "<user_id>:<version of the user's like
        item>". A retried bump fails its condition, which means "already counted". The token
        leaves `inflight` once the user's item records the bump as settled (see `UserLike`), so
        the set holds only bumps in flight and stays tiny. The one unbounded part of the naive
        seed design, a set of every liker's id on one item, is thereby avoided.
    """

    class Meta:
        table_name = "likes"

    post_id = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True, default=COUNT_SK)
    like_count = NumberAttribute(default=0)
    shards = NumberAttribute(null=True)
    inflight = UnicodeSetAttribute(null=True)


@register_model
class UserLike(Model):
    """One user's like state on one post: the exact truth that the counter summarises.

    Keys
        PK `post_id` = "42" (the post's home partition), SK "USER#<user_id>". A GetItem answers
        "liked by me"; the home counter and this item come back in one BatchGetItem.

    The naive alternative and its flaw
        The seed kept the per-user state with ADD on the post's one item (a set of user ids).
        An item is limited to 400 KB, so a post tops out at a few tens of thousands of likers,
        and every write is billed on the item's whole size (1 WCU per KB): liking a post with
        a 300 KB set costs 300 WCU. One small item per user costs 1 WCU whatever the post's
        popularity. These items stay in the home partition even for hot posts: they are many
        distinct items, which DynamoDB's adaptive capacity can split across partitions; the
        single counter item is the one thing that cannot be split, so only it is sharded.

    The protocol (a like; unlike mirrors it with -1)
        1. UpdateItem this item: `liked = true`, `version + 1`, `pending_shard = s`, condition
           "not liked and no pending bump". A ConditionalCheckFailed means "already liked":
           success, nothing changes, nothing is published.
        2. Conditional ADD on counter shard s with token "<user_id>:<version>" (see
           `LikeCounter`).
        3. REMOVE `pending_shard` (condition: same version), then drop the token from the shard.
        A crash or a DynamoDB error between the steps leaves `pending_shard` set. Whoever meets
        such an item later (the same user's next click, or `settle_pending_likes`) replays
        steps 2-3 with the same token once the item is older than any request could still be
        in flight: the condition in step 2 makes the bump happen exactly once.

    Why not TransactWriteItems
        A transaction of steps 1-2 is the textbook answer and costs the same 4 WCU. But every
        like of a hot post would put the same hot counter item in a transaction, and DynamoDB
        cancels concurrent transactions on one item (TransactionConflict), exactly when
        throughput matters; plain UpdateItems on one item simply queue. (The local engine adds
        its own reason: moto's server copies the whole table for each transaction.)
    """

    class Meta:
        table_name = "likes"

    post_id = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    user_id = UnicodeAttribute()
    liked = BooleanAttribute(default=False)
    version = NumberAttribute(default=0)
    changed_at = UTCDateTimeAttribute()
    pending_shard = NumberAttribute(null=True)
    pending_since = UTCDateTimeAttribute(null=True)


# -- comments: keys ---------------------------------------------------------------------------


def comment_id_at(when: datetime, random_bits: int) -> str:
    """A comment's sort key: its UTC time to the microsecond, then 48 random bits in hex
    ("20261125T134501123456Z-9f2c4e1a7b3d"); see `Comment`."""
    return f"{when.astimezone(UTC):%Y%m%dT%H%M%S%f}Z-{random_bits:012x}"


def is_comment_id(text: str) -> bool:
    """Whether `text` has the shape of a comment id (checked before it reaches a key)."""
    return COMMENT_ID_RE.fullmatch(text) is not None


def request_sk(user_id: str, idempotency_key: str) -> str:
    """The sort key of a comment POST's record ("~request#7#<key>"); see `CommentRequest`."""
    return f"{REQUEST_PREFIX}{user_id}#{idempotency_key}"


@register_model
class Comment(Model):
    """A comment or a reply, any depth. All comments of a post are one partition.

    Keys
        PK `post_id`, SK `comment_id` = "<UTC time to the microsecond>Z-<12 random hex>", e.g.
        "20261125T134501123456Z-9f2c4e1a7b3d". The time makes the sort key the thread's order;
        the random suffix keeps two comments of the same microsecond from overwriting each
        other (a time alone is not unique). One Query reads a post's thread in order.

    Threads
        Each comment stores `parent_id` (absent for a top-level comment). The app builds the
        tree from one page in one pass: a reply is always newer than its parent, so in sort-key
        order the parent comes first and the reply is appended to its parent's children.

    Pagination that never loses or repeats a comment
        Pages follow the flat sort-key order: Limit n, and the cursor is the last `comment_id`
        shown (signed, bound to the post). A new comment gets a newer sort key than every
        existing one, so it lands after any cursor: "load more" finds it once, later. A reply
        on a later page whose parent is already on screen is attached under that parent. Had
        the SK been a plain counter or the pages been offsets, an insertion would shift every
        page and "load more" would repeat or skip comments.

    Edits and deletion
        `version` is a VersionAttribute: an edit is conditional on the version the editor saw,
        so a stale edit fails (409) instead of silently overwriting a newer one.
        `reply_count` counts live children. Deleting a comment with replies only marks it
        deleted (the thread keeps its shape); without replies the item is deleted, conditional
        on `reply_count = 0` so that a reply arriving at the same moment is never orphaned.
        `reply_count` changes go through a plain UpdateItem that leaves `version` alone, so a
        reply never makes its parent's author's edit look stale. It can only over-count (a
        retried reply whose first attempt died after bumping it), which at worst keeps a
        deleted comment as a "[deleted]" marker; it never lets a reply lose its parent.

    Limits
        Bodies are capped at 4,000 characters, far below the 400 KB item limit. A partition has
        no size limit (there is no local secondary index), and the 1,000 WCU/s per partition is
        far above what one post's comment thread receives.
    """

    class Meta:
        table_name = "comments"

    post_id = NumberAttribute(hash_key=True)
    comment_id = UnicodeAttribute(range_key=True)
    parent_id = UnicodeAttribute(null=True)
    user_id = UnicodeAttribute()
    username = UnicodeAttribute()
    display_name = UnicodeAttribute()
    body = UnicodeAttribute(default="")
    created_at = UTCDateTimeAttribute()
    edited_at = UTCDateTimeAttribute(null=True)
    deleted = BooleanAttribute(default=False)
    reply_count = NumberAttribute(default=0)
    version = VersionAttribute()


@register_model
class CommentRequest(Model):
    """The record of one comment POST, so that a retry with the same key creates nothing new.

    Keys
        PK `post_id` (the same partition as the thread), SK `comment_id` =
        "~request#<user_id>#<idempotency key>". '~' sorts after every real comment id, so the
        thread's Query (`comment_id < "~"`) never reads these items, and deleting a post's
        partition removes them with its comments.

    How it works
        A POST first puts this item, conditional on it not existing, naming the comment id it
        is about to write. A retry fails that condition, reads the item and answers with the
        comment it names; if the first attempt died before writing the comment, the retry
        writes it under that same id. ClientRequestToken would not do: it only covers
        transactions, for 10 minutes, and the local engine ignores it.

    Lifecycle
        `expires_at` is the table's TTL attribute (24 hours): DynamoDB deletes old records by
        itself, lazily, so the code treats an expired record as absent.
    """

    class Meta:
        table_name = "comments"

    post_id = NumberAttribute(hash_key=True)
    comment_id = UnicodeAttribute(range_key=True)
    target_comment_id = UnicodeAttribute()
    expires_at = TTLAttribute()
