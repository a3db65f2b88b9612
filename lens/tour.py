"""The guided tour: the seed's lessons, in its order, then what a table's throughput costs and
where its ceiling is, then one table against many, and which reads see a write at once; each one
a thing to do in this app. The overview on /tour counts the steps from `STEPS`, never by hand.

Every step says why (a short explanation), what to do (a page of the app, the explorer or the
labs), what to watch (the inspector line or chart that shows the lesson), which model class and
service function are behind it, and where AWS's DynamoDB developer guide covers the topic. The
texts are msgids: the page translates them. Progress is kept per browser in a cookie (the step
numbers done), so the tour needs no account and no table.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import peewee
from pynamodb.models import Model

from lens.design import japanese_doc, resolve, source_of
from shared.dynamo import base_table_name
from shared.i18n import N_

PROGRESS_COOKIE = "lab_tour"
PROGRESS_MAX_AGE = 180 * 24 * 3600
AWS_GUIDE = "https://docs.aws.amazon.com/{locale}amazondynamodb/latest/developerguide/{page}"
GUIDE_LOCALES = {"ja": "ja_jp/", "en": ""}


@dataclass(frozen=True)
class Step:
    slug: str
    title: str
    explanation: str
    do: str
    do_page: str
    watch: str
    model: str
    function: str
    guide_page: str
    guide_title: str
    also: tuple[tuple[str, str], ...] = ()
    """More places to try it: (URL, label msgid), the explorer's tables and the labs."""


EXPLORER = ("/tables", N_("Open the table explorer"))
ADVICE = ("/design/advice", N_("Read the design advisor's findings"))
COST = ("/cost", N_("Price the design per month at your traffic"))
INSIGHTS = ("/insights", N_("Watch which partition keys take the traffic"))


def lab(name: str) -> tuple[str, str]:
    return f"/labs/{name}", N_("Run the lab")


