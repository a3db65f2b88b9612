"""A single-table variant of this app's DynamoDB data, for comparison: one table, many item types.

The app itself keeps one table per entity (`activities`, `likes`, `comments`, `sessions`, each
documented in its context's `models.py`). These classes put the same items in ONE table whose
keys are generic, `PK` and `SK`, and whose two GSIs are generic too (`GSI1PK`/`GSI1SK`,
`GSI2PK`/`GSI2SK`): the value says what the key means for that item type ("overloading").
Every item carries `type`, PynamoDB's discriminator, so a Query that returns several types
gives back an instance of the right class for each. They are not registered with the app: the
`single-table` lab (`lens/labs/single_table.py`) creates this table on its own engine, loads
the same data into both designs and answers the same questions with each; /design shows both.

Access patterns and the key that serves each
    * The post page (like count, the viewer's like, the latest comments): one Query of the
      post's item collection, `PK = "POST#<post_id>"`. It holds the post's `LikeCounterItem`
      (SK `COUNT`), its `UserLikeItem`s (SK `LIKE#<user_id>`) and its `CommentItem`s (SK
      `COMMENT#<comment_id>`): DynamoDB stores them together, sorted by SK, so the items a
      relational design would join arrive in one request.
    * The post's activity: Query `GSI1`, `GSI1PK = "POST#<post_id>"`, newest first.
    * A user's latest activity: Query the table, `PK = "USER#<user_id>"`, `SK` begins with
      `ACT#`, newest first.
    * Likes of one user: Query `GSI1`, `GSI1PK = "USER#<user_id>"`, `GSI1SK` begins with `LIKE#`.
      The same index serves the post's activity: two item types, two meanings of one key.
    * The global feed: Query `GSI2`, `GSI2PK = "FEED#<UTC day>#<shard>"`, one Query per shard.
    * The session of a request: GetItem `PK = "SESSION#<sha256 of the token>"`, `SK = "SESSION"`.

What one table costs (the lab's second table says it in full)
    * The post page reads the whole item collection, every like and every comment, to show a
      count, one like and a few comments: fewer round trips, more items read as the
      collection grows (1 MB per Query page at most).
    * One TTL attribute for the table: items that must never expire simply never carry it.
    * Exporting one entity for analytics exports the whole table (a table export has no
      filter), then filters on `type`.
    * Throughput settings, alarms, backups and restores are per table (and per GSI): every
      entity shares them.
    * A new access pattern on an existing type needs its new GSI key written into every
      existing item of that type (a backfill) before the index can serve it.
"""

from __future__ import annotations

