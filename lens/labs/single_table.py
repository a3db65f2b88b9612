"""Lab `single-table`: the same data and the same questions, table per entity vs one table.

The same made-up site (users, posts, their activities, likes, comments and sessions) is
loaded twice on the lab's engine: into copies of the app's own tables (`activities`, `likes`,
`comments`, `sessions`, keys and GSIs read from the app's model classes) and into one table
of the single-table variant (`lens.single_table.models`, items built by its classes). Then each
question is answered by each design, the way that design answers it, `repeats` times: calls,
items read, RCU (computed by DynamoDB's rules, `lens.labs.meter`), the median latency, and
whether both designs gave the same answer (they must: the lab fails loudly otherwise).

The items follow the app's shapes (`lens.labs.synthetic`). Views carry a TTL a week ahead of
the run, and every read drops expired items, in both designs alike.
"""

from __future__ import annotations

import random
import statistics
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from botocore.exceptions import ClientError
from pydantic import Field

from lens.capacity import TableSchema
from lens.inspector import schema_of
from lens.labs.charts import Bar, BarGroup, bar_chart
from lens.labs.context import LabContext
from lens.labs.lab import Lab, LabOptions, LabView, Mirror, Result, ResultTable
from lens.labs.meter import Meter, Tally, units_text
from lens.labs.synthetic import FEED_SHARDS, TIME_FORMAT, activity, check_keys, counter, session
from lens.labs.tables import LabTable
from lens.single_table.models import (
    COUNT_SK,
    ITEM_TYPES,
    SESSION_SK,
    TABLE_NAME,
    ActivityItem,
    CommentItem,
    LikeCounterItem,
    SessionItem,
    SingleTableItem,
    UserLikeItem,
    activity_sk,
    comment_sk,
    feed_pk,
    like_sk,
    liked_post_sk,
    post_pk,
    session_pk,
    user_pk,
)
from shared.dynamo import batch_write, boto3_client
from shared.i18n import N_
from shared.i18n import gettext as _
from shared.settings import active_settings

Item = dict[str, dict[str, Any]]
Answer = Any
LATEST = 10
"""How many comments and activities a "latest" question shows."""
KINDS = (("view", 45), ("like", 25), ("comment", 20), ("post", 10))


class SingleTableOptions(LabOptions):
    users: int = Field(20, ge=2, le=500, title=N_("Users"))
    posts: int = Field(10, ge=1, le=200, title=N_("Posts"))
    activities: int = Field(
        400,
        ge=20,
        le=5_000,
        title=N_("Activities"),
        description=N_("Each like and comment among them also writes its like or comment."),
    )
    repeats: int = Field(
        5,
        ge=1,
        le=50,
        title=N_("Repetitions of each question"),
        description=N_("The latency shown is the median of the repetitions."),
    )
    explorer: Literal["no", "copy"] = Field(
        "no",
        title=N_("Leave a copy for the explorer"),
        description=N_(
            "copy: the single table is also written to the app's own DynamoDB (table "
            "single_table, with the app's table prefix), replacing an older copy, so "
            "/tables/single_table opens it after the run's engine is gone."
        ),
    )


# -- the data, once, in a neutral shape -----------------------------------------------------------


@dataclass(frozen=True)
class Site:
    activities: list[Item]
    likes: dict[tuple[int, str], bool]
    """(post, user) -> liked now."""
    comments: list[Item]
    sessions: list[Item]
    now: datetime


def site_of(options: SingleTableOptions, now: datetime) -> Site:
    """Deterministic: the same options make the same site on every run."""
    kinds = [kind for kind, weight in KINDS for _ in range(weight)]
    expiry = int((now + timedelta(days=7)).timestamp())
    activities, comments = [], []
    likes: dict[tuple[int, str], bool] = {}
    for number in range(options.activities):
        rng = random.Random(21 * 1_000_003 + number)
        kind, post = rng.choice(kinds), rng.randrange(1, options.posts + 1)
        user = number % options.users
        if kind == "like" and likes.get((post, str(user))):
            kind = "unlike"
        item = activity(number, user=user, kind=kind, post_id=post, expires_at=expiry)
        activities.append(item)
        if kind in ("like", "unlike"):
            likes[(post, str(user))] = kind == "like"
        if kind == "comment":
            comments.append(_comment(item, number))
    sessions = [session(user, expires_at=expiry, now=now) for user in range(min(options.users, 50))]
    return Site(activities, likes, comments, sessions, now)


