"""The explorer: the app's tables as DynamoDB holds them, read-only (the /tables pages).

Everything it knows about a table comes from the model classes, through the design's data model
(`lens.design`): keys, attribute types, indexes and the item types that share a table. What is
*in* a table comes from DynamoDB itself: DescribeTable for the figures, Scan for the item
collections (a tool for looking, never an access pattern: it reads the table from its start),
and Query for one collection. Every call goes through the app's bound client, so the operation
inspector shows what each page of the explorer costs, like any other page.

An item collection is every item with one partition key value: DynamoDB stores them together,
sorted by the sort key, and a Scan returns them one after another. A page of the table view is
one Scan request; its items are grouped into collections, and a collection cut by the page's
end is marked as continuing on the next page (a signed cursor holds where to go on).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from botocore.exceptions import ClientError
from pynamodb.models import Model

from lens import capacity
from lens.attribute_values import (
    Item,
    display_value,
    parse_value,
    scalar_text,
    sort_value,
)
from lens.capacity import Units
from lens.design import IndexDesign, ItemTypeDesign, TableDesign, describe_table, item_type_of
from lens.inspector import schema_of
from lens.labs.single_table import explorer_table_name
from lens.single_table.design import describe_single_table
from lens.single_table.models import ITEM_TYPES
from shared.capacity_rules import item_size
from shared.cursors import decode_cursor, dynamodb_key_check, encode_cursor
from shared.dynamo import bound_client, models_by_table
from shared.errors import InvalidInput, NotFound
from shared.i18n import gettext as _

PAGE_ITEMS = 100
"""Items one page of the table view shows at most: one Scan request, Limit one more."""
PAGE_PARTITIONS = 20
"""At most this many collections on one page; the page ends before the next one starts."""
PARTITION_PAGE_ITEMS = 50
"""Items one page of a single collection reads: one Query request with this Limit."""
AUTO_COUNT_MAX_ITEMS = 5_000
"""Up to this many items in the table, an index the engine does not count is counted by Scan
when its page opens; above, only when the learner asks (the count reads the whole index)."""
_SCAN_CURSOR = "explorer-scan"
_QUERY_CURSOR = "explorer-query"


# -- the tables, from the model classes ----------------------------------------------------------


@dataclass(frozen=True)
class ExplorerTable:
    """One DynamoDB table of the app: its design and the model classes of its items."""

    design: TableDesign
    models: tuple[type[Model], ...]

    @property
    def name(self) -> str:
        return self.design.table_name

    def index(self, name: str | None) -> IndexDesign | None:
        """The named secondary index, None for the table itself; NotFound for a name the
        classes do not declare."""
        if not name:
            return None
        for index in self.design.indexes:
            if index.name == name:
                return index
        known = ", ".join(i.name for i in self.design.indexes) or "none"
        raise NotFound(
            _("Table {table} has no index {index!r}. Its indexes: {known}.").format(
                table=self.name, index=name, known=known
            )
        )

    def keys_of(self, index: IndexDesign | None) -> tuple[str, str | None]:
        """(partition key, sort key) of the table or of one of its indexes."""
        if index is None:
            return self.design.hash_key, self.design.range_key
        return index.hash_key, index.range_key

    def position_keys(self, index: IndexDesign | None) -> tuple[str, ...]:
        """The attributes of a LastEvaluatedKey: the table's key, plus the index's on an index."""
        names = [self.design.hash_key, self.design.range_key]
        if index is not None:
            names += [index.hash_key, index.range_key]
        return tuple(dict.fromkeys(name for name in names if name))

    def attribute_type(self, name: str) -> str | None:
        """The DynamoDB type (S, N, B, BOOL, SS, M ...) the classes declare for an attribute."""
        for attribute in self.design.attributes:
            if attribute.name == name:
                return attribute.dynamodb_type
        return None

    def model(self, item_type: ItemTypeDesign) -> type[Model]:
        return next(m for m in self.models if f"{m.__module__}.{m.__qualname__}" == item_type.model)

    @property
    def owner(self) -> type[Model]:
        """The first registered class: it creates the table and declares every index."""
        return self.models[0]

    def schema_lookup(self, table_name: str) -> capacity.TableSchema | None:
        return schema_of(self.models) if table_name == self.name else None


def explorer_tables() -> list[ExplorerTable]:
    """Every table of the app, in registration order, from the registered model classes."""
    return [
        ExplorerTable(design=describe_table(models), models=tuple(models))
        for models in models_by_table().values()
    ]


def find_table(name: str) -> ExplorerTable:
    """A table by its DynamoDB name (`lab-activities`) or by its base name (`activities`); also
    the single-table variant's copy, which the single-table lab leaves when asked to."""
    tables = explorer_tables()
    for table in (*tables, single_table_variant()):
        if name in (table.name, table.design.base_name):
            return table
    known = ", ".join(table.name for table in tables)
    raise NotFound(
        _("This app has no DynamoDB table {name!r}. Its tables: {known}.").format(
            name=name, known=known
        )
    )


