"""The builder's operation as code to copy: boto3 (the exact request) and PynamoDB (the model).

Both snippets run as they are in a Python shell started in the project's folder:
* boto3: the client comes from the environment (`DYNAMODB_ENDPOINT`, empty or unset meaning AWS
  itself; `AWS_REGION`; the usual credentials), the call is the request the builder sent, word
  for word, and DynamoDB's answer is left in `response`.
* PynamoDB: the project's model class, bound to the same environment the way the app binds it
  (`bind_models`, which also applies `TABLE_PREFIX`), and the items are left in a list `items`.

One difference is real and said in the code: PynamoDB's `limit` keeps reading pages until it
has that many items that passed the filter, while DynamoDB's `Limit` caps the items read by one
request. With a filter the PynamoDB snippet therefore reads one page, as the request did.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from pynamodb.attributes import BooleanAttribute, NumberAttribute, UnicodeAttribute
from pynamodb.indexes import Index
from pynamodb.models import Model

from lens.attribute_values import AttributeValue
from lens.explorer import ExplorerTable, ItemView
from lens.operations import KeyCondition, Operation

_METHODS = {"GetItem": "get_item", "Query": "query", "Scan": "scan"}
_PLAIN_ATTRIBUTES = (UnicodeAttribute, NumberAttribute, BooleanAttribute)
_COMPARISON_METHODS = {
    "=": "==",
    "<>": "!=",
    "<": "<",
    "<=": "<=",
    ">": ">",
    ">=": ">=",
}


def python_literal(value: Any, indent: int = 0) -> str:
    """A Python literal for JSON-like data, double-quoted, dicts one key per line when long."""
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, bool) or value is None:
        return repr(value)
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, dict):
        inline = (
            "{"
            + ", ".join(f"{python_literal(k)}: {python_literal(v)}" for k, v in value.items())
            + "}"
        )
        if len(inline) + indent <= 88:
            return inline
        pad = " " * (indent + 4)
        body = "".join(
            f"{pad}{python_literal(k)}: {python_literal(v, indent + 4)},\n"
            for k, v in value.items()
        )
        return "{\n" + body + " " * indent + "}"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(python_literal(v, indent) for v in value) + "]"
    raise TypeError(f"no literal for {type(value).__name__}")


def boto3_code(operation: str, request: dict[str, Any]) -> str:
    """The exact request as a boto3 call; DynamoDB's answer lands in `response`."""
    arguments = "".join(
        f"    {name}={python_literal(value, 4)},\n" for name, value in request.items()
    )
    return (
        "import os\n\n"
        "import boto3\n\n"
        "dynamodb = boto3.client(\n"
        '    "dynamodb",\n'
        '    endpoint_url=os.environ.get("DYNAMODB_ENDPOINT") or None,  # empty or unset: AWS\n'
        '    region_name=os.environ.get("AWS_REGION"),\n'
        ")\n"
        f"response = dynamodb.{_METHODS[operation]}(\n{arguments})\n"
    )


# -- PynamoDB ---------------------------------------------------------------------------------


def code_model(
    table: ExplorerTable, items: Sequence[ItemView], hint: type[Model] | None = None
) -> tuple[type[Model], tuple[str, ...]]:
    """The model class the PynamoDB snippet uses, and the other item types it would misread.

    The class of the items returned when they are all of one type; else the hint (the access
    pattern's class), else the class that creates the table.
    """
    kinds = list(dict.fromkeys(item.item_type.model for item in items))
    if len(kinds) == 1:
        model = table.model(items[0].item_type)
    else:
        model = hint if hint in table.models else table.owner
    own = f"{model.__module__}.{model.__qualname__}"
    return model, tuple(kind.rsplit(".", 1)[-1] for kind in kinds if kind != own)


def pynamodb_code(operation: Operation, model: type[Model], others: Sequence[str] = ()) -> str:
    """The same read through the project's model class; the items land in a list `items`."""
    body = _call(operation, model)
    lines = []
    if any("Path(" in line for line in body):
        lines.append("from pynamodb.expressions.operand import Path")
    lines += [
        f"from {model.__module__} import {model.__name__}",
        "from shared.dynamo import bind_models",
        "from shared.settings import get_settings",
        "",
        "# DYNAMODB_ENDPOINT, AWS_REGION and TABLE_PREFIX from the environment, as the app does",
        "bind_models(get_settings())",
    ]
    if others:
        lines.append(
            f"# This read also returns {', '.join(others)} items: {model.__name__} reads only "
            "the attributes it declares."
        )
    return "\n".join(lines + body) + "\n"


