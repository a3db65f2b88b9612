"""moto's request parser with handlers and members kept per shape (`engine.parsing`) turns any
request body into the same parameters as moto's own walk, or fails the same way."""

from __future__ import annotations

import base64
import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from moto.core.parse import JSONParser
from moto.core.responses import get_service_model
from moto.dynamodb.responses import DynamoHandler

from engine import parsing

parsing.install()
MODEL = get_service_model("dynamodb")
OPERATIONS = ["PutItem", "UpdateItem", "Query", "BatchWriteItem", "TransactWriteItems", "Scan"]


class StockParser(JSONParser):
    """moto's parser as it ships, without the engine's kept shapes."""

    _parse_shape = parsing.MOTO_PARSE_SHAPE
    _parse_structure = parsing.MOTO_PARSE_STRUCTURE


def scalars() -> st.SearchStrategy[Any]:
    blob = st.binary(max_size=6).map(lambda b: base64.b64encode(b).decode())
    return st.one_of(st.none(), st.booleans(), st.integers(-5, 5), st.text(max_size=4), blob)


def attribute_values() -> st.SearchStrategy[Any]:
    """AttributeValue-like dicts, with unknown keys, nulls and wrong types among them."""
    keys = st.sampled_from(["S", "N", "B", "SS", "NS", "BS", "BOOL", "NULL", "M", "L", "X"])
    return st.recursive(
        st.dictionaries(keys, scalars(), max_size=3),
        lambda inner: st.one_of(
            st.dictionaries(keys, st.one_of(scalars(), st.lists(inner, max_size=3)), max_size=3),
            st.builds(lambda m: {"M": m}, st.dictionaries(st.text(max_size=3), inner, max_size=3)),
            st.builds(lambda items: {"L": items}, st.lists(inner, max_size=3)),
        ),
        max_leaves=12,
    )


def items() -> st.SearchStrategy[dict[str, Any]]:
    return st.dictionaries(st.text(max_size=4), attribute_values(), max_size=4)


def bodies() -> st.SearchStrategy[dict[str, Any]]:
    write = st.one_of(
        st.builds(lambda i: {"PutRequest": {"Item": i}}, items()),
        st.builds(lambda k: {"DeleteRequest": {"Key": k, "Extra": 1}}, items()),
    )
    return st.fixed_dictionaries(
        {},
        optional={
            "TableName": st.one_of(st.text(max_size=5), st.none()),
            "Item": items(),
            "Key": items(),
            "ExpressionAttributeValues": items(),
            "ExclusiveStartKey": items(),
            "Limit": st.one_of(st.integers(0, 9), st.text(max_size=2)),
            "ScanIndexForward": st.booleans(),
            "RequestItems": st.dictionaries(st.text(max_size=3), st.lists(write, max_size=3)),
            "TransactItems": st.lists(
                st.builds(lambda i: {"Put": {"TableName": "t", "Item": i}}, items()), max_size=3
            ),
            "Unknown": scalars(),
        },
    )


def parse(parser_class: type[JSONParser], operation: str, body: dict[str, Any]) -> Any:
    parser = parser_class(
        MODEL.operation_model(operation), map_type=DynamoHandler.PROTOCOL_PARSER_MAP_TYPE
    )
    request = {"method": "POST", "values": {}, "headers": {}, "url_path": "/", "url_params": {}}
    try:
        return parser.parse({**request, "body": _json(body)})  # type: ignore[typeddict-item]
    except Exception as error:  # noqa: BLE001 - both must fail alike
        return ("error", type(error).__name__, str(error))


def _json(body: dict[str, Any]) -> bytes:
    return json.dumps(body).encode()


@given(operation=st.sampled_from(OPERATIONS), body=bodies())
@settings(max_examples=400, deadline=None)
def test_kept_shapes_parse_every_body_as_moto_does(operation: str, body: dict[str, Any]) -> None:
    assert parse(JSONParser, operation, body) == parse(StockParser, operation, body)
