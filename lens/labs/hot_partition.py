"""Lab `hot-partition`: many clients like one post, its counter on one key, then on S keys.

The private engine models partitions as DynamoDB has them, at a scaled-down limit
(`--partition-limit` write units per second per partition instead of 1,000): partition key values
hash onto a few partitions, a partition that stays hot splits, and one item never does (see
`engine.throttle`). It refuses the excess with ProvisionedThroughputExceededException, as DynamoDB
does. The counter is one item, so no split relieves it; the shards are several items, which the
engine's partitions (and, after a split, their halves) share out. Clients make one attempt per call
(botocore's own retries are off, so every throttle is counted) and retry a throttled write after a
doubling, jittered wait. The counter items copy the app's `LikeCounter`: the home item `(post_id,
"COUNT")` and, for a hot post, shard items `("<post>#s", "COUNT")`, each its own partition key. A
new on-demand table sustains up to 4,000 writes per second (`NEW_TABLE_WCU`): the model says when
the table itself, not the item, becomes the ceiling.
"""

from __future__ import annotations

import math
import random
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError
from pydantic import Field

from lens.labs.charts import Bar, BarGroup, bar_chart
from lens.labs.context import LabCancelled, LabContext
from lens.labs.lab import Lab, LabOptions, LabView, Mirror, Result, ResultTable
from lens.labs.meter import THROTTLED, Meter, Tally, error_code, sum_tallies
from lens.labs.synthetic import check_keys, counter
from lens.labs.tables import LabTable
from shared.dynamo import backoff_delay
from shared.i18n import N_
from shared.i18n import gettext as _

POST = "42"
PARTITION_WCU = 1_000
NEW_TABLE_WCU = 4_000
MODEL_FACTORS = (1, 10, 100)


class HotPartitionOptions(LabOptions):
    clients: int = Field(16, ge=1, le=64, title=N_("Concurrent clients"))
    seconds: int = Field(3, ge=1, le=30, title=N_("Seconds per run"))
    shards: int = Field(8, ge=2, le=32, title=N_("Counter shards"))
    partition_limit: int = Field(
        50, ge=1, le=1_000, title=N_("Write units per second per partition key (private engine)")
    )


def shard_key(shard: int) -> str:
    """The app's scheme: shard 0 is the home counter, shard s has its own partition key."""
    return POST if shard == 0 else f"{POST}#{shard}"


@dataclass
class ClientOutcome:
    tally: Tally = field(default_factory=Tally)
    attempted: int = 0
    accepted: int = 0
    throttled: int = 0
    retries: int = 0
    per_key: Counter[str] = field(default_factory=Counter)


def _write_until(meter: Meter, table: LabTable, keys: list[str], deadline: float) -> ClientOutcome:
    """Like as fast as possible until the deadline; a throttled like is retried with backoff."""
    outcome = ClientOutcome()
    rng = random.Random()
    while time.monotonic() < deadline:
        key = rng.choice(keys)
        outcome.attempted += 1
        for retry in range(1, 1_000):
            try:
                meter.call(
                    "UpdateItem",
                    outcome.tally,
                    TableName=table.name,
                    Key={"post_id": {"S": key}, "sk": {"S": "COUNT"}},
                    UpdateExpression="ADD like_count :one",
                    ExpressionAttributeValues={":one": {"N": "1"}},
                )
            except ClientError as error:
                if error_code(error) not in THROTTLED:
                    raise
                outcome.throttled += 1
                if time.monotonic() >= deadline:
                    break
                outcome.retries += 1
                time.sleep(backoff_delay(retry))
                continue
            outcome.accepted += 1
            outcome.per_key[key] += 1
            break
    return outcome


def _counted(meter: Meter, table: LabTable, keys: list[str]) -> dict[str, int]:
    """What the counter items hold at the end (one BatchGetItem)."""
    response = meter.call(
        "BatchGetItem",
        Tally(),
        RequestItems={
            table.name: {
                "Keys": [{"post_id": {"S": k}, "sk": {"S": "COUNT"}} for k in keys],
                "ConsistentRead": True,
            }
        },
    )
    items = response["Responses"].get(table.name, [])
    return {item["post_id"]["S"]: int(item["like_count"]["N"]) for item in items}


