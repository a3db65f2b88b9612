"""Lab `counter`: N concurrent clients add 1 to a counter M times each, three ways.

* read-modify-write: GetItem, then PutItem of the count plus one. Two clients that read the same
  count both write count + 1: one update is lost, silently.
* `ADD`: one UpdateItem; DynamoDB applies it to whatever the item holds, serialised per item.
* optimistic locking: GetItem, then a PutItem conditional on the version read (what PynamoDB's
  VersionAttribute does); a client that lost the race gets ConditionalCheckFailed, waits a
  short jittered moment (so the losers do not collide again at once) and retries.

The counter items are copies of the app's `LikeCounter` (likes table: PK `post_id`, SK `sk`).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from botocore.exceptions import ClientError
from pydantic import Field

from lens.labs.charts import Bar, BarGroup, bar_chart
from lens.labs.context import LabContext
from lens.labs.lab import Lab, LabOptions, LabView, Mirror, Result, ResultTable
from lens.labs.meter import CONDITION_FAILED, Meter, Tally, error_code, sum_tallies, units_text
from lens.labs.synthetic import check_keys, counter
from lens.labs.tables import LabTable
from shared.dynamo import backoff_delay
from shared.i18n import N_, ngettext
from shared.i18n import gettext as _

WAYS = ("read-modify-write", "add", "optimistic")
RMW_ATTEMPTS = 3
MAX_CLIENTS = 128
MAX_RETRIES_PER_INCREMENT = 1_000


class CounterOptions(LabOptions):
    clients: int = Field(16, ge=1, le=64, title=N_("Concurrent clients"))
    increments: int = Field(20, ge=1, le=500, title=N_("Increments per client"))


Increment = Callable[[Meter, LabTable, dict[str, Any], Tally], int]


def _read(meter: Meter, table: LabTable, key: dict[str, Any], tally: Tally) -> dict[str, Any]:
    response = meter.call("GetItem", tally, TableName=table.name, Key=key, ConsistentRead=True)
    return dict(response["Item"])


def _read_modify_write(meter: Meter, table: LabTable, key: dict[str, Any], tally: Tally) -> int:
    count = int(_read(meter, table, key, tally)["like_count"]["N"])
    meter.call(
        "PutItem", tally, TableName=table.name, Item=counter(key["post_id"]["S"], count=count + 1)
    )
    return 0


def _add(meter: Meter, table: LabTable, key: dict[str, Any], tally: Tally) -> int:
    meter.call(
        "UpdateItem",
        tally,
        TableName=table.name,
        Key=key,
        UpdateExpression="ADD like_count :one",
        ExpressionAttributeValues={":one": {"N": "1"}},
    )
    return 0


def _optimistic(meter: Meter, table: LabTable, key: dict[str, Any], tally: Tally) -> int:
    """Returns the number of retries this increment needed."""
    for retries in range(MAX_RETRIES_PER_INCREMENT):
        item = _read(meter, table, key, tally)
        count, version = int(item["like_count"]["N"]), int(item["version"]["N"])
        try:
            meter.call(
                "PutItem",
                tally,
                TableName=table.name,
                Item=counter(key["post_id"]["S"], count=count + 1, version=version + 1),
                ConditionExpression="version = :seen",
                ExpressionAttributeValues={":seen": {"N": str(version)}},
            )
            return retries
        except ClientError as error:
            if error_code(error) != CONDITION_FAILED:
                raise
            time.sleep(backoff_delay(min(retries + 1, 4)))
    raise RuntimeError(f"an increment still conflicted after {MAX_RETRIES_PER_INCREMENT} tries")


INCREMENTS: dict[str, Increment] = {
    "read-modify-write": _read_modify_write,
    "add": _add,
    "optimistic": _optimistic,
}


def _run_way(
    lab: LabContext, table: LabTable, way: str, clients: int, increments: int, label: str
) -> Result:
    """`clients` threads, released together, each doing `increments` increments."""
    post = f"lab-{way}-{clients}"
    key = {"post_id": {"S": post}, "sk": {"S": "COUNT"}}
    item = counter(post, count=0, version=0)
    check_keys(table, item)
    meter = lab.meter([table], pool=clients)
    meter.call("PutItem", Tally(), TableName=table.name, Item=item)
    increment = INCREMENTS[way]
    barrier = threading.Barrier(clients)
    done = [0]
    lock = threading.Lock()

    def client() -> tuple[Tally, int]:
        tally, retries = Tally(), 0
        barrier.wait()
        for _increment in range(increments):
            retries += increment(meter, table, key, tally)
            with lock:
                done[0] += 1
                lab.progress(label, done[0], clients * increments)
        return tally, retries

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=clients) as pool:
        outcomes = [f.result() for f in [pool.submit(client) for _ in range(clients)]]
    seconds = time.perf_counter() - started
    final = int(_read(meter, table, key, Tally())["like_count"]["N"])
    tally = sum_tallies(tally for tally, _ in outcomes)
    expected = clients * increments
    return {
        "clients": clients,
        "expected": expected,
        "final": final,
        "lost": expected - final,
        "conditional_failures": tally.errors.get(CONDITION_FAILED, 0),
        "retries": sum(retries for _, retries in outcomes),
        "requests": tally.requests,
        **tally.capacity(),
        "seconds": round(seconds, 3),
        "increments_per_second": round(expected / seconds, 1) if seconds else None,
    }


def run(lab: LabContext, options: CounterOptions) -> Result:
    table = lab.create_table("likes", "likes")
    ways: dict[str, Result] = {}
    attempts: list[Result] = []
    clients = options.clients
    for attempt in range(RMW_ATTEMPTS):
        label = ngettext("{way}, {clients} client", "{way}, {clients} clients", clients).format(
            way=_(WAY_LABELS["read-modify-write"]), clients=clients
        )
        outcome = _run_way(lab, table, "read-modify-write", clients, options.increments, label)
        attempts.append(outcome)
        if outcome["lost"] > 0 or attempt == RMW_ATTEMPTS - 1 or clients >= MAX_CLIENTS:
            break
        lab.note(
            _(
                "Read-modify-write lost no update with {clients} clients this time (the reads"
                " and writes happened not to overlap); rerun with twice as many clients."
            ).format(clients=clients)
        )
        clients = min(MAX_CLIENTS, clients * 2)
    ways["read-modify-write"] = {**attempts[-1], "attempts": attempts}
    for way in ("add", "optimistic"):
        label = _(WAY_LABELS[way])
        ways[way] = _run_way(lab, table, way, options.clients, options.increments, label)
    if ways["read-modify-write"]["lost"] == 0:
        lab.note(
            _(
                "Read-modify-write lost no update in {len} attempts, up to {clients} clients:"
                " this engine served them one at a time. The race is still there: any overlap"
                " of one client's read and another's write loses an update."
            ).format(len=len(attempts), clients=clients)
        )
    if ways["add"]["lost"]:
        lab.note(
            _(
                "ADD lost {lost} updates: this engine does not serialise writes to one item "
                "(stock moto's server does not). DynamoDB applies every ADD."
            ).format(lost=ways["add"]["lost"])
        )
    return {"ways": ways}


WAY_LABELS = {
    "read-modify-write": N_("read-modify-write"),
    "add": "ADD",
    "optimistic": N_("optimistic locking"),
}


def view(result: Result) -> LabView:
    ways = result["ways"]
    groups = [
        BarGroup(
            _(WAY_LABELS[way]),
            [Bar(0, w["expected"]), Bar(1, w["final"]), Bar(2, w["lost"])],
        )
        for way, w in ways.items()
    ]
    chart = bar_chart(
        title=_("Increments expected, counted and lost"),
        x_label=_("way of incrementing"),
        y_label=_("increments"),
        series=[_("expected"), _("final value"), _("lost")],
        groups=groups,
    )
    rows = [
        [
            _(WAY_LABELS[way]),
            str(w["clients"]),
            str(w["expected"]),
            str(w["final"]),
            str(w["lost"]),
            str(w["conditional_failures"]),
            str(w["retries"]),
            str(w["requests"]),
            units_text(w["rcu"]),
            units_text(w["wcu"]),
            f"{units_text(w['rcu_reported'])} / {units_text(w['wcu_reported'])}",
        ]
        for way, w in ways.items()
    ]
    columns = [
        _("way"),
        _("clients"),
        _("expected"),
        _("final"),
        _("lost"),
        _("condition failures"),
        _("retries"),
        _("requests"),
        _("RCU"),
        _("WCU"),
        _("reported R/W"),
    ]
    tables = [ResultTable(_("Per way"), columns, rows, note=_capacity_note())]
    attempts = ways["read-modify-write"]["attempts"]
    if len(attempts) > 1:
        tables.append(
            ResultTable(
                _("Read-modify-write attempts"),
                [_("clients"), _("expected"), _("final"), _("lost")],
                [
                    [str(a["clients"]), str(a["expected"]), str(a["final"]), str(a["lost"])]
                    for a in attempts
                ],
            )
        )
    return LabView(shows=_shows(ways), chart=chart, tables=tables)


def _capacity_note() -> str:
    return _(
        "RCU and WCU are computed by DynamoDB's rules; a write without ReturnValues is "
        "priced at its floor (1 WCU for these small items), and a failed condition still "
        "costs a write. Reported: the engine's ConsumedCapacity, which an error response "
        "does not carry, so the failed conditions are missing from it."
    )


def _shows(ways: dict[str, Result]) -> str:
    rmw, add, opt = ways["read-modify-write"], ways["add"], ways["optimistic"]
    if rmw["lost"]:
        lost = _(
            "Read-modify-write lost {rmw_lost} of {rmw_expected} increments "
            "({value:.0%}): two clients read the same count and both wrote count + 1, and"
            " neither call failed."
        ).format(
            rmw_lost=rmw["lost"], rmw_expected=rmw["expected"], value=rmw["lost"] / rmw["expected"]
        )
    else:
        lost = _(
            "Read-modify-write lost nothing in this run (see the notes): the race needs "
            "an overlap, and this engine happened to serve the clients one at a time."
        )
    return _(
        "{lost} ADD counted {add_final} of {add_expected} in {add_requests} requests: the"
        " engine does the arithmetic on the item. Optimistic locking counted {opt_final} "
        "of {opt_expected} too, paying {opt_conditional_failures} failed conditions and "
        "{opt_retries} retries for it ({opt_requests} requests): right when the new value"
        " depends on the whole item, wasteful for a plain counter."
    ).format(
        lost=lost,
        add_final=add["final"],
        add_expected=add["expected"],
        add_requests=add["requests"],
        opt_final=opt["final"],
        opt_expected=opt["expected"],
        opt_conditional_failures=opt["conditional_failures"],
        opt_retries=opt["retries"],
        opt_requests=opt["requests"],
    )


LAB = Lab(
    name="counter",
    title=N_("Counter: read-modify-write vs ADD vs optimistic locking"),
    proves=N_("Read-modify-write loses concurrent updates; ADD and a version condition do not."),
    lesson=(
        N_(
            "Like counts are counters that many people bump at once. The app bumps them with ADD "
            "(guarded by a condition so a retry counts once) and guards comment edits with a "
            "version attribute. This lab runs concurrent clients against one counter three ways."
        )
    ),
    mirrors=(
        Mirror(
            "model", "engagement.likes.models.LikeCounter", N_("the counter item, bumped with ADD")
        ),
        Mirror("service", "engagement.likes.service.like_post", N_("a like: a conditional ADD")),
        Mirror(
            "model",
            "engagement.comments.models.Comment",
            N_("VersionAttribute: optimistic locking"),
        ),
        Mirror(
            "service",
            "engagement.comments.service.edit_comment",
            N_("an edit conditional on its version"),
        ),
    ),
    pages=("likes",),
    options=CounterOptions,
    run=run,
    view=view,
)
