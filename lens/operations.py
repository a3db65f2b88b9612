"""The operation builder: one GetItem, Query or Scan, checked against the design, run, explained.

The learner's choices (`lens.schemas.OperationRequest`) are checked against the model classes
before anything is sent: the key attributes and their types, which operators a key type allows,
what an index can do. A bad choice is a readable 4xx, never DynamoDB's error or a 500. The
request is then sent as built, through the app's bound client (the inspector records it), and
the answer comes back with its cost (computed by AWS's rules beside the reported figure), its
latency, the request itself and the same call as boto3 and PynamoDB code (`lens.codegen`).

Only reads: a write operation is refused by name. Writes belong to the app and the labs.
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from lens import capacity
from lens.attribute_values import AttributeValue, Item, parse_value
from lens.capacity import Units
from lens.design import IndexDesign, PatternDesign, TableDesign
from lens.explorer import ExplorerTable, ItemView, call_dynamodb, view_item
from lens.schemas import FilterCondition, OperationRequest, SortKeyCondition
from shared.cursors import decode_cursor, dynamodb_key_check, encode_cursor
from shared.errors import InvalidInput
from shared.i18n import N_
from shared.i18n import gettext as _

READ_OPERATIONS = ("GetItem", "Query", "Scan")
KEY_OPERATORS = ("=", "<", "<=", ">", ">=", "between", "begins_with")
FILTER_OPERATORS = (
    "=",
    "<>",
    "<",
    "<=",
    ">",
    ">=",
    "begins_with",
    "contains",
    "attribute_exists",
    "attribute_not_exists",
)
_COMPARISONS = ("=", "<>", "<", "<=", ">", ">=")
_NO_VALUE = ("attribute_exists", "attribute_not_exists")
_ORDERED_TYPES = ("S", "N", "B")
_SET_ELEMENT = {"SS": "S", "NS": "N", "BS": "B"}


@dataclass(frozen=True)
class KeyCondition:
    attribute: str
    op: str
    values: tuple[AttributeValue, ...]


@dataclass(frozen=True)
class FilterSpec:
    attribute: str
    op: str
    value: AttributeValue | None


@dataclass(frozen=True)
class Operation:
    """A checked request: everything DynamoDB needs, nothing it would refuse."""

    table: ExplorerTable
    name: str
    index: IndexDesign | None
    partition: KeyCondition | None
    sort: KeyCondition | None
    limit: int
    forward: bool
    consistent: bool
    filter: FilterSpec | None
    start_key: Item | None = None
    """ExclusiveStartKey: where the previous page stopped (its LastEvaluatedKey)."""


_CURSOR_KIND = "builder"
# What a page's request carries besides the query itself: a cursor stays valid when they change.
_PAGE_PARAMETERS = ("Limit", "ExclusiveStartKey", "ReturnConsumedCapacity")


def check(table: ExplorerTable, request: OperationRequest) -> Operation:
    """The request checked against the table's design, or InvalidInput saying what is wrong."""
    name = _operation_name(request.operation)
    index = table.index(request.index)
    if name == "GetItem" and index is not None:
        raise InvalidInput(_("GetItem reads the table by its primary key: it cannot use an index."))
    if request.consistent_read and index is not None and index.kind == "global":
        raise InvalidInput(
            _(
                "{index} is a global secondary index: it is eventually consistent only "
                "(DynamoDB refuses ConsistentRead on a GSI)."
            ).format(index=index.name)
        )
    pk_name, sk_name = table.keys_of(index)
    partition = sort = None
    if name in ("GetItem", "Query"):
        partition = _partition(table, pk_name, request.partition_key, name)
        sort = _sort(table, sk_name, request.sort_key, name)
    elif request.partition_key is not None or request.sort_key is not None:
        raise InvalidInput(_("A Scan takes no key condition: use a filter, or a Query."))
    if name == "GetItem" and request.filter is not None:
        raise InvalidInput(_("GetItem takes no filter: it reads one item by its key."))
    spec = _filter(table, request.filter, (pk_name, sk_name) if name == "Query" else ())
    operation = Operation(
        table=table,
        name=name,
        index=index,
        partition=partition,
        sort=sort,
        limit=request.limit,
        forward=request.forward,
        consistent=request.consistent_read,
        filter=spec,
    )
    if not request.cursor:
        return operation
    if name == "GetItem":
        raise InvalidInput(_("GetItem reads one item: it has no next page to start from."))
    start = decode_cursor(
        kind=_CURSOR_KIND,
        bound_to=query_fingerprint(dynamodb_request(operation)),
        cursor=request.cursor,
        is_valid=dynamodb_key_check(table.position_keys(index)),
    )
    return replace(operation, start_key=start)


