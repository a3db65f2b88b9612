"""Lab `gsi-cost`: the same K activities written to tables that differ only in their GSIs.

Every variant is a copy of the app's `activities` table with a different set of the app's own
indexes. Each item is written with a PutItem conditional on `attribute_not_exists(user_id)`,
which proves there was no old item, so the computed cost is exact: 1 WCU per KB of the item
on the table, plus, for every GSI whose key the item carries, 1 WCU per KB of its index entry
(AWS bills index writes that way). Storage follows AWS's rule too: each item, and each index
entry, plus 100 bytes of overhead.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pydantic import Field

from lens.capacity import TableSchema, index_target
from lens.labs.charts import Bar, BarGroup, bar_chart
from lens.labs.context import LabContext
from lens.labs.lab import Lab, LabOptions, LabView, Mirror, Result, ResultTable
from lens.labs.meter import Tally, units_text
from lens.labs.synthetic import activities, check_keys
from shared.capacity_rules import item_size
from shared.i18n import N_
from shared.i18n import gettext as _

STORAGE_OVERHEAD_BYTES = 100
VARIANTS: dict[str, tuple[str, ...] | None] = {
    "no-gsi": (),
    "one-gsi": ("ActivityTypeIndex",),
    "two-gsi": ("ActivityTypeIndex", "PostActivityIndex"),
    "sparse-gsi": ("FeedIndex",),
    "app-design": None,
}
"""`None`: every index of the app's table, as the app creates it."""


class GsiCostOptions(LabOptions):
    items: int = Field(200, ge=10, le=5_000, title=N_("Activities written to each table"))