__doc_ja__ = """このアプリの DynamoDB のデータをシングルテーブルにした比較用の変種: 1
つのテーブルに、多くの項目タイプ。

アプリ本体はエンティティごとに 1 つのテーブルを持つ（`activities`、`likes`、
`comments`、`sessions`。それぞれのコンテキストの `models.py` に説明がある）。
ここのクラスは同じ項目を 1 つのテーブルに入れる。キーは汎用の `PK` と `SK`
で、GSI1 と GSI2 のキーも汎用（`GSI1PK`/`GSI1SK`、`GSI2PK`/`GSI2SK`）。
キーが項目タイプごとに何を意味するかは値が表す（オーバーロード）。
どの項目も PynamoDB の識別子（discriminator）である `type`
を持つので、複数のタイプを返すクエリでも、項目ごとに正しいクラスのインスタンスが返る。
これらはアプリには登録しない。`single-table` ラボ（`lens/labs/single_table.py`）
が自分のエンジンにこのテーブルを作り、同じデータを両方の設計に読み込んで、
同じ質問にそれぞれで答える。/design は両方の設計を示す。

アクセスパターンと、それに答えるキー
    * 投稿ページ（いいね数、閲覧者のいいね、最新のコメント）: 投稿の項目コレクション
      `PK = "POST#<post_id>"` に対するクエリ 1 回。そこには投稿の
      `LikeCounterItem`（SK `COUNT`）、`UserLikeItem`（SK `LIKE#<user_id>`）、
      `CommentItem`（SK `COMMENT#<comment_id>`）が入っている。DynamoDB
      はこれらを SK 順に並べてまとめて保存するので、
      リレーショナルな設計なら結合する項目が 1 回のリクエストで届く。
    * 投稿のアクティビティ: `GSI1` に対するクエリ、`GSI1PK = "POST#<post_id>"`、新しい順。
    * あるユーザーの最新のアクティビティ: テーブルに対するクエリ、
      `PK = "USER#<user_id>"`、`SK` が `ACT#` で始まるもの、新しい順。
    * あるユーザーのいいね: `GSI1` に対するクエリ、`GSI1PK = "USER#<user_id>"`、
      `GSI1SK` が `LIKE#` で始まるもの。同じインデックスが投稿のアクティビティにも答える。
      2 つの項目タイプで、1 つのキーが 2 つの意味を持つ。
    * サイト全体のフィード: `GSI2` に対するクエリ、
      `GSI2PK = "FEED#<UTC の日付>#<shard>"`、シャードごとに 1 回。
    * リクエストのセッション: GetItem `PK = "SESSION#<トークンの sha256>"`、
      `SK = "SESSION"`。

1 つのテーブルにするコスト（ラボの 2 つ目の表で詳しく述べる）
    * 投稿ページは、件数と 1 つのいいねと数件のコメントを表示するために、
      項目コレクション全体（すべてのいいねとすべてのコメント）を読む。
      往復は減るが、コレクションが大きくなるほど読む項目が増える（クエリの 1
      ページは最大 1 MB）。
    * TTL 属性はテーブルに 1 つ。決して期限切れにしてはいけない項目は、
      その属性を持たないだけでよい。
    * 1 つのエンティティを分析用にエクスポートすると、テーブル全体がエクスポートされる
      （テーブルのエクスポートには絞り込みがない）。そのあとで `type` で絞り込む。
    * スループットの設定、アラーム、バックアップと復元はテーブル（と GSI）単位で、
      すべてのエンティティが共有する。
    * 既存のタイプに新しいアクセスパターンを加えるには、
      インデックスが使えるようになる前に、そのタイプの既存の項目すべてに新しい GSI
      のキーを書き込む必要がある（バックフィル）。
"""

from pynamodb.attributes import (
    BooleanAttribute,
    DiscriminatorAttribute,
    NumberAttribute,
    TTLAttribute,
    UnicodeAttribute,
)
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.models import Model

TABLE_NAME = "single_table"
COUNT_SK = "COUNT"
SESSION_SK = "SESSION"


def post_pk(post_id: int) -> str:
    return f"POST#{post_id}"


def user_pk(user_id: str) -> str:
    return f"USER#{user_id}"


def feed_pk(feed_key: str) -> str:
    return f"FEED#{feed_key}"


def activity_sk(timestamp: str) -> str:
    return f"ACT#{timestamp}"


def like_sk(user_id: str) -> str:
    return f"LIKE#{user_id}"


def liked_post_sk(post_id: int) -> str:
    """Zero-padded, so a user's likes sort by post id on GSI1 as numbers would."""
    return f"LIKE#{post_id:010d}"


def comment_sk(comment_id: str) -> str:
    return f"COMMENT#{comment_id}"


def session_pk(session_id: str) -> str:
    return f"SESSION#{session_id}"


class Gsi1(GlobalSecondaryIndex["SingleTableItem"]):
    """Overloaded: a post's activity (`POST#<id>`) and a user's likes (`USER#<id>`)."""

    class Meta:
        index_name = "GSI1"
        projection = AllProjection()

    gsi1_pk = UnicodeAttribute(hash_key=True, attr_name="GSI1PK")
    gsi1_sk = UnicodeAttribute(range_key=True, attr_name="GSI1SK")


class Gsi2(GlobalSecondaryIndex["SingleTableItem"]):
    """The global feed (`FEED#<UTC day>#<shard>`). Sparse: only activities with a feed key."""

    class Meta:
        index_name = "GSI2"
        projection = AllProjection()

    gsi2_pk = UnicodeAttribute(hash_key=True, attr_name="GSI2PK")
    gsi2_sk = UnicodeAttribute(range_key=True, attr_name="GSI2SK")