def query_fingerprint(request: Mapping[str, Any]) -> str:
    """The query a page's request belongs to: the request without what only says which page
    and how long. A cursor is signed with it, so it opens the next page of this very query only
    (a LastEvaluatedKey of alice's partition cannot start a Query of bob's)."""
    query = {name: value for name, value in request.items() if name not in _PAGE_PARAMETERS}
    return hashlib.sha256(json.dumps(query, sort_keys=True).encode()).hexdigest()


def _operation_name(operation: str) -> str:
    for name in READ_OPERATIONS:
        if operation.lower() == name.lower():
            return name
    if operation in capacity.WRITE_OPERATIONS:
        raise InvalidInput(
            _(
                "{operation} writes. The explorer only reads (GetItem, Query, Scan): writes "
                "stay in the app's pages and in the labs."
            ).format(operation=operation)
        )
    raise InvalidInput(
        _("Unknown operation {operation!r}: choose GetItem, Query or Scan.").format(
            operation=operation
        )
    )


def _partition(table: ExplorerTable, pk_name: str, value: Any, operation: str) -> KeyCondition:
    if value is None or value == "":
        raise InvalidInput(
            _(
                "A {operation} needs the partition key ({pk_name}): it names the one item "
                "collection DynamoDB reads. To read without it, use a Scan."
            ).format(operation=operation, pk_name=pk_name)
        )
    key_type = table.attribute_type(pk_name) or "S"
    return KeyCondition(pk_name, "=", (parse_value(value, key_type, pk_name),))


def _sort(
    table: ExplorerTable, sk_name: str | None, condition: SortKeyCondition | None, operation: str
) -> KeyCondition | None:
    if operation == "GetItem" and sk_name is not None and condition is None:
        raise InvalidInput(
            _("GetItem needs the whole primary key: give the sort key ({sk_name}).").format(
                sk_name=sk_name
            )
        )
    if condition is None:
        return None
    if sk_name is None:
        raise InvalidInput(_("This table (or index) has no sort key: leave the sort key out."))
    op = _operator(condition.op, KEY_OPERATORS, N_("key condition"))
    if operation == "GetItem" and op != "=":
        raise InvalidInput(_("GetItem reads one item: the sort key must be equal (=) to a value."))
    key_type = table.attribute_type(sk_name) or "S"
    if op == "begins_with" and key_type == "N":
        raise InvalidInput(
            _(
                "begins_with needs a string or binary sort key; {sk_name} is a number. Use "
                "between, <, <=, > or >= on numbers."
            ).format(sk_name=sk_name)
        )
    values = [parse_value(condition.value, key_type, sk_name)]
    if op == "between":
        if condition.value2 is None:
            raise InvalidInput(_("between needs two values: value and value2 (the upper bound)."))
        values.append(parse_value(condition.value2, key_type, sk_name))
    elif condition.value2 is not None:
        raise InvalidInput(_("value2 is only for between, not for {op}.").format(op=op))
    return KeyCondition(sk_name, op, tuple(values))


def _filter(
    table: ExplorerTable, condition: FilterCondition | None, key_names: tuple[str | None, ...]
) -> FilterSpec | None:
    if condition is None:
        return None
    name = condition.attribute.strip()
    kind = table.attribute_type(name)
    if kind is None:
        raise InvalidInput(
            _("No item type of {table} declares an attribute {name!r}.").format(
                table=table.name, name=name
            )
        )
    if name in key_names:
        raise InvalidInput(
            _(
                "{name} is a key of what this Query reads: put it in the key condition, not "
                "in the filter (DynamoDB refuses key attributes in a Query's filter)."
            ).format(name=name)
        )
    op = _operator(condition.op, FILTER_OPERATORS, N_("filter"))
    if op in _NO_VALUE:
        return FilterSpec(name, op, None)
    if condition.value is None or condition.value == "":
        raise InvalidInput(_("The filter {name} {op} needs a value.").format(name=name, op=op))
    return FilterSpec(name, op, _filter_value(name, kind, op, condition.value))