def _comment(activity_item: Item, number: int) -> Item:
    at = datetime.strptime(activity_item["timestamp"]["S"].split("#")[0], TIME_FORMAT)
    return {
        "post_id": activity_item["post_id"],
        "comment_id": {"S": f"{at:%Y%m%dT%H%M%S%f}Z-{number:012x}"},
        "user_id": activity_item["user_id"],
        "username": activity_item["username"],
        "display_name": {"S": f"User {activity_item['user_id']['S']}"},
        "body": {"S": f"Comment number {number}."},
        "created_at": {"S": at.strftime("%Y-%m-%dT%H:%M:%S.%f+0000")},
        "deleted": {"BOOL": False},
        "reply_count": {"N": "0"},
        "version": {"N": "1"},
    }


def _like_counts(site: Site) -> Counter[int]:
    return Counter(post for (post, _user), liked in site.likes.items() if liked)


# -- the two designs' items -----------------------------------------------------------------------


def _multi_items(site: Site) -> dict[str, list[Item]]:
    counts = _like_counts(site)
    posts = {int(a["post_id"]["N"]) for a in site.activities}
    likes: list[Item] = [counter(str(post), count=counts[post]) for post in sorted(posts)]
    likes += [
        {
            "post_id": {"S": str(post)},
            "sk": {"S": f"USER#{user}"},
            "user_id": {"S": user},
            "liked": {"BOOL": liked},
            "version": {"N": "1"},
            "changed_at": {"S": site.now.strftime("%Y-%m-%dT%H:%M:%S.%f+0000")},
        }
        for (post, user), liked in site.likes.items()
    ]
    return {
        "activities": site.activities,
        "likes": likes,
        "comments": site.comments,
        "sessions": site.sessions,
    }


def single_items(site: Site) -> list[Item]:
    """Built by the single-table classes themselves: their attribute names and types."""
    counts = _like_counts(site)
    posts = sorted({int(a["post_id"]["N"]) for a in site.activities})
    models: list[SingleTableItem] = [_activity_item(a) for a in site.activities]
    models += [
        LikeCounterItem(pk=post_pk(post), sk=COUNT_SK, post_id=post, like_count=counts[post])
        for post in posts
    ]
    for (post, user), liked in site.likes.items():
        like = UserLikeItem(pk=post_pk(post), sk=like_sk(user), post_id=post, user_id=user)
        like.liked = liked
        if liked:
            like.gsi1_pk, like.gsi1_sk = user_pk(user), liked_post_sk(post)
        models.append(like)
    models += [
        CommentItem(
            pk=post_pk(int(c["post_id"]["N"])),
            sk=comment_sk(c["comment_id"]["S"]),
            post_id=int(c["post_id"]["N"]),
            comment_id=c["comment_id"]["S"],
            user_id=c["user_id"]["S"],
            username=c["username"]["S"],
            body=c["body"]["S"],
        )
        for c in site.comments
    ]
    models += [
        SessionItem(
            pk=session_pk(s["session_id"]["S"]),
            sk=SESSION_SK,
            session_id=s["session_id"]["S"],
            user_id=s["user_id"]["S"],
            username=s["username"]["S"],
            expires_at=datetime.fromtimestamp(int(s["expires_at"]["N"]), UTC),
        )
        for s in site.sessions
    ]
    return [model.serialize() for model in models]