def single_table_variant() -> ExplorerTable:
    """The single-table lab's copy (`lens.single_table`): not one of the app's tables, so it is
    not listed; it opens by name once a run of the lab has left it (`--explorer copy`)."""
    design = dataclasses.replace(describe_single_table(), table_name=explorer_table_name())
    return ExplorerTable(design=design, models=ITEM_TYPES)


# -- what DynamoDB says about a table ------------------------------------------------------------


@dataclass(frozen=True)
class LiveFigures:
    """DescribeTable's figures. AWS refreshes them about every six hours; local engines count
    live. None where the engine does not report a figure."""

    status: str
    item_count: int | None = None
    size_bytes: int | None = None
    index_item_counts: Mapping[str, int | None] = field(default_factory=dict)


def live_figures(table: ExplorerTable) -> LiveFigures:
    try:
        described = call_dynamodb("describe_table", {"TableName": table.name})["Table"]
    except NotFound:
        return LiveFigures(status="not created (run `manage.py create-tables`)")
    indexes = described.get("GlobalSecondaryIndexes", []) + described.get(
        "LocalSecondaryIndexes", []
    )
    return LiveFigures(
        status=str(described.get("TableStatus", "ACTIVE")),
        item_count=described.get("ItemCount"),
        size_bytes=described.get("TableSizeBytes"),
        index_item_counts={index["IndexName"]: index.get("ItemCount") for index in indexes},
    )


def call_dynamodb(method: str, params: Mapping[str, Any]) -> dict[str, Any]:
    """One call through the app's bound client, with DynamoDB's refusals made readable."""
    try:
        return getattr(bound_client(), method)(**params)  # type: ignore[no-any-return]
    except ClientError as error:
        code = error.response.get("Error", {}).get("Code", "")
        message = error.response.get("Error", {}).get("Message", str(error))
        if code == "ResourceNotFoundException":
            raise NotFound(
                _("DynamoDB has no table {table}: {message}").format(
                    table=params.get("TableName"), message=message
                )
            ) from None
        if code == "ValidationException":
            raise InvalidInput(
                _("DynamoDB refused the request: {message}").format(message=message)
            ) from None
        raise


# -- items and collections --------------------------------------------------------------------


@dataclass(frozen=True)
class ShownAttribute:
    name: str
    value: str
    role: str
    """"pk" / "sk" for the key being viewed, "key" for the table's key seen through an index,
    "ttl" for the TTL attribute, "" otherwise."""


@dataclass(frozen=True)
class ItemView:
    raw: Item
    partition_key: str
    sort_key: str | None
    size_bytes: int
    item_type: ItemTypeDesign
    exact_type: bool
    expired: bool
    attributes: tuple[ShownAttribute, ...]

    @property
    def type_name(self) -> str:
        return self.item_type.model.rsplit(".", 1)[-1]