def _operator(given: str, allowed: tuple[str, ...], kind: str) -> str:
    """The operator as DynamoDB spells it (`BEGINS_WITH` and `begins_with` are both fine)."""
    for op in allowed:
        if given.strip().lower() == op:
            return op
    raise InvalidInput(
        _("{given!r} is not a {kind} operator: use one of {choices}.").format(
            given=given, kind=_(kind), choices=", ".join(allowed)
        )
    )


def _filter_value(name: str, kind: str, op: str, value: Any) -> AttributeValue:
    text = str(value).lower() if isinstance(value, bool) else value
    if op == "contains":
        if kind in _SET_ELEMENT:
            return parse_value(text, _SET_ELEMENT[kind], name)
        if kind in ("S", "L"):
            return parse_value(text, "S", name)
        raise InvalidInput(
            _("contains works on strings, sets and lists; {name} is of type {kind}.").format(
                name=name, kind=kind
            )
        )
    if op == "begins_with" and kind not in ("S", "B"):
        raise InvalidInput(
            _("begins_with works on strings; {name} is of type {kind}.").format(
                name=name, kind=kind
            )
        )
    if op in _COMPARISONS[2:] and kind not in _ORDERED_TYPES:
        raise InvalidInput(
            _("{op} compares strings, numbers or binary; {name} is of type {kind}.").format(
                op=op, name=name, kind=kind
            )
        )
    if kind not in (*_ORDERED_TYPES, "BOOL"):
        raise InvalidInput(
            _("{name} is of type {kind}: filter it with contains or exists.").format(
                name=name, kind=kind
            )
        )
    return parse_value(text, kind, name)


# -- the DynamoDB request --------------------------------------------------------------------


def dynamodb_request(operation: Operation) -> dict[str, Any]:
    """The request exactly as it will be sent (and shown, and turned into code)."""
    params: dict[str, Any] = {"TableName": operation.table.name}
    if operation.name == "GetItem":
        assert operation.partition is not None
        key = {operation.partition.attribute: operation.partition.values[0]}
        if operation.sort is not None:
            key[operation.sort.attribute] = operation.sort.values[0]
        params["Key"] = key
        if operation.consistent:
            params["ConsistentRead"] = True
        params["ReturnConsumedCapacity"] = "INDEXES"
        return params
    if operation.index is not None:
        params["IndexName"] = operation.index.name
    names: dict[str, str] = {}
    values: dict[str, AttributeValue] = {}
    if operation.partition is not None:
        params["KeyConditionExpression"] = _key_expression(operation, names, values)
    if operation.filter is not None:
        params["FilterExpression"] = _filter_expression(operation.filter, names, values)
    if names:
        params["ExpressionAttributeNames"] = names
    if values:
        params["ExpressionAttributeValues"] = values
    if operation.name == "Query" and not operation.forward:
        params["ScanIndexForward"] = False
    params["Limit"] = operation.limit
    if operation.consistent:
        params["ConsistentRead"] = True
    if operation.start_key is not None:
        params["ExclusiveStartKey"] = operation.start_key
    params["ReturnConsumedCapacity"] = "INDEXES"
    return params


def _key_expression(
    operation: Operation, names: dict[str, str], values: dict[str, AttributeValue]
) -> str:
    """Placeholders for every name: `timestamp` and many other words are reserved."""
    assert operation.partition is not None
    names["#pk"] = operation.partition.attribute
    values[":pk"] = operation.partition.values[0]
    expression = "#pk = :pk"
    sort = operation.sort
    if sort is None:
        return expression
    names["#sk"] = sort.attribute
    values[":sk"] = sort.values[0]
    if sort.op == "between":
        values[":sk2"] = sort.values[1]
        return f"{expression} AND #sk BETWEEN :sk AND :sk2"
    if sort.op == "begins_with":
        return f"{expression} AND begins_with(#sk, :sk)"
    return f"{expression} AND #sk {sort.op} :sk"


def _filter_expression(
    spec: FilterSpec, names: dict[str, str], values: dict[str, AttributeValue]
) -> str:
    names["#f"] = spec.attribute
    if spec.value is None:
        return f"{spec.op}(#f)"
    values[":f"] = spec.value
    if spec.op in ("begins_with", "contains"):
        return f"{spec.op}(#f, :f)"
    return f"#f {spec.op} :f"


# -- running it ------------------------------------------------------------------------------


