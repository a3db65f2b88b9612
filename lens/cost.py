"""What the design costs per month at N users: the measured calls of each page, priced.

Input
    A traffic profile (`TrafficProfile`: daily active users, and per user per day the views of
    each page and the actions), a region and a capacity mode; and a measurement
    (`lens.measure`): every DynamoDB call one view of each page and one of each action made on
    a private engine, with its capacity units ("measured": the engine's reported
    ConsumedCapacity; "computed": the inspector's figure by AWS's rules where none was
    reported), and a census of the seeded tables.

The model (a simplification, and it says where)
    * Calls per month = users x times per user per day x 30 (a 30-day month) x the calls one
      view or action makes. Every request's cost is therefore linear in users, with one
      exception the model keeps on purpose: a Scan reads the whole table, and the table grows
      with the users, so the Scan feed's units per call are the measured ones scaled by
      users / seeded users (its monthly cost grows with the square of the users).
    * Storage = the seeded tables' bytes (items plus 100 bytes of overhead per item, on the
      table and on each index entry) scaled by users / seeded users: the demo data's shape per
      user, not growth over months.
    * On-demand: read and write request units at the region's price per million.
    * Provisioned with auto scaling: capacity that follows the traffic at a target
      utilisation, sized for the peak (peak-to-average ratio), billed per unit-hour. Auto
      scaling keeps utilisation near the target; capacity is a continuous figure here (AWS
      provisions whole units, and auto scaling lags a sudden burst).
    * Free tier, backups, streams, global tables and data transfer are left out.
The total is the sum of its parts: per table read + write + GSI write + storage, which is the
sum over access patterns plus storage.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from lens.capacity import READ_OPERATIONS

DAYS_PER_MONTH = 30
HOURS_PER_MONTH = DAYS_PER_MONTH * 24
SECONDS_PER_MONTH = HOURS_PER_MONTH * 3600
GIB = 1024**3
MILLION = 1_000_000
SCAN = "Scan"
UNDECLARED = "(no declared access pattern)"


@dataclass(frozen=True)
class Prices:
    """AWS's published DynamoDB prices of one region, Standard table class, in US dollars."""

    region: str
    read_per_million: float
    write_per_million: float
    storage_per_gb_month: float
    rcu_hour: float
    wcu_hour: float


PRICES_READ_ON = "2026-12-07"
PRICE_SOURCES = (
    "https://aws.amazon.com/dynamodb/pricing/on-demand/",
    "https://aws.amazon.com/dynamodb/pricing/provisioned/",
)
PRICES: dict[str, Prices] = {
    prices.region: prices
    for prices in (
        Prices("us-east-1", 0.125, 0.625, 0.25, 0.00013, 0.00065),
        Prices("ap-northeast-1", 0.1425, 0.7125, 0.285, 0.0001484, 0.000742),
    )
}
"""On-demand per million request units (after AWS's November 2024 price cut), provisioned per
capacity-unit hour, storage per GB-month, Standard table class, as of PRICES_READ_ON, from the
pages in PRICE_SOURCES (their region selector shows each region's rates). Prices change: the
pages are the authority."""

Region = Literal["us-east-1", "ap-northeast-1"]
Mode = Literal["on-demand", "provisioned"]


class TrafficProfile(BaseModel):
    """What the users do, per user per day; declared once, for the page's form, the CLI and
    validation (out-of-range values are refused with the field's name)."""

    model_config = ConfigDict(extra="forbid")

    users: int = Field(default=10_000, ge=1, le=1_000_000_000, description="Daily active users.")
    home_views: float = Field(default=5, ge=0, le=10_000, description="Home page views.")
    post_views: float = Field(default=8, ge=0, le=10_000, description="Post page views.")
    user_views: float = Field(default=1, ge=0, le=10_000, description="User page views.")
    activity_views: float = Field(default=1, ge=0, le=10_000, description="Activity page views.")
    feed_views: float = Field(default=1, ge=0, le=10_000, description="Feed page views.")
    likes: float = Field(default=3, ge=0, le=10_000, description="Likes.")
    comments: float = Field(default=0.5, ge=0, le=10_000, description="Comments.")
    posts: float = Field(default=0.1, ge=0, le=10_000, description="Posts written.")
    sign_ins: float = Field(default=0.2, ge=0, le=10_000, description="Sign-ins.")
    region: Region = "us-east-1"
    mode: Mode = "on-demand"
    target_utilization: float = Field(
        default=0.7, ge=0.2, le=0.9, description="Auto scaling target."
    )
    peak_to_average: float = Field(default=2.0, ge=1, le=50, description="Peak traffic / average.")


