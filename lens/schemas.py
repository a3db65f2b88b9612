"""The explorer's JSON: what `/api/v1/tables...` accepts and returns, as Pydantic models.

FastAPI documents them in the OpenAPI schema (`/docs`). Items travel as DynamoDB JSON (every
value typed, `{"S": "1"}`), exactly as DynamoDB returns them; `item_types[i]` and
`item_sizes[i]` describe `items[i]`.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StrictFloat, StrictInt, StrictStr

from shared.text import CleanLine

ScalarValue = Annotated[
    StrictStr | StrictInt | StrictFloat,
    Field(description="A key or attribute value: text, or a number for a number attribute."),
]
DynamoItem = dict[str, dict[str, Any]]


class IndexSummary(BaseModel):
    name: str
    kind: str = Field(description="global or local")
    partition_key: str
    sort_key: str | None
    projection: str
    item_count: int | None = Field(description="DescribeTable's figure; null when not reported.")


class TableSummary(BaseModel):
    name: str = Field(description="The DynamoDB table name (TABLE_PREFIX + base name).")
    base_name: str
    model: str = Field(description="The model class that creates the table.")
    models: list[str] = Field(description="Every model class whose items live in the table.")
    partition_key: str
    sort_key: str | None
    indexes: list[str]
    index_details: list[IndexSummary]
    ttl_attribute: str | None
    item_count: int | None = Field(description="DescribeTable's ItemCount.")
    size_bytes: int | None = Field(description="DescribeTable's TableSizeBytes.")
    status: str


class TablesResponse(BaseModel):
    tables: list[TableSummary]


class CollectionOut(BaseModel):
    partition_key: str = Field(description="The partition key value, as text.")
    items: list[DynamoItem] = Field(description="Its items on this page, by sort key.")
    item_types: list[str] = Field(description="The model class of each item.")
    item_sizes: list[int] = Field(description="The size of each item in bytes (AWS's rules).")
    continued: bool = Field(description="The collection began on an earlier page.")
    continues: bool = Field(description="More of its items are on the next page.")


class CapacityOut(BaseModel):
    computed_rcu: float = Field(description="Read units by DynamoDB's documented rules.")
    reported_rcu: float | None = Field(description="ConsumedCapacity as the engine reported it.")
    precision: str = Field(description="exact, about or at least.")
    notes: list[str]


class CollectionsResponse(BaseModel):
    table: str
    index: str | None
    partition_key_attribute: str
    sort_key_attribute: str | None
    read_with: str = Field(description="The DynamoDB operation that read this page.")
    collections: list[CollectionOut]
    index_item_count: int | None = Field(description="Items in the index (null for the table).")
    table_item_count: int | None
    next_cursor: str | None
    request: dict[str, Any]
    capacity: CapacityOut


class SortKeyCondition(BaseModel):
    model_config = ConfigDict(extra="forbid")

    op: CleanLine = Field(
        default="=",
        description="=, <, <=, >, >=, between or begins_with (strings and binary only).",
    )
    value: ScalarValue
    value2: ScalarValue | None = Field(default=None, description="The upper bound of between.")


class FilterCondition(BaseModel):
    model_config = ConfigDict(extra="forbid")

    attribute: CleanLine
    op: CleanLine = Field(
        default="=",
        description="=, <>, <, <=, >, >=, begins_with, contains, attribute_exists or "
        "attribute_not_exists.",
    )
    value: ScalarValue | bool | None = None


class OperationRequest(BaseModel):
    """One read against a table: the explorer never writes."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "operation": "Query",
                    "index": None,
                    "partition_key": "1",
                    "sort_key": {"op": "begins_with", "value": "2026-"},
                    "limit": 20,
                    "forward": False,
                }
            ]
        },
    )

    operation: CleanLine = Field(
        description="GetItem, Query or Scan. Write operations are refused."
    )
    index: CleanLine | None = Field(default=None, description="A secondary index (Query and Scan).")
    partition_key: ScalarValue | None = None
    sort_key: SortKeyCondition | None = None
    limit: int = Field(default=20, ge=1, le=1000, description="Limit (Query and Scan).")
    forward: bool = Field(default=True, description="ScanIndexForward (Query).")
    consistent_read: bool = Field(default=False, description="Strongly consistent (no GSI).")
    filter: FilterCondition | None = Field(default=None, description="Query and Scan only.")
    cursor: CleanLine | None = Field(
        default=None,
        description="The `next_cursor` of the previous page of the same query: the request "
        "then carries its LastEvaluatedKey as ExclusiveStartKey (Query and Scan).",
    )


class GeneratedCode(BaseModel):
    boto3: str = Field(description="Runs as is; leaves DynamoDB's answer in `response`.")
    pynamodb: str = Field(description="Uses the project's model class; leaves `items`.")


class OperationResponse(BaseModel):
    operation: str
    table: str
    index: str | None
    items: list[DynamoItem]
    item_types: list[str]
    item_sizes: list[int]
    count: int
    scanned_count: int
    last_evaluated_key: DynamoItem | None
    next_cursor: str | None = Field(
        description="Send it back as `cursor` with the same query for the next page; null on "
        "the last page."
    )
    capacity: CapacityOut
    latency_ms: float
    request: dict[str, Any] = Field(description="The request exactly as sent to DynamoDB.")
    code: GeneratedCode