def _call(operation: Operation, model: type[Model]) -> list[str]:
    name = model.__name__
    if operation.name == "GetItem":
        assert operation.partition is not None
        args = [_value_literal(operation.partition.values[0])]
        if operation.sort is not None:
            args.append(_value_literal(operation.sort.values[0]))
        if operation.consistent:
            args.append("consistent_read=True")
        return [
            "try:",
            f"    items = [{name}.get({', '.join(args)})]",
            f"except {name}.DoesNotExist:",
            "    items = []",
        ]
    target = name if operation.index is None else f"{name}.{_index_attribute(model, operation)}"
    method = operation.name.lower()
    args = _read_arguments(operation, model)
    if operation.filter is None:
        call = [f"    {target}.{method}(", *(f"        {a}," for a in args), "    )"]
        return ["items = list(", *call, ")"]
    return [
        "# One request, as DynamoDB's Limit means it: PynamoDB's `limit` would read on until",
        f"# {operation.limit} items passed the filter.",
        f"results = {target}.{method}(",
        *(f"    {a}," for a in args),
        ")",
        "page = next(results.page_iter)",
        f'items = [{name}.from_raw_data(raw) for raw in page.get("Items", [])]',
    ]


def _read_arguments(operation: Operation, model: type[Model]) -> list[str]:
    args: list[str] = []
    if operation.name == "Query":
        assert operation.partition is not None
        args.append(_value_literal(operation.partition.values[0]))
        if operation.sort is not None:
            args.append(_condition(model, operation.sort))
    if operation.filter is not None:
        spec = operation.filter
        condition = KeyCondition(
            spec.attribute, spec.op, () if spec.value is None else (spec.value,)
        )
        args.append(f"filter_condition={_condition(model, condition)}")
    if operation.name == "Query" and not operation.forward:
        args.append("scan_index_forward=False")
    if operation.consistent:
        args.append("consistent_read=True")
    if operation.start_key is not None:
        args.append(f"last_evaluated_key={operation.start_key!r}")
    if operation.filter is None:
        args.append(f"limit={operation.limit}")
    else:
        args.append(f"page_size={operation.limit}")
    return args


def _index_attribute(model: type[Model], operation: Operation) -> str:
    assert operation.index is not None
    for klass in model.__mro__:
        for attribute, value in vars(klass).items():
            if isinstance(value, Index) and value.Meta.index_name == operation.index.name:
                return attribute
    raise LookupError(f"{model.__name__} declares no attribute for {operation.index.name}")


def _attribute(model: type[Model], stored: str) -> tuple[str, Any] | None:
    """(Python name, attribute) of the attribute stored under `stored`."""
    for name, attribute in model.get_attributes().items():
        if (attribute.attr_name or name) == stored:
            return name, attribute
    return None


def _operand(model: type[Model], stored: str) -> str:
    """`Activity.timestamp` for a plain attribute; `Path("x")` where the class would convert
    the value first (datetimes, TTL) or does not declare the attribute."""
    found = _attribute(model, stored)
    if found is not None and isinstance(found[1], _PLAIN_ATTRIBUTES):
        return f"{model.__name__}.{found[0]}"
    return f"Path({json.dumps(stored)})"


def _value_literal(value: AttributeValue) -> str:
    ((kind, inner),) = value.items()
    if kind == "N":
        number = Decimal(inner)
        return str(int(number)) if number == number.to_integral_value() else repr(float(number))
    if kind == "BOOL":
        return repr(bool(inner))
    return json.dumps(inner, ensure_ascii=False)


def _condition(model: type[Model], condition: KeyCondition) -> str:
    operand = _operand(model, condition.attribute)
    values = [_value_literal(v) for v in condition.values]
    if condition.op in _COMPARISON_METHODS:
        return f"{operand} {_COMPARISON_METHODS[condition.op]} {values[0]}"
    if condition.op == "between":
        return f"{operand}.between({values[0]}, {values[1]})"
    if condition.op == "begins_with":
        return f"{operand}.startswith({values[0]})"
    if condition.op == "contains":
        return f"{operand}.contains({values[0]})"
    if condition.op == "attribute_exists":
        return f"{operand}.exists()"
    return f"{operand}.does_not_exist()"
