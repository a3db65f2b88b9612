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
    All items of one `user_id` form one item collection (AWS's word for the items that share a
    partition key value), stored sorted by time: "latest N" is a single Query that stops after N
    items. DynamoDB hashes every partition key value to choose the partition (the physical unit of
    storage and throughput) that holds it, and each partition holds many users, so the more users,
    the more evenly the load spreads. `timestamp` is the sort key, and it is not a bare time: two
    events of one user in the same microsecond (a double click, two tabs, a relayed outbox batch)
    would share a key and the second PutItem would silently overwrite the first. The sort key is
    therefore `2025-11-25T13:45:12.123456Z#<suffix>`: a fixed-width UTC time (lexical order = time
    order) plus a suffix derived from the event's `event_id` (16 hex digits of its SHA-256). Unique,
    still sorted by time, and deterministic: an outbox event delivered twice (at-least-once) builds
    the same key, so the conditional PutItem of the redelivery fails and changes nothing.

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
    for the whole site, so every view of every user is written to the one `view` item collection
    of the index: a hot key. A partition takes at most 1,000 WCU/s, and a GSI that is throttled
    throttles the writes to the table itself. DynamoDB's adaptive capacity reacts to a hot
    partition (it splits it and isolates frequently accessed items), but only after the heat
    has lasted, and it can never raise the limit of a single item. Fine for a demo; at scale,
    shard the key (`like#0..K-1`) as the feed key does, and as the hot-partition lab shows.

    `PostActivityIndex` (PK `post_id`, SK `timestamp`) is sparse: an item without `post_id` is
    not copied into it. Every activity type today concerns a post, but an activity that does
    not (a sign-up, a follow) would leave `post_id` absent, never empty or zero, and cost
    nothing in this index.

    `FeedIndex` (PK `feed_key`, SK `timestamp`) is the proper global feed. A single key such as
    `feed_key = "all"` would put every write of the site into one item collection, whose writes
    adaptive capacity could at best spread over partitions after the fact, and let that one
    collection grow forever. The key is `<UTC day>#<shard>`: the day bucket bounds each item
    collection to one day of activity and lets the read start at today; the shard (`FEED_SHARDS` of
    them, chosen from the event's hash) spreads one day's writes over several partition key values,
    which DynamoDB's hashing spreads over its partitions. Reading the newest N costs one Query with
    `Limit N` per shard of the newest bucket whatever the size of the table. The index is sparse
    too: views carry no `feed_key`, so the feed shows what people did (posts, likes, comments), and
    the commonest, most disposable writes skip a third index write.

Limits that matter
    Items are small and bounded (400 KB is the item limit; an activity is about 150 bytes).
    A user's item collection grows without bound, which DynamoDB allows because the table has
    no local secondary index (with one, an item collection is capped at 10 GB); a Query with
    `Limit` reads only what it returns, so that is fine. Per-partition throughput (1,000 WCU/s,
    3,000 RCU/s) is only a concern for the low-cardinality `ActivityTypeIndex` (above).
"""

from __future__ import annotations

__doc_ja__ = """`activities` テーブル: 誰がいつ何をしたか。ユーザー、種類、投稿、
サイト全体の単位で新しい順に読む。

アクセスパターン（どれも新しい順のクエリで、`Limit` とカーソル付き）
    * あるユーザーの最新 N 件: テーブルに対するクエリ、`user_id = :u`、降順。
    * ある種類のサイト全体での最新 N 件: `ActivityTypeIndex` に対するクエリ、
      `activity_type = :t`、降順。
    * ある投稿のタイムライン: `PostActivityIndex` に対するクエリ、`post_id = :p`、
      降順。
    * サイト全体のフィード（「サイト全体で今起きていること」）: `FeedIndex`
      の最新の日付バケットに対して、シャードごとにクエリを 1
      回ずつ実行し（`feed_key = "<yyyy-mm-dd>#<shard>"`）、アプリでマージする。
      古いバケットを読むのは、最新のバケットが N 件に満たないときだけ。
    * 元のチュートリアルのフィードは、テーブル全体のスキャンだった。
      インデックスを使うフィードの横に、アンチパターンとしてわざと残している。
      スキャンのコストはテーブルとともに増えるが、インデックスのコストは増えない。

このキーにした理由
    1 つの `user_id` の項目は 1 つの項目コレクション（パーティションキーの値が同じ項目の集まりを
    指す AWS の用語）になり、時刻順に並んで保存される。「最新 N 件」は N
    件読んだら止まるクエリ 1 回で済む。DynamoDB
    はパーティションキーの値をハッシュして、それを置くパーティション（ストレージとスループットの物理的な単位）
    を決める。1 つのパーティションには多くのユーザーが入るので、
    ユーザーが多いほど負荷は均等に散らばる。ソートキーは `timestamp` だが、
    ただの時刻ではない。同じユーザーの 2
    つのイベントが同じマイクロ秒に起きると（ダブルクリック、2 つのタブ、
    アウトボックスのまとめての中継）キーが重なり、2 つ目の PutItem が 1
    つ目を黙って上書きしてしまう。そこでソートキーは
    `2025-11-25T13:45:12.123456Z#<suffix>` の形にする。
    固定幅の UTC 時刻（文字列の順序 = 時刻の順序）に、
    イベントの `event_id` から作った接尾辞（SHA-256 の 16 進数 16 桁）
    を付けたもの。一意で、時刻順のままで、しかも決定的。
    アウトボックスのイベントが 2 回届いても（at-least-once）同じキーになるので、
    2 回目の条件付き PutItem は失敗し、何も変えない。

閲覧ログは使い捨てで、重複を除く
    閲覧はサインイン中のユーザーが投稿ページを開くたびに記録されるので、
    いちばん頻繁で、いちばん価値の低いアクティビティ。2 つの工夫で安く抑えている。
    * ユーザー・投稿ごとに `VIEW_DEDUP_MINUTES` あたり 1 件だけ:
      閲覧のソートキーは時間枠の開始時刻に `#view-<post_id>`
      を付けたもの（ランダム要素なし）なので、
      同じ時間枠のうちにページを開き直すと同じキーになり、条件付き PutItem
      は拒否される（テーブルに 1 WCU、インデックスへの書き込みなし）。テーブルと
      2 つのインデックスに項目を追加するよりずっと安い。
      そのため閲覧の時刻には時間枠の開始時刻が表示される。
    * `expires_at` がテーブルの TTL 属性（エポック秒）で、閲覧にだけ、閲覧から
      `VIEW_TTL_DAYS` 後の時刻を設定する。DynamoDB
      は期限切れの項目をすぐには削除しない（AWS では通常数日以内、
      ローカルエンジンでは削除しない）ので、読み込みのたびに `expires_at`
      を過ぎた項目を除外する。TTL はガベージコレクションであって、アクセス制御ではない。

インデックス: それぞれのコストと射影
    GSI は、そのキーを持つ項目の 2 つ目のコピーで、PutItem のたびに DynamoDB
    が書き込む。アクティビティ 1 件のコストは、テーブルに 1 WCU と、
    入るインデックスごとに 1 WCU（ここの項目は約 150 バイトで、書き込みユニット
    1 つ分の 1 KB よりずっと小さい）。GSI は結果整合性（AWS では通常 1
    秒未満の遅れ）なので、アプリは自分の書き込みを GSI 経由で読み直さない。
    3 つのインデックスはすべて ALL（全属性）を射影する。
    項目が小さいので射影が何であれ GSI への書き込みは 1 WCU で、
    ページはすべての属性を表示する。KEYS_ONLY にすると、クエリ 1 回（150
    バイトの項目 20 件 = 3 KB = 0.5 RCU）が、そのクエリに加えて 20 項目の
    BatchGetItem（項目ごとに 4 KB に切り上げて 0.5 RCU ずつ）になる。
    合計 10.5 RCU で、往復も 1 回増える。しかも期限切れの閲覧を除外するのに必要な
    `expires_at` が見えなくなる。KEYS_ONLY や INCLUDE が有利なのは、
    項目が大きくインデックスがめったに読まれないときで、
    ここはどちらにも当てはまらない。

    `ActivityTypeIndex`（PK `activity_type`、SK `timestamp`）:
    パーティションキーの値はサイト全体で 5 種類しかないので、
    全ユーザーのすべての閲覧がインデックスの `view` という 1
    つの項目コレクションに書き込まれる。これがホットキー。1
    つのパーティションが受けられるのは最大 1,000 WCU/秒で、GSI
    がスロットリングされると、テーブルそのものへの書き込みもスロットリングされる。
    DynamoDB のアダプティブキャパシティはホットパーティションに対応する（
    パーティションを分割し、頻繁にアクセスされる項目を分離する）が、
    それは熱い状態がしばらく続いてからで、1
    つの項目の上限を引き上げることは決してできない。
    デモならこれで十分だが、規模が大きくなったら、
    フィードのキーと同じように、またホットパーティションのラボで見るように、
    キーをシャーディングする（`like#0..K-1`）。

    `PostActivityIndex`（PK `post_id`、SK `timestamp`）はスパース: `post_id`
    のない項目はコピーされない。今のアクティビティはどれも投稿に関するものだが、
    投稿に関係しないアクティビティ（新規登録やフォローなど）では `post_id`
    を空や 0 にせず属性ごと省くので、このインデックスには何のコストもかからない。

    `FeedIndex`（PK `feed_key`、SK `timestamp`）が本来のサイト全体のフィード。
    `feed_key = "all"` のような単一のキーにすると、サイトのすべての書き込みが 1
    つの項目コレクションに集まる。アダプティブキャパシティにできるのは、
    あとからその書き込みをパーティションに分けることくらいで、
    しかもその項目コレクションは際限なく大きくなる。キーは `<UTC の日付>#<shard>`:
    日付のバケットが各項目コレクションを 1 日分のアクティビティに限り、
    読み込みを今日から始められるようにする。シャード（`FEED_SHARDS` 個。
    イベントのハッシュから選ぶ）が 1
    日分の書き込みを複数のパーティションキーの値に分散し、DynamoDB
    はハッシュによってそれらをパーティションに散らす。
    最新 N 件を読むコストは、テーブルの大きさにかかわらず、
    最新のバケットのシャードごとに `Limit N` のクエリ 1 回。
    このインデックスもスパースで、閲覧は `feed_key` を持たない。
    そのためフィードに出るのは人が行ったこと（投稿、いいね、コメント）で、
    いちばん多く使い捨てな書き込みは 3 つ目のインデックスへの書き込みを省ける。

気にすべき上限
    項目は小さく、大きさにも上限がある（項目の上限は 400 KB、アクティビティは約
    150 バイト）。ユーザーの項目コレクションは際限なく大きくなる。
    テーブルにローカルセカンダリインデックスがないので DynamoDB
    はそれを許す（あれば項目コレクションは 10 GB までに制限される）。`Limit`
    付きのクエリは返す分だけしか読まないので問題ない。
    パーティションごとのスループット（1,000 WCU/秒、3,000 RCU/秒）
    が問題になるのは、値の種類が少ない `ActivityTypeIndex`（前述）だけ。
"""

import hashlib
from datetime import UTC, datetime, timedelta
from typing import Literal, get_args

from pynamodb.attributes import NumberAttribute, TTLAttribute, UnicodeAttribute
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.models import Model

from shared.dynamo import register_model

ActivityType = Literal["post", "view", "like", "unlike", "comment"]
ACTIVITY_TYPES: tuple[str, ...] = get_args(ActivityType)
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
    """Latest N of one type site-wide. Five key values: the `view` key is hot (see module)."""

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

    __doc_ja__ = """ユーザーが行ったこと 1 件。PK `user_id`、SK `timestamp` =
    `<UTC 時刻>#<suffix>`（一意で、ソート済み）。

    `user_id` はブログの数値のユーザー ID を文字列にしたもの。`username`
    もコピーして持つので、一覧で行ごとにユーザーを調べる必要がない。`post_id` と
    `feed_key` は当てはまらないときには属性ごと省く（スパースインデックス）。
    `expires_at`（TTL）は閲覧にだけ設定する。
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
