"""Lab `consistency`: write, then read after a delay, three ways; count the reads that miss it.

Each trial writes a new activity (a copy of the app's `activities` table with its sparse
`PostActivityIndex`, every trial under its own `post_id`) and reads it back once, after the
delay: with an eventually consistent GetItem, a strongly consistent GetItem, or a Query on the
GSI. A read that does not find the item is stale. The trials of one delay are interleaved: the
next write goes out while earlier ones wait for their read, each read is made as soon as its
delay has passed since its write's answer, and the delay each read really had is recorded.

The private engine lags as `--lag-ms` says (its `--gsi-lag-ms` and `--replica-lag-ms`), a
simplified model of DynamoDB's lag, not a measurement of it. The lab also asks the GSI once for
a strongly consistent Query, which DynamoDB refuses.
"""

from __future__ import annotations

import heapq
import time
from dataclasses import dataclass
from typing import Annotated, Any

from botocore.exceptions import ClientError
from pydantic import Field

from lens.labs.charts import Series, line_chart
from lens.labs.context import LabContext
from lens.labs.lab import Lab, LabOptions, LabView, Mirror, Result, ResultTable
from lens.labs.meter import Meter, Tally, error_code, units_text
from lens.labs.synthetic import activity, check_keys
from lens.labs.tables import LabTable
from shared.i18n import N_
from shared.i18n import gettext as _

MODES = ("eventual", "strong", "gsi")
INDEX = "PostActivityIndex"
FIRST_POST = 1_000_000


class ConsistencyOptions(LabOptions):
    reads: int = Field(50, ge=5, le=300, title=N_("Reads of each kind at each delay"))
    delays_ms: list[Annotated[int, Field(ge=0, le=5_000)]] = Field(
        [0, 250, 500, 1000, 1500],
        min_length=1,
        max_length=6,
        title=N_("Delays after the write (ms)"),
        description=N_("Each read waits this long after its write was answered."),
    )
    lag_ms: int = Field(
        1000,
        ge=0,
        le=5_000,
        title=N_("Engine lag (ms)"),
        description=N_(
            "How far behind the GSI and the lagging replica of the private engine may be."
        ),
    )


@dataclass(frozen=True)
class Trial:
    due: float
    mode: str
    item: dict[str, Any]
    written: float


@dataclass
class Outcome:
    tally: Tally
    stale: int = 0
    waited_ms: float = 0.0


def _read(meter: Meter, table: LabTable, trial: Trial, tally: Tally) -> bool:
    """One read of the trial's item; True if it was there."""
    if trial.mode == "gsi":
        response = meter.call(
            "Query",
            tally,
            TableName=table.name,
            IndexName=INDEX,
            KeyConditionExpression="post_id = :p",
            ExpressionAttributeValues={":p": trial.item["post_id"]},
        )
        return int(response.get("Count", 0)) > 0
    key = {name: trial.item[name] for name in ("user_id", "timestamp")}
    response = meter.call(
        "GetItem",
        tally,
        TableName=table.name,
        Key=key,
        ConsistentRead=trial.mode == "strong",
    )
    return "Item" in response


def _trials_at(
    lab: LabContext, meter: Meter, table: LabTable, delay_ms: int, reads: int, first: int
) -> dict[str, Outcome]:
    """`reads` trials of each mode at one delay, interleaved as the module docstring says."""
    outcomes = {mode: Outcome(Tally()) for mode in MODES}
    writes = Tally()
    queue = [mode for _number in range(reads) for mode in MODES]
    queue.reverse()
    waiting: list[tuple[float, int, Trial]] = []
    done = written = 0
    while queue or waiting:
        now = time.monotonic()
        if waiting and (waiting[0][0] <= now or not queue):
            due, _seq, trial = heapq.heappop(waiting)
            time.sleep(max(0.0, due - now))
            outcome = outcomes[trial.mode]
            outcome.waited_ms += (time.monotonic() - trial.written) * 1000
            if not _read(meter, table, trial, outcome.tally):
                outcome.stale += 1
            done += 1
            if done % 30 == 0 or done == reads * len(MODES):
                stage = _("reading {delay} ms after each write").format(delay=delay_ms)
                lab.progress(stage, done, reads * len(MODES))
            continue
        mode = queue.pop()
        sequence = first + written
        written += 1
        item = activity(sequence, user=sequence % 20, kind="like", post_id=FIRST_POST + sequence)
        meter.call("PutItem", writes, TableName=table.name, Item=item)
        answered = time.monotonic()
        trial = Trial(answered + delay_ms / 1000, mode, item, answered)
        heapq.heappush(waiting, (trial.due, sequence, trial))
    return outcomes


