"""A small measurement, written the way `lens.measure` writes one, for the architect's desk."""

from __future__ import annotations

from typing import Any


def call(operation: str, table: str, *, rcu: float = 0, wcu: float = 0, **extra: Any) -> dict:
    targets = extra.pop("by_target", {table: rcu + wcu})
    return {
        "pattern": extra.pop("pattern", f"{operation} on {table}"),
        "function": extra.pop("function", f"{table}.service.{operation.lower()}"),
        "operation": operation,
        "table": table,
        "index": extra.pop("index", None),
        "source": "measured",
        "rcu": rcu,
        "wcu": wcu,
        "by_target": targets,
        "consistent": extra.pop("consistent", False),
        "scanned": extra.pop("scanned", None),
        "returned": extra.pop("returned", None),
        "limit": extra.pop("limit", 20),
        "keys": extra.pop("keys", []),
    }


def target(table: str, index: str | None, items: int, distinct: int, key: str) -> dict:
    return {
        "table": table,
        "index": index,
        "partition_key": key,
        "items": items,
        "bytes": items * 200,
        "key_bytes": items * 40,
        "billed_bytes": items * 300,
        "largest_item_bytes": 400,
        "distinct_partition_keys": distinct,
        "top_partition_keys": [["like", items // 2]],
    }


MEASUREMENT: dict[str, Any] = {
    "measured_at": "2026-12-07T00:00:00+00:00",
    "seeded_users": 10,
    "table_names": ["activities", "sessions"],
    "tables": [
        {
            "table": "activities",
            "complete": True,
            "targets": [
                target("activities", None, 1000, 200, "user_id"),
                target("activities", "TypeIndex", 1000, 4, "activity_type"),
            ],
        },
    ],
    "steps": {
        "home": [call("GetItem", "sessions", rcu=0.5)],
        "like": [
            call(
                "PutItem",
                "activities",
                wcu=2,
                by_target={"activities": 1, "activities/TypeIndex": 1},
                keys=[["activities", None, "u1"], ["activities", "TypeIndex", "like"]],
            ),
            call(
                "Query",
                "activities",
                rcu=0.5,
                index="TypeIndex",
                by_target={"activities/TypeIndex": 0.5},
                keys=[["activities", "TypeIndex", "like"]],
                returned=4,
            ),
        ],
        "feed": [
            call("Scan", "activities", rcu=16, scanned=1000, returned=10),
            call("Query", "activities", rcu=0.5, index="FeedIndex", returned=10),
        ],
    },
}