def _put_counter(meter: Meter, table: LabTable, key: str) -> None:
    """Create one counter item at zero; a throttled attempt waits and tries again, so setting
    up never fails on a partition whose write units an earlier burst used up."""
    for retry in range(1, 20):
        try:
            meter.call("PutItem", Tally(), TableName=table.name, Item=counter(key))
            return
        except ClientError as error:
            if error_code(error) not in THROTTLED:
                raise
            time.sleep(backoff_delay(retry))
    meter.call("PutItem", Tally(), TableName=table.name, Item=counter(key))


def _one_run(
    lab: LabContext, table: LabTable, options: HotPartitionOptions, keys: list[str], label: str
) -> Result:
    meter = lab.meter([table], pool=options.clients)
    for key in keys:
        _put_counter(meter, table, key)
    barrier = threading.Barrier(options.clients)
    ticker = threading.Event()

    def client() -> ClientOutcome:
        barrier.wait()
        return _write_until(meter, table, keys, started + options.seconds)

    def tick() -> None:
        while not ticker.wait(0.25):
            try:
                lab.progress(
                    label,
                    min(options.seconds * 4, round((time.monotonic() - started) * 4)),
                    options.seconds * 4,
                )
            except LabCancelled:
                return  # the clients stop at their deadline; the lab's next report raises it

    started = time.monotonic()
    threading.Thread(target=tick, daemon=True).start()
    with ThreadPoolExecutor(max_workers=options.clients) as pool:
        outcomes = [f.result() for f in [pool.submit(client) for _ in range(options.clients)]]
    elapsed = time.monotonic() - started
    ticker.set()
    lab.progress(label, options.seconds * 4, options.seconds * 4)
    per_key: Counter[str] = Counter()
    for outcome in outcomes:
        per_key.update(outcome.per_key)
    tally = sum_tallies(outcome.tally for outcome in outcomes)
    accepted = sum(o.accepted for o in outcomes)
    counted = _counted(meter, table, keys)
    if sum(counted.values()) != accepted:
        lab.note(
            _(
                "{label}: the counters hold {sum} but {accepted} writes were accepted: this "
                "engine lost or double-applied writes to one item."
            ).format(label=label, sum=sum(counted.values()), accepted=accepted)
        )
    return {
        "keys": len(keys),
        "attempted": sum(o.attempted for o in outcomes),
        "accepted": accepted,
        "throttled": sum(o.throttled for o in outcomes),
        "retries": sum(o.retries for o in outcomes),
        "seconds": round(elapsed, 2),
        "writes_per_second": round(accepted / elapsed, 1),
        "offered_per_second": round(tally.requests / elapsed, 1),
        "per_key": {key: per_key.get(key, 0) for key in keys},
        "counted": sum(counted.values()),
        **tally.capacity(),
    }


def _model(load: float, shards: int) -> Result:
    """Real DynamoDB, on paper: one item takes at most 1,000 one-unit writes/s (its partition's
    limit, which adaptive capacity never raises for a single item), so N counter items take at
    most N times that; past `NEW_TABLE_WCU` the table's own throughput must have grown too."""
    rows = []
    for factor in MODEL_FACTORS:
        offered = load * factor
        row: dict[str, Any] = {"factor": factor, "load": round(offered, 1)}
        for name, keys in (("single", 1), ("sharded", shards)):
            accepted = min(offered, keys * PARTITION_WCU)
            row[name] = {
                "accepted_per_second": round(accepted, 1),
                "throttled_share": round(1 - accepted / offered, 3) if offered else 0.0,
            }
        row["shards_needed"] = max(1, math.ceil(offered / PARTITION_WCU))
        row["beyond_new_table"] = offered > NEW_TABLE_WCU
        rows.append(row)
    return {
        "partition_wcu": PARTITION_WCU,
        "new_table_wcu": NEW_TABLE_WCU,
        "load": round(load, 1),
        "rows": rows,
    }


