"""The `likes` table: counters that never count twice.

The table holds two kinds of item. The items of one kind are one model class, so each class
below documents one item shape; both classes share the table's key schema. Its neighbour, the
`comments` table, is in `engagement/comments/models.py`.

likes (PK `post_id` string, SK `sk`)
    Access patterns
        * Like count of one post: one BatchGetItem of its counter items (the home counter, and
          the shards of a hot post) (`engagement.likes.service.like_summary`).
        * Like counts of a page of posts: one BatchGetItem of all their counter items
          (`like_counts`), not one read per post.
        * Has this user liked this post: GetItem `(post_id, "USER#<user_id>")`; fetched in the
          same BatchGetItem as the home counter.
        * Like / unlike: conditional UpdateItem of the user's item, then a conditional ADD on one
          counter shard (`like_post`, `unlike_post`). The counter's last UpdateItem returns the
          item as it is after the write (ReturnValues ALL_NEW), so on a post with one counter
          the answer shows the new count without reading it again.
        * Delete everything of a post: Query the home item collection and each shard's,
          BatchWriteItem deletes (`engagement.posts.delete_engagement_of_post`).

The naive seed design and its flaws are in each class's docstring.
"""

from __future__ import annotations

__doc_ja__ = """`likes` テーブル: 二重に数えないカウンター。

このテーブルは 2 種類の項目を持つ。1 種類の項目が 1
つのモデルクラスなので、以下のクラスはどれも 1 つの項目の形を説明している。
2 つのクラスはテーブルのキースキーマを共有する。隣の `comments`
テーブルは `engagement/comments/models.py` にある。

likes（PK `post_id` 文字列、SK `sk`）
    アクセスパターン
        * ある投稿のいいね数: その投稿のカウンター項目（ホームのカウンターと、
          人気の投稿ならシャード）を BatchGetItem 1
          回で読む（`engagement.likes.service.like_summary`）。
        * 1 ページ分の投稿のいいね数: すべてのカウンター項目を BatchGetItem 1
          回で読む（`like_counts`）。投稿ごとに読むことはしない。
        * このユーザーはこの投稿にいいねしたか: GetItem
          `(post_id, "USER#<user_id>")`。ホームのカウンターと同じ BatchGetItem
          で取得する。
        * いいね / 取り消し: ユーザーの項目への条件付き UpdateItem のあと、
          カウンターのシャード 1 つへの条件付き ADD（`like_post`、`unlike_post`）。
          カウンターへの最後の UpdateItem は書き込み後の項目を返す
          （ReturnValues ALL_NEW）ので、カウンターが 1 つの投稿なら、
          読み直さずに新しい数を返せる。
        * 投稿に関するものをすべて削除:
          ホームの項目コレクションと各シャードの項目コレクションをクエリし、
          BatchWriteItem で削除する（`engagement.posts.delete_engagement_of_post`）。

元のチュートリアルの素朴な設計とその欠点は、各クラスの docstring にある。
"""


from pynamodb.attributes import (
    BooleanAttribute,
    NumberAttribute,
    UnicodeAttribute,
    UnicodeSetAttribute,
    UTCDateTimeAttribute,
)
from pynamodb.models import Model

from shared.dynamo import register_model

COUNT_SK = "COUNT"
USER_SK_PREFIX = "USER#"
MAX_SHARDS = 32
"""A hot post's counter is spread over at most this many partition keys (see `LikeCounter`)."""


# -- likes: keys ------------------------------------------------------------------------------


def shard_key(post_id: int, shard: int) -> str:
    """The partition key of counter shard `shard` of a post: shard 0 is the home counter ("42"),
    shard s > 0 has a partition key of its own ("42#s"); see `LikeCounter`."""
    return str(post_id) if shard == 0 else f"{post_id}#{shard}"


def likes_key(partition: str, sk: str) -> dict[str, dict[str, str]]:
    """An item's key in the likes table, in DynamoDB's JSON as the batch calls take it."""
    return {"post_id": {"S": partition}, "sk": {"S": sk}}


def home_key(post_id: int) -> str:
    """The post's home item collection: its home counter and every user's like item."""
    return shard_key(post_id, 0)