def _strong_gsi_query(meter: Meter, table: LabTable) -> dict[str, Any]:
    """What the engine answers to ConsistentRead on a GSI (DynamoDB: ValidationException)."""
    try:
        meter.call(
            "Query",
            Tally(),
            TableName=table.name,
            IndexName=INDEX,
            KeyConditionExpression="post_id = :p",
            ExpressionAttributeValues={":p": {"N": str(FIRST_POST)}},
            ConsistentRead=True,
        )
    except ClientError as error:
        return {"refused": True, "error": error_code(error)}
    return {"refused": False, "error": None}


def run(lab: LabContext, options: ConsistencyOptions) -> Result:
    table = lab.create_table("activities", "consistency", indexes=(INDEX,))
    check_keys(table, activity(0, user=0, kind="like", post_id=FIRST_POST))
    meter = lab.meter([table])
    rows = []
    first = 0
    for delay in options.delays_ms:
        outcomes = _trials_at(lab, meter, table, delay, options.reads, first)
        first += options.reads * len(MODES)
        for mode, outcome in outcomes.items():
            rows.append(
                {
                    "mode": mode,
                    "delay_ms": delay,
                    "reads": options.reads,
                    "stale": outcome.stale,
                    "stale_share": round(outcome.stale / options.reads, 3),
                    "rcu_per_read": round(outcome.tally.computed.read / options.reads, 3),
                    "waited_ms": round(outcome.waited_ms / options.reads, 1),
                    **outcome.tally.capacity(),
                }
            )
    return {
        "lag_ms": options.lag_ms,
        "reads": rows,
        "gsi_consistent_read": _strong_gsi_query(meter, table),
    }


def engine_options(options: ConsistencyOptions) -> dict[str, Any]:
    return {"gsi_lag_ms": options.lag_ms, "replica_lag_ms": options.lag_ms}


def elsewhere(_options: ConsistencyOptions) -> list[str]:
    return [
        _(
            "--lag-ms sets the lag of the lab's own engine only. On another engine the reads "
            "lag as much as it does: the app's engine as `make run` started it, stock moto "
            "never (every read there is as fresh as a strong one), DynamoDB by its own "
            "measure, usually well under a second."
        )
    ]


def _series(result: Result, mode: str) -> list[float | None]:
    return [round(100 * r["stale_share"], 1) for r in result["reads"] if r["mode"] == mode]


def view(result: Result) -> LabView:
    delays = sorted({r["delay_ms"] for r in result["reads"]})
    chart = line_chart(
        title=_("Share of reads that missed the write, by the delay after it"),
        x_label=_("ms after the write"),
        y_label=_("stale reads, percent"),
        xs=delays,
        series=[
            Series(_("eventually consistent GetItem"), _series(result, "eventual")),
            Series(_("strongly consistent GetItem"), _series(result, "strong")),
            Series(_("Query on the GSI"), _series(result, "gsi"), dashed=True),
        ],
    )
    labels = {
        "eventual": _("eventual"),
        "strong": _("strong"),
        "gsi": _("GSI (eventual)"),
    }
    rows = [
        [
            labels[r["mode"]],
            str(r["delay_ms"]),
            f"{r['waited_ms']:.0f}",
            str(r["reads"]),
            str(r["stale"]),
            f"{r['stale_share']:.0%}",
            units_text(r["rcu_per_read"]),
        ]
        for r in result["reads"]
    ]
    table = ResultTable(
        _("Reads after a write"),
        [
            _("read"),
            _("delay (ms)"),
            _("waited (ms)"),
            _("reads"),
            _("stale"),
            _("stale share"),
            _("RCU per read"),
        ],
        rows,
        note=_(
            "waited: the mean time from the write's answer to the read, a little over the "
            "delay asked. RCU per read is computed by AWS's rules for an item of about 200 "
            "bytes: 0.5 eventually consistent, 1 strongly consistent."
        ),
    )
    return LabView(shows=_shows(result), chart=chart, tables=[table])


