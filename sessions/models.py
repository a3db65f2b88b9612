"""Two tables of short-lived items that DynamoDB deletes by itself: sign-in state (`sessions`)
and the attempt counters that rate-limit sign-in and sign-up (`rate_limits`, see
`AttemptCounter`).

Access patterns
    * Find the session of a request by its cookie: GetItem on `session_id` (one item, 1 RCU:
      strongly consistent, because the first page after sign-in must see the session just
      written; an eventually consistent read would cost 0.5 RCU and could miss it). No other
      pattern exists, so no sort key and no index.
    * Create at sign-in (PutItem, conditional on the id being new), slide the expiry now and then
      (UpdateItem), delete at sign-out (DeleteItem).

Why these keys
    `session_id` is the SHA-256 of the random cookie token, not the token itself: a leaked
    table dump or log holds no usable credential. 256 random bits give every session its own
    partition key value, which DynamoDB hashes evenly over its partitions, so there is no hot
    key however many people sign in.

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

__doc_ja__ = """DynamoDB が自分で削除する短命な項目のテーブル 2 つ: サインイン状態（`sessions`）と、
サインインと新規登録の回数を制限する試行カウンター（`rate_limits`、`AttemptCounter` を参照）。

アクセスパターン
    * リクエストのセッションを Cookie から探す: `session_id` に対する GetItem（1
      項目、1 RCU）。サインイン直後のページは書いたばかりのセッションを見つけなければ
      ならないので、強力な整合性のある読み込みにする（結果整合性なら 0.5 RCU だが、
      その書き込みを見逃すことがある）。ほかのパターンはないので、
      ソートキーもインデックスも持たない。
    * サインイン時に作成（ID が新しいことを条件にした PutItem）、
      ときどき有効期限を延ばす（UpdateItem）、サインアウト時に削除（DeleteItem）。

このキーにした理由
    `session_id` は Cookie のランダムなトークンそのものではなく、その SHA-256
    ハッシュ。テーブルのダンプやログが漏れても、使える認証情報は含まれない。256
    ビットのランダム値なので、セッションはそれぞれ別のパーティションキーの値を持ち、
    DynamoDB はそれをパーティションに均等にハッシュする。そのため
    何人サインインしてもホットキーにはならない。

TTL によるライフサイクル
    `expires_at` がテーブルの TTL 属性（エポック秒。`create-tables` が有効にする）。
    DynamoDB は期限切れの項目をすぐには削除せず、通常は数日以内に削除する。
    ローカルエンジンは削除しない。そのためセッションを読むときはコードで
    `expires_at` を確かめ、期限切れの項目は存在しないものとして扱う。TTL
    はガベージコレクションであって、アクセス制御ではない。

リクエストごとに書き込まずに有効期限を延ばす
    リクエストのたびに新しい有効期限を書き込むと、ページを 1
    回表示するごとに 1 WCU かかる。有効期限を延ばすのはアイドル時間の残りが半分を切ったときだけなの
    で、アクティブなユーザーでも、かかるのは半分の時間ごとに小さな UpdateItem 1
    回。どれだけアクティブでも、`absolute_expiry`
    がセッションの寿命に上限を設ける。