STEP_OF_FIELD = {
    "home_views": "home",
    "post_views": "post_page",
    "user_views": "user",
    "activity_views": "activity",
    "feed_views": "feed",
    "likes": "like",
    "comments": "comment",
    "posts": "create_post",
    "sign_ins": "sign_in",
}
"""Which measured step (`lens.measure`) each per-day figure of the profile repeats."""


@dataclass
class Usage:
    """Units per month on one target (a table, or `table/Index`), split read / write."""

    read: float = 0.0
    write: float = 0.0


@dataclass
class PatternCost:
    name: str
    function: str | None
    operation: str
    table: str
    index: str | None
    source: str
    calls: float = 0.0
    read_units: float = 0.0
    write_units: float = 0.0
    usd: float = 0.0
    grows_with_table: bool = False

    def as_dict(self) -> dict[str, Any]:
        calls = self.calls or 1.0
        return {
            "name": self.name,
            "function": self.function,
            "operation": self.operation,
            "table": self.table,
            "index": self.index,
            "source": self.source,
            "rcu_per_call": round(self.read_units / calls, 4),
            "wcu_per_call": round(self.write_units / calls, 4),
            "calls_per_month": round(self.calls),
            "usd": round(self.usd, 2),
            "grows_with_table": self.grows_with_table,
        }


@dataclass
class TableCost:
    table: str
    read_usd: float = 0.0
    write_usd: float = 0.0
    gsi_write_usd: float = 0.0
    storage_usd: float = 0.0
    stored_gb: float = 0.0

    @property
    def monthly_usd(self) -> float:
        return self.read_usd + self.write_usd + self.gsi_write_usd + self.storage_usd

    def as_dict(self) -> dict[str, Any]:
        return {
            "table": self.table,
            "read_usd": round(self.read_usd, 2),
            "write_usd": round(self.write_usd, 2),
            "gsi_write_usd": round(self.gsi_write_usd, 2),
            "storage_usd": round(self.storage_usd, 2),
            "stored_gb": round(self.stored_gb, 3),
            "monthly_usd": round(self.monthly_usd, 2),
        }


Call = Mapping[str, Any]
Calls = Mapping[str, list[Call]]


@dataclass
class Estimate:
    profile: TrafficProfile
    patterns: list[PatternCost]
    tables: list[TableCost]

    @property
    def monthly_usd(self) -> float:
        return sum(table.monthly_usd for table in self.tables)


# -- pricing a unit -------------------------------------------------------------------------


def unit_prices(profile: TrafficProfile) -> tuple[float, float]:
    """Dollars per read unit and per write unit consumed, in the profile's mode.

    Provisioned: a unit consumed per second on average needs peak / utilisation units
    provisioned, paid every hour; spread over the units a month consumes."""
    prices = PRICES[profile.region]
    if profile.mode == "on-demand":
        return prices.read_per_million / MILLION, prices.write_per_million / MILLION
    headroom = profile.peak_to_average / profile.target_utilization
    per_unit_second = headroom * HOURS_PER_MONTH / SECONDS_PER_MONTH
    return prices.rcu_hour * per_unit_second, prices.wcu_hour * per_unit_second


# -- the estimate ---------------------------------------------------------------------------


def estimate(measurement: Mapping[str, Any], profile: TrafficProfile) -> Estimate:
    """Price `measurement`'s calls at `profile`'s traffic."""
    return _estimate(measurement, profile, dict(measurement["steps"]), _storage(measurement))