def _share(result: Result, mode: str, delay: int) -> float:
    return next(
        float(r["stale_share"])
        for r in result["reads"]
        if r["mode"] == mode and r["delay_ms"] == delay
    )


def _rcu(result: Result, mode: str) -> float:
    return max(float(r["rcu_per_read"]) for r in result["reads"] if r["mode"] == mode)


def _shows(result: Result) -> str:
    delays = sorted({r["delay_ms"] for r in result["reads"]})
    first, last = delays[0], delays[-1]
    strong_stale = sum(r["stale"] for r in result["reads"] if r["mode"] == "strong")
    refusal = result["gsi_consistent_read"]
    gsi_strong = (
        _("Asked for a strongly consistent Query, the GSI answered {error}.").format(
            error=refusal["error"]
        )
        if refusal["refused"]
        else _("This engine accepted a strongly consistent Query on the GSI; DynamoDB refuses it.")
    )
    return _(
        "At {first} ms after the write, {eventual:.0%} of eventually consistent reads and "
        "{gsi:.0%} of GSI reads missed it; at {last} ms, {eventual_last:.0%} and "
        "{gsi_last:.0%}. Strongly consistent reads missed it {strong} times, at "
        "{strong_rcu} RCU per read against {eventual_rcu} for an eventually consistent one. "
        "{gsi_strong} So the app reads strongly where a person must see their own write (the "
        "session after sign-in, their like, the comments) and never reads it back through a GSI."
    ).format(
        first=first,
        last=last,
        eventual=_share(result, "eventual", first),
        gsi=_share(result, "gsi", first),
        eventual_last=_share(result, "eventual", last),
        gsi_last=_share(result, "gsi", last),
        strong=strong_stale,
        strong_rcu=units_text(_rcu(result, "strong")),
        eventual_rcu=units_text(_rcu(result, "eventual")),
        gsi_strong=gsi_strong,
    )


LAB = Lab(
    name="consistency",
    title=N_("Read consistency: strong, eventual and GSI reads right after a write"),
    proves=N_(
        "Strong reads never miss a write and cost twice; eventual and GSI reads can, for a while."
    ),
    lesson=N_(
        "A write DynamoDB has acknowledged is durable, but a read is eventually consistent "
        "unless it sets ConsistentRead: it may not reflect a write that has just completed. A "
        "strongly consistent read reflects every successful write before it and costs twice "
        "the read units. A global secondary index is updated asynchronously and can only be "
        "read eventually consistent. This lab writes new items and reads each back once, "
        "after a growing delay, three ways, and counts the reads that missed the write."
    ),
    mirrors=(
        Mirror(
            "service",
            "sessions.service.viewer_for_token",
            N_("strong: the page after sign-in sees the session"),
        ),
        Mirror(
            "service",
            "engagement.comments.service.list_comments",
            N_("strong: your new comment is in the thread"),
        ),
        Mirror("service", "activity.service.post_timeline", N_("through a GSI: eventual, may lag")),
        Mirror("model", "activity.models.Activity", N_("the table and the GSI the lab copies")),
    ),
    pages=("likes", "user_activity"),
    options=ConsistencyOptions,
    run=run,
    view=view,
    engine_options=engine_options,
    elsewhere=elsewhere,
)
