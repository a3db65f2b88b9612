"""The `likes` and `comments` tables: counters that never count twice, and threads in one Query.

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
        * Delete everything of a post: Query the home item collection and each shard's,
          BatchWriteItem deletes (`engagement.posts.delete_engagement_of_post`).

comments (PK `post_id` number, SK `comment_id` string)
    Access patterns
        * A page of a post's thread, oldest first: Query `post_id = :p AND comment_id < "~"`,
          Limit, ExclusiveStartKey from a signed cursor (`engagement.comments.list_comments`).
        * One comment (permalink, edit, delete): GetItem.
        * Post / reply / edit / delete: PutItem, UpdateItem, DeleteItem with conditions.
        * A retried POST: GetItem/PutItem of the request marker `(post_id, "~request#...")`.
        * Delete everything of a post: Query its item collection, BatchWriteItem deletes.

The naive seed design and its flaws are in each class's docstring.
"""

from __future__ import annotations

__doc_ja__ = """`likes` と `comments` テーブル: 二重に数えないカウンターと、
クエリ 1 回で読めるスレッド。

2 つのテーブルが、それぞれ 2 種類の項目を持つ。1 種類の項目が 1
つのモデルクラスなので、以下のクラスはどれも 1 つの項目の形を説明している。
同じテーブルの 2 つのクラスはキースキーマを共有する。

likes（PK `post_id` 文字列、SK `sk`）
    アクセスパターン
        * ある投稿のいいね数: その投稿のカウンター項目（ホームのカウンターと、
          人気の投稿ならシャード）を BatchGetItem 1
          回で読む（`engagement.likes.like_summary`）。
        * 1 ページ分の投稿のいいね数: すべてのカウンター項目を BatchGetItem 1
          回で読む（`like_counts`）。投稿ごとに読むことはしない。
        * このユーザーはこの投稿にいいねしたか: GetItem
          `(post_id, "USER#<user_id>")`。ホームのカウンターと同じ BatchGetItem
          で取得する。
        * いいね / 取り消し: ユーザーの項目への条件付き UpdateItem のあと、
          カウンターのシャード 1 つへの条件付き ADD（`like_post`、`unlike_post`）。
        * 投稿に関するものをすべて削除:
          ホームの項目コレクションと各シャードの項目コレクションをクエリし、
          BatchWriteItem で削除する（`engagement.posts.delete_engagement_of_post`）。

comments（PK `post_id` 数値、SK `comment_id` 文字列）
    アクセスパターン
        * 投稿のスレッドの 1 ページ分を古い順に: クエリ
          `post_id = :p AND comment_id < "~"`、Limit 付き、
          ExclusiveStartKey は署名付きカーソルから（`engagement.comments.list_comments`）。
        * コメント 1 件（パーマリンク、編集、削除）: GetItem。
        * 投稿 / 返信 / 編集 / 削除: 条件付きの PutItem、UpdateItem、DeleteItem。
        * 再試行された POST: リクエストマーカー `(post_id, "~request#...")` の
          GetItem / PutItem。
        * 投稿に関するものをすべて削除: 項目コレクションをクエリし、BatchWriteItem
          で削除する。

元のチュートリアルの素朴な設計とその欠点は、各クラスの docstring にある。
"""

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
    """A comment or a reply, any depth. All comments of a post are one item collection.

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
        Bodies are capped at 4,000 characters, far below the 400 KB item limit. A post's item
        collection has no size limit because the table has no local secondary index (with
        one, every item collection would be capped at 10 GB), and the 1,000 WCU/s a partition
        takes is far above what one post's comment thread receives.
    """

    __doc_ja__ = """コメントまたは返信（深さは任意）。1 つの投稿のコメントはすべて 1
    つの項目コレクションにある。

    キー
        PK `post_id`、SK `comment_id` =
        "<マイクロ秒までの UTC 時刻>Z-<ランダムな 16 進数 12 桁>"。例:
        "20261125T134501123456Z-9f2c4e1a7b3d"。時刻があるのでソートキーの順がそのままスレッドの順になり、
        ランダムな接尾辞が同じマイクロ秒の 2
        つのコメントが互いを上書きするのを防ぐ（時刻だけでは一意にならない）。
        投稿のスレッドはクエリ 1 回で順番どおりに読める。

    スレッド
        各コメントは `parent_id` を持つ（トップレベルのコメントでは属性ごと省く）。
        アプリは 1 ページ分から 1 回の走査でツリーを組み立てる。
        返信は必ず返信先より新しいので、ソートキー順では返信先が先に来て、
        返信はその子として追加される。

    コメントを失わず、重複もさせないページング
        ページは平らなソートキーの順に従う: Limit n で、カーソルは最後に表示した
        `comment_id`（署名付きで、投稿に結び付けたもの）。
        新しいコメントは既存のどのコメントよりも新しいソートキーを持つので、
        必ずカーソルより後ろに入り、「さらに読み込む」で後から 1 回だけ見つかる。
        後のページにある返信の返信先がすでに画面にあれば、その下に付ける。SK
        がただの連番だったり、ページがオフセット方式だったりすると、
        挿入のたびに後ろのページがすべてずれ、
        「さらに読み込む」でコメントが重複したり抜けたりする。

    編集と削除
        `version` は VersionAttribute:
        編集は編集者が見たバージョンを条件にするので、
        古い内容に基づく編集は新しい内容を黙って上書きせずに失敗する（409）。
        `reply_count` は削除されていない子の数。返信のあるコメントを削除すると、
        削除済みの印を付けるだけにする（スレッドの形は保たれる）。
        返信がなければ項目そのものを削除するが、
        ちょうど同じ瞬間に届いた返信が親を失わないよう、`reply_count = 0`
        を条件にする。`reply_count` の変更は `version` に触れない普通の
        UpdateItem で行うので、返信が付いても親コメントの作者の編集が古い扱いにな
        ることはない。多めに数えることはありうる（最初の試行が加算のあとで失敗し、
        再試行された返信）が、最悪でも削除したコメントが「［削除されました］」と
        して残るだけで、返信が親を失うことはない。

    上限
        本文は 4,000 文字までで、項目の上限 400 KB よりずっと小さい。
        テーブルにローカルセカンダリインデックスがないので、
        投稿の項目コレクションには大きさの上限がない（あれば項目コレクションはどれも
        10 GB までに制限される）。1 パーティションが受けられる 1,000 WCU/秒は、1
        つの投稿のコメントスレッドが受ける量よりずっと大きい。
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
        PK `post_id` (the same item collection as the thread), SK `comment_id` =
        "~request#<user_id>#<idempotency key>". '~' sorts after every real comment id, so the
        thread's Query (`comment_id < "~"`) never reads these items, and deleting a post's
        item collection removes them with its comments.

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

    __doc_ja__ = """コメントの POST 1 回の記録。同じキーで再試行されても、
    新しいものは何も作らない。

    キー
        PK `post_id`（スレッドと同じ項目コレクション）、SK `comment_id` =
        "~request#<user_id>#<冪等性キー>"。'~' は実際のどのコメント ID
        よりも後ろにソートされるので、スレッドのクエリ（`comment_id < "~"`）
        はこれらの項目を読まない。投稿の項目コレクションを削除すると、
        コメントと一緒に削除される。

    仕組み
        POST はまずこの項目を、存在しないことを条件に書き込み、
        これから書くコメントの ID を記録する。再試行はその条件を満たさないので、
        この項目を読み、そこに書かれたコメントを返す。
        最初の試行がコメントを書く前に失敗していたら、再試行が同じ ID
        でコメントを書く。ClientRequestToken では代わりにならない。
        対象はトランザクションだけで、有効なのは 10 分間、
        しかもローカルエンジンは無視する。

    ライフサイクル
        `expires_at` がテーブルの TTL 属性（24 時間）: DynamoDB
        が古い記録を自分で、ただしすぐにではなく削除するので、
        コードは期限切れの記録を存在しないものとして扱う。
    """

    class Meta:
        table_name = "comments"

    post_id = NumberAttribute(hash_key=True)
    comment_id = UnicodeAttribute(range_key=True)
    target_comment_id = UnicodeAttribute()
    expires_at = TTLAttribute()
