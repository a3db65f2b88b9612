"""Lab `ttl`: short-lived sessions and view logs, watched while they expire.

Two tables with the app's designs and TTL on (`sessions`: `expires_at` on every session;
`activities`: on views only), holding sessions and views that expire within seconds, sessions
that live on, and likes that never expire. The private engine sweeps expired items every
second; real DynamoDB does it on a best-effort basis, typically within a few days and with no
guarantee (until then expired items still take storage, are still read, and are billed for
both). At intervals the lab counts the items stored, the
items a read returns (a read filters out what has expired), and the items the sweeper has
deleted. Then it cleans up identical twin tables without TTL by hand, with a Scan and
BatchWriteItem deletes, and shows what that costs: TTL deletes cost no write capacity.
"""

from __future__ import annotations

import math
import time
from datetime import UTC, datetime
from typing import Any

from pydantic import Field

from lens.labs.charts import Series, line_chart
from lens.labs.context import LabContext
from lens.labs.lab import Lab, LabOptions, LabView, Mirror, Result, ResultTable
from lens.labs.meter import Meter, Tally, units_text
from lens.labs.synthetic import activity, check_keys, session
from lens.labs.tables import LabTable
from shared.i18n import N_, ngettext
from shared.i18n import gettext as _

SHORT_SESSIONS, LONG_SESSIONS, VIEWS, LIKES = 20, 10, 30, 10
LONG_LIVED_SECONDS = 3_600
TTL_INTERVAL_SECONDS = 1.0
LEAD_SECONDS = 2
JUST_AFTER_EXPIRY = 0.05
BATCH = 25


class TtlOptions(LabOptions):
    seconds: int = Field(
        5,
        ge=4,
        le=60,
        title=N_("Seconds to watch"),
        description=N_("Short-lived items expire within this window."),
    )


def _items(now: float, seconds: int) -> dict[str, list[dict[str, Any]]]:
    """Expiries spread over the window, starting a couple of seconds ahead (writing the items
    takes a moment) and leaving the sweeper time to catch up before the window ends."""
    base = math.ceil(now) + LEAD_SECONDS
    spread = max(1, seconds - LEAD_SECONDS - 1)
    moment = datetime.fromtimestamp(now, UTC)
    sessions = [session(n, expires_at=base + n % spread, now=moment) for n in range(SHORT_SESSIONS)]
    sessions += [
        session(SHORT_SESSIONS + n, expires_at=base + LONG_LIVED_SECONDS, now=moment)
        for n in range(LONG_SESSIONS)
    ]
    views = [
        activity(n, user=n % 5, kind="view", post_id=1 + n % 7, expires_at=base + n % spread)
        for n in range(VIEWS)
    ]
    likes = [
        activity(n, user=n % 5, kind="like", post_id=1 + n % 7) for n in range(VIEWS, VIEWS + LIKES)
    ]
    return {"sessions": sessions, "activities": views + likes}


def _ttl(table: LabTable) -> str:
    assert table.ttl_attribute is not None
    return table.ttl_attribute


def _count(meter: Meter, table: LabTable, now: int) -> tuple[int, int]:
    """(stored, visible): a Scan reads every item; its filter keeps the unexpired ones."""
    stored = visible = 0
    start: dict[str, Any] = {}
    while True:
        response = meter.call(
            "Scan",
            Tally(),
            TableName=table.name,
            Select="COUNT",
            ConsistentRead=True,
            FilterExpression="attribute_not_exists(#ttl) OR #ttl > :now",
            ExpressionAttributeNames={"#ttl": _ttl(table)},
            ExpressionAttributeValues={":now": {"N": str(now)}},
            **start,
        )
        stored += response["ScannedCount"]
        visible += response["Count"]
        if "LastEvaluatedKey" not in response:
            return stored, visible
        start = {"ExclusiveStartKey": response["LastEvaluatedKey"]}


def _expired(items: dict[str, list[dict[str, Any]]], now: float) -> int:
    return sum(
        1
        for rows in items.values()
        for item in rows
        if "expires_at" in item and int(item["expires_at"]["N"]) <= now
    )


def _schedule(items: dict[str, list[dict[str, Any]]], seconds: int) -> list[float]:
    """When to sample, in seconds from now: a regular grid, plus just after each moment items
    expire, so that a sweeper quicker than the grid cannot hide the items' late deletion."""
    interval = max(0.5, seconds / 10)
    grid = [step * interval for step in range(round(seconds / interval) + 1)]
    now = time.time()
    moments = {
        int(item["expires_at"]["N"]) - now + JUST_AFTER_EXPIRY
        for rows in items.values()
        for item in rows
        if "expires_at" in item
    }
    return sorted(set(grid) | {moment for moment in moments if 0 < moment < seconds})


