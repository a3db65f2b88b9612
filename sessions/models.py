"""Two tables of short-lived items that DynamoDB deletes by itself: sign-in state (`sessions`)
and the attempt counters that rate-limit sign-in and sign-up (`rate_limits`, see
`AttemptCounter`).

Access patterns
    * Find the session of a request by its cookie: GetItem on `session_id` (one item, 0.5 RCU
      eventually consistent). No other pattern exists, so no sort key and no index.
    * Create at sign-in (PutItem, conditional on the id being new), slide the expiry now and then
      (UpdateItem), delete at sign-out (DeleteItem).

Why these keys
    `session_id` is the SHA-256 of the random cookie token, not the token itself: a leaked
    table dump or log holds no usable credential. 256 random bits spread sessions evenly over
    partitions, so there is no hot key however many people sign in.

TTL lifecycle
    `expires_at` is the table's TTL attribute (epoch seconds; `create-tables` enables it).
    DynamoDB deletes an expired item lazily, typically within a few days, and the local engine
    never does: a session read therefore checks `expires_at` in code and treats an expired item
    as absent. TTL is the garbage collector, not the access control.

Sliding expiry without a write per request
    Writing the new expiry on every request would cost 1 WCU per page view. The expiry is only
    pushed forward when less than half of the idle window is left, so an active user costs one
    small UpdateItem per half window, and `absolute_expiry` caps a session's life however active.
"""

from __future__ import annotations

from pynamodb.attributes import (
    NumberAttribute,
    TTLAttribute,
    UnicodeAttribute,
    UTCDateTimeAttribute,
)
from pynamodb.models import Model

from shared.dynamo import register_model


@register_model
class Session(Model):
    """One signed-in browser. PK `session_id` = sha256(cookie token); TTL on `expires_at`."""

    class Meta:
        table_name = "sessions"

    session_id = UnicodeAttribute(hash_key=True)
    user_id = UnicodeAttribute()
    username = UnicodeAttribute()
    display_name = UnicodeAttribute()
    created_at = UTCDateTimeAttribute()
    absolute_expiry = UTCDateTimeAttribute()
    expires_at = TTLAttribute()


@register_model
class AttemptCounter(Model):
    """How many sign-in or sign-up attempts one subject made in one fixed time window.

    PK `counter_id` = "<limit>#<subject>#<window number>", for instance
    "sign-in-username#alice#1967301" or "sign-up-address#203.0.113.7#1967301", where the
    window number is epoch seconds divided by the window length. TTL on `expires_at`.

    Access pattern
        * Count an attempt and refuse it past the limit, in one call: UpdateItem with
          `ADD attempts 1` under the condition `attribute_not_exists(attempts) OR
          attempts < :limit`. The first attempt of a window creates the item (UpdateItem is an
          upsert); a ConditionalCheckFailed means "over the limit" and the item is not
          changed, so refused attempts cost 1 WCU each but never grow the count. No read comes
          first: a GetItem then a PutItem would let two concurrent attempts both see "under
          the limit" (a lost update); the condition makes the check and the count one atomic
          step.

    Why this key
        The window number in the key starts a fresh counter every window without any reset
        job: an old window's item is simply never written again, and TTL deletes it (lazily,
        which does not matter, since nothing reads old windows). A subject is a username or a
        client address; a long one (only a hostile client sends one) is hashed, keeping
        keys small.

    Limits and trade-offs
        * A fixed window allows a burst of up to twice the limit across a window boundary
          (the end of one window, then the start of the next). A sliding window would need
          one item per attempt and a Query to count them, several times the cost, for a
          precision a password-guessing limit does not need.
        * Each attempt is one write per limit (sign-in checks two: the address, then the
          username). All writes for one attacked username go to one partition key, whose
          ceiling (1,000 writes per second) is far above any human sign-in rate; a flood
          beyond it is throttled, and a throttled check refuses the attempt with a 503
          (it fails closed).
        * A per-username limit lets a stranger lock a user out for one window by guessing
          wrong on purpose. The window is short, and the per-address limit stops one client
          from doing it to many users.
    """

    class Meta:
        table_name = "rate_limits"

    counter_id = UnicodeAttribute(hash_key=True)
    attempts = NumberAttribute(default=0)
    expires_at = TTLAttribute()