def _activity_item(a: Item) -> ActivityItem:
    timestamp, post = a["timestamp"]["S"], int(a["post_id"]["N"])
    item = ActivityItem(
        pk=user_pk(a["user_id"]["S"]),
        sk=activity_sk(timestamp),
        user_id=a["user_id"]["S"],
        timestamp=timestamp,
        activity_type=a["activity_type"]["S"],
        username=a["username"]["S"],
        post_id=post,
        gsi1_pk=post_pk(post),
        gsi1_sk=activity_sk(timestamp),
    )
    if "feed_key" in a:
        item.feed_key = a["feed_key"]["S"]
        item.gsi2_pk, item.gsi2_sk = feed_pk(a["feed_key"]["S"]), timestamp
    if "expires_at" in a:
        item.expires_at = datetime.fromtimestamp(int(a["expires_at"]["N"]), UTC)
    return item


def single_table_request(name: str) -> tuple[dict[str, Any], LabTable]:
    """CreateTable parameters (on-demand) from the variant's classes, and its `LabTable`."""
    schema = SingleTableItem._get_schema()
    request: dict[str, Any] = {
        "TableName": name,
        "KeySchema": sorted(schema["key_schema"], key=lambda key: key["KeyType"] != "HASH"),
        "AttributeDefinitions": schema["attribute_definitions"],
        "BillingMode": "PAY_PER_REQUEST",
        "GlobalSecondaryIndexes": [
            {
                "IndexName": index["index_name"],
                "KeySchema": index["key_schema"],
                "Projection": index["projection"],
            }
            for index in schema["global_secondary_indexes"]
        ],
    }
    full: TableSchema = schema_of(ITEM_TYPES)
    return request, LabTable(
        name=name,
        mirrors="lens.single_table.models.SingleTableItem",
        schema=full,
        ttl_attribute=None,
    )


# -- the questions --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Subjects:
    post: int
    viewer: str
    user: str
    liker: str
    feed_bucket: str
    now: int


@dataclass(frozen=True)
class Tables:
    meter: Meter
    activities: str
    likes: str
    comments: str
    single: str


Ask = Callable[[Tables, Subjects, Tally], Answer]


def _live(items: Iterable[Item], now: int) -> list[Item]:
    """Drop expired items: DynamoDB deletes them lazily, so every read checks."""
    return [i for i in items if "expires_at" not in i or int(i["expires_at"]["N"]) > now]