def run(lab: LabContext, options: HotPartitionOptions) -> Result:
    # Each run gets a table of its own: the sharded run must not start on a home key whose
    # write units the single-key run has just used up.
    single, sharded = (lab.create_table("likes", label) for label in ("likes", "likes-sharded"))
    check_keys(single, counter(POST))
    runs = {
        "single": _one_run(lab, single, options, [shard_key(0)], "one counter key"),
        "sharded": _one_run(
            lab,
            sharded,
            options,
            [shard_key(s) for s in range(options.shards)],
            f"{options.shards} counter shards",
        ),
    }
    if lab.private and runs["single"]["throttled"] == 0:
        lab.note(
            _(
                "The single key was never throttled: {clients} clients sent "
                "{offered_per_second:g} writes/s, under this engine's limit."
            ).format(
                clients=options.clients, offered_per_second=runs["single"]["offered_per_second"]
            )
        )
    load = max(run["offered_per_second"] for run in runs.values())
    return {"runs": runs, "model": _model(load, options.shards)}


def engine_options(options: HotPartitionOptions) -> dict[str, Any]:
    return {"partition_limit": float(options.partition_limit)}


def elsewhere(options: HotPartitionOptions) -> list[str]:
    return [
        _(
            "--partition-limit {partition_limit} applies to the private engine only: this "
            "engine throttles at its own limits. Real DynamoDB allows one item about 1,000 "
            "WCU/s (its partition's limit), more than these clients send, so both runs may "
            "show no throttling at all; the model table says what the limit means at higher "
            "loads."
        ).format(partition_limit=options.partition_limit),
    ]


def view(result: Result) -> LabView:
    runs = result["runs"]
    groups = [
        BarGroup(_("{key} (one key)").format(key=key), [Bar(0, n)])
        for key, n in runs["single"]["per_key"].items()
    ]
    groups += [BarGroup(key, [Bar(1, n)]) for key, n in runs["sharded"]["per_key"].items()]
    chart = bar_chart(
        title=_("Accepted writes per partition key"),
        x_label=_("counter key"),
        y_label=_("writes accepted"),
        series=[_("one key"), _("{keys} shards").format(keys=runs["sharded"]["keys"])],
        groups=groups,
    )
    run_rows = [
        [
            name,
            str(r["keys"]),
            str(r["attempted"]),
            str(r["accepted"]),
            str(r["throttled"]),
            str(r["retries"]),
            f"{r['writes_per_second']:g}",
            str(r["counted"]),
        ]
        for name, r in runs.items()
    ]
    model = result["model"]
    model_rows = [
        [
            _("{factor}x ({load:,.0f}/s)").format(factor=row["factor"], load=row["load"]),
            _accepts(row["single"]),
            _accepts(row["sharded"]),
            _("{shards} (and a table past {ceiling:,}/s)").format(
                shards=row["shards_needed"], ceiling=model["new_table_wcu"]
            )
            if row["beyond_new_table"]
            else str(row["shards_needed"]),
        ]
        for row in model["rows"]
    ]
    tables = [
        ResultTable(
            _("Measured"),
            [
                _("run"),
                _("keys"),
                _("attempted"),
                _("accepted"),
                _("throttled"),
                _("retries"),
                _("writes/s"),
                _("counted"),
            ],
            run_rows,
        ),
        ResultTable(
            _("A model, not a measurement: real DynamoDB at this load and beyond"),
            [
                _("load"),
                _("one key accepts/s"),
                _("{keys} shards accept/s").format(keys=runs["sharded"]["keys"]),
                _("shards needed, at least"),
            ],
            model_rows,
            note=_(
                "One item takes at most {model_partition_wcu:,} one-unit writes per second: it "
                "lives in one partition, and adaptive capacity, which splits hot partitions, "
                "never splits an item. N shards take N times that, up to the table's own "
                "throughput: a new on-demand table sustains {new_table_wcu:,} writes per second "
                "and accommodates up to twice its previous peak at once, within a per-table quota "
                "(40,000 write request units per second by default); a provisioned table takes "
                "what is set on it."
            ).format(
                model_partition_wcu=model["partition_wcu"], new_table_wcu=model["new_table_wcu"]
            ),
        ),
    ]
    return LabView(shows=_shows(result), chart=chart, tables=tables)