def view_item(
    table: ExplorerTable, item: Item, index: IndexDesign | None, now: datetime | None = None
) -> ItemView:
    """An item as the explorer shows it: keys first, its size and its type."""
    pk, sk = table.keys_of(index)
    item_type, exact = item_type_of(table.design, item)
    ttl = table.design.ttl_attribute
    roles = {table.design.hash_key: "key", table.design.range_key: "key", ttl: "ttl"}
    roles.update({pk: "pk", sk: "sk"})
    order = {pk: 0, sk: 1, table.design.hash_key: 2, table.design.range_key: 3}
    names = sorted(item, key=lambda name: (order.get(name, 4), name))
    return ItemView(
        raw=item,
        partition_key=scalar_text(item[pk]) if pk in item else "",
        sort_key=scalar_text(item[sk]) if sk and sk in item else None,
        size_bytes=item_size(item),
        item_type=item_type,
        exact_type=exact,
        expired=_expired(item, ttl, now or datetime.now(UTC)),
        attributes=tuple(
            ShownAttribute(name, display_value(item[name]), roles.get(name) or "") for name in names
        ),
    )


def _expired(item: Item, ttl: str | None, now: datetime) -> bool:
    value = item.get(ttl) if ttl else None
    if not value or "N" not in value:
        return False
    try:
        return Decimal(value["N"]) <= Decimal(int(now.timestamp()))
    except InvalidOperation:
        return False


@dataclass(frozen=True)
class Collection:
    """The items of one partition key value that a page read, sorted by sort key."""

    partition_key: str
    items: tuple[ItemView, ...]
    continued: bool = False
    """It began on an earlier page."""
    continues: bool = False
    """The page ended inside it: more of its items are on the next page."""


def group_collections(
    table: ExplorerTable, items: Sequence[Item], index: IndexDesign | None
) -> list[Collection]:
    """Items grouped by partition key (in the order read), each group sorted by sort key."""
    pk, sk = table.keys_of(index)
    groups: dict[str, list[Item]] = {}
    for item in items:
        groups.setdefault(scalar_text(item[pk]), []).append(item)
    tie = table.position_keys(None)
    return [
        Collection(
            partition_key=key,
            items=tuple(
                view_item(table, item, index)
                for item in sorted(
                    members,
                    key=lambda i: (
                        [sort_value(i.get(sk) if sk else None)]
                        + [sort_value(i.get(name)) for name in tie]
                    ),
                )
            ),
        )
        for key, members in groups.items()
    ]


@dataclass(frozen=True)
class IndexCoverage:
    """How many of the table's items an index holds, and which attributes decide it."""

    index_items: int | None
    table_items: int | None
    carried: tuple[str, ...]
    counted_by: str | None
    """How the index was counted; None when it was not (a large table, not asked)."""

    @property
    def sparse(self) -> bool:
        """Fewer items in the index than in the table: some items lack its key attributes."""
        counts = (self.index_items, self.table_items)
        return None not in counts and self.index_items < self.table_items  # type: ignore[operator]


@dataclass(frozen=True)
class CollectionsPage:
    table: ExplorerTable
    index: IndexDesign | None
    collections: list[Collection]
    request: dict[str, Any]
    count: int
    scanned_count: int
    computed: Units
    reported: Units | None
    next_cursor: str | None
    coverage: IndexCoverage | None = None
    table_items: int | None = None


def collections_page(
    table: ExplorerTable,
    index_name: str | None = None,
    cursor: str | None = None,
    *,
    count: bool = False,
) -> CollectionsPage:
    """One page of the table (or of one of its indexes) as item collections, read with Scan."""
    index = table.index(index_name)
    bound = f"{table.name}|{index.name if index else ''}"
    state = decode_cursor(
        kind=_SCAN_CURSOR, bound_to=bound, cursor=cursor, is_valid=_scan_state_check(table, index)
    )
    params: dict[str, Any] = {
        "TableName": table.name,
        "Limit": PAGE_ITEMS + 1,
        "ReturnConsumedCapacity": "INDEXES",
    }
    if index is not None:
        params["IndexName"] = index.name
    if state is not None:
        params["ExclusiveStartKey"] = state["key"]
    response = call_dynamodb("scan", params)
    items, next_key, last_continues = _cut_page(table, index, response)
    counts = _counts(table, index, state, count)
    collections = group_collections(table, items, index)
    collections = _mark_edges(collections, table, index, state, last_continues)
    next_state = None if next_key is None else {"key": next_key, **counts}
    return CollectionsPage(
        table=table,
        index=index,
        collections=collections,
        request=params,
        count=int(response.get("Count", 0)),
        scanned_count=int(response.get("ScannedCount", 0)),
        computed=capacity.computed("Scan", params, response, schemas=table.schema_lookup),
        reported=capacity.reported("Scan", response),
        next_cursor=encode_cursor(kind=_SCAN_CURSOR, bound_to=bound, position=next_state),
        coverage=_coverage(table, index, counts) if index is not None else None,
        table_items=counts["table_items"],
    )