def _query_all(t: Tables, tally: Tally, **params: Any) -> list[Item]:
    """Every page of a Query or Scan: a page ends at 1 MB, so follow LastEvaluatedKey."""
    operation = "Scan" if "KeyConditionExpression" not in params else "Query"
    items: list[Item] = []
    while True:
        page = t.meter.call(operation, tally, **params)
        items += page.get("Items", [])
        if "LastEvaluatedKey" not in page:
            return items
        params["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def _newest(t: Tables, tally: Tally, **params: Any) -> list[Item]:
    page = t.meter.call("Query", tally, ScanIndexForward=False, Limit=LATEST, **params)
    return list(page.get("Items", []))


def _timestamps(items: Iterable[Item], s: Subjects) -> list[str]:
    return [i["timestamp"]["S"] for i in _live(items, s.now)]


def post_page_multi(t: Tables, s: Subjects, tally: Tally) -> Answer:
    """BatchGetItem of the counter and the viewer's like, a Query of the comments, a Query of
    `PostActivityIndex`: three calls, three tables or indexes."""
    keys = [
        {"post_id": {"S": str(s.post)}, "sk": {"S": "COUNT"}},
        {"post_id": {"S": str(s.post)}, "sk": {"S": f"USER#{s.viewer}"}},
    ]
    got = t.meter.call("BatchGetItem", tally, RequestItems={t.likes: {"Keys": keys}})
    found = got["Responses"][t.likes]
    tally.scanned += len(found)  # a BatchGetItem reads exactly the items it returns
    by_sk = {i["sk"]["S"]: i for i in found}
    comments = _newest(
        t,
        tally,
        TableName=t.comments,
        KeyConditionExpression="post_id = :p AND comment_id < :end",
        ExpressionAttributeValues={":p": {"N": str(s.post)}, ":end": {"S": "~"}},
    )
    activity_items = _newest(
        t,
        tally,
        TableName=t.activities,
        IndexName="PostActivityIndex",
        KeyConditionExpression="post_id = :p",
        ExpressionAttributeValues={":p": {"N": str(s.post)}},
    )
    mine = by_sk.get(f"USER#{s.viewer}")
    return {
        "like_count": int(by_sk["COUNT"]["like_count"]["N"]) if "COUNT" in by_sk else 0,
        "liked": bool(mine and mine["liked"]["BOOL"]),
        "comments": [c["comment_id"]["S"] for c in comments],
        "activity": _timestamps(activity_items, s),
    }


def post_page_single(t: Tables, s: Subjects, tally: Tally) -> Answer:
    """One Query of the post's item collection (counter, likes, comments), one of GSI1."""
    collection = _query_all(
        t,
        tally,
        TableName=t.single,
        KeyConditionExpression="PK = :pk",
        ExpressionAttributeValues={":pk": {"S": post_pk(s.post)}},
    )
    items = [SingleTableItem.from_raw_data(raw) for raw in collection]
    counters = [i for i in items if isinstance(i, LikeCounterItem)]
    likes = {i.user_id: i for i in items if isinstance(i, UserLikeItem)}
    comments = sorted((i.comment_id for i in items if isinstance(i, CommentItem)), reverse=True)[
        :LATEST
    ]
    activity_items = _newest(
        t,
        tally,
        TableName=t.single,
        IndexName="GSI1",
        KeyConditionExpression="GSI1PK = :pk AND begins_with(GSI1SK, :act)",
        ExpressionAttributeValues={":pk": {"S": post_pk(s.post)}, ":act": {"S": "ACT#"}},
    )
    mine = likes.get(s.viewer)
    return {
        "like_count": int(counters[0].like_count) if counters else 0,
        "liked": bool(mine and mine.liked),
        "comments": comments,
        "activity": _timestamps(activity_items, s),
    }


def user_activity_multi(t: Tables, s: Subjects, tally: Tally) -> Answer:
    items = _newest(
        t,
        tally,
        TableName=t.activities,
        KeyConditionExpression="user_id = :u",
        ExpressionAttributeValues={":u": {"S": s.user}},
    )
    return _timestamps(items, s)


def user_activity_single(t: Tables, s: Subjects, tally: Tally) -> Answer:
    items = _newest(
        t,
        tally,
        TableName=t.single,
        KeyConditionExpression="PK = :pk AND begins_with(SK, :act)",
        ExpressionAttributeValues={":pk": {"S": user_pk(s.user)}, ":act": {"S": "ACT#"}},
    )
    return _timestamps(items, s)


def _feed(t: Tables, s: Subjects, tally: Tally, *, single: bool) -> Answer:
    """One Query per shard of the newest day bucket, merged newest first."""
    merged: list[Item] = []
    for shard in range(FEED_SHARDS):
        bucket = f"{s.feed_bucket}#{shard}"
        if single:
            key = ("GSI2", "GSI2PK = :k", feed_pk(bucket))
        else:
            key = ("FeedIndex", "feed_key = :k", bucket)
        merged += _newest(
            t,
            tally,
            TableName=t.single if single else t.activities,
            IndexName=key[0],
            KeyConditionExpression=key[1],
            ExpressionAttributeValues={":k": {"S": key[2]}},
        )
    return sorted(_timestamps(merged, s), reverse=True)[:LATEST]


def feed_multi(t: Tables, s: Subjects, tally: Tally) -> Answer:
    return _feed(t, s, tally, single=False)


def feed_single(t: Tables, s: Subjects, tally: Tally) -> Answer:
    return _feed(t, s, tally, single=True)


def likes_of_user_multi(t: Tables, s: Subjects, tally: Tally) -> Answer:
    """The `likes` table is keyed by post and has no index on the user: a Scan with a filter,
    which reads (and bills) the whole table to return a few items."""
    items = _query_all(
        t,
        tally,
        TableName=t.likes,
        FilterExpression="user_id = :u AND liked = :yes",
        ExpressionAttributeValues={":u": {"S": s.liker}, ":yes": {"BOOL": True}},
    )
    return sorted(int(i["post_id"]["S"]) for i in items)


def likes_of_user_single(t: Tables, s: Subjects, tally: Tally) -> Answer:
    items = _query_all(
        t,
        tally,
        TableName=t.single,
        IndexName="GSI1",
        KeyConditionExpression="GSI1PK = :pk AND begins_with(GSI1SK, :like)",
        ExpressionAttributeValues={":pk": {"S": user_pk(s.liker)}, ":like": {"S": "LIKE#"}},
    )
    return sorted(int(i["post_id"]["N"]) for i in items)


@dataclass(frozen=True)
class Question:
    name: str
    label: str
    multi: Ask
    single: Ask


QUESTIONS = (
    Question("post page", N_("post page"), post_page_multi, post_page_single),
    Question(
        "user activity", N_("a user's latest activity"), user_activity_multi, user_activity_single
    ),
    Question("global feed", N_("the global feed"), feed_multi, feed_single),
    Question(
        "likes of one user", N_("likes of one user"), likes_of_user_multi, likes_of_user_single
    ),
)


def _measure(ask: Ask, t: Tables, s: Subjects, repeats: int) -> tuple[Answer, Result]:
    answers, tallies = [], []
    for _repeat in range(repeats):
        tally = Tally()
        answers.append(ask(t, s, tally))
        tallies.append(tally)
    first = tallies[0]
    figures = {
        "calls": first.requests,
        "items_read": first.scanned,
        "items_returned": first.returned,
        **first.capacity(),
        "p50_ms": round(statistics.median(sum(x.ms) for x in tallies), 2),
    }
    if any(answer != answers[0] for answer in answers):
        raise RuntimeError("a design answered the same question differently on a repeat")
    return answers[0], figures


# -- the run --------------------------------------------------------------------------------------


def _subjects(site: Site) -> Subjects:
    """The busiest post, a user who likes it (else the busiest user), the user with the most
    likes, the newest feed day."""
    per_post = Counter(int(a["post_id"]["N"]) for a in site.activities)
    post = per_post.most_common(1)[0][0]
    per_user = Counter(a["user_id"]["S"] for a in site.activities)
    user = per_user.most_common(1)[0][0]
    fans = sorted(u for (p, u), liked in site.likes.items() if p == post and liked)
    per_liker = Counter(u for (_p, u), liked in site.likes.items() if liked)
    newest = max(a["timestamp"]["S"] for a in site.activities if "feed_key" in a)
    return Subjects(
        post=post,
        viewer=fans[0] if fans else user,
        user=user,
        liker=per_liker.most_common(1)[0][0] if per_liker else user,
        feed_bucket=newest[:10],
        now=int(site.now.timestamp()),
    )


def _load(lab: LabContext, site: Site) -> Tables:
    multi = _multi_items(site)
    created: dict[str, LabTable] = {}
    for base in ("activities", "likes", "comments", "sessions"):
        table = lab.create_table(base, base, indexes=None)
        check_keys(table, multi[base][0])
        lab.load(table, multi[base], stage=_("loading {table}").format(table=base))
        created[base] = table
    request, single = single_table_request(f"{lab.prefix}single")
    lab.create_table_from(request)
    lab.load(single, single_items(site), stage=_("loading the single table"))
    return Tables(
        meter=lab.meter([*created.values(), single]),
        activities=created["activities"].name,
        likes=created["likes"].name,
        comments=created["comments"].name,
        single=single.name,
    )


def explorer_table_name() -> str:
    """The copy's name in the app's DynamoDB: the app's table prefix, as its own tables have."""
    return f"{active_settings().table_prefix}{TABLE_NAME}"


def _leave_for_explorer(lab: LabContext, items: list[Item]) -> None:
    """Write the single table to the app's DynamoDB, replacing an older copy: the explorer reads
    only there, and the run's private engine stops with the run."""
    client = boto3_client(active_settings())
    name = explorer_table_name()
    fast = {"Delay": 1, "MaxAttempts": 120}
    try:
        client.delete_table(TableName=name)
        client.get_waiter("table_not_exists").wait(TableName=name, WaiterConfig=fast)
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") != "ResourceNotFoundException":
            raise
    request, _table = single_table_request(name)
    client.create_table(**request)
    client.get_waiter("table_exists").wait(TableName=name, WaiterConfig=fast)
    batch_write(client, name, puts=items)
    lab.note(
        _("The single table was copied to the app's DynamoDB: open /tables/{name}.").format(
            name=name
        )
    )


# How long the answers may take to agree after the load: GSIs usually catch up well within it.
SETTLE_SECONDS = 10.0


def run(lab: LabContext, options: SingleTableOptions) -> Result:
    site = site_of(options, datetime.now(UTC))
    tables = _load(lab, site)
    if options.explorer == "copy":
        _leave_for_explorer(lab, single_items(site))
    subjects = _subjects(site)
    questions = []
    for number, question in enumerate(QUESTIONS, start=1):
        lab.progress(_("asking both designs"), number - 1, len(QUESTIONS))
        multi_answer, multi = _measure(question.multi, tables, subjects, options.repeats)
        single_answer, single = _measure(question.single, tables, subjects, options.repeats)
        # Indexes and eventually consistent reads may not show the load yet (on DynamoDB as on
        # an engine with lag): ask again until both designs have caught up, for a while.
        settled_by = time.monotonic() + SETTLE_SECONDS
        while multi_answer != single_answer and time.monotonic() < settled_by:
            time.sleep(0.25)
            multi_answer, multi = _measure(question.multi, tables, subjects, options.repeats)
            single_answer, single = _measure(question.single, tables, subjects, options.repeats)
        if multi_answer != single_answer:
            raise RuntimeError(
                f"the designs disagree on {question.name!r}: {multi_answer!r} != {single_answer!r}"
            )
        questions.append(
            {
                "name": question.name,
                "multi_table": multi,
                "single_table": single,
                "same_answers": True,
                "answer": multi_answer,
            }
        )
    lab.progress(_("asking both designs"), len(QUESTIONS), len(QUESTIONS))
    return {
        "questions": questions,
        "subjects": {
            "post": subjects.post,
            "viewer": subjects.viewer,
            "user": subjects.user,
            "liker": subjects.liker,
        },
        "items": {
            "multi_table": sum(map(len, _multi_items(site).values())),
            "single_table": len(single_items(site)),
        },
        "tables": {"multi_table": 4, "single_table": 1},
        "engine_tables": {
            "single_table": tables.single,
            "multi_table": [tables.activities, tables.likes, tables.comments],
        },
    }


# -- what one table costs elsewhere ---------------------------------------------------------------

COSTS: tuple[tuple[str, str, str], ...] = (
    (
        N_("A new access pattern added later"),
        N_(
            "Add a GSI to the one table concerned; DynamoDB fills it from the items that "
            "already carry its key attributes (until then, a Scan with a filter)."
        ),
        N_(
            "The overloaded key attributes (GSI1PK, ...) hold values built for the old "
            "patterns: a new pattern needs new key values written into every existing item "
            "of its type (a backfill), or a new GSI on new attributes."
        ),
    ),
    (
        N_("TTL for only one item type"),
        N_("Enable TTL on that type's table, on its own attribute."),
        N_(
            "A table has one TTL attribute: every type that expires must use that same "
            "attribute, and a type that must never expire must never carry it."
        ),
    ),
    (
        N_("Exporting one entity for analytics"),
        N_("Export that table to Amazon S3: only that entity's items."),
        N_(
            "An export to Amazon S3 writes the whole table: every type is exported, and the "
            "analytics side filters on the type attribute."
        ),
    ),
    (
        N_("Per-entity capacity limits, alarms and backups"),
        N_(
            "Billing mode, maximum throughput, backups and restores are per table, and "
            "CloudWatch reports metrics per table and per index: each entity gets its own."
        ),
        N_(
            "The same settings exist per table (and per GSI) only: a burst of views shares "
            "them with sessions, and a restore brings back every type at once."
        ),
    ),
)


def view(result: Result) -> LabView:
    questions = result["questions"]
    labels = {q.name: _(q.label) for q in QUESTIONS}
    groups = [
        BarGroup(
            labels.get(q["name"], q["name"]),
            [Bar(0, q["multi_table"]["calls"]), Bar(1, q["single_table"]["calls"])],
        )
        for q in questions
    ]
    chart = bar_chart(
        title=_("Calls per question, by design"),
        x_label=_("question"),
        y_label=_("calls"),
        series=[_("table per entity"), _("single table")],
        groups=groups,
    )
    rows = [
        [
            labels.get(q["name"], q["name"]),
            _(design_label),
            str(figures["calls"]),
            str(figures["items_read"]),
            units_text(figures["rcu"]),
            f"{figures['p50_ms']:.2f}",
            _("yes") if q["same_answers"] else _("no"),
        ]
        for q in questions
        for design_label, figures in (
            (N_("table per entity"), q["multi_table"]),
            (N_("single table"), q["single_table"]),
        )
    ]
    measured = ResultTable(
        _("The same questions, both designs"),
        [
            _("question"),
            _("design"),
            _("calls"),
            _("items read"),
            _("RCU"),
            _("p50 ms"),
            _("same answers"),
        ],
        rows,
        note=_(
            "Items read: items scanned by a Scan, returned by a Query or a BatchGetItem. RCU "
            "by DynamoDB's rules for eventually consistent reads: one Query adds up the sizes "
            "of all the items it reads before rounding up to 4 KB, a BatchGetItem rounds each "
            "item. Local latency is an emulator's, not DynamoDB's: compare the calls."
        ),
    )
    costs = ResultTable(
        _("What one table costs elsewhere"),
        [_("need"), _("table per entity"), _("single table")],
        [[_(need), _(multi), _(single)] for need, multi, single in COSTS],
    )
    return LabView(shows=_shows(result), chart=chart, tables=[measured, costs])


def _shows(result: Result) -> str:
    by_name = {q["name"]: q for q in result["questions"]}
    page, likes = by_name["post page"], by_name["likes of one user"]
    return _(
        "The post page took {multi_calls} calls in the table-per-entity design and "
        "{single_calls} in the single table, whose one Query of the post's item collection "
        "read {single_items} items (every like and comment of the post) where the three calls "
        "read {multi_items}. Likes of one user: a Scan of the whole likes table "
        "({scan_items} items, {scan_rcu} RCU) against one Query of the overloaded GSI1 "
        "({gsi_rcu} RCU); the app would add a GSI for it. Every answer was the same in both "
        "designs. The second table says what the single table costs in return."
    ).format(
        multi_calls=page["multi_table"]["calls"],
        single_calls=page["single_table"]["calls"],
        single_items=page["single_table"]["items_read"],
        multi_items=page["multi_table"]["items_read"],
        scan_items=likes["multi_table"]["items_read"],
        scan_rcu=units_text(likes["multi_table"]["rcu"]),
        gsi_rcu=units_text(likes["single_table"]["rcu"]),
    )


LAB = Lab(
    name="single-table",
    title=N_("Single table vs a table per entity: the same questions, both designs"),
    proves=N_(
        "One table's item collections answer the post page in fewer calls; the same data in "
        "tables per entity is easier to change, expire, export and limit one entity at a time."
    ),
    lesson=N_(
        "This app keeps one table per entity, as its seed did. The single-table design puts "
        "every entity in one table with generic keys (PK, SK) and overloaded GSIs, so the items "
        "one page needs share a partition key value and come back in one Query. This lab loads "
        "the same data into both designs and asks both the same questions."
    ),
    mirrors=(
        Mirror("model", "lens.single_table.models.SingleTableItem", N_("the single-table variant")),
        Mirror("model", "activity.models.Activity", N_("the app's activities table")),
        Mirror("model", "engagement.likes.models.LikeCounter", N_("the app's likes table")),
        Mirror("model", "engagement.comments.models.Comment", N_("the app's comments table")),
    ),
    pages=("likes", "user_activity"),
    options=SingleTableOptions,
    run=run,
    view=view,
)