def _estimate(
    measurement: Mapping[str, Any],
    profile: TrafficProfile,
    steps: Calls,
    storage: Mapping[str, float],
) -> Estimate:
    read_price, write_price = unit_prices(profile)
    growth = profile.users / max(int(measurement["seeded_users"]), 1)
    patterns: dict[tuple[str, str, str | None], PatternCost] = {}
    usage: dict[str, Usage] = defaultdict(Usage)
    for field_name, step in STEP_OF_FIELD.items():
        per_month = profile.users * getattr(profile, field_name) * DAYS_PER_MONTH
        for call in steps.get(step, []):
            scale = growth if call["operation"] == SCAN else 1.0
            cost = _pattern(patterns, call)
            cost.calls += per_month
            cost.read_units += call["rcu"] * scale * per_month
            cost.write_units += call["wcu"] * per_month
            cost.usd += (call["rcu"] * scale * read_price + call["wcu"] * write_price) * per_month
            for target, units in _targets(call).items():
                if call["operation"] in READ_OPERATIONS:
                    usage[target].read += units * scale * per_month
                else:
                    usage[target].write += units * per_month
    tables = _tables(measurement, usage, storage, profile, growth)
    return Estimate(profile, sorted(patterns.values(), key=lambda p: -p.usd), tables)


def _pattern(patterns: dict[tuple[str, str, str | None], PatternCost], call: Call) -> PatternCost:
    name = call["pattern"] or UNDECLARED
    key = (name, call["operation"], call["index"])
    if key not in patterns:
        patterns[key] = PatternCost(
            name=name,
            function=call["function"],
            operation=call["operation"],
            table=call["table"],
            index=call["index"],
            source=call["source"],
            grows_with_table=call["operation"] == SCAN,
        )
    elif call["source"] == "computed":
        patterns[key].source = "computed"
    return patterns[key]


def _targets(call: Call) -> dict[str, float]:
    """Units per table or index; a call whose figure names no target bills its own table."""
    targets = {target: units for target, units in call["by_target"].items() if units}
    return targets or {call["table"]: call["rcu"] + call["wcu"]}


def _storage(measurement: Mapping[str, Any]) -> dict[str, float]:
    """Billed bytes of each table (its items and its index entries) in the seeded data."""
    return {
        table["table"]: float(sum(target["billed_bytes"] for target in table["targets"]))
        for table in measurement["tables"]
    }


def _tables(
    measurement: Mapping[str, Any],
    usage: Mapping[str, Usage],
    storage: Mapping[str, float],
    profile: TrafficProfile,
    growth: float,
) -> list[TableCost]:
    read_price, write_price = unit_prices(profile)
    storage_price = PRICES[profile.region].storage_per_gb_month
    costs = {name: TableCost(name) for name in measurement["table_names"]}
    for target, units in usage.items():
        table, _, index = target.partition("/")
        cost = costs.setdefault(table, TableCost(table))
        cost.read_usd += units.read * read_price
        if index:
            cost.gsi_write_usd += units.write * write_price
        else:
            cost.write_usd += units.write * write_price
    for table, billed in storage.items():
        cost = costs.setdefault(table, TableCost(table))
        cost.stored_gb = billed * growth / GIB
        cost.storage_usd = cost.stored_gb * storage_price
    return list(costs.values())


# -- what-ifs -------------------------------------------------------------------------------


@dataclass(frozen=True)
class WhatIf:
    name: str
    title: str
    estimate: Estimate


def what_ifs(measurement: Mapping[str, Any], profile: TrafficProfile) -> list[WhatIf]:
    """The current design's alternatives, each priced at the same traffic."""
    steps: Calls = measurement["steps"]
    storage = _storage(measurement)
    found = [
        WhatIf(
            "feed-by-index",
            "The Scan feed replaced by the FeedIndex Query",
            _estimate(measurement, profile, _without_scans(steps), storage),
        ),
        WhatIf(
            "strong-reads",
            "Strongly consistent reads on the tables instead of eventually consistent ones",
            _estimate(measurement, profile, _strong(steps), storage),
        ),
    ]
    for index, table in _indexes(measurement):
        found.append(
            WhatIf(
                f"without-{index}",
                f"{index} removed (its writes and storage gone, and the question it answers "
                "with them)",
                _estimate(measurement, profile, _without_index(steps, table, index), storage),
            )
        )
        found.append(
            WhatIf(
                f"keys-only-{index}",
                f"{index} projecting KEYS_ONLY (smaller entries; each item a read returns is "
                "then fetched from the table)",
                _estimate(
                    measurement,
                    profile,
                    _keys_only_reads(steps, table, index),
                    _keys_only_storage(measurement, table, index),
                ),
            )
        )
    other: Mode = "provisioned" if profile.mode == "on-demand" else "on-demand"
    found.append(
        WhatIf(
            f"{other}",
            "Provisioned capacity with auto scaling at the target utilisation"
            if other == "provisioned"
            else "On-demand capacity",
            _estimate(measurement, profile.model_copy(update={"mode": other}), steps, storage),
        )
    )
    return found