STEPS: tuple[Step, ...] = (
    Step(
        slug="access-patterns",
        title=N_("Start from the access patterns"),
        explanation=N_(
            "In an RDB you design the tables first and write any query later. DynamoDB turns "
            "this around: you list the questions the app will ask (the access patterns), then "
            "choose keys and indexes so that each question is one cheap read. A question nobody "
            "planned for has no key to go to."
        ),
        do=N_(
            "Open the design page and read the access patterns of the <code>activities</code> "
            "table: each row names a question, the DynamoDB call that answers it and the "
            "function that makes the call."
        ),
        do_page="/design#table-activities",
        watch=N_(
            "The inspector at the foot of every page: each DynamoDB call the page made, with "
            "the access pattern it served written under its operation."
        ),
        model="activity.models.Activity",
        function="activity.service.latest_activities_of_user",
        guide_page="bp-modeling-nosql.html",
        guide_title=N_("NoSQL design for DynamoDB"),
        also=(EXPLORER, ADVICE),
    ),
    Step(
        slug="keys",
        title=N_("The partition key and sort key are the query"),
        explanation=N_(
            "A Query names one partition key value and a range of sort key values, and DynamoDB "
            "reads only those items, already in order. The <code>activities</code> table has "
            "<code>user_id</code> as partition key and <code>timestamp</code> as sort key, so "
            '"the latest 20 activities of a user" is one Query, newest first. The seed\'s plain '
            "timestamp had a flaw: two events in the same instant overwrote each other. A "
            "suffix made from the event's id (a hash of <code>event_id</code>) keeps the key "
            "unique and still in time order, and gives an event delivered twice the same key, "
            "so the repeated write is refused and nothing is recorded twice."
        ),
        do=N_('Open a user\'s activity page, then press "Older" to read the next page.'),
        do_page="/users/{username}",
        watch=N_(
            "The inspector's Query line: the key <code>user_id = …</code>, newest first, and "
            "as many items scanned as returned: nothing was read in vain."
        ),
        model="activity.models.Activity",
        function="activity.service.latest_activities_of_user",
        guide_page="HowItWorks.CoreComponents.html",
        guide_title=N_("Core components of Amazon DynamoDB"),
        also=(EXPLORER,),
    ),
    Step(
        slug="indexes",
        title=N_("Global secondary indexes: extra doors, with a cost"),
        explanation=N_(
            "A GSI is a second copy of the items under another key, kept up to date by "
            'DynamoDB. <code>ActivityTypeIndex</code> answers "the latest likes on the whole '
            'site", <code>PostActivityIndex</code> "the timeline of one post". Every write that '
            "lands in an index is paid for again, reads through it are eventually consistent, "
            "and a key with few values such as <code>activity_type</code> sends every write of "
            "one type to one partition key value of the index: a hot key."
        ),
        do=N_(
            "Show the latest likes across the site, then open a post and read its activity "
            "timeline."
        ),
        do_page="/activity?type=like",
        watch=N_(
            "The Query line names the index under the table. After you like a post, the "
            "computed WCU of the activity write is split between the table and every index "
            "the item lands in."
        ),
        model="activity.models.Activity",
        function="activity.service.latest_activities_of_type",
        guide_page="GSI.html",
        guide_title=N_("Using global secondary indexes in DynamoDB"),
        also=(lab("gsi-cost"), COST),
    ),
    Step(
        slug="updates",
        title=N_("Atomic, conditional and idempotent updates"),
        explanation=N_(
            "A read-modify-write loses updates when two requests interleave. An "
            "<code>ADD</code> in UpdateItem is atomic, but a retried request adds twice. So "
            'a like first writes your own like item on a condition ("not liked yet"), then '
            "adds to the counter on a condition that lets a retry count only once. A double "
            "click fails the condition and changes nothing."
        ),
        do=N_(
            "Sign in and open a post in two tabs. Like it in one, then click Like in the other "
            "(it still shows the post unliked): the same like, sent again. Then run the counter "
            "lab to see lost updates happen."
        ),
        do_page="/posts/{post_id}",
        watch=N_(
            "Four UpdateItem lines: your like item with its condition (it also marks the change "
            "pending), the counter's <code>ADD</code> with a token that lets a retry count once, "
            "then two clean-ups that clear the pending mark and the token. The like sent again "
            "shows one UpdateItem whose condition failed, a GetItem, and no <code>ADD</code>."
        ),
        model="engagement.likes.models.UserLike",
        function="engagement.likes.service.like_post",
        guide_page="WorkingWithItems.html#WorkingWithItems.ConditionalUpdate",
        guide_title=N_("Working with items: conditional writes and atomic counters"),
        also=(lab("counter"),),
    ),
    Step(
        slug="hot-partitions",
        title=N_("Hot partitions and write sharding"),
        explanation=N_(
            "DynamoDB hashes each partition key value to one of its partitions, and one "
            "partition takes at most 1,000 write units and 3,000 read units per second. When a "
            "partition stays hot, adaptive capacity splits it and isolates its busiest items, so "
            "many hot keys that shared it stop throttling each other after a while. One item is "
            "never split: a post that everyone likes at once writes one counter item, throttled "
            "at that limit however large the table is. Write sharding spreads the counter over N "
            "items with keys of their own; each like writes one of them, and a read adds them up "
            "with one BatchGetItem. The table's own throughput still caps the sum."
        ),
        do=N_(
            "As the author of a post, shard its like counter from the post page; then compare "
            "one counter with sharded counters in the labs."
        ),
        do_page="/posts/{post_id}",
        watch=N_(
            "After sharding, the like count is read with one BatchGetItem over N keys, and "
            "each like writes a single shard."
        ),
        model="engagement.likes.models.LikeCounter",
        function="engagement.likes.service.promote_hot_post",
        guide_page="bp-partition-key-sharding.html",
        guide_title=N_("Using write sharding to distribute workloads evenly"),
        also=(lab("hot-partition"), INSIGHTS),
    ),
    Step(
        slug="ttl",
        title=N_("TTL: data with a lifecycle"),
        explanation=N_(
            "Sessions and view logs are temporary. When a table names an attribute as its TTL "
            "(a time in epoch seconds), DynamoDB deletes expired items by itself, without "
            "spending write units. The deletion is best effort, typically within a few days and "
            "with no guarantee; until then an expired item is still stored, still returned by "
            "reads and still paid for, so every read must treat it as absent."
        ),
        do=N_(
            "Sign in (a session item with a TTL is written), then open the sessions table in "
            "the explorer and find <code>expires_at</code>."
        ),
        do_page="/tables",
        watch=N_(
            "The PutItem of the session when you sign in: the page you land on shows it in the "
            "inspector, under the sign-in request that sent you there. On a user's activity "
            "page, the read cost line counts the expired view logs that were dropped in code."
        ),
        model="sessions.models.Session",
        function="sessions.service.start_session",
        guide_page="TTL.html",
        guide_title=N_("Using time to live (TTL) in DynamoDB"),
        also=(lab("ttl"),),
    ),
    Step(
        slug="scan",
        title=N_("Scan versus a proper access pattern"),
        explanation=N_(
            "A Scan reads the whole table page by page and pays for every item it reads, even "
            "the ones a filter drops. The feed page reads the site's latest activity both "
            "ways: by Scan, and by one Query per shard of today's bucket on "
            "<code>FeedIndex</code>. On a small table they cost about the same; as the table "
            "grows, only the Scan grows with it."
        ),
        do=N_(
            "Open the feed and compare its two columns, then run the Query vs Scan lab as the "
            "table grows."
        ),
        do_page="/feed",
        watch=N_(
            "Items scanned and computed RCU in each column, and the Scan's requests one after "
            "the other in the inspector."
        ),
        model="activity.models.Activity",
        function="activity.service.feed_by_index",
        guide_page="bp-query-scan.html",
        guide_title=N_("Best practices for querying and scanning data"),
        also=(lab("query-vs-scan"), COST, ADVICE),
    ),
    Step(
        slug="rdb-and-dynamodb",
        title=N_("RDB and DynamoDB, each for what it is good at"),
        explanation=N_(
            "Users and posts are normalised business data with few, changing access patterns: "
            "they stay in the RDB, with JOINs and transactions. Likes, comments, activity and "
            "sessions are counters, threads and time series, which DynamoDB serves at any "
            "scale. A post written to the RDB must also reach the activity log: an outbox row "
            "written in the same RDB transaction makes sure neither side is silently lost."
        ),
        do=N_("Write a post, then delete it."),
        do_page="/posts/new",
        watch=N_(
            "On the post's page, the inspector shows what publishing did, under the request "
            "that sent you there: the SQL statements (the post and its outbox row, in one "
            "transaction) beside the DynamoDB writes that followed."
        ),
        model="blog.models.Post",
        function="blog.service.create_post",
        guide_page="bp-relational-modeling.html",
        guide_title=N_("Best practices for modeling relational data in DynamoDB"),
        also=(EXPLORER,),
    ),
    Step(
        slug="capacity-modes",
        title=N_("On-demand or provisioned: what you pay for, and the ceiling"),
        explanation=N_(
            "This app's tables are on-demand: DynamoDB bills each request in read request units "
            "and write request units, where a provisioned table bills by the hour for the read "
            "and write capacity units set on it, used or not. A unit measures the same in both "
            "modes, so the WCU and RCU the inspector computes are what an on-demand table bills. "
            "On-demand still has a ceiling: a new table sustains up to 4,000 writes and 12,000 "
            "reads per second, takes up to twice its previous peak at once, and has a per-table "
            "quota (40,000 units per second by default) and an optional maximum you may set. A "
            "provisioned table keeps up to five minutes of unused capacity as burst capacity."
        ),
        do=N_(
            "Read the capacity section of the design page, then like a post and read the "
            "computed write units of each call in the inspector."
        ),
        do_page="/design#capacity",
        watch=N_(
            "Each write's WCU in the inspector: on an on-demand table, the write request units "
            "billed for it: one per 1 KB of the item, and more for every index it lands in."
        ),
        model="engagement.likes.models.LikeCounter",
        function="engagement.likes.service.like_post",
        guide_page="capacity-mode.html",
        guide_title=N_("DynamoDB throughput capacity"),
        also=(lab("hot-partition"),),
    ),
    Step(
        slug="single-table",
        title=N_("One table or many: the single-table design"),
        explanation=N_(
            "This app keeps one table per entity. The single-table design puts every entity "
            "in one table with generic keys (PK, SK) and overloaded GSIs, so that the items a "
            "page reads together share a partition key value: one item collection, returned "
            "by one Query. The price is paid elsewhere: a new access pattern may need existing "
            "items rewritten, and TTL, exports, throughput settings and backups are per table."
        ),
        do=N_(
            "Read the single-table variant on the design page, then run the single-table lab "
            "and compare the calls, items read and RCU of each question in both designs."
        ),
        do_page="/design#table-single_table",
        watch=N_(
            "The post page's rows in the lab's table: fewer calls in the single table, and, once "
            "the post has many likes and comments, more items read: its one Query reads the "
            "post's whole item collection."
        ),
        model="lens.single_table.models.SingleTableItem",
        function="lens.labs.single_table.post_page_single",
        guide_page="bp-table-design.html",
        guide_title=N_("Best practices for DynamoDB table design"),
        also=(lab("single-table"),),
    ),
    Step(
        slug="consistency",
        title=N_("Eventually or strongly consistent: seeing your own write"),
        explanation=N_(
            "A read is eventually consistent unless it asks otherwise: it costs half as much, "
            "but it may not reflect a write that has just completed, and the same read a moment "
            "later does. A read with <code>ConsistentRead</code> reflects every write that "
            "succeeded before it, at 1 RCU per 4 KB instead of 0.5. A global secondary index "
            "can only be read eventually consistent: a write reaches it asynchronously, usually "
            "within a second. So this app reads strongly where a person must see what they have "
            "just done (the session right after sign-in, their like, the comments they posted "
            "or edited, their own activity page) and lets the rest lag."
        ),
        do=N_(
            "Like a post, reload its page, then open the inspector: the BatchGetItem that reads "
            "your like is marked <em>strong</em>, and the post's timeline, read through "
            "<code>PostActivityIndex</code>, is marked <em>eventual</em>. (The like itself "
            "needed no read: its last UpdateItem returned the new count.) Then run the "
            "consistency lab."
        ),
        do_page="/",
        watch=N_(
            "The marks strong and eventual beside each read in the inspector; in the lab, the "
            "share of stale reads against the delay after a write: never for a strong read, "
            "some for an eventually consistent one, and every GSI read until the write has "
            "reached the index."
        ),
        model="sessions.models.Session",
        function="sessions.service.viewer_for_token",
        guide_page="HowItWorks.ReadConsistency.html",
        guide_title=N_("DynamoDB read consistency"),
        also=(lab("consistency"), ("/design#consistency", N_("Where this app reads strongly"))),
    ),
)