"""

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


@register_model
class AttemptCounter(Model):
    """How many sign-in or sign-up attempts one subject made in one fixed time window.

    PK `counter_id` = "<limit>#<subject>#<window number>", for instance
    "sign-in-pair#alice@203.0.113.7#1967301" or "sign-up-address#203.0.113.7#1967301", where
    the window number is epoch seconds divided by the window length. TTL on `expires_at`.

    Access pattern
        * Count an attempt and refuse it past the limit, in one call: UpdateItem with
          `ADD attempts 1` under the condition `attribute_not_exists(attempts) OR
          attempts < :limit`. The first attempt of a window creates the item (UpdateItem is an
          upsert); a ConditionalCheckFailed means "over the limit" and the item is not
          changed, so refused attempts cost 1 WCU each but never grow the count. No read comes
          first: a GetItem then a PutItem would let two concurrent attempts both see "under
          the limit" (a lost update); the condition makes the check and the count one atomic
          step.
        * Slow down one (username, address) pair that keeps failing: the same UpdateItem, under
          the condition `attribute_not_exists(blocked_until) OR blocked_until <= :now`; a
          wrong password past the free ones sets `blocked_until` (the delay doubles with each
          failure), and the right one deletes the item.

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
        * Each attempt is one write per limit (sign-in checks two: the pair, then the
          address). All writes for one pair or address in a window go to one item, whose
          ceiling (1,000 one-unit writes per second: one item lives in one partition) is far
          above any human sign-in rate; a flood beyond it is throttled, and a throttled check
          refuses the attempt with a 503 (it fails closed).
        * No limit counts a username alone: one would let a stranger lock its owner out
          everywhere by guessing wrong on purpose (OWASP's warning about account lock-out).
          A guesser is slowed per (username, address) and capped per address; many addresses
          guessing one password together are the case this leaves to other defences
          (multi-factor sign-in), which this app does not build.
    """

    __doc_ja__ = """ある主体が、ある固定の時間枠の中で行ったサインインまたは新規登録の試行回数。

    PK `counter_id` = "<制限名>#<主体>#<時間枠の番号>"。たとえば
    "sign-in-pair#alice@203.0.113.7#1967301" や "sign-up-address#203.0.113.7#1967301"。
    時間枠の番号は、エポック秒を時間枠の長さで割ったもの。`expires_at` に TTL。

    アクセスパターン
        * 試行を数え、上限を超えたら拒否する。これを 1 回の呼び出しで:
          `ADD attempts 1` の UpdateItem に、条件
          `attribute_not_exists(attempts) OR attempts < :limit` を付ける。
          時間枠の最初の試行で項目が作られ（UpdateItem はアップサート）、
          ConditionalCheckFailed は「上限超過」を意味し、項目は変わらない。
          拒否された試行もそれぞれ 1 WCU かかるが、回数は増えない。
          先に読み込みはしない。GetItem してから PutItem すると、同時の 2
          つの試行がどちらも「上限未満」と判断してしまう（更新の喪失）。
          条件を使えば、確認と加算が 1 つのアトミックな操作になる。
        * 失敗を続ける（ユーザー名, アドレス）の組を遅くする: 同じ UpdateItem に、条件
          `attribute_not_exists(blocked_until) OR blocked_until <= :now` を付ける。
          無料分を超えてパスワードを間違えると `blocked_until` が設定され（待ち時間は失敗
          のたびに 2 倍）、正しいパスワードで項目は削除される。

    このキーにした理由
        キーに時間枠の番号があるので、リセット処理なしに時間枠ごとに新しいカウン
        ターが始まる。古い時間枠の項目は二度と書き込まれず、TTL
        が削除する（すぐには削除されないが、古い時間枠は誰も読まないので問題ない）。
        主体はユーザー名かクライアントのアドレスで、
        長いもの（悪意のあるクライアントしか送らない）
        はハッシュにしてキーを小さく保つ。

    上限とトレードオフ
        * 固定の時間枠では、時間枠の境目（ある時間枠の終わりと次の始まり）で、
          上限の最大 2 倍までの集中を許してしまう。
          スライディングウィンドウにするには試行ごとに 1 項目と、
          それを数えるクエリが必要で、コストは数倍になる。
          パスワードの総当たりを防ぐ制限には、そこまでの精度は要らない。
        * 試行 1 回につき、制限ごとに書き込みが 1
          回（サインインは組とアドレスの 2 つを確認する）。
          1 つの組やアドレスへの、ある時間枠の書き込みはすべて 1
          つの項目に集まるが、その上限（1 秒あたり 1,000 回の 1
          ユニットの書き込み。1 つの項目は 1
          つのパーティションにある）は人間のサインインの頻度よりずっと高い。
          それを超える大量の試行はスロットリングされ、
          スロットリングされた確認は試行を 503 で拒否する（安全側に倒れる）。
        * ユーザー名だけを数える制限は置かない。それがあると、第三者がわざと間違える
          だけで、持ち主をどこからもロックアウトできてしまう（OWASP がアカウントの
          ロックアウトについて警告していること）。推測する側は（ユーザー名, アドレス）
          ごとに遅くされ、アドレスごとに上限がある。多数のアドレスから 1 つのパスワー
          ドを一緒に推測される場合は、ほかの防御（多要素認証）に任せており、
          このアプリはそれを作っていない。
    """

    class Meta:
        table_name = "rate_limits"

    counter_id = UnicodeAttribute(hash_key=True)
    attempts = NumberAttribute(default=0)
    blocked_until = NumberAttribute(null=True)
    expires_at = TTLAttribute()
