"""DynamoDB item responses written as JSON directly (written against moto 5.2.5).

moto 5.2 serializes every response by walking the operation's output shape member by member,
about 2 ms per item returned: a 20-item Query page spent most of its time there, and a full
Scan of 2,000 items over a second. DynamoDB's JSON protocol needs nothing of that for the
item operations: their result (after moto's own `dynamo_to_dict`) already has the wire's
names and nesting, and only binary values need base64. So for those operations the result is
written with orjson (about ten times `json.dumps`'s speed on item pages), keeping what the shape
walk does that matters: only the output
shape's top-level members, no null members, binary as base64, numbers as moto gives them.
orjson refuses what `json` would escape (a string holding a lone surrogate, which a client
can store, an integer past 64 bits): such an answer is written by `json.dumps`, as before.
Other operations (table descriptions carry timestamps) and every error keep moto's serializer.
The equivalence test compares every Query, Scan and write response with stock moto's.

Before any of that, moto's `DynamoResult` turns the result's `DynamoType` values into plain
ones with `dynamo_to_dict`, which asks `isinstance` and `hasattr` at every node: a third of a
1,000-item Scan page's CPU. `plain_values` gives the same values, dispatching on the exact type
of the nodes items are made of, and hands anything else to moto's own function.

Upstream shape: a fast path in moto's JSON serializer for outputs without timestamps, and
exact-type dispatch in `dynamo_to_dict`.
"""

from __future__ import annotations

import base64
import json
from typing import Any

import orjson
from moto import settings
from moto.core.common_types import TYPE_RESPONSE
from moto.core.responses import ActionContext
from moto.dynamodb import responses
from moto.dynamodb.models.dynamo_type import DynamoType, LimitedSizeDict
from moto.dynamodb.models.utilities import dynamo_to_dict
from moto.dynamodb.responses import DynamoResult

ITEM_OPERATIONS = frozenset(
    {
        "GetItem",
        "Query",
        "Scan",
        "BatchGetItem",
        "TransactGetItems",
        "PutItem",
        "UpdateItem",
        "DeleteItem",
    }
)
_MARK = "_dynamodb_lab_json"
_NULLS = (b":null", b",null", b"[null")
# Values `dynamo_to_dict` returns as they are: neither a DynamoType, a datetime, a container
# nor anything with `to_json`.
_AS_THEY_ARE = frozenset({str, bool, int, float, bytes, type(None)})


def _encode(value: Any) -> str:
    if isinstance(value, bytes | bytearray):
        return base64.b64encode(value).decode("ascii")
    raise TypeError(f"{type(value).__name__} is not part of an item response")


def _without_nulls(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _without_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_without_nulls(element) for element in value]
    return value


def plain_values(value: Any) -> Any:
    """`dynamo_to_dict(value)`, dispatching on exact types (a subclass, a datetime or a model
    with `to_json` goes to moto's function, which decides for it)."""
    kind = type(value)
    if kind is DynamoType:
        name, inner = value.type, value.value
        if name == "B":
            return {"B": inner if isinstance(inner, bytes) else base64.b64decode(inner)}
        if name == "BS":
            return {"BS": [v if isinstance(v, bytes) else base64.b64decode(v) for v in inner]}
        return {name: inner if type(inner) in _AS_THEY_ARE else plain_values(inner)}
    if kind is dict or kind is LimitedSizeDict:
        return {k: plain_values(v) for k, v in value.items()}
    if kind is list:
        return [plain_values(element) for element in value]
    if kind in _AS_THEY_ARE:
        return value
    return dynamo_to_dict(value)


def item_response(result: Any, context: ActionContext) -> TYPE_RESPONSE:
    operation = context.operation_model
    members = operation.output_shape.members if operation.output_shape is not None else {}
    body = {k: v for k, v in result.items() if k in members and v is not None}
    text = _dumps(body)
    version = operation.service_model.metadata.get("jsonVersion", "1.0")
    status = operation.http.get("responseCode", 200)
    return status, {"Content-Type": f"application/x-amz-json-{version}"}, text


def _dumps(body: dict[str, Any]) -> str | bytes:
    """The JSON of `body` without null members. Items hold none (every attribute value is a
    map of a type to a value), so the walk that drops them runs only when a null was written:
    in orjson's compact output a null follows a colon, a comma or a bracket (a string holding
    one of those sequences only costs the walk)."""
    if settings.PRETTIFY_RESPONSES:
        return json.dumps(_without_nulls(body), default=_encode, indent=4)
    try:
        text = orjson.dumps(body, default=_encode)
    except orjson.JSONEncodeError:
        return json.dumps(_without_nulls(body), default=_encode)
    if any(null in text for null in _NULLS):
        return orjson.dumps(_without_nulls(body), default=_encode)
    return text


def install() -> None:
    """Patch DynamoResult.execute_result for the item operations, and the conversion every
    DynamoResult makes (idempotent)."""
    if getattr(DynamoResult, _MARK, False):
        return
    # the name DynamoResult.__init__ calls
    responses.dynamo_to_dict = plain_values  # type: ignore[attr-defined,assignment]
    stock = DynamoResult.execute_result

    def execute_result(self: DynamoResult, context: ActionContext) -> TYPE_RESPONSE:
        if context.operation_model.name in ITEM_OPERATIONS and isinstance(self.result, dict):
            return item_response(self.result, context)
        return stock(self, context)

    DynamoResult.execute_result = execute_result  # type: ignore[method-assign,assignment]
    setattr(DynamoResult, _MARK, True)