def _accepts(modelled: Result) -> str:
    rate, share = modelled["accepted_per_second"], modelled["throttled_share"]
    return _("{rate:,.0f} ({share:.0%} throttled)").format(rate=rate, share=share)


def _shows(result: Result) -> str:
    single, sharded = result["runs"]["single"], result["runs"]["sharded"]
    top = result["model"]["rows"][-1]
    model = _(
        "On paper, at {top_load:,.0f} writes/s real DynamoDB would accept at most "
        "{accepted_per_second:,.0f}/s on one counter item and would need at least "
        "{top_shards_needed} shards, and a table whose throughput reaches that rate."
    ).format(
        top_load=top["load"],
        accepted_per_second=top["single"]["accepted_per_second"],
        top_shards_needed=top["shards_needed"],
    )
    if single["throttled"] == 0:
        return (
            _(
                "No write was throttled: one key took {single_writes_per_second:g} writes/s "
                "and {sharded_keys} shards {sharded_writes_per_second:g}/s, both under this "
                "engine's limit, so sharding bought nothing here (see the notes). "
            ).format(
                single_writes_per_second=single["writes_per_second"],
                sharded_keys=sharded["keys"],
                sharded_writes_per_second=sharded["writes_per_second"],
            )
            + model
        )
    ratio = sharded["writes_per_second"] / max(single["writes_per_second"], 0.1)
    return (
        _(
            "On one key, {single_accepted} of {single_attempted} likes got through "
            "({single_writes_per_second:g}/s) and the engine throttled {single_throttled} "
            "calls; over {sharded_keys} keys, {sharded_accepted} got through "
            "({sharded_writes_per_second:g}/s, {ratio:.1f}x) with {sharded_throttled} "
            "throttles, spread evenly by picking a shard at random. One item's limit caps the "
            "single counter whatever the table's capacity; shards multiply it, up to the "
            "table's own throughput. "
        ).format(
            single_accepted=single["accepted"],
            single_attempted=single["attempted"],
            single_writes_per_second=single["writes_per_second"],
            single_throttled=single["throttled"],
            sharded_keys=sharded["keys"],
            sharded_accepted=sharded["accepted"],
            sharded_writes_per_second=sharded["writes_per_second"],
            ratio=ratio,
            sharded_throttled=sharded["throttled"],
        )
        + model
    )


LAB = Lab(
    name="hot-partition",
    title=N_("Hot partition: one counter key vs sharded keys"),
    proves=N_("One hot counter item is throttled at its partition's limit; shard items are not."),
    lesson=(
        N_(
            "A popular post's like counter is one item, and one item always lives in one "
            "partition, which takes at most 1,000 write units per second on DynamoDB. Adaptive "
            "capacity splits a partition that stays hot and isolates its busiest items, but it "
            "never splits an item. The app spreads a hot post's counter over several items with "
            "partition keys of their own. This lab runs the same likes against one key and "
            "against shards, on an engine that models DynamoDB's partitions at a scaled-down "
            "limit: keys hash onto a few partitions, and a partition that stays hot splits, but "
            "never inside one item."
        )
    ),
    mirrors=(
        Mirror(
            "model",
            "engagement.likes.models.LikeCounter",
            N_("home counter + shards, one key each"),
        ),
        Mirror(
            "service", "engagement.likes.service.promote_hot_post", N_("shard a hot post's counter")
        ),
        Mirror(
            "service", "engagement.likes.service.like_post", N_("a like picks a shard at random")
        ),
    ),
    pages=("likes", "activity_by_type"),
    options=HotPartitionOptions,
    run=run,
    view=view,
    engine_options=engine_options,
    elsewhere=elsewhere,
)
