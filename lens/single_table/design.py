"""The single-table variant as /design draws it: its classes and access patterns through the same
`describe_table` as the app's tables, and one item collection as NoSQL Workbench's aggregate
view draws it (one partition key value, its items by sort key), built by the classes from the
lab's made-up site. The functions the patterns name are the lab's: they serve them there."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from lens.design import TableDesign, describe_table
from lens.labs.single_table import SingleTableOptions, single_items, site_of
from lens.single_table.models import (
    ITEM_TYPES,
    ActivityItem,
    LikeCounterItem,
    SessionItem,
    UserLikeItem,
    post_pk,
)
from shared.access_patterns import AccessPattern
from shared.i18n import N_

SINGLE_TABLE_PATTERNS: tuple[AccessPattern, ...] = (
    AccessPattern(
        name=N_("Post page: like count, the viewer's like, the comments"),
        model=LikeCounterItem,
        operation="Query",
        key='PK = "POST#<post_id>"',
        function="lens.labs.single_table.post_page_single",
    ),
    AccessPattern(
        name=N_("Activity of one post"),
        model=ActivityItem,
        operation="Query",
        key='GSI1PK = "POST#<post_id>" AND begins_with(GSI1SK, "ACT#")',
        index="GSI1",
        function="lens.labs.single_table.post_page_single",
    ),
    AccessPattern(
        name=N_("Latest activities of a user"),
        model=ActivityItem,
        operation="Query",
        key='PK = "USER#<user_id>" AND begins_with(SK, "ACT#")',
        function="lens.labs.single_table.user_activity_single",
    ),
    AccessPattern(
        name=N_("Likes of one user"),
        model=UserLikeItem,
        operation="Query",
        key='GSI1PK = "USER#<user_id>" AND begins_with(GSI1SK, "LIKE#")',
        index="GSI1",
        function="lens.labs.single_table.likes_of_user_single",
    ),
    AccessPattern(
        name=N_("Global feed, newest first"),
        model=ActivityItem,
        operation="Query",
        key='GSI2PK = "FEED#<UTC day>#<shard>"',
        index="GSI2",
        function="lens.labs.single_table.feed_single",
    ),
    AccessPattern(
        name=N_("Session of a request"),
        model=SessionItem,
        operation="GetItem",
        key='PK = "SESSION#<sha256>", SK = "SESSION"',
        function="lens.single_table.models.SessionItem",
    ),
)


def describe_single_table() -> TableDesign:
    """The variant as /design draws the app's tables, from its classes and its patterns."""
    return describe_table(list(ITEM_TYPES), SINGLE_TABLE_PATTERNS)


@dataclass(frozen=True)
class AggregateRow:
    sk: str
    item_type: str
    attributes: Sequence[tuple[str, str]]


def example_collection() -> tuple[str, list[AggregateRow]]:
    """One item collection as NoSQL Workbench's aggregate view draws it: one PK, its items by
    SK. Built by the classes from a small made-up post, so it shows the keys they write."""
    site = site_of(
        SingleTableOptions(users=4, posts=1, activities=24, repeats=1, explorer="no"),
        datetime(2025, 11, 25, tzinfo=UTC),
    )
    pk = post_pk(1)
    rows = []
    for raw in sorted(single_items(site), key=lambda item: item["SK"]["S"]):
        if raw["PK"]["S"] != pk:
            continue
        attributes = [
            (name, _scalar(value))
            for name, value in sorted(raw.items())
            if name not in ("PK", "SK", "type")
        ]
        rows.append(AggregateRow(raw["SK"]["S"], raw["type"]["S"], attributes))
    return pk, rows


def single_table_design() -> dict[str, Any]:
    """What /design's single-table section draws."""
    pk, rows = example_collection()
    return {
        "single_table": describe_single_table(),
        "single_table_patterns": SINGLE_TABLE_PATTERNS,
        "collection_pk": pk,
        "collection_rows": rows,
    }


def _scalar(value: dict[str, Any]) -> str:
    ((kind, inner),) = value.items()
    return str(inner).lower() if kind == "BOOL" else str(inner)