class SingleTableItem(Model):
    """Any item of the single table: the generic keys, the two overloaded GSIs and `type`.

    `PK` and `SK` carry a prefix naming what they hold (`POST#42`, `USER#7`, `COMMENT#...`):
    two item types never collide on a key, and one prefix in a key condition selects one type
    inside an item collection. `GSI1PK`/`GSI1SK` and `GSI2PK`/`GSI2SK` exist only on the items
    that an index must serve, so both indexes are sparse. `expires_at` is the table's one TTL
    attribute: only views and sessions carry it.
    """

    __doc_ja__ = """シングルテーブルのあらゆる項目: 汎用のキー、オーバーロードした GSI1・GSI2 と
    `type`。

    `PK` と `SK` には中身を表す接頭辞を付ける（`POST#42`、`USER#7`、`COMMENT#...`）。
    2 つの項目タイプがキーで衝突することはなく、キー条件の接頭辞 1
    つで項目コレクションの中の 1 つのタイプを選べる。`GSI1PK`/`GSI1SK` と
    `GSI2PK`/`GSI2SK` は、インデックスが答えるべき項目にだけ持たせるので、
    どちらのインデックスもスパース。`expires_at` はテーブルに 1 つだけの TTL
    属性で、持つのは閲覧とセッションだけ。
    """

    class Meta:
        table_name = TABLE_NAME
        base_table_name = TABLE_NAME  # what /design names it; not registered with the app

    pk = UnicodeAttribute(hash_key=True, attr_name="PK")
    sk = UnicodeAttribute(range_key=True, attr_name="SK")
    item_type = DiscriminatorAttribute(attr_name="type")
    gsi1_pk = UnicodeAttribute(null=True, attr_name="GSI1PK")
    gsi1_sk = UnicodeAttribute(null=True, attr_name="GSI1SK")
    gsi2_pk = UnicodeAttribute(null=True, attr_name="GSI2PK")
    gsi2_sk = UnicodeAttribute(null=True, attr_name="GSI2SK")
    expires_at = TTLAttribute(null=True)

    gsi1 = Gsi1()
    gsi2 = Gsi2()


class ActivityItem(SingleTableItem, discriminator="activity"):
    """One thing a user did: `PK = "USER#<user_id>"`, `SK = "ACT#<timestamp>"`.

    Serves a user's latest activity from the table (the user's item collection, newest first),
    the post's activity from GSI1 (`GSI1PK = "POST#<post_id>"`, `GSI1SK = SK`) and the global
    feed from GSI2 (`GSI2PK = "FEED#<feed_key>"`, `GSI2SK = <timestamp>`; views carry no
    feed key, so they are not in GSI2). `timestamp` is the app's unique, time-sorted key
    (`<UTC time>#<suffix>`). The table-per-entity design serves the same three questions with
    the `activities` table and two of its GSIs.
    """

    __doc_ja__ = """ユーザーが行ったこと 1 件: `PK = "USER#<user_id>"`、`SK = "ACT#<timestamp>"`。

    あるユーザーの最新のアクティビティにはテーブルで（ユーザーの項目コレクションを新しい順に）、
    投稿のアクティビティには GSI1 で（`GSI1PK = "POST#<post_id>"`、`GSI1SK = SK`）、
    サイト全体のフィードには GSI2 で（`GSI2PK = "FEED#<feed_key>"`、
    `GSI2SK = <timestamp>`。閲覧はフィードのキーを持たないので GSI2 に入らない）答える。
    `timestamp` はアプリと同じ、一意で時刻順のキー（`<UTC 時刻>#<suffix>`）。
    エンティティごとのテーブルの設計では、同じ 3 つの質問に `activities`
    テーブルとその GSI 2 つで答える。
    """

    user_id = UnicodeAttribute()
    timestamp = UnicodeAttribute()
    activity_type = UnicodeAttribute()
    username = UnicodeAttribute()
    post_id = NumberAttribute(null=True)
    feed_key = UnicodeAttribute(null=True)


class LikeCounterItem(SingleTableItem, discriminator="like_counter"):
    """A post's like count: `PK = "POST#<post_id>"`, `SK = "COUNT"`, bumped with ADD.

    It sits in the post's item collection, so the post page's one Query returns it with the
    likes and the comments. The app's `LikeCounter` has its own partition key value per post
    in the `likes` table and is read with the viewer's like in one BatchGetItem.
    """

    __doc_ja__ = """投稿のいいね数: `PK = "POST#<post_id>"`、`SK = "COUNT"`。ADD で増やす。

    投稿の項目コレクションにあるので、投稿ページのクエリ 1
    回で、いいねやコメントと一緒に返る。アプリの `LikeCounter` は `likes`
    テーブルで投稿ごとのパーティションキーの値を持ち、閲覧者のいいねと一緒に
    BatchGetItem 1 回で読む。
    """

    post_id = NumberAttribute()
    like_count = NumberAttribute(default=0)