_DONE = re.compile(r"^\d{1,2}(\.\d{1,2})*$")


def step_at(number: int) -> Step | None:
    return STEPS[number - 1] if 1 <= number <= len(STEPS) else None


def progress_from_cookie(value: str | None) -> frozenset[int]:
    """The step numbers done; anything malformed counts as no progress, never as an error."""
    if not value or not _DONE.fullmatch(value):
        return frozenset()
    return frozenset(n for n in map(int, value.split(".")) if 1 <= n <= len(STEPS))


def progress_cookie_value(done: frozenset[int]) -> str:
    return ".".join(str(n) for n in sorted(done))


def guide_url(step: Step, language: str) -> str:
    return AWS_GUIDE.format(locale=GUIDE_LOCALES.get(language, ""), page=step.guide_page)


def model_anchor(model_path: str) -> str | None:
    """Where the class is drawn on /design: its DynamoDB table or its RDB table."""
    model = resolve(model_path)
    if isinstance(model, type) and issubclass(model, Model):
        return f"/design#table-{base_table_name(model)}"
    if isinstance(model, type) and issubclass(model, peewee.Model):
        return f"/design#rdb-{model._meta.table_name}"
    return None


def model_summary(model_path: str, language: str) -> str:
    """The first paragraph of the class's docstring, in the language when it has that text."""
    model = resolve(model_path)
    if model is None:
        return ""
    text = (japanese_doc(model) if language == "ja" else "") or (model.__doc__ or "")
    return " ".join(text.strip().split("\n\n")[0].split())


def step_view(step: Step, number: int, language: str) -> dict[str, Any]:
    """What the page shows of a step, with everything it looks up in the code resolved."""
    return {
        "number": number,
        "step": step,
        "guide_url": guide_url(step, language),
        "model_anchor": model_anchor(step.model),
        "model_summary": model_summary(step.model, language),
        "function_source": source_of(step.function),
    }