def _map_calls(steps: Calls, change: Any) -> dict[str, list[Call]]:
    return {step: [c for call in calls for c in change(call)] for step, calls in steps.items()}


def _without_scans(steps: Calls) -> dict[str, list[Call]]:
    """The feed page serves the indexed feed alone: its Scan calls go."""
    return _map_calls(steps, lambda call: [] if call["operation"] == SCAN else [call])


def _strong(steps: Calls) -> dict[str, list[Call]]:
    """Eventually consistent reads on a base table cost twice as much strongly consistent; a
    GSI offers eventual consistency only, so its reads stay as they are."""

    def strong(call: Call) -> list[Call]:
        if call["rcu"] and not call["consistent"] and call["index"] is None:
            doubled = {target: units * 2 for target, units in call["by_target"].items()}
            return [{**call, "rcu": call["rcu"] * 2, "by_target": doubled, "consistent": True}]
        return [call]

    return _map_calls(steps, strong)


def _without_index(steps: Calls, table: str, index: str) -> dict[str, list[Call]]:
    target = f"{table}/{index}"

    def drop(call: Call) -> list[Call]:
        if call["index"] == index:
            return []
        if target in call["by_target"] and call["wcu"]:
            units = call["by_target"][target]
            rest = {t: u for t, u in call["by_target"].items() if t != target}
            return [{**call, "wcu": call["wcu"] - units, "by_target": rest}]
        return [call]

    return _map_calls(steps, drop)


def _keys_only_reads(steps: Calls, table: str, index: str) -> dict[str, list[Call]]:
    """A KEYS_ONLY index writes entries under 1 KB (one unit each, as now for items under
    1 KB); a read through it returns keys only, and the page fetches each item from the table
    (a BatchGetItem: half a unit per item of up to 4 KB, eventually consistent)."""

    def fetch(call: Call) -> list[Call]:
        if call["index"] != index or not call["returned"]:
            return [call]
        units = call["returned"] * 0.5
        fetched = {
            **call,
            "operation": "BatchGetItem",
            "index": None,
            "rcu": units,
            "wcu": 0.0,
            "by_target": {table: units},
            "source": "computed",
            "pattern": f"{call['pattern']} (items fetched from the table)",
        }
        return [call, fetched]

    return _map_calls(steps, fetch)


def _keys_only_storage(measurement: Mapping[str, Any], table: str, index: str) -> dict[str, float]:
    storage = _storage(measurement)
    for census in measurement["tables"]:
        for target in census["targets"]:
            if census["table"] == table and target["index"] == index:
                storage[table] -= target["bytes"] - target["key_bytes"]
    return storage


def _indexes(measurement: Mapping[str, Any]) -> Iterable[tuple[str, str]]:
    for census in measurement["tables"]:
        for target in census["targets"]:
            if target["index"]:
                yield target["index"], census["table"]


# -- documents ------------------------------------------------------------------------------


def cost_document(measurement: Mapping[str, Any], profile: TrafficProfile) -> dict[str, Any]:
    """What `manage.py cost --format json` prints and the page shows."""
    current = estimate(measurement, profile)
    return {
        "users": profile.users,
        "region": profile.region,
        "mode": profile.mode,
        "monthly_usd": round(current.monthly_usd, 2),
        "tables": [table.as_dict() for table in current.tables],
        "access_patterns": [pattern.as_dict() for pattern in current.patterns],
        "what_if": [
            {
                "name": what_if.name,
                "title": what_if.title,
                "monthly_usd": round(what_if.estimate.monthly_usd, 2),
                "difference_usd": round(what_if.estimate.monthly_usd - current.monthly_usd, 2),
            }
            for what_if in what_ifs(measurement, profile)
        ],
        "profile": profile.model_dump(),
        "prices": {
            **PRICES[profile.region].__dict__,
            "read_on": PRICES_READ_ON,
            "sources": list(PRICE_SOURCES),
        },
        "measured_at": measurement["measured_at"],
        "seeded_users": measurement["seeded_users"],
    }
