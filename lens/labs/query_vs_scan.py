"""Lab `query-vs-scan`: "the latest 20 of one user" by Query and by Scan-and-filter, as it grows.

The table is a copy of the app's `activities` key design (PK `user_id`, SK `timestamp`), without
its GSIs: neither read uses them, and leaving them out only makes loading faster. At each size
the same answer is read both ways, several times; capacity is priced by AWS's rules and taken
from the engine's ConsumedCapacity, latency is the median of the repetitions.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from pydantic import Field

from lens.capacity import Precision
from lens.labs.charts import Series, line_chart
from lens.labs.context import LabContext
from lens.labs.lab import Lab, LabOptions, LabView, Mirror, Result, ResultTable
from lens.labs.meter import Meter, Tally, units_text
from lens.labs.synthetic import activities, check_keys
from lens.labs.tables import LabTable
from shared.capacity_rules import item_size, read_units
from shared.i18n import N_
from shared.i18n import gettext as _

LATEST = 20
QUERY_REPEATS = 5
SCAN_REPEATS = 3
ITEMS_PER_USER = 50
PRECISIONS = {precision.label: precision for precision in Precision}


class QueryVsScanOptions(LabOptions):
    sizes: list[Annotated[int, Field(ge=100, le=100_000)]] = Field(
        [1_000, 5_000, 20_000],
        min_length=1,
        max_length=6,
        title=N_("Table sizes (items, comma-separated)"),
        description=N_("The table grows to each size in turn; both reads run at every step."),
    )


@dataclass(frozen=True)
class Read:
    """One read's answer and its read capacity by AWS's rules."""

    answer: list[dict[str, Any]]
    rcu: float
    precision: Precision


def _query(meter: Meter, table: LabTable, user: str, tally: Tally, _mean_size: float) -> Read:
    """What `latest_activities_of_user` asks: one item collection, newest first, stop after 20."""
    response = meter.call(
        "Query",
        tally,
        TableName=table.name,
        KeyConditionExpression="user_id = :u",
        ExpressionAttributeValues={":u": {"S": user}},
        ScanIndexForward=False,
        Limit=LATEST,
    )
    return Read(list(response["Items"]), tally.computed.read, tally.computed.precision)


def _scan(meter: Meter, table: LabTable, user: str, tally: Tally, mean_size: float) -> Read:
    """The same answer without the key: read every page with a filter on the user, sort, keep
    the newest 20.

    DynamoDB bills every item a page read, matching or not, and returns only the matching ones,
    so from the response alone a page that matched nothing has no size to price. The lab wrote
    every item itself and knows their mean size: each page is priced at ScannedCount items of
    that size, by the same rule (summed, 4 KB per unit, halved for an eventually consistent
    read)."""
    found: list[dict[str, Any]] = []
    start: dict[str, Any] = {}
    rcu = 0.0
    while True:
        response = meter.call(
            "Scan",
            tally,
            TableName=table.name,
            FilterExpression="user_id = :u",
            ExpressionAttributeValues={":u": {"S": user}},
            **start,
        )
        found += response["Items"]
        rcu += read_units(round(mean_size * response["ScannedCount"]), consistent=False)
        if "LastEvaluatedKey" not in response:
            break
        start = {"ExclusiveStartKey": response["LastEvaluatedKey"]}
    found.sort(key=lambda item: item["timestamp"]["S"], reverse=True)
    return Read(found[:LATEST], rcu, Precision.ESTIMATE)


def _figures(tallies: list[Tally], read: Read) -> dict[str, Any]:
    """One read's figures (every repetition reads the same items) and the median latency.

    `returned` is the answer (20 items); `from_dynamodb` what the calls returned to get it."""
    one = tallies[0]
    return {
        "rcu": round(read.rcu, 2),
        "rcu_reported": None if one.reported is None else round(one.reported.read, 2),
        "precision": read.precision.label,
        "scanned": one.scanned,
        "returned": len(read.answer),
        "from_dynamodb": one.returned,
        "requests": one.requests,
        "ms": round(sorted(sum(t.ms) for t in tallies)[len(tallies) // 2], 2),
    }


def _measure(
    lab: LabContext, meter: Meter, table: LabTable, size: int, user: str, mean_size: float
) -> Result:
    stage = _("reading at {size} items").format(size=f"{size:,}")
    reads: dict[str, Any] = {}
    for way, read, repeats in (("query", _query, QUERY_REPEATS), ("scan", _scan, SCAN_REPEATS)):
        tallies = [Tally() for _ in range(repeats)]
        outcomes = [read(meter, table, user, tally, mean_size) for tally in tallies]
        lab.progress(stage, 1 if way == "query" else 2, 2)
        reads[way] = _figures(tallies, outcomes[0])
    if reads["query"]["returned"] != reads["scan"]["returned"]:
        lab.note(_("At {size:,} items the two reads returned different answers.").format(size=size))
    return {"size": size, **reads}


def run(lab: LabContext, options: QueryVsScanOptions) -> Result:
    table = lab.create_table("activities", "activities", indexes=())
    meter = lab.meter([table])
    users = max(1, min(100, options.sizes[0] // ITEMS_PER_USER))
    user = "0"
    steps, written, total_bytes = [], 0, 0
    for size in options.sizes:
        items = activities(range(written, size), users=users)
        if items:
            check_keys(table, items[0])
        lab.load(table, items, stage=_("loading to {size} items").format(size=f"{size:,}"))
        written = size
        total_bytes += sum(item_size(item) for item in items)
        steps.append(_measure(lab, meter, table, size, user, total_bytes / size))
    query_rcu = {step["query"]["rcu"] for step in steps}
    return {
        "steps": steps,
        "users": users,
        "user": user,
        "latest": LATEST,
        "query_flat": len(query_rcu) == 1,
        "scan_growth": round(steps[-1]["scan"]["rcu"] / max(steps[0]["scan"]["rcu"], 0.5), 2),
    }


def view(result: Result) -> LabView:
    steps = result["steps"]
    sizes = [step["size"] for step in steps]
    series = [
        Series(_("Query, computed"), [s["query"]["rcu"] for s in steps]),
        Series(_("Scan-and-filter, computed"), [s["scan"]["rcu"] for s in steps]),
    ]
    if all(s["scan"]["rcu_reported"] is not None for s in steps):
        series += [
            Series(_("Query, reported"), [s["query"]["rcu_reported"] for s in steps], dashed=True),
            Series(_("Scan, reported"), [s["scan"]["rcu_reported"] for s in steps], dashed=True),
        ]
    chart = line_chart(
        title=_("Read capacity of 'the latest {latest} of one user' as the table grows").format(
            latest=result["latest"]
        ),
        x_label=_("items in the table"),
        y_label=_("RCU per read"),
        xs=sizes,
        series=series,
    )
    rows = []
    for step in steps:
        for way, label in (("query", _("Query")), ("scan", _("Scan + filter"))):
            f = step[way]
            precision = PRECISIONS[f["precision"]]
            rows.append(
                [
                    f"{step['size']:,}",
                    label,
                    str(f["requests"]),
                    f"{f['scanned']:,}",
                    str(f["returned"]),
                    units_text(f["rcu"], precision),
                    units_text(f["rcu_reported"]),
                    f"{f['ms']:.1f}",
                ]
            )
    table = ResultTable(
        _("Per step: one read of the latest 20 items of one user"),
        [
            _("items"),
            _("read"),
            _("requests"),
            _("scanned"),
            _("returned"),
            _("RCU computed"),
            _("RCU reported"),
            _("p50 ms"),
        ],
        rows,
        note=_(
            "Computed: DynamoDB's rules (sizes of the items read, 4 KB per unit, halved for "
            "an eventually consistent read); the Scan's items that the filter dropped are "
            "sized at the table's mean item size. Reported: the engine's ConsumedCapacity."
        ),
    )
    return LabView(shows=_shows(result), chart=chart, tables=[table])


def _shows(result: Result) -> str:
    first, last = result["steps"][0], result["steps"][-1]
    q0, q1 = first["query"]["rcu"], last["query"]["rcu"]
    s0, s1 = first["scan"]["rcu"], last["scan"]["rcu"]
    if first["size"] == last["size"]:
        # One size measures both reads but shows no growth: say so rather than "grew 1x".
        return _(
            "At {size:,} items the Query read {q0:g} RCU, reading {scanned} items for "
            "{returned}; the Scan read {scanned2:,} items for the same {returned2}, at {s0:g} "
            "RCU. Give two or more sizes to see the Scan's cost grow with the table while the "
            "Query's stays flat."
        ).format(
            size=first["size"],
            q0=q0,
            scanned=first["query"]["scanned"],
            returned=first["query"]["returned"],
            scanned2=first["scan"]["scanned"],
            returned2=first["scan"]["returned"],
            s0=s0,
        )
    growth = _("{value:.0f}x").format(value=last["size"] / first["size"])
    flat = (
        _("the Query read {q0:g} RCU at every size").format(q0=q0)
        if result["query_flat"]
        else _(
            "the Query's cost moved from {q0:g} to {q1:g} RCU, which a Query with a Limit "
            "should not do (look at the notes and the reported figures)"
        ).format(q0=q0, q1=q1)
    )
    return _(
        "The table grew {growth} from {first_size:,} to {last_size:,} items: {flat}, "
        "reading {scanned} items for {returned}; the Scan read {scanned2:,} then "
        "{scanned3:,} items for the same {returned2}, and its cost went from {s0:g} to "
        "{s1:g} RCU. A Query goes by its key to one item collection and stops after the Limit; "
        "a Scan reads every item, and filtering (in the app or by a FilterExpression) "
        "only drops items after they are read and billed."
    ).format(
        growth=growth,
        first_size=first["size"],
        last_size=last["size"],
        flat=flat,
        scanned=last["query"]["scanned"],
        returned=last["query"]["returned"],
        scanned2=first["scan"]["scanned"],
        scanned3=last["scan"]["scanned"],
        returned2=last["scan"]["returned"],
        s0=s0,
        s1=s1,
    )


LAB = Lab(
    name="query-vs-scan",
    title=N_("Query vs Scan as the table grows"),
    proves=N_("A Query's cost stays flat as the table grows; a Scan's grows with the table."),
    lesson=(
        N_(
            "The app reads 'the latest N activities of a user' with a Query on the partition "
            "key user_id, newest first, with a Limit. The seed's global feed was a Scan. This lab "
            "grows an activities table and reads the same 20 items both ways at each size."
        )
    ),
    mirrors=(
        Mirror(
            "model", "activity.models.Activity", N_("PK user_id, SK timestamp: the table copied")
        ),
        Mirror(
            "service",
            "activity.service.latest_activities_of_user",
            N_("the Query: one item collection, newest first, Limit"),
        ),
        Mirror("service", "activity.service.feed_by_scan", N_("the Scan the app keeps on purpose")),
    ),
    pages=("user_activity", "feed"),
    options=QueryVsScanOptions,
    run=run,
    view=view,
)