def user_sk(user_id: str) -> str:
    """The sort key of one user's like item in the post's home item collection ("USER#7")."""
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

    Why the shards are separate items
        The limit that sharding escapes is the item's own: a partition takes at most 1,000
        WCU/s (and 3,000 RCU/s), and one item always lives whole in one partition, so one
        counter item can never take more than 1,000 one-unit writes a second, however
        DynamoDB's adaptive capacity splits and isolates hot partitions (it can move items
        apart, never split one). N counter items can take N times that, up to the table's own
        throughput (an on-demand table's current peak and per-table quota; see /design).
        Each shard also gets a partition key of its own ("42#s"), so DynamoDB's hashing
        spreads the shards over its partitions from the start, instead of leaving adaptive
        capacity to pull apart an item collection "42" that holds them all. Writers pick a shard at
        random, so the load spreads evenly. A write to a shard
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

    __doc_ja__ = """投稿のいいね数: ホームのカウンター項目 1 つと、投稿が人気になったら N-1
    個のシャード項目。

    キー
        ホームのカウンター: PK `post_id` = "42"、SK "COUNT"。`like_count` と
        `shards`（N。なければ 1）を持つ。シャード s（1 <= s < N）: PK "42#s"、SK
        "COUNT" で、`like_count` を持つ。投稿のいいね数は N 個の項目の合計で、
        BatchGetItem 1 回で読む。サーバーはどの投稿が人気かを数秒間覚えているので、
        N 個のキーを一度にまとめて要求できる。そのあとで人気になった投稿だけ、1
        回だけ BatchGetItem が 1 回増える。

    シャードを別々の項目にする理由
        シャーディングで逃れたいのは、項目そのものの上限。1
        つのパーティションが受けられるのは最大 1,000 WCU/秒（と
        3,000 RCU/秒）で、1 つの項目は必ず丸ごと 1 つのパーティションにある。
        だから DynamoDB
        のアダプティブキャパシティがホットパーティションをどう分割・分離しても（
        項目同士を引き離すことはできても、1 つの項目を分けることはできない）、1
        つのカウンター項目は 1 秒に 1,000 回（1 ユニットの書き込み）より多くは書き込めない。N
        個のカウンター項目ならその N 倍まで、ただしテーブル自体のスループット（
        オンデマンドテーブルの現在のピークとテーブルごとのクォータ。/design を参照）まで。
        シャードにはそれぞれ別のパーティションキー（"42#s"）も持たせるので、DynamoDB
        はハッシュによって最初からシャードをパーティションに散らす。全部を 1
        つの項目コレクション "42" に入れて、
        アダプティブキャパシティが引き離すのを待つ必要はない。
        書き込む側はシャードをランダムに選ぶので、負荷は均等に散らばる。
        ホーム以外のシャードへの書き込みは、
        そのシャードが存在することも条件にする。古い N
        を信じている書き込み側（人気の投稿のキャッシュが数秒古い、
        または削除後に投稿 ID が再利用された）は、
        誰も読まない場所で数える代わりにホームのカウンターに戻る。

    シャーディングのコスト
        読み込みは N 項目の BatchGetItem になる（0.5 RCU ではなく N x 0.5 RCU）。
        だからシャーディングするのは人気の投稿だけ。投稿は、
        いいね数がしきい値（サービスの `AUTO_SHARD_AT`。
        書き込み頻度の代わりの目安）に達したとき、または手動で昇格する。N
        は増えるだけ。シャードを安全に畳むには、
        先にすべての書き込み側がそれを使うのをやめる必要があるからだ。

    トランザクションなしで、ちょうど 1 回
        `ADD like_count :1` だけでは冪等にならない。応答が失われたあとに SDK
        が再試行すると 2 回加算される。そこで加算はそれぞれ自分のトークンを条件に
        する: `ADD like_count :d, inflight {t}` に `NOT contains(inflight, :t)`
        を付ける。t は "<user_id>:<ユーザーのいいね項目のバージョン>"。
        再試行された加算は条件を満たさず、それは「数え済み」を意味する。
        ユーザーの項目が加算の完了を記録すると（`UserLike` を参照）トークンは
        `inflight` から外れるので、集合にあるのは処理中の加算だけで、いつも小さい。
        素朴な設計で唯一際限なく大きくなる部分、つまりいいねした全ユーザーの ID
        を 1 つの項目の集合に持つやり方は、こうして避けている。
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
        PK `post_id` = "42" (the post's home item collection), SK "USER#<user_id>". A GetItem
        answers "liked by me"; the home counter and this item come back in one BatchGetItem.

    The naive alternative and its flaw
        The seed kept the per-user state with ADD on the post's one item (a set of user ids).
        An item is limited to 400 KB, so a post tops out at a few tens of thousands of likers,
        and every write is billed on the item's whole size (1 WCU per KB): liking a post with
        a 300 KB set costs 300 WCU. One small item per user costs 1 WCU whatever the post's
        popularity. These items stay in the home item collection even for hot posts: they are
        many distinct items, which DynamoDB's adaptive capacity can spread over partitions; the
        single counter item is the one thing that cannot be split, so only it is sharded.

    The protocol (a like; unlike mirrors it with -1)
        1. UpdateItem this item: `liked = true`, `version + 1`, `pending_shard = s`, condition
           "not liked and no pending bump". A ConditionalCheckFailed means "already liked":
           success, nothing changes, nothing is published.
        2. Conditional ADD on counter shard s with token "<user_id>:<version>" (see
           `LikeCounter`).
        3. REMOVE `pending_shard` (condition: same version), then drop the token from the shard.
        A crash or a DynamoDB error between the steps leaves `pending_shard` set. Whoever meets
        such an item later (the same user's next click; the outbox relay, told by the failed
        request's LikeChangeUnfinished event; after a crash, the start-up repair) replays
        steps 2-3 with the same token once the item is older than any request could still be
        in flight: the condition in step 2 makes the bump happen exactly once.

    The event between steps 2 and 3
        The change's event (PostLiked, for the activity log) goes into the RDB's outbox after
        step 2 and before step 3, so a change whose process died before recording it is still
        pending, and the replay publishes it. The event's id and time are built from this item
        (post, user, version, `changed_at`): a replay of a change whose event was recorded
        publishes the same event again, and the outbox (unique event id) and the activity log
        (a conditional PutItem on a key made from the id) each keep it once. Two stores with
        no transaction between them: the order of the writes, and writes that can be repeated,
        are what keep them in step.

    Why not TransactWriteItems
        A transaction of steps 1-2 is the textbook answer and costs the same 4 WCU. But every
        like of a hot post would put the same hot counter item in a transaction, and DynamoDB
        cancels concurrent transactions on one item (TransactionConflict), exactly when
        throughput matters; while a transaction holds the item, it refuses even a plain
        UpdateItem of it with TransactionConflictException, which plain UpdateItems alone
        never meet. A transaction also takes at most 100 actions and 4 MB. (The local engine adds
        its own reason: moto's server copies the whole table for each transaction.)
    """

    __doc_ja__ = """ある投稿に対する 1 人のユーザーのいいね状態: カウンターが要約している、
    正確な事実。

    キー
        PK `post_id` = "42"（投稿のホームの項目コレクション）、SK "USER#<user_id>"。
        GetItem で「自分がいいねしたか」に答える。ホームのカウンターとこの項目は
        BatchGetItem 1 回で一緒に返ってくる。

    素朴な設計とその欠点
        元のチュートリアルは、ユーザーごとの状態を投稿の 1 つの項目への
        ADD（ユーザー ID の集合）で持っていた。項目の上限は 400 KB なので、
        いいねできるのは投稿あたり数万人が限界。
        しかも書き込みは項目全体のサイズで課金される（1 KB ごとに 1 WCU）ので、
        300 KB の集合を持つ投稿にいいねすると 300 WCU かかる。
        ユーザーごとに小さな項目を 1 つ持てば、投稿の人気にかかわらず 1 WCU
        で済む。人気の投稿でも、これらの項目はホームの項目コレクションに置いたまま
        にする。別々の項目がたくさんあるだけなので、DynamoDB
        のアダプティブキャパシティが複数のパーティションに分散できる。分けられないのは
        1 つのカウンター項目だけなので、シャーディングするのはそれだけ。

    手順（いいねの場合。取り消しは -1 で同じことをする）
        1. この項目を UpdateItem する: `liked = true`、`version + 1`、
           `pending_shard = s`、条件は「いいねしておらず、処理中の加算もない」。
           ConditionalCheckFailed は「いいね済み」を意味する。成功扱いで、
           何も変えず、何も発行しない。
        2. カウンターのシャード s に、トークン "<user_id>:<version>"
           付きの条件付き ADD（`LikeCounter` を参照）。
        3. `pending_shard` を REMOVE し（条件: 同じバージョン）、
           シャードからトークンを外す。
        手順の途中でクラッシュしたり DynamoDB がエラーを返したりすると、
        `pending_shard` が残る。あとでそのような項目に出会った人（同じユーザーの
        次のクリック。失敗したリクエストが残す LikeChangeUnfinished
        イベントを受け取ったアウトボックスのリレー。クラッシュのあとは起動時の修復）は、
        どのリクエストもまだ処理中ではありえないほど項目が古くなっていれば、
        同じトークンで手順 2〜3 をやり直す。手順 2 の条件のおかげで、
        加算はちょうど 1 回だけ行われる。

    手順 2 と 3 の間のイベント
        変更のイベント（PostLiked。アクティビティログのため）は、手順 2 のあと、
        手順 3 の前に RDB のアウトボックスに入る。だから、
        イベントを記録する前にプロセスが死んだ変更も保留のまま残り、
        やり直しがイベントを発行する。イベントの ID と時刻はこの項目（投稿、ユーザー、
        バージョン、`changed_at`）から作るので、イベントが記録済みの変更をやり直すと、
        同じイベントがもう一度発行される。アウトボックス（イベント ID が一意）と
        アクティビティログ（ID から作ったキーへの条件付き PutItem）は、
        それぞれ 1 回だけ残す。間にトランザクションのない 2 つのストアを揃えているのは、
        書き込みの順序と、繰り返しても同じ結果になる書き込みだ。

    TransactWriteItems を使わない理由
        手順 1〜2 をトランザクションにするのが教科書どおりの答えで、コストも同じ
        4 WCU。しかし人気の投稿へのいいねは、
        どれも同じホットなカウンター項目をトランザクションに含めることになり、
        DynamoDB は 1
        つの項目に対する同時のトランザクションをキャンセルする（TransactionConflict）。
        まさにスループットが必要なときにそうなる。トランザクションが項目を使っている間は、
        その項目への普通の UpdateItem まで TransactionConflictException
        で拒否される。普通の UpdateItem だけなら、この拒否は起きない。
        トランザクションに入れられるのは最大 100 アクション、4 MB まで。
        （ローカルエンジンには別の理由もある: moto
        のサーバーはトランザクションのたびにテーブル全体をコピーする。）
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