def _cut_page(
    table: ExplorerTable, index: IndexDesign | None, response: Mapping[str, Any]
) -> tuple[list[Item], dict[str, Any] | None, bool]:
    """The items to show, where the next page starts, and whether the last collection goes on.

    The Scan reads one item more than a page shows: that item only tells whether the last
    collection continues. After PAGE_PARTITIONS collections the page ends at a partition
    boundary. The next page starts after the last item shown (the key of any item is a valid
    ExclusiveStartKey) and reads again what was cut."""
    read: list[Item] = list(response.get("Items", []))
    pk = table.keys_of(index)[0]
    shown = _first_partitions(read[:PAGE_ITEMS], pk)
    last_evaluated = response.get("LastEvaluatedKey")
    if len(shown) == len(read):
        goes_on = bool(shown) and last_evaluated is not None
        return shown, last_evaluated, goes_on and _same(last_evaluated, shown[-1], pk)
    last = shown[-1]
    next_key = {name: last[name] for name in table.position_keys(index)}
    return shown, next_key, _same(read[len(shown)], last, pk)


def _first_partitions(items: list[Item], pk: str) -> list[Item]:
    seen: set[str] = set()
    for position, item in enumerate(items):
        seen.add(scalar_text(item[pk]))
        if len(seen) > PAGE_PARTITIONS:
            return items[:position]
    return items


def _same(one: Mapping[str, Any] | None, other: Mapping[str, Any], pk: str) -> bool:
    return one is not None and scalar_text(one[pk]) == scalar_text(other[pk])


def _mark_edges(
    collections: list[Collection],
    table: ExplorerTable,
    index: IndexDesign | None,
    state: Mapping[str, Any] | None,
    last_continues: bool,
) -> list[Collection]:
    if not collections:
        return collections
    pk = table.keys_of(index)[0]
    first = collections[0]
    if state is not None and scalar_text(state["key"][pk]) == first.partition_key:
        collections[0] = Collection(first.partition_key, first.items, continued=True)
    if last_continues:
        last = collections[-1]
        collections[-1] = Collection(
            last.partition_key, last.items, continued=last.continued, continues=True
        )
    return collections


_STATE_KEYS = {"key", "index_items", "table_items", "counted_by"}
COUNTED_BY_DESCRIBE = "DescribeTable"
COUNTED_BY_SCAN = "Scan (Select=COUNT)"


def _scan_state_check(table: ExplorerTable, index: IndexDesign | None) -> Any:
    key_check = dynamodb_key_check(table.position_keys(index))

    def is_valid(state: Any) -> bool:
        if not isinstance(state, dict) or set(state) != _STATE_KEYS:
            return False
        counts = (state["index_items"], state["table_items"])
        return (
            key_check(state["key"])
            and all(count is None or type(count) is int for count in counts)
            and state["counted_by"] in (None, COUNTED_BY_DESCRIBE, COUNTED_BY_SCAN)
        )

    return is_valid


def _counts(
    table: ExplorerTable,
    index: IndexDesign | None,
    state: Mapping[str, Any] | None,
    count: bool,
) -> dict[str, Any]:
    """The table's (and the index's) item count: taken on the first page, carried by the
    cursor afterwards so that walking the pages does not count again.

    DescribeTable gives both on AWS. Where it has no index count (the local engine), the index
    is counted with a Scan, which reads all of it: by itself only for a small table, else when
    asked (`count`)."""
    if state is not None:
        return {name: state[name] for name in _STATE_KEYS - {"key"}}
    live = live_figures(table)
    index_items, counted_by = None, None
    if index is not None:
        index_items, counted_by = live.index_item_counts.get(index.name), COUNTED_BY_DESCRIBE
        small = live.item_count is not None and live.item_count <= AUTO_COUNT_MAX_ITEMS
        if index_items is None and (count or small):
            index_items, counted_by = count_index_items(table, index), COUNTED_BY_SCAN
        elif index_items is None:
            counted_by = None
    return {"index_items": index_items, "table_items": live.item_count, "counted_by": counted_by}