def _watch(
    lab: LabContext,
    meter: Meter,
    tables: dict[str, LabTable],
    items: dict[str, list[dict[str, Any]]],
    seconds: int,
) -> list[Result]:
    written = sum(len(rows) for rows in items.values())
    schedule = _schedule(items, seconds)
    started = time.monotonic()
    samples = []
    for number, offset in enumerate(schedule, start=1):
        time.sleep(max(0.0, started + offset - time.monotonic()))
        now = time.time()
        counts = {name: _count(meter, table, int(now)) for name, table in tables.items()}
        stored = sum(stored for stored, _ in counts.values())
        samples.append(
            {
                "t": round(time.monotonic() - started, 2),
                "stored": stored,
                "visible": sum(visible for _, visible in counts.values()),
                "expired": _expired(items, now),
                "deleted_by_ttl": written - stored,
                "by_table": {
                    name: {"stored": stored, "visible": visible}
                    for name, (stored, visible) in counts.items()
                },
            }
        )
        lab.progress(_("watching for {seconds}s").format(seconds=seconds), number, len(schedule))
    return samples


def _manual_cleanup(meter: Meter, tables: list[LabTable]) -> Result:
    """What a clean-up job without TTL does: Scan for expired items, delete them in batches."""
    scan, delete = Tally(), Tally()
    deleted = 0
    now = str(int(time.time()))
    for table in tables:
        keys: list[dict[str, Any]] = []
        start: dict[str, Any] = {}
        while True:
            response = meter.call(
                "Scan",
                scan,
                TableName=table.name,
                FilterExpression="#ttl <= :now",
                ExpressionAttributeNames={"#ttl": _ttl(table)},
                ExpressionAttributeValues={":now": {"N": now}},
                **start,
            )
            keys += [
                {k: item[k] for k in table.schema.key_attributes} for item in response["Items"]
            ]
            if "LastEvaluatedKey" not in response:
                break
            start = {"ExclusiveStartKey": response["LastEvaluatedKey"]}
        for first in range(0, len(keys), BATCH):
            pending = [{"DeleteRequest": {"Key": key}} for key in keys[first : first + BATCH]]
            while pending:
                response = meter.call("BatchWriteItem", delete, RequestItems={table.name: pending})
                pending = response.get("UnprocessedItems", {}).get(table.name, [])
        deleted += len(keys)
    total = scan.add(delete)
    return {
        "deleted": deleted,
        "requests": total.requests,
        "scanned": scan.scanned,
        **total.capacity(),
    }


def run(lab: LabContext, options: TtlOptions) -> Result:
    tables = {name: lab.create_table(name, name, ttl=True) for name in ("sessions", "activities")}
    twins = [lab.create_table(name, f"{name}-manual") for name in tables]
    items = _items(time.time(), options.seconds)
    for name, rows in items.items():
        check_keys(tables[name], rows[0])
    meter = lab.meter([*tables.values(), *twins])
    for (name, rows), twin in zip(items.items(), twins, strict=True):
        lab.load(tables[name], rows, stage=_("writing {name}").format(name=name))
        lab.load(twin, rows, stage=_("writing {name} (twin without TTL)").format(name=name))
    samples = _watch(lab, meter, tables, items, options.seconds)
    last = samples[-1]
    if last["expired"] and last["deleted_by_ttl"] == 0:
        lab.note(
            _(
                "This engine deleted none of the expired items during the run. Real DynamoDB "
                "deletes them on a best-effort basis, typically within a few days, stock moto "
                "never: either way reads must filter."
            )
        )
    return {
        "samples": samples,
        "written": {name: len(rows) for name, rows in items.items()},
        "manual_cleanup": _manual_cleanup(meter, twins),
        "ttl_cleanup": {"wcu": 0, "requests": 0},
    }


def engine_options(_options: TtlOptions) -> dict[str, Any]:
    return {"ttl_interval": TTL_INTERVAL_SECONDS}


def elsewhere(_options: TtlOptions) -> list[str]:
    return [
        _(
            "This engine deletes expired items on its own schedule, if at all: real DynamoDB "
            "typically within a few days with no guarantee, stock moto never. deleted_by_ttl "
            "counts what it removed "
            "during the run; the reads filter expired items either way."
        ),
    ]


