"""The `comments` table: threads read in one Query.

The table holds two kinds of item. The items of one kind are one model class, so each class
below documents one item shape; both classes share the table's key schema. Its neighbour, the
`likes` table, is in `engagement/likes/models.py`.

comments (PK `post_id` number, SK `comment_id` string)
    Access patterns
        * A page of a post's thread, oldest first: Query `post_id = :p AND comment_id < "~"`,
          Limit, ExclusiveStartKey from a signed cursor
          (`engagement.comments.service.list_comments`).
        * One comment (permalink, edit, delete): GetItem.
        * Post / reply / edit / delete: PutItem, UpdateItem, DeleteItem with conditions.
        * A retried POST: GetItem/PutItem of the request marker `(post_id, "~request#...")`.
        * Delete everything of a post: Query its item collection, BatchWriteItem deletes.

The naive seed design and its flaws are in each class's docstring.
"""

from __future__ import annotations

__doc_ja__ = """`comments` テーブル: クエリ 1 回で読めるスレッド。

このテーブルは 2 種類の項目を持つ。1 種類の項目が 1
つのモデルクラスなので、以下のクラスはどれも 1 つの項目の形を説明している。
2 つのクラスはテーブルのキースキーマを共有する。隣の `likes`
テーブルは `engagement/likes/models.py` にある。

comments（PK `post_id` 数値、SK `comment_id` 文字列）
    アクセスパターン
        * 投稿のスレッドの 1 ページ分を古い順に: クエリ
          `post_id = :p AND comment_id < "~"`、Limit 付き、
          ExclusiveStartKey は署名付きカーソルから（`engagement.comments.service.list_comments`）。
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
    UTCDateTimeAttribute,
    VersionAttribute,
)
from pynamodb.models import Model

from shared.dynamo import register_model

REQUEST_PREFIX = "~request#"
COMMENT_ID_RE = re.compile(r"^\d{8}T\d{12}Z-[0-9a-f]{12}$")


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
