"""The engine's item responses: the JSON moto's shape walk would write, written faster."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from moto.core.utils import get_service_model
from moto.dynamodb.models.dynamo_type import DynamoType, Item
from moto.dynamodb.models.utilities import dynamo_to_dict

from engine.serialization import item_response, plain_values

binary = st.binary(max_size=6)
scalars = st.one_of(
    st.text(max_size=6).map(lambda s: {"S": s}),
    st.integers(-999, 999).map(lambda n: {"N": str(n)}),
    binary.map(lambda b: {"B": b}),  # as moto keeps a value after a projection
    binary.map(lambda b: {"B": base64.b64encode(b).decode()}),  # as it came over the wire
    st.booleans().map(lambda b: {"BOOL": b}),
    st.just({"NULL": True}),
    st.lists(st.text(max_size=4), min_size=1, max_size=3, unique=True).map(lambda v: {"SS": v}),
    st.lists(st.integers(-99, 99).map(str), min_size=1, max_size=3, unique=True).map(
        lambda v: {"NS": v}
    ),
    st.lists(binary, min_size=1, max_size=3, unique=True).map(lambda v: {"BS": v}),
    st.lists(binary, min_size=1, max_size=3, unique=True).map(
        lambda v: {"BS": [base64.b64encode(b).decode() for b in v]}
    ),
)
values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3).map(lambda v: {"L": v}),
        st.dictionaries(st.text(min_size=1, max_size=4), inner, max_size=3).map(lambda v: {"M": v}),
    ),
    max_leaves=8,
)


def _answer(operation: str, result: dict[str, Any]) -> Any:
    context = SimpleNamespace(
        operation_model=get_service_model("dynamodb").operation_model(operation)
    )
    status, headers, body = item_response(result, context)  # type: ignore[arg-type]
    assert status == 200
    assert headers == {"Content-Type": "application/x-amz-json-1.0"}
    return json.loads(body)


def test_members_outside_the_output_shape_and_null_members_are_left_out() -> None:
    result = {
        "Items": [{"pk": {"S": "a"}, "data": {"M": {"n": {"NULL": True}}}}],
        "Count": 1,
        "ScannedCount": 1,
        "LastEvaluatedKey": None,
        "ConsumedCapacity": {"TableName": "t", "CapacityUnits": 0.5, "Table": None},
        "NotAMember": "dropped",
    }
    assert _answer("Query", result) == {
        "Items": [{"pk": {"S": "a"}, "data": {"M": {"n": {"NULL": True}}}}],
        "Count": 1,
        "ScannedCount": 1,
        "ConsumedCapacity": {"TableName": "t", "CapacityUnits": 0.5},
    }


def test_a_string_that_looks_like_a_null_is_kept_as_it_is() -> None:
    item = {"pk": {"S": "a:null,null[null"}}
    assert _answer("GetItem", {"Item": item}) == {"Item": item}


def test_binary_values_are_base64_and_a_lone_surrogate_is_escaped() -> None:
    item = {"pk": {"S": "\ud800"}, "blob": {"B": b"\x00\xff"}}
    assert _answer("GetItem", {"Item": item}) == {
        "Item": {"pk": {"S": "\ud800"}, "blob": {"B": "AP8="}}
    }


@settings(max_examples=200, deadline=None)
@given(
    pages=st.lists(st.dictionaries(st.text(min_size=1, max_size=4), values, max_size=5), max_size=3)
)
def test_plain_values_are_moto_s_own_conversion(pages: list[dict[str, Any]]) -> None:
    items = [Item(DynamoType({"S": "key"}), None, attributes) for attributes in pages]
    result = {
        "Items": [item.attrs for item in items],
        "Count": len(items),
        "LastEvaluatedKey": {"pk": DynamoType({"S": "key"})},
        "Table": {"CreationDateTime": datetime(2026, 1, 1, tzinfo=UTC), "Item": items[:1]},
    }
    # repr as well as ==, which would take True for 1 and 1.0 for 1
    assert repr(plain_values(result)) == repr(dynamo_to_dict(result))
    assert plain_values(result) == dynamo_to_dict(result)
