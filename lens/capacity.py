"""Capacity units computed from DynamoDB's documented rules, beside what the engine reports.

Why compute them at all: stock moto reports placeholders (1.0 per Query or Scan page whatever
was read, 0.5 for any UpdateItem, nothing for transactions), the computed figure is there when
nothing is reported (a failed condition), and it explains where AWS's figure comes from. The
learner reads when and why the two differ on /design#reported-and-computed.

The rules (item sizes, 4 KB read and 1 KB write units, how Query, Scan and batches round)
live in the kernel, `shared/capacity_rules.py`, which the engine uses too. This module applies
them to whole calls: a write that replaces or updates an item is sized by the larger of the old
and the new item, and every secondary index whose key the item carries costs another write of
the index entry (the table key, the index key and the projected attributes); changing an index
key costs two (the old entry is deleted, the new one written). In a transaction the table write
is doubled (every item is written twice, to prepare and to commit the transaction). Two
transaction rules AWS's guide leaves open follow measurements against real DynamoDB published by
others: a ConditionCheck is billed as a transactional write of its item, and the index writes of
a transaction are billed once (the guide only says that changes reach the indexes after the
transaction).

What a client cannot know, and how the result says so (`Precision`)
* The old item of a PutItem, UpdateItem or DeleteItem is only known with `ReturnValues=ALL_OLD`;
  without it the old size is unknown and the figure is a lower bound ("at least"). A
  successful `attribute_not_exists(<partition key>)` condition proves there was no old item.
* The items a Query or Scan filtered out are never returned: their size is estimated from the
  average of those returned ("about"), or left as a lower bound when none came back.
* A projection returns less than was read: the figure from the returned attributes is a lower
  bound.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any

from shared.capacity_rules import (
    batch_read_units,
    item_size,
    query_read_units,
    read_units,
    write_units,
)
from shared.i18n import gettext as _

AttributeValue = Mapping[str, Any]
Item = Mapping[str, AttributeValue]

READ_OPERATIONS = frozenset({"GetItem", "BatchGetItem", "Query", "Scan", "TransactGetItems"})
WRITE_OPERATIONS = frozenset(
    {"PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems"}
)
DATA_OPERATIONS = READ_OPERATIONS | WRITE_OPERATIONS


class Precision(IntEnum):
    """How much a computed figure can be trusted; a sum is as weak as its weakest part."""

    EXACT = 0
    ESTIMATE = 1
    AT_LEAST = 2

    @property
    def symbol(self) -> str:
        return {Precision.EXACT: "=", Precision.ESTIMATE: "≈", Precision.AT_LEAST: "≥"}[self]

    @property
    def label(self) -> str:
        return {
            Precision.EXACT: "exact",
            Precision.ESTIMATE: "about",
            Precision.AT_LEAST: "at least",
        }[self]


@dataclass(frozen=True)
class Units:
    """Read and write capacity units of one call (or a sum), split by table and index.

    `by_target` keys are a table name, or `table/IndexName` for a secondary index.
    """

    read: float = 0.0
    write: float = 0.0
    by_target: Mapping[str, float] = field(default_factory=dict)
    precision: Precision = Precision.EXACT
    notes: tuple[str, ...] = ()

    @property
    def total(self) -> float:
        return self.read + self.write

    def __add__(self, other: Units) -> Units:
        targets = dict(self.by_target)
        for target, units in other.by_target.items():
            targets[target] = targets.get(target, 0.0) + units
        return Units(
            read=self.read + other.read,
            write=self.write + other.write,
            by_target=targets,
            precision=max(self.precision, other.precision),
            notes=tuple(dict.fromkeys(self.notes + other.notes)),
        )


def total_of(parts: Iterable[Units]) -> Units:
    result = Units()
    for part in parts:
        result = result + part
    return result


def format_units(value: float) -> str:
    """1.0 -> "1", 0.5 -> "0.5": units come in halves, and 1.0000 says nothing more than 1."""
    return f"{value:.2f}".rstrip("0").rstrip(".")


def index_target(table: str, index: str) -> str:
    return f"{table}/{index}"


# -- table schemas (for index writes) ------------------------------------------------------------


@dataclass(frozen=True)
class IndexSchema:
    name: str
    hash_key: str
    range_key: str | None = None
    projection: str = "ALL"
    non_key_attributes: tuple[str, ...] = ()

    @property
    def key_attributes(self) -> tuple[str, ...]:
        return (self.hash_key,) + ((self.range_key,) if self.range_key else ())


@dataclass(frozen=True)
class TableSchema:
    hash_key: str
    range_key: str | None = None
    indexes: tuple[IndexSchema, ...] = ()

    @property
    def key_attributes(self) -> tuple[str, ...]:
        return (self.hash_key,) + ((self.range_key,) if self.range_key else ())

    def entry(self, index: IndexSchema, item: Item) -> dict[str, AttributeValue] | None:
        """The index entry DynamoDB writes for `item`, or None when the item lacks the index key
        (a sparse index skips it)."""
        if any(name not in item for name in index.key_attributes):
            return None
        if index.projection == "ALL":
            return dict(item)
        kept = set(self.key_attributes) | set(index.key_attributes)
        if index.projection == "INCLUDE":
            kept |= set(index.non_key_attributes)
        return {name: value for name, value in item.items() if name in kept}

    def projects(self, index: IndexSchema, attribute: str) -> bool:
        if index.projection == "ALL" or attribute in index.key_attributes:
            return True
        return index.projection == "INCLUDE" and attribute in index.non_key_attributes


SchemaLookup = Callable[[str], TableSchema | None]


def _no_schema(_table: str) -> TableSchema | None:
    return None


# -- readable expressions -----------------------------------------------------------------------

PLACEHOLDER = re.compile(r"[#:][A-Za-z0-9_]+")


def substitute_names(expression: str, names: Mapping[str, str] | None) -> str:
    """Replace `#n` placeholders with the attribute names they stand for."""
    if not names:
        return expression
    return PLACEHOLDER.sub(lambda m: names.get(m.group(0), m.group(0)), expression)


def updated_attributes(params: Mapping[str, Any]) -> set[str]:
    """Top-level attribute names an UpdateExpression writes (SET, REMOVE, ADD or DELETE)."""
    expression = substitute_names(
        params.get("UpdateExpression", ""), params.get("ExpressionAttributeNames")
    )
    names: set[str] = set()
    for action in _update_actions(expression):
        target = action.split("=", 1)[0].strip().split()[0] if action.strip() else ""
        if target:
            names.add(re.split(r"[.\[]", target, maxsplit=1)[0])
    return names


def _update_actions(expression: str) -> list[str]:
    """The comma-separated actions of every clause, ignoring commas inside function calls."""
    clauses = re.split(r"\b(?:SET|REMOVE|ADD|DELETE)\b", expression, flags=re.IGNORECASE)
    actions: list[str] = []
    for clause in clauses:
        depth, start = 0, 0
        for position, char in enumerate(clause):
            depth += {"(": 1, ")": -1}.get(char, 0)
            if char == "," and depth == 0:
                actions.append(clause[start:position])
                start = position + 1
        actions.append(clause[start:])
    return [action for action in actions if action.strip()]


def proves_new_item(params: Mapping[str, Any], schema: TableSchema | None) -> bool:
    """A write that succeeded under `attribute_not_exists(<partition key>)` replaced nothing."""
    if schema is None:
        return False
    condition = substitute_names(
        params.get("ConditionExpression", ""), params.get("ExpressionAttributeNames")
    )
    pattern = rf"attribute_not_exists\s*\(\s*{re.escape(schema.hash_key)}\s*\)"
    return re.search(pattern, condition) is not None


# -- computing a call ----------------------------------------------------------------------------


def computed(
    operation: str,
    params: Mapping[str, Any],
    response: Mapping[str, Any] | None,
    *,
    schemas: SchemaLookup = _no_schema,
    succeeded: bool = True,
) -> Units:
    """The capacity a call consumes by the documented rules, from its request and response.

    `succeeded=False` is a call DynamoDB refused after reading the item (a failed condition):
    it still costs at least one unit.
    """
    if operation not in DATA_OPERATIONS:
        return Units(
            notes=(
                _("{operation} is a control-plane call: no capacity units.").format(
                    operation=operation
                ),
            )
        )
    response = response or {}
    if not succeeded:
        return _refused(operation, params)
    return _COMPUTERS[operation](params, response, schemas)


def _refused(operation: str, params: Mapping[str, Any]) -> Units:
    """A failed condition on a single-item write still costs the write (AWS: sized by the
    existing item, at least 1 unit); what a refused batch or transaction costs is not shown."""
    table = str(params.get("TableName", ""))
    if operation not in ("PutItem", "UpdateItem", "DeleteItem"):
        return Units(
            precision=Precision.AT_LEAST,
            notes=(_("A refused {operation}: not computed.").format(operation=operation),),
        )
    units = write_units(0)
    return Units(
        write=units,
        by_target={table: units},
        precision=Precision.AT_LEAST,
        notes=(_("A failed condition still costs a write, sized by the existing item."),),
    )


def _get_item(
    params: Mapping[str, Any], response: Mapping[str, Any], _schemas: SchemaLookup
) -> Units:
    table = params["TableName"]
    item = response.get("Item")
    size = item_size(item) if item else 0
    units = read_units(size, consistent=bool(params.get("ConsistentRead")))
    precision, notes = Precision.EXACT, tuple[str, ...]()
    if item and "ProjectionExpression" in params:
        precision = Precision.AT_LEAST
        notes = (_("A projection returns part of the item, but the whole item is read."),)
    if not item:
        notes = (_("A missing item still costs the minimum read."),)
    return Units(read=units, by_target={table: units}, precision=precision, notes=notes)


def _query_or_scan(
    params: Mapping[str, Any], response: Mapping[str, Any], _schemas: SchemaLookup
) -> Units:
    table = params["TableName"]
    target = index_target(table, params["IndexName"]) if "IndexName" in params else table
    items = response.get("Items", [])
    sizes = [item_size(item) for item in items]
    returned = int(response.get("Count", len(items)))
    scanned = int(response.get("ScannedCount", returned))
    consistent = bool(params.get("ConsistentRead"))
    precision, notes = Precision.EXACT, []
    if _returns_less_than_read(params):
        precision = Precision.AT_LEAST
        notes.append(_("A projection or Select returns less than is read: the figure is a floor."))
    if scanned > len(sizes):
        unseen = scanned - len(sizes)
        if sizes:
            sizes += [round(sum(sizes) / len(sizes))] * unseen
            precision = max(precision, Precision.ESTIMATE)
            notes.append(
                _(
                    "{unseen} item(s) read but filtered out: "
                    "sized at the average of those returned."
                ).format(unseen=unseen)
            )
        else:
            precision = Precision.AT_LEAST
            notes.append(
                _("{unseen} item(s) read but filtered out, of unknown size.").format(unseen=unseen)
            )
    units = query_read_units(sizes, consistent=consistent)
    return Units(read=units, by_target={target: units}, precision=precision, notes=tuple(notes))


def _returns_less_than_read(params: Mapping[str, Any]) -> bool:
    select = params.get("Select", "ALL_ATTRIBUTES")
    if select in ("COUNT", "SPECIFIC_ATTRIBUTES"):
        return True
    return "ProjectionExpression" in params or "AttributesToGet" in params


def _batch_get(
    params: Mapping[str, Any], response: Mapping[str, Any], _schemas: SchemaLookup
) -> Units:
    result = Units()
    unprocessed = response.get("UnprocessedKeys", {})
    for table, request in params.get("RequestItems", {}).items():
        consistent = bool(request.get("ConsistentRead"))
        items = response.get("Responses", {}).get(table, [])
        asked = len(request.get("Keys", [])) - len(unprocessed.get(table, {}).get("Keys", []))
        sizes = [item_size(item) for item in items] + [0] * max(0, asked - len(items))
        units = batch_read_units(sizes, consistent=consistent)
        result = result + Units(read=units, by_target={table: units})
    return result


def _transact_get(
    params: Mapping[str, Any], response: Mapping[str, Any], _schemas: SchemaLookup
) -> Units:
    result = Units()
    answers = response.get("Responses", [])
    for position, entry in enumerate(params.get("TransactItems", [])):
        table = entry["Get"]["TableName"]
        item = answers[position].get("Item") if position < len(answers) else None
        units = read_units(item_size(item) if item else 0, consistent=True, transactional=True)
        result = result + Units(read=units, by_target={table: units})
    return result


def _put_item(
    params: Mapping[str, Any], response: Mapping[str, Any], schemas: SchemaLookup
) -> Units:
    table = params["TableName"]
    schema = schemas(table)
    new = params["Item"]
    old = response.get("Attributes") if params.get("ReturnValues") == "ALL_OLD" else None
    known_old = old is not None or proves_new_item(params, schema)
    size = max(item_size(new), item_size(old) if old else 0)
    units = write_units(size)
    result = Units(write=units, by_target={table: units})
    result = result + _index_writes(table, schema, new, old, changed=None, known_old=known_old)
    if known_old:
        return result
    return result + Units(
        precision=Precision.AT_LEAST,
        notes=(_("PutItem may have replaced a larger item (size unknown without ALL_OLD)."),),
    )


def _update_item(
    params: Mapping[str, Any], response: Mapping[str, Any], schemas: SchemaLookup
) -> Units:
    table = params["TableName"]
    schema = schemas(table)
    returned = params.get("ReturnValues", "NONE")
    attributes = response.get("Attributes")
    if returned != "ALL_NEW" or not attributes:
        units = write_units(0)
        return Units(
            write=units,
            by_target={table: units},
            precision=Precision.AT_LEAST,
            notes=(_("UpdateItem without ReturnValues=ALL_NEW: the item size is unknown."),),
        )
    units = write_units(item_size(attributes))
    result = Units(write=units, by_target={table: units})
    changed = updated_attributes(params)
    result = result + _index_writes(table, schema, attributes, None, changed, known_old=False)
    return result + Units(
        precision=Precision.AT_LEAST,
        notes=(
            _("UpdateItem is sized by the larger of the old and new item; the old is unknown."),
        ),
    )


def _delete_item(
    params: Mapping[str, Any], response: Mapping[str, Any], schemas: SchemaLookup
) -> Units:
    table = params["TableName"]
    old = response.get("Attributes") if params.get("ReturnValues") == "ALL_OLD" else None
    if old is None:
        units = write_units(0)
        return Units(
            write=units,
            by_target={table: units},
            precision=Precision.AT_LEAST,
            notes=(_("DeleteItem is sized by the deleted item, unknown without ALL_OLD."),),
        )
    units = write_units(item_size(old))
    result = Units(write=units, by_target={table: units})
    schema = schemas(table)
    for index in schema.indexes if schema else ():
        entry = schema.entry(index, old) if schema else None
        if entry is not None:
            index_units = write_units(item_size(entry))
            result = result + Units(
                write=index_units, by_target={index_target(table, index.name): index_units}
            )
    return result


def _index_writes(
    table: str,
    schema: TableSchema | None,
    new: Item,
    old: Item | None,
    changed: set[str] | None,
    *,
    known_old: bool,
) -> Units:
    """Writes to secondary indexes caused by a write whose new image is `new`.

    `changed` is None for a whole-item write (PutItem), else the attributes an update wrote.
    """
    result = Units()
    for index in schema.indexes if schema else ():
        assert schema is not None
        if changed is not None and not any(schema.projects(index, name) for name in changed):
            continue
        entry = schema.entry(index, new)
        old_entry = schema.entry(index, old) if old else None
        writes = [item_size(e) for e in (entry, old_entry) if e is not None]
        key_moved = old_entry is not None and entry is not None and _key_moved(index, new, old)
        if entry is not None and old_entry is not None and not key_moved:
            writes = [max(writes)]
        if not writes:
            continue
        units = sum(write_units(size) for size in writes)
        result = result + Units(write=units, by_target={index_target(table, index.name): units})
        if not known_old and set(changed or index.key_attributes) & set(index.key_attributes):
            result = result + Units(
                precision=Precision.AT_LEAST,
                notes=(
                    _(
                        "If the write moved the {index} key, the old entry's delete "
                        "costs another write."
                    ).format(index=index.name),
                ),
            )
    return result


def _key_moved(index: IndexSchema, new: Item, old: Item | None) -> bool:
    return old is not None and any(new.get(k) != old.get(k) for k in index.key_attributes)


def _batch_write(
    params: Mapping[str, Any], response: Mapping[str, Any], schemas: SchemaLookup
) -> Units:
    result = Units()
    unprocessed = response.get("UnprocessedItems", {})
    for table, requests in params.get("RequestItems", {}).items():
        schema = schemas(table)
        skipped = unprocessed.get(table, [])
        for request in requests:
            if request in skipped:
                continue
            if "PutRequest" in request:
                item = request["PutRequest"]["Item"]
                units = write_units(item_size(item))
                result = result + Units(write=units, by_target={table: units})
                result = result + _index_writes(table, schema, item, None, None, known_old=False)
                result = result + Units(
                    precision=Precision.AT_LEAST,
                    notes=(_("A batch put may replace a larger item (size unknown)."),),
                )
            else:
                units = write_units(0)
                result = result + Units(
                    write=units,
                    by_target={table: units},
                    precision=Precision.AT_LEAST,
                    notes=(_("A batch delete is sized by the deleted item (unknown)."),),
                )
    return result


def _transact_write(
    params: Mapping[str, Any], response: Mapping[str, Any], schemas: SchemaLookup
) -> Units:
    result = Units()
    for entry in params.get("TransactItems", []):
        ((kind, body),) = entry.items()
        table = body["TableName"]
        if kind == "ConditionCheck":
            units = write_units(0, transactional=True)
            result = result + Units(
                write=units,
                by_target={table: units},
                precision=Precision.AT_LEAST,
                notes=(
                    _(
                        "A ConditionCheck is billed as a transactional write of its item (size "
                        "unknown): AWS's guide does not say; measurements on DynamoDB do."
                    ),
                ),
            )
            continue
        size = item_size(body["Item"]) if kind == "Put" else 0
        units = write_units(size, transactional=True)
        exact = kind == "Put" and proves_new_item(body, schemas(table))
        result = result + Units(
            write=units,
            by_target={table: units},
            precision=Precision.EXACT if exact else Precision.AT_LEAST,
            notes=()
            if exact
            else (_("A transactional {kind} of an item of unknown size.").format(kind=kind),),
        )
    return result


_COMPUTERS: dict[str, Callable[[Mapping[str, Any], Mapping[str, Any], SchemaLookup], Units]] = {
    "GetItem": _get_item,
    "Query": _query_or_scan,
    "Scan": _query_or_scan,
    "BatchGetItem": _batch_get,
    "TransactGetItems": _transact_get,
    "PutItem": _put_item,
    "UpdateItem": _update_item,
    "DeleteItem": _delete_item,
    "BatchWriteItem": _batch_write,
    "TransactWriteItems": _transact_write,
}


# -- what the engine reported ------------------------------------------------------------------


def reported(operation: str, response: Mapping[str, Any] | None) -> Units | None:
    """The engine's ConsumedCapacity (a dict, or a list for batches and transactions), or None
    when it returned none."""
    consumed = (response or {}).get("ConsumedCapacity")
    if not consumed:
        return None
    entries = consumed if isinstance(consumed, list) else [consumed]
    return total_of(_reported_entry(operation, entry) for entry in entries)


def _reported_entry(operation: str, entry: Mapping[str, Any]) -> Units:
    table = str(entry.get("TableName", ""))
    total = float(entry.get("CapacityUnits", 0.0))
    read = float(entry.get("ReadCapacityUnits", total if operation in READ_OPERATIONS else 0.0))
    write = float(entry.get("WriteCapacityUnits", total if operation in WRITE_OPERATIONS else 0.0))
    targets: dict[str, float] = {}
    if "Table" in entry:
        targets[table] = float(entry["Table"].get("CapacityUnits", 0.0))
    for group in ("GlobalSecondaryIndexes", "LocalSecondaryIndexes"):
        for index, figures in entry.get(group, {}).items():
            targets[index_target(table, index)] = float(figures.get("CapacityUnits", 0.0))
    if not targets:
        targets[table] = total
    return Units(read=read, write=write, by_target=targets)
