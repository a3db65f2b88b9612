"""The engine's item responses: the JSON moto's shape walk would write, written faster."""

from __future__ import annotations

import json
from types import SimpleNamespace
from typing import Any

from moto.core.utils import get_service_model

from engine.serialization import item_response


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
