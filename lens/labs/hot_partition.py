"""Lab `hot-partition`: many clients like one post, in three runs that show what a split for
heat relieves and what it cannot.

The private engine models partitions as DynamoDB has them, at a scaled-down limit
(`--partition-limit` write units per second per partition instead of 1,000): partition key values
hash onto partitions, a partition that keeps refusing writes for `--split-after-s` seconds splits
where its traffic halves, and one item never splits (see `engine.throttle`). It refuses the excess
with ProvisionedThroughputExceededException, as DynamoDB does. The lab starts it with one
partition per new on-demand table, so the three runs are the same on every machine:

1. `many-keys-one-partition`: the shard keys of a hot post's counter on a table of one partition:
   throttled at one partition's limit, then relieved as the partition splits between them;
2. `one-item`: the one counter item: throttled at the limit and never relieved;
3. `sharded`: the same shard keys on a table provisioned so that, by the engine's own hash, each
   lands on a partition of its own: the load is shared out.

Clients make one attempt per call (botocore's own retries are off, so every throttle is counted)
and retry a throttled write after a doubling, jittered wait. Each accepted write is counted in the
second it was accepted, and the engine's health page says how many partitions each table had
before and after its run. The counter items copy the app's `LikeCounter`: the home item
`(post_id, "COUNT")` and, for a hot post, shard items `("<post>#s", "COUNT")`, each its own
partition key. A new on-demand table sustains up to 4,000 writes per second (`NEW_TABLE_WCU`): the
model says when the table itself, not the item, becomes the ceiling.
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

from lens.labs.charts import Series, line_chart
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
# A client's waits stop doubling at the third retry (0.1 to 0.2 s): a hot post's likes come from
# many people, so its demand does not fall as one client's backoff grows, and a partition under
# that demand stays hot, as it must for a split to show.
RETRY_BACKOFF_CAP = 3


class HotPartitionOptions(LabOptions):
    clients: int = Field(16, ge=1, le=64, title=N_("Concurrent clients"))
    seconds: int = Field(8, ge=1, le=30, title=N_("Seconds per run"))
    shards: int = Field(8, ge=2, le=32, title=N_("Counter shards"))
    partition_limit: int = Field(
        50, ge=1, le=1_000, title=N_("Write units per second per partition (private engine)")
    )
    split_after_s: int = Field(
        3,
        ge=1,
        le=30,
        title=N_("Seconds a partition stays hot before it splits (private engine)"),
        description=N_(
            "AWS does not publish how long a partition must stay hot before it splits; the "
            "private engine waits this long, so a run can show it."
        ),
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
    per_second: Counter[int] = field(default_factory=Counter)


def _write_until(
    meter: Meter, table: LabTable, keys: list[str], started: float, seconds: int
) -> ClientOutcome:
    """Like as fast as possible for `seconds`; a throttled like is retried with backoff. Each
    accepted like is counted in the second it was accepted (a like accepted just after the
    deadline counts in the last second)."""
    outcome = ClientOutcome()
    rng = random.Random()
    deadline = started + seconds
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
                time.sleep(backoff_delay(min(retry, RETRY_BACKOFF_CAP)))
                continue
            outcome.accepted += 1
            outcome.per_key[key] += 1
            outcome.per_second[min(seconds - 1, int(time.monotonic() - started))] += 1
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
    before = lab.engine_health()
    barrier = threading.Barrier(options.clients)
    ticker = threading.Event()

    def client() -> ClientOutcome:
        barrier.wait()
        return _write_until(meter, table, keys, started, options.seconds)

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
    after = lab.engine_health()
    per_key: Counter[str] = Counter()
    per_second: Counter[int] = Counter()
    for outcome in outcomes:
        per_key.update(outcome.per_key)
        per_second.update(outcome.per_second)
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
        "accepted_per_s": [per_second.get(second, 0) for second in range(options.seconds)],
        "counted": sum(counted.values()),
        **_partitions(table, before, after),
        **tally.capacity(),
    }


def _partitions(table: LabTable, before: Result, after: Result) -> Result:
    """The table's partitions before and after the run, and the splits in between, as the
    private engine reports them (None elsewhere: no other engine says)."""
    if not before:
        return {"partitions_before": None, "partitions_after": None, "splits": None}
    return {
        "partitions_before": before["partitions"].get(table.name),
        "partitions_after": after["partitions"].get(table.name),
        "splits": after["splits"] - before["splits"],
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


RUNS = (
    # (name in the JSON, the run's table label, what its progress bar says)
    ("many-keys-one-partition", "likes-many-keys", N_("{shards} keys on one partition")),
    ("one-item", "likes", N_("one counter item")),
    ("sharded", "likes-sharded", N_("{shards} shards, a partition each")),
)


def _sharded_capacity(lab: LabContext, options: HotPartitionOptions) -> tuple[int, int] | None:
    """On the private engine, the sharded table is provisioned so that each shard lands on a
    partition of its own, by the engine's own hash: the run shows sharding done right, not the
    luck of a hash. Elsewhere the table is on-demand: no other engine lets a lab choose where
    its keys land."""
    if not lab.private:
        return None
    # moto is heavy to import: the web app loads it only when a run sizes this table.
    from engine.throttle import partitions_apart, provisioned_for

    keys = [shard_key(s) for s in range(options.shards)]
    return provisioned_for(partitions_apart(keys), options.partition_limit)


def run(lab: LabContext, options: HotPartitionOptions) -> Result:
    """Three runs, each on a table of its own (no run starts on partitions another one has just
    used up): the shard keys on one partition, one counter item, the shards spread apart."""
    capacity = {"sharded": _sharded_capacity(lab, options)}
    many, one, sharded = (
        lab.create_table("likes", label, provisioned=capacity.get(name))
        for name, label, _stage in RUNS
    )
    check_keys(one, counter(POST))
    shard_keys = [shard_key(s) for s in range(options.shards)]
    stages = [_(stage).format(shards=options.shards) for _name, _label, stage in RUNS]
    runs = {
        "many_keys": _one_run(lab, many, options, shard_keys, stages[0]),
        "single": _one_run(lab, one, options, [shard_key(0)], stages[1]),
        "sharded": _one_run(lab, sharded, options, shard_keys, stages[2]),
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
    if lab.private and options.seconds <= options.split_after_s:
        lab.note(
            _(
                "Each run lasted {seconds}s, no longer than the {split_after_s}s a partition "
                "stays hot before it splits: no split could happen. Run for longer than that "
                "to see one."
            ).format(seconds=options.seconds, split_after_s=options.split_after_s)
        )
    load = max(run["offered_per_second"] for run in runs.values())
    return {
        "runs": runs,
        "adaptive": _adaptive(options, runs),
        "model": _model(load, options.shards),
    }


def _adaptive(options: HotPartitionOptions, runs: dict[str, Result]) -> Result:
    """The three runs second by second: what a split relieves and what it cannot."""
    return {
        "split_after_s": options.split_after_s,
        "partition_limit": options.partition_limit,
        "runs": [
            {
                "name": name,
                "keys": measured["keys"],
                "accepted_per_s": measured["accepted_per_s"],
                "throttled": measured["throttled"],
                "partitions_before": measured["partitions_before"],
                "partitions_after": measured["partitions_after"],
                "splits": measured["splits"],
            }
            for (name, _label, _stage), measured in zip(RUNS, runs.values(), strict=True)
        ],
    }


def engine_options(options: HotPartitionOptions) -> dict[str, Any]:
    """One partition for every new on-demand table (the many keys share it) and the lab's
    split delay; the sharded table is provisioned to have more."""
    return {
        "partition_limit": float(options.partition_limit),
        "partitions": 1,
        "split_after_s": float(options.split_after_s),
    }


def elsewhere(options: HotPartitionOptions) -> list[str]:
    return [
        _(
            "--partition-limit {partition_limit} and --split-after-s {split_after_s} apply to "
            "the private engine only: this engine throttles at its own limits, and its tables "
            "are all on-demand, so where the keys land and whether a partition splits is up to "
            "it. Real DynamoDB allows one item about 1,000 WCU/s (its partition's limit), more "
            "than these clients send, so the runs may show no throttling at all; the model "
            "table says what the limit means at higher loads."
        ).format(partition_limit=options.partition_limit, split_after_s=options.split_after_s),
    ]


def _run_label(name: str, keys: int) -> str:
    stage = next(stage for run_name, _label, stage in RUNS if run_name == name)
    return _(stage).format(shards=keys)


def view(result: Result) -> LabView:
    runs, adaptive = result["runs"], result["adaptive"]
    seconds = len(adaptive["runs"][0]["accepted_per_s"])
    labels = [_run_label(r["name"], r["keys"]) for r in adaptive["runs"]]
    chart = line_chart(
        title=_("Accepted writes per second, run by run"),
        x_label=_("second of the run"),
        y_label=_("writes accepted"),
        xs=list(range(1, seconds + 1)),
        series=[
            *(
                Series(label, r["accepted_per_s"])
                for label, r in zip(labels, adaptive["runs"], strict=True)
            ),
            Series(
                _("one partition's limit"), [adaptive["partition_limit"]] * seconds, dashed=True
            ),
        ],
    )
    run_rows = [
        [
            label,
            str(r["keys"]),
            _partition_change(r),
            str(r["attempted"]),
            str(r["accepted"]),
            str(r["throttled"]),
            str(r["retries"]),
            f"{r['writes_per_second']:g}",
            str(r["counted"]),
        ]
        for label, r in zip(labels, runs.values(), strict=True)
    ]
    second_rows = [
        [str(second + 1), *(str(r["accepted_per_s"][second]) for r in adaptive["runs"])]
        for second in range(seconds)
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
                _("partitions"),
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
            _("Accepted writes, second by second"),
            [_("second"), *labels],
            second_rows,
            note=_(
                "A partition that keeps refusing writes for {split_after_s}s splits where its "
                "traffic halves; each half takes {partition_limit} write units per second."
            ).format(
                split_after_s=adaptive["split_after_s"],
                partition_limit=adaptive["partition_limit"],
            ),
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


def _partition_change(measured: Result) -> str:
    before, after = measured["partitions_before"], measured["partitions_after"]
    if before is None:
        return "-"
    return str(before) if before == after else f"{before} → {after}"


def _accepts(modelled: Result) -> str:
    rate, share = modelled["accepted_per_second"], modelled["throttled_share"]
    return _("{rate:,.0f} ({share:.0%} throttled)").format(rate=rate, share=share)


def _split_sentence(result: Result) -> str:
    """What the split relieved, and what it could not: the first and second runs."""
    many, single = result["runs"]["many_keys"], result["runs"]["single"]
    split_after = result["adaptive"]["split_after_s"]
    if many["splits"] is None:
        return ""
    per_s, single_per_s = many["accepted_per_s"], single["accepted_per_s"]
    # The first second spends the burst every new partition starts with.
    early = per_s[1:split_after] or per_s[:1]
    single_steady = single_per_s[1:] or single_per_s
    figures = {
        "keys": many["keys"],
        "early": round(sum(early) / len(early), 1),
        "late": per_s[-1],
        "split_after_s": split_after,
        "splits": many["splits"],
        "before": many["partitions_before"],
        "after": many["partitions_after"],
        "single_rate": round(sum(single_steady) / len(single_steady), 1),
        "single_throttled": single["throttled"],
    }
    if not many["splits"]:
        return _(
            "The {keys} keys sharing one partition took about {early:g} writes/s, and no "
            "partition split within the run (one splits after refusing writes for "
            "{split_after_s}s). "
        ).format(**figures)
    return _(
        "The {keys} keys sharing one partition took about {early:g} writes/s at first; after "
        "refusing writes for {split_after_s}s the partition split ({splits} split(s), "
        "{before} → {after} partitions) and in the last second they took {late}. The one "
        "counter item stayed at about {single_rate:g} writes/s, throttled {single_throttled} "
        "times: a split divides a partition between items, never one item. "
    ).format(**figures)


def _shows(result: Result) -> str:
    return _split_sentence(result) + _counter_sentence(result)


def _counter_sentence(result: Result) -> str:
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
    title=N_("Hot partition: keys on one partition, one counter item, sharded keys"),
    proves=N_(
        "A split relieves keys that share a hot partition; no split relieves one hot item, so a "
        "hot counter is sharded over items of its own."
    ),
    lesson=(
        N_(
            "DynamoDB hashes each partition key value onto a partition, the physical unit that "
            "holds many keys and takes at most 1,000 write units per second. A partition that "
            "stays hot is split by adaptive capacity, so keys that shared it stop throttling "
            "each other, but a split never divides an item: a popular post's like counter, one "
            "item, stays capped at its partition's limit however long it is hot. The app spreads "
            "that counter over shard items with partition keys of their own. This lab runs the "
            "same likes three ways on an engine that models partitions at a scaled-down limit "
            "(a simplification: writes only, no burst capacity, and a split after a few seconds "
            "hot, which AWS does not time): the shard keys on one partition, throttled until it "
            "splits; the one counter item, throttled and never relieved; and the shards on "
            "partitions of their own, sharing the load out."
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