class UserLikeItem(SingleTableItem, discriminator="user_like"):
    """One user's like of one post: `PK = "POST#<post_id>"`, `SK = "LIKE#<user_id>"`.

    In the post's item collection (the post page sees the viewer's like in the same Query),
    and, while `liked` is true, in GSI1 under `GSI1PK = "USER#<user_id>"`,
    `GSI1SK = "LIKE#<post_id, 10 digits>"`: the likes of one user are one Query. An unlike
    removes the GSI1 keys, so the index holds current likes only (sparse). The app's `likes`
    table has no index for this question: it would need a GSI added later, or a Scan.
    """

    __doc_ja__ = """あるユーザーのある投稿へのいいね: `PK = "POST#<post_id>"`、
    `SK = "LIKE#<user_id>"`。

    投稿の項目コレクションにあり（投稿ページは同じクエリで閲覧者のいいねを見る）、
    `liked` が真のあいだは GSI1 にも `GSI1PK = "USER#<user_id>"`、
    `GSI1SK = "LIKE#<post_id の 10 桁>"` で入る。あるユーザーのいいねはクエリ 1
    回で読める。取り消すと GSI1 のキーを消すので、インデックスには今のいいねだけが入る
    （スパース）。アプリの `likes` テーブルにはこの質問に答えるインデックスがない。
    あとから GSI を足すか、スキャンするしかない。
    """

    post_id = NumberAttribute()
    user_id = UnicodeAttribute()
    liked = BooleanAttribute(default=False)


class CommentItem(SingleTableItem, discriminator="comment"):
    """A comment: `PK = "POST#<post_id>"`, `SK = "COMMENT#<comment_id>"`.

    `comment_id` is the app's time-sorted id, so the comments of a post are in thread order
    inside the post's item collection, next to its counter and likes. The app's `comments`
    table keys the same comment by (`post_id`, `comment_id`) and reads it with a Query of its
    own.
    """

    __doc_ja__ = """コメント: `PK = "POST#<post_id>"`、`SK = "COMMENT#<comment_id>"`。

    `comment_id` はアプリと同じ時刻順の ID なので、投稿のコメントは、その投稿の項目
    コレクションの中で、カウンターやいいねと並んでスレッドの順に並ぶ。アプリの
    `comments` テーブルは同じコメントを（`post_id`、`comment_id`）で持ち、
    専用のクエリで読む。
    """

    post_id = NumberAttribute()
    comment_id = UnicodeAttribute()
    user_id = UnicodeAttribute()
    username = UnicodeAttribute()
    body = UnicodeAttribute(default="")


class SessionItem(SingleTableItem, discriminator="session"):
    """A signed-in browser: `PK = "SESSION#<sha256 of the token>"`, `SK = "SESSION"`, TTL.

    A collection of one item, read with one GetItem: a single table gains nothing here, and
    the session shares the table's throughput, alarms and backups with every other type. Its
    `expires_at` is the table's TTL attribute, which views use too.
    """

    __doc_ja__ = """サインイン中のブラウザー: `PK = "SESSION#<トークンの sha256>"`、
    `SK = "SESSION"`、TTL 付き。

    項目 1 つだけのコレクションで、GetItem 1 回で読む。シングルテーブルにしても得るものはなく、
    セッションはテーブルのスループット、アラーム、バックアップをほかのすべてのタイプと共有する。
    `expires_at` はテーブルの TTL 属性で、閲覧も同じ属性を使う。
    """

    session_id = UnicodeAttribute()
    user_id = UnicodeAttribute()
    username = UnicodeAttribute()


ITEM_TYPES: tuple[type[SingleTableItem], ...] = (
    ActivityItem,
    LikeCounterItem,
    UserLikeItem,
    CommentItem,
    SessionItem,
)
"""Every item type of the single table, as /design lists them."""