def _storage(schema: TableSchema, items: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Bytes per table and index by AWS's rule, and how many items each index holds."""
    table_bytes = sum(item_size(item) + STORAGE_OVERHEAD_BYTES for item in items)
    indexes = {}
    for index in schema.indexes:
        entries = [entry for item in items if (entry := schema.entry(index, item)) is not None]
        indexes[index.name] = {
            "items": len(entries),
            "bytes": sum(item_size(entry) + STORAGE_OVERHEAD_BYTES for entry in entries),
        }
    return {"table_bytes": table_bytes, "indexes": indexes}


def _reported_storage(description: dict[str, Any]) -> dict[str, Any]:
    return {
        "table_bytes": description.get("TableSizeBytes"),
        "indexes": {
            index["IndexName"]: index.get("IndexSizeBytes")
            for index in description.get("GlobalSecondaryIndexes", [])
        },
    }


def _variant(
    lab: LabContext, name: str, indexes: tuple[str, ...] | None, items: list[Any]
) -> Result:
    table = lab.create_table("activities", name, indexes=indexes)
    check_keys(table, items[0])
    meter = lab.meter([table])
    tally = Tally()
    for number, item in enumerate(items, start=1):
        meter.call(
            "PutItem",
            tally,
            TableName=table.name,
            Item=item,
            ConditionExpression="attribute_not_exists(user_id)",
        )
        if number % 25 == 0 or number == len(items):
            lab.progress(_("writing to {name}").format(name=name), number, len(items))
    by_target = tally.computed.by_target
    indexes_used = [index.name for index in table.schema.indexes]
    return {
        "indexes": indexes_used,
        "wcu_per_write": round(tally.computed.write / len(items), 3),
        "wcu": round(tally.computed.write, 2),
        "wcu_reported": None if tally.reported is None else round(tally.reported.write, 2),
        "precision": tally.computed.precision.label,
        "wcu_by_index": {
            index: round(by_target.get(index_target(table.name, index), 0.0), 2)
            for index in indexes_used
        },
        "storage": _storage(table.schema, items),
        "storage_reported": _reported_storage(lab.describe(table)),
    }


def run(lab: LabContext, options: GsiCostOptions) -> Result:
    items = activities(range(options.items), users=20)
    variants = {name: _variant(lab, name, indexes, items) for name, indexes in VARIANTS.items()}
    carrying = sum(1 for item in items if "feed_key" in item)
    return {
        "items": options.items,
        "items_with_feed_key": carrying,
        "variants": variants,
    }


def view(result: Result) -> LabView:
    variants = result["variants"]
    groups = [BarGroup(name, [Bar(0, v["wcu_per_write"])]) for name, v in variants.items()]
    chart = bar_chart(
        title=_("Write capacity per PutItem, by the indexes on the table"),
        x_label=_("table variant"),
        y_label=_("WCU per write"),
        series=[_("WCU per write (computed)")],
        groups=groups,
    )
    rows = [
        [
            name,
            str(len(v["indexes"])),
            f"{v['wcu_per_write']:g}",
            units_text(v["wcu"]),
            units_text(v["wcu_reported"]),
            f"{_stored_bytes(v):,}",
        ]
        for name, v in variants.items()
    ]
    summary = ResultTable(
        _("{items} PutItems per table").format(items=result["items"]),
        [_("variant"), _("GSIs"), _("WCU/write"), _("WCU"), _("WCU reported"), _("bytes stored")],
        rows,
        note=_(
            "Bytes by AWS's rule (item or index entry + 100 bytes), table and indexes "
            "together. The engine's own TableSizeBytes is in the JSON (stock moto reports 0; "
            "AWS refreshes it about every six hours)."
        ),
    )
    breakdown = ResultTable(
        _("Where the writes and the bytes go"),
        [_("variant"), _("table or index"), _("items"), _("WCU"), _("bytes")],
        [row for name, v in variants.items() for row in _breakdown(name, v, result["items"])],
    )
    tables = [summary, breakdown]
    return LabView(shows=_shows(result), chart=chart, tables=tables)


def _stored_bytes(variant: Result) -> int:
    storage = variant["storage"]
    return int(storage["table_bytes"] + sum(s["bytes"] for s in storage["indexes"].values()))


def _breakdown(name: str, variant: Result, items: int) -> list[list[str]]:
    table_wcu = variant["wcu"] - sum(variant["wcu_by_index"].values())
    rows = [
        [
            name,
            _("table"),
            str(items),
            units_text(table_wcu),
            f"{variant['storage']['table_bytes']:,}",
        ]
    ]
    for index, stored in variant["storage"]["indexes"].items():
        wcu = units_text(variant["wcu_by_index"][index])
        rows.append([name, index, str(stored["items"]), wcu, f"{stored['bytes']:,}"])
    return rows


def _shows(result: Result) -> str:
    v = result["variants"]
    share = result["items_with_feed_key"] / result["items"]
    return _(
        "Without a GSI each write cost {wcu_per_write:g} WCU; with one, "
        "{wcu_per_write2:g}; with two, {wcu_per_write3:g}: every index whose key a new item "
        "carries is written too, and stores a copy. The sparse FeedIndex "
        "cost {wcu_per_write4:g} per write: only the {share:.0%} of items that carry "
        "feed_key (views do not) are copied into it. The app's design with all three "
        "indexes: {wcu_per_write5:g} WCU per write."
    ).format(
        wcu_per_write=v["no-gsi"]["wcu_per_write"],
        wcu_per_write2=v["one-gsi"]["wcu_per_write"],
        wcu_per_write3=v["two-gsi"]["wcu_per_write"],
        wcu_per_write4=v["sparse-gsi"]["wcu_per_write"],
        share=share,
        wcu_per_write5=v["app-design"]["wcu_per_write"],
    )


LAB = Lab(
    name="gsi-cost",
    title=N_("GSI cost: every index an item lands in is paid on its write"),
    proves=N_(
        "Each GSI adds a write and storage per item; a sparse one only for items with its key."
    ),
    lesson=(
        N_(
            "The activities table has three global secondary indexes. DynamoDB keeps each one "
            "up to date by writing the index entry whenever an item carrying its key is written, "
            "and bills that write. A write that leaves the item out of an index before and "
            "after, or an update that changes no key or projected attribute of an index, writes "
            "nothing there. This lab writes the same new activities to tables with none, one, "
            "two, a sparse one and all of the app's indexes."
        )
    ),
    mirrors=(
        Mirror("model", "activity.models.Activity", N_("three GSIs; FeedIndex and views: sparse")),
        Mirror(
            "service", "activity.service.record_activity", N_("one PutItem, three index writes")
        ),
        Mirror("service", "activity.service.record_view", N_("a view skips FeedIndex")),
    ),
    pages=("activity_by_type", "user_activity"),
    options=GsiCostOptions,
    run=run,
    view=view,
)
