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

__doc_ja__ = """`sessions` テーブル: サインイン状態を、DynamoDB
が自分で削除する短命な項目として持つ。

アクセスパターン
    * リクエストのセッションを Cookie から探す: `session_id` に対する GetItem（1
      項目、結果整合性なら 0.5 RCU）。ほかのパターンはないので、
      ソートキーもインデックスも持たない。
    * サインイン時に作成（ID が新しいことを条件にした PutItem）、
      ときどき有効期限を延ばす（UpdateItem）、サインアウト時に削除（DeleteItem）。

このキーにした理由
    `session_id` は Cookie のランダムなトークンそのものではなく、その SHA-256
    ハッシュ。テーブルのダンプやログが漏れても、使える認証情報は含まれない。256
    ビットのランダム値なのでセッションはパーティションに均等に散らばり、
    何人サインインしてもホットキーにはならない。

TTL によるライフサイクル
    `expires_at` がテーブルの TTL 属性（エポック秒。`create-tables` が有効にする）。
    DynamoDB は期限切れの項目をすぐには削除せず、通常は数日以内に削除する。
    ローカルエンジンは削除しない。そのためセッションを読むときはコードで
    `expires_at` を確かめ、期限切れの項目は存在しないものとして扱う。TTL
    はゴミ集めであって、アクセス制御ではない。

リクエストごとに書き込まずに有効期限を延ばす
    リクエストのたびに新しい有効期限を書き込むと、ページを 1 回表示するごとに 1
    WCU かかる。有効期限を延ばすのはアイドル時間の残りが半分を切ったときだけなの
    で、アクティブなユーザーでも、かかるのは半分の時間ごとに小さな UpdateItem 1
    回。どれだけアクティブでも、`absolute_expiry`
    がセッションの寿命に上限を設ける。
"""

from pynamodb.attributes import TTLAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.models import Model

from shared.dynamo import register_model


@register_model
class Session(Model):
    """One signed-in browser. PK `session_id` = sha256(cookie token); TTL on `expires_at`."""

    __doc_ja__ = """サインイン中のブラウザー 1 つ。PK `session_id` = sha256（Cookie のトークン）。
    `expires_at` に TTL。
    """

    class Meta:
        table_name = "sessions"

    session_id = UnicodeAttribute(hash_key=True)
    user_id = UnicodeAttribute()
    username = UnicodeAttribute()
    display_name = UnicodeAttribute()
    created_at = UTCDateTimeAttribute()
    absolute_expiry = UTCDateTimeAttribute()
    expires_at = TTLAttribute()
