"""The `sessions` table: sign-in state as short-lived items that DynamoDB deletes by itself.

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

from pynamodb.attributes import TTLAttribute, UnicodeAttribute, UTCDateTimeAttribute
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