@dataclass(frozen=True)
class OperationResult:
    operation: Operation
    request: dict[str, Any]
    items: list[ItemView]
    count: int
    scanned_count: int
    last_evaluated_key: Item | None
    next_cursor: str | None
    """The signed LastEvaluatedKey: the next page of the same query starts after it."""
    computed: Units
    reported: Units | None
    latency_ms: float


_METHODS = {"GetItem": "get_item", "Query": "query", "Scan": "scan"}


def run(operation: Operation) -> OperationResult:
    """Send the request once and describe the answer."""
    request = dynamodb_request(operation)
    started = time.perf_counter()
    response = call_dynamodb(_METHODS[operation.name], request)
    latency_ms = (time.perf_counter() - started) * 1000
    if operation.name == "GetItem":
        raw = [response["Item"]] if response.get("Item") else []
        count = scanned = len(raw)
    else:
        raw = list(response.get("Items", []))
        count = int(response.get("Count", len(raw)))
        scanned = int(response.get("ScannedCount", count))
    table = operation.table
    return OperationResult(
        operation=operation,
        request=request,
        items=[view_item(table, item, operation.index) for item in raw],
        count=count,
        scanned_count=scanned,
        last_evaluated_key=response.get("LastEvaluatedKey"),
        next_cursor=encode_cursor(
            kind=_CURSOR_KIND,
            bound_to=query_fingerprint(request),
            position=response.get("LastEvaluatedKey"),
        ),
        computed=capacity.computed(operation.name, request, response, schemas=table.schema_lookup),
        reported=capacity.reported(operation.name, response),
        latency_ms=latency_ms,
    )


# -- pre-filled from an access pattern ---------------------------------------------------------

_LIMIT = re.compile(r"\bLimit\s+(\d+)")
_SORT_OPERATORS = r"(<=|>=|=|<|>|BEGINS_WITH|begins_with)"


def prefill(
    table: TableDesign, pattern: PatternDesign, examples: Mapping[str, str | None]
) -> dict[str, str]:
    """Builder fields for an access pattern the builder runs (`builder_runs`), read from its
    declared key condition.

    The declaration is prose for people (`post_id = :p, ScanIndexForward=false, Limit N+1`), so
    only what it states plainly is taken: the operation, the index, a quoted sort-key literal
    (`sk BEGINS_WITH "USER#"`; `"USER#<viewer>"` becomes begins_with "USER#"), the direction
    and a numeric limit. The partition key value comes from the app's example values when one
    is registered under the key's name (`post_id`); the page fills in the rest.
    """
    pk, sk = (table.hash_key, table.range_key)
    if pattern.index:
        index = next((i for i in table.indexes if i.name == pattern.index), None)
        if index is not None:
            pk, sk = index.hash_key, index.range_key
    fields = {"op": pattern.operation.strip(), "on": pattern.index or ""}
    if fields["op"] != "Scan":
        value = examples.get(pk) or _quoted_literal(pattern.key, pk)
        if value:
            fields["pk"] = value
        if sk is not None:
            fields.update(_sort_prefill(pattern.key, sk))
    if "ScanIndexForward=false" in pattern.key.replace(" ", ""):
        fields["order"] = "backward"
    limit = _LIMIT.search(pattern.key)
    fields["limit"] = limit.group(1) if limit else "20"
    return fields


def builder_runs(pattern: PatternDesign) -> bool:
    """Whether the builder can run the pattern itself: one GetItem, Query or Scan. A write, a
    batch or a transaction gets no builder link: the read the builder would run instead is not
    the pattern, and would only look like it."""
    return pattern.operation.strip() in READ_OPERATIONS


def _quoted_literal(key_text: str, attribute: str) -> str | None:
    found = re.search(rf'\b{re.escape(attribute)}\s*=\s*"([^"<]+)"', key_text)
    return found.group(1) if found else None


def _sort_prefill(key_text: str, sk: str) -> dict[str, str]:
    found = re.search(rf'\b{re.escape(sk)}\s*{_SORT_OPERATORS}\s*"([^"]*)"', key_text)
    if found is None:
        found = re.search(rf'(begins_with)\(\s*{re.escape(sk)}\s*,\s*"([^"]*)"\s*\)', key_text)
    if found is None:
        return {}
    op, literal = found.group(1).lower(), found.group(2)
    if "<" in literal:
        prefix = literal.split("<", 1)[0]
        if not prefix or op not in ("=", "begins_with"):
            return {}
        op, literal = "begins_with", prefix
    return {"sk_op": op, "sk": literal}