def count_index_items(table: ExplorerTable, index: IndexDesign) -> int:
    """Items in an index, counted with Scan Select=COUNT: a COUNT still reads (and pays for)
    every item, 1 MB per request. Only for engines whose DescribeTable has no index count."""
    params: dict[str, Any] = {
        "TableName": table.name,
        "IndexName": index.name,
        "Select": "COUNT",
        "ReturnConsumedCapacity": "INDEXES",
    }
    total = 0
    while True:
        response = call_dynamodb("scan", params)
        total += int(response.get("Count", 0))
        if "LastEvaluatedKey" not in response:
            return total
        params["ExclusiveStartKey"] = response["LastEvaluatedKey"]


def _coverage(table: ExplorerTable, index: IndexDesign, counts: Mapping[str, Any]) -> IndexCoverage:
    """An item is in an index only when it carries the index's key attributes; those that are
    not also the table's key (always present) make the index sparse."""
    table_keys = {table.design.hash_key, table.design.range_key}
    carried = tuple(
        name for name in (index.hash_key, index.range_key) if name and name not in table_keys
    )
    return IndexCoverage(
        index_items=counts["index_items"],
        table_items=counts["table_items"],
        carried=carried,
        counted_by=counts["counted_by"],
    )


# -- one collection, with a Query ---------------------------------------------------------------


@dataclass(frozen=True)
class PartitionPage:
    table: ExplorerTable
    index: IndexDesign | None
    collection: Collection
    key_attribute: str
    request: dict[str, Any]
    computed: Units
    reported: Units | None
    next_cursor: str | None


def partition_page(
    table: ExplorerTable,
    partition_key: str,
    index_name: str | None = None,
    cursor: str | None = None,
) -> PartitionPage:
    """Every item of one partition key value, in sort-key order, read with a Query."""
    index = table.index(index_name)
    pk = table.keys_of(index)[0]
    key_type = table.attribute_type(pk) or "S"
    value = parse_value(partition_key, key_type, pk)
    bound = f"{table.name}|{index.name if index else ''}|{scalar_text(value)}"
    start = decode_cursor(
        kind=_QUERY_CURSOR,
        bound_to=bound,
        cursor=cursor,
        is_valid=dynamodb_key_check(table.position_keys(index)),
    )
    params: dict[str, Any] = {
        "TableName": table.name,
        "KeyConditionExpression": "#pk = :pk",
        "ExpressionAttributeNames": {"#pk": pk},
        "ExpressionAttributeValues": {":pk": value},
        "Limit": PARTITION_PAGE_ITEMS,
        "ReturnConsumedCapacity": "INDEXES",
    }
    if index is not None:
        params["IndexName"] = index.name
    if start is not None:
        params["ExclusiveStartKey"] = start
    response = call_dynamodb("query", params)
    items = [view_item(table, item, index) for item in response.get("Items", [])]
    next_key = response.get("LastEvaluatedKey")
    return PartitionPage(
        table=table,
        index=index,
        collection=Collection(
            scalar_text(value), tuple(items), continued=start is not None, continues=bool(next_key)
        ),
        key_attribute=pk,
        request=params,
        computed=capacity.computed("Query", params, response, schemas=table.schema_lookup),
        reported=capacity.reported("Query", response),
        next_cursor=encode_cursor(kind=_QUERY_CURSOR, bound_to=bound, position=next_key),
    )


def pynamodb_object(table: ExplorerTable, item: ItemView) -> str:
    """The item as its model class sees it: `Activity(user_id='1', ...)`, Python values."""
    model = table.model(item.item_type)
    instance = model.from_raw_data(item.raw)
    lines = [f"{model.__name__}("]
    for name, attribute in model.get_attributes().items():
        value = getattr(instance, name, None)
        if value is None and (attribute.attr_name or name) not in item.raw:
            continue
        lines.append(f"    {name}={value!r},")
    lines.append(")")
    return "\n".join(lines)