def view(result: Result) -> LabView:
    samples = result["samples"]
    chart = line_chart(
        title=_("Items stored, visible to reads, and deleted by TTL, over time"),
        x_label=_("seconds"),
        y_label=_("items"),
        xs=[s["t"] for s in samples],
        series=[
            Series(_("stored"), [s["stored"] for s in samples]),
            Series(_("visible to a read"), [s["visible"] for s in samples]),
            Series(_("deleted by TTL"), [s["deleted_by_ttl"] for s in samples]),
            Series(_("expired"), [s["expired"] for s in samples], dashed=True),
        ],
    )
    sample_rows = [
        [
            f"{s['t']:.1f}",
            str(s["stored"]),
            str(s["visible"]),
            str(s["expired"]),
            str(s["deleted_by_ttl"]),
        ]
        for s in samples
    ]
    manual = result["manual_cleanup"]
    cost_rows = [
        [_("TTL (the engine deletes)"), "0", "0", "0", "-"],
        [
            _("Scan + BatchWriteItem"),
            str(manual["requests"]),
            units_text(manual["rcu"]),
            units_text(manual["wcu"]),
            f"{units_text(manual['rcu_reported'])} / {units_text(manual['wcu_reported'])}",
        ],
    ]
    tables = [
        ResultTable(
            _("Samples"),
            [_("t (s)"), _("stored"), _("visible"), _("expired"), _("deleted by TTL")],
            sample_rows,
        ),
        ResultTable(
            ngettext(
                "Cleaning up {manual_deleted} expired item",
                "Cleaning up {manual_deleted} expired items",
                manual["deleted"],
            ).format(manual_deleted=manual["deleted"]),
            [_("how"), _("requests"), _("RCU"), _("WCU"), _("reported R/W")],
            cost_rows,
            note=_(
                "DynamoDB does not charge write capacity for TTL deletes. The manual job "
                "reads every item of the table to find the expired ones, then pays a write "
                "for each delete."
            ),
        ),
    ]
    return LabView(shows=_shows(result), chart=chart, tables=tables)


def _shows(result: Result) -> str:
    samples = result["samples"]
    lag = max(s["expired"] - s["deleted_by_ttl"] for s in samples)
    last = samples[-1]
    manual = result["manual_cleanup"]
    ttl = (
        _("TTL did the same for nothing, but late.")
        if last["deleted_by_ttl"]
        else _("This engine's TTL deleted nothing during the run (see the notes).")
    )
    return _(
        "Up to {lag} items had expired but were still stored at one sample: a read that "
        "does not filter would have returned them. At the end {last_stored} items were "
        "stored, {last_visible} visible, {last_deleted_by_ttl} deleted by TTL. Deleting "
        "the {manual_deleted} expired items of the twin tables by hand took "
        "{manual_requests} requests, {units_text} RCU to find them (the Scan reads every "
        "item) and {units_text2} WCU to delete them. {ttl}"
    ).format(
        lag=lag,
        last_stored=last["stored"],
        last_visible=last["visible"],
        last_deleted_by_ttl=last["deleted_by_ttl"],
        manual_deleted=manual["deleted"],
        manual_requests=manual["requests"],
        units_text=units_text(manual["rcu"]),
        units_text2=units_text(manual["wcu"]),
        ttl=ttl,
    )


LAB = Lab(
    name="ttl",
    title=N_("TTL: late deletion, filtered reads, and the manual alternative"),
    proves=N_("TTL deletes expired items late and for free, so every read must filter them."),
    lesson=(
        N_(
            "Sessions and view logs carry an expiry (epoch seconds) in the table's TTL attribute. "
            "DynamoDB deletes expired items by itself, without charging for the deletes, but on "
            "a best-effort basis: typically within a few days, with no guarantee. Until then "
            "they still take storage and are still returned by reads, and both are billed, so "
            "the app checks the expiry on every read."
        )
    ),
    mirrors=(
        Mirror("model", "sessions.models.Session", N_("TTL on expires_at; reads check it")),
        Mirror("service", "sessions.service.viewer_for_token", N_("a session read that filters")),
        Mirror("model", "activity.models.Activity", N_("views carry a TTL; Activity.expired")),
        Mirror("service", "activity.service.record_view", N_("a view log written with its TTL")),
    ),
    pages=("sign_in", "user_activity"),
    options=TtlOptions,
    run=run,
    view=view,
    engine_options=engine_options,
    elsewhere=elsewhere,
)
