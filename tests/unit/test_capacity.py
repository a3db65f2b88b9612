"""Capacity computed from DynamoDB's documented rules, checked against AWS's own examples.

Sources: AWS Developer Guide, "DynamoDB item sizes and formats" and "DynamoDB read and write
operations" (the KB figures below are the guide's; 1 KB = 1,024 bytes).
"""

from __future__ import annotations

import base64

import pytest

from lens.capacity import (
    IndexSchema,
    Precision,
    TableSchema,
    computed,
    format_units,
    reported,
    updated_attributes,
)
from shared.capacity_rules import (
    batch_read_units,
    item_size,
    number_size,
    query_read_units,
    read_units,
    write_units,
)

KB = 1024


def item_of_size(size: int, key: str = "k1", **extra: dict) -> dict:  # type: ignore[type-arg]
    """An item of exactly `size` bytes: `pk` (2 + len(key)) plus a padding string."""
    item = {"pk": {"S": key}, **extra}
    used = item_size(item) + len("pad")
    return {**item, "pad": {"S": "x" * (size - used)}}


# -- item size ---------------------------------------------------------------------------------


def test_string_size_is_utf8_bytes_of_name_and_value() -> None:
    assert item_size({"name": {"S": "Jane"}}) == 4 + 4
    assert item_size({"名前": {"S": "太郎"}}) == 6 + 6


@pytest.mark.parametrize(
    ("number", "size"),
    [
        ("12345", 4),  # 5 significant digits: 3 bytes + 1
        ("1000", 2),  # trailing zeroes are trimmed: "1"
        ("0.00120", 2),  # leading and trailing zeroes too: "12"
        ("-7", 2),
        ("0", 1),
        ("12345678901234567890123456789012345678", 20),  # 38 digits, the maximum
    ],
)
def test_number_size_is_one_byte_per_two_significant_digits_plus_one(
    number: str, size: int
) -> None:
    assert number_size(number) == size


def test_not_a_number_is_refused() -> None:
    with pytest.raises(ValueError, match="not a DynamoDB number"):
        number_size("twelve")


def test_binary_counts_raw_bytes_whether_given_as_bytes_or_base64() -> None:
    raw = bytes(range(10))
    assert item_size({"b": {"B": raw}}) == 1 + 10
    assert item_size({"b": {"B": base64.b64encode(raw).decode()}}) == 1 + 10


def test_boolean_and_null_are_one_byte() -> None:
    assert item_size({"ok": {"BOOL": True}, "gone": {"NULL": True}}) == (2 + 1) + (4 + 1)


def test_list_and_map_cost_three_bytes_plus_one_per_element() -> None:
    assert item_size({"l": {"L": []}}) == 1 + 3
    assert item_size({"l": {"L": [{"S": "ab"}, {"N": "1"}]}}) == 1 + 3 + (1 + 2) + (1 + 2)
    assert item_size({"m": {"M": {"k": {"S": "v"}}}}) == 1 + 3 + (1 + 1 + 1)


def test_sets_are_the_sum_of_their_elements() -> None:
    assert item_size({"tags": {"SS": ["a", "bc"]}}) == 4 + 3
    assert item_size({"ns": {"NS": ["1", "12345"]}}) == 2 + (1 + 1) + (3 + 1)


# -- read and write units: the guide's examples ------------------------------------------------


def test_a_3500_byte_read_costs_the_same_as_a_4_kb_read() -> None:
    assert read_units(3500, consistent=True) == read_units(4 * KB, consistent=True) == 1.0


def test_an_8_kb_item_costs_2_strong_1_eventual_4_transactional_read_units() -> None:
    assert read_units(8 * KB, consistent=True) == 2.0
    assert read_units(8 * KB, consistent=False) == 1.0
    assert read_units(8 * KB, consistent=True, transactional=True) == 4.0


def test_get_item_rounds_10_kb_up_to_12_kb() -> None:
    assert read_units(10 * KB, consistent=True) == 3.0
    assert read_units(10 * KB, consistent=False) == 1.5


def test_batch_get_rounds_each_item_so_1_5_kb_and_6_5_kb_cost_12_kb_not_8() -> None:
    sizes = [int(1.5 * KB), int(6.5 * KB)]
    assert batch_read_units(sizes, consistent=True) == 3.0
    assert query_read_units(sizes, consistent=True) == 2.0


def test_query_of_10_items_totalling_40_8_kb_is_rounded_once_to_44_kb() -> None:
    sizes = [int(40.8 * KB / 10)] * 10
    assert query_read_units(sizes, consistent=True) == 11.0
    assert query_read_units(sizes, consistent=False) == 5.5


def test_query_of_1500_items_of_64_bytes_reads_96_kb() -> None:
    assert query_read_units([64] * 1500, consistent=True) == 24.0


def test_reading_nothing_still_costs_the_minimum() -> None:
    assert read_units(0, consistent=False) == 0.5
    assert query_read_units([], consistent=True) == 1.0


def test_writes_are_1_kb_units_per_item_doubled_in_transactions() -> None:
    assert write_units(500) == 1.0
    assert write_units(int(3.5 * KB)) == 4.0
    assert write_units(int(3.5 * KB), transactional=True) == 8.0


def test_units_are_shown_without_trailing_zeroes() -> None:
    assert [format_units(x) for x in (1.0, 0.5, 5.5, 0.0, 11.0)] == ["1", "0.5", "5.5", "0", "11"]


# -- whole calls: request + response -> units ------------------------------------------------

TYPE_INDEX = IndexSchema(name="TypeIndex", hash_key="kind", range_key="at", projection="ALL")
SKINNY_INDEX = IndexSchema(
    name="SkinnyIndex", hash_key="owner", projection="INCLUDE", non_key_attributes=("title",)
)
SCHEMA = TableSchema(hash_key="pk", indexes=(TYPE_INDEX, SKINNY_INDEX))


def schemas(table: str) -> TableSchema | None:
    return SCHEMA if table == "things" else None


def test_get_item_of_3_5_kb_eventually_consistent_costs_half_a_unit() -> None:
    units = computed(
        "GetItem", {"TableName": "things"}, {"Item": item_of_size(int(3.5 * KB))}, schemas=schemas
    )
    assert (units.read, units.write, units.precision) == (0.5, 0.0, Precision.EXACT)
    assert units.by_target == {"things": 0.5}


def test_get_item_with_a_projection_is_a_lower_bound() -> None:
    params = {"TableName": "things", "ProjectionExpression": "pk"}
    units = computed("GetItem", params, {"Item": {"pk": {"S": "a"}}})
    assert units.precision is Precision.AT_LEAST


def test_query_on_an_index_charges_the_index() -> None:
    items = [item_of_size(1000, key=str(i)) for i in range(9)]
    params = {"TableName": "things", "IndexName": "TypeIndex"}
    units = computed("Query", params, {"Items": items, "Count": 9, "ScannedCount": 9})
    assert units.by_target == {"things/TypeIndex": 1.5}  # 9,000 bytes -> 3 blocks, halved


def test_query_filtered_items_are_estimated_from_those_returned() -> None:
    items = [item_of_size(2 * KB, key=str(i)) for i in range(2)]
    response = {"Items": items, "Count": 2, "ScannedCount": 6}
    units = computed("Query", {"TableName": "things", "ConsistentRead": True}, response)
    assert units.read == 3.0  # 6 items read x 2 KB = 12 KB
    assert units.precision is Precision.ESTIMATE


def test_scan_that_filtered_everything_out_is_a_lower_bound() -> None:
    units = computed("Scan", {"TableName": "things"}, {"Items": [], "Count": 0, "ScannedCount": 50})
    assert units.read == 0.5 and units.precision is Precision.AT_LEAST


def test_batch_get_counts_missing_keys_at_the_minimum() -> None:
    params = {
        "RequestItems": {"things": {"Keys": [{"pk": {"S": "a"}}, {"pk": {"S": "b"}}]}},
    }
    response = {"Responses": {"things": [item_of_size(int(6.5 * KB))]}}
    assert computed("BatchGetItem", params, response).read == 1.0 + 0.5


def test_put_of_a_new_item_is_exact_and_writes_each_index_it_belongs_to() -> None:
    item = item_of_size(1500, kind={"S": "like"}, at={"S": "2026"}, owner={"S": "u1"})
    params = {
        "TableName": "things",
        "Item": item,
        "ConditionExpression": "attribute_not_exists (#0)",
        "ExpressionAttributeNames": {"#0": "pk"},
    }
    units = computed("PutItem", params, {}, schemas=schemas)
    assert units.precision is Precision.EXACT
    assert units.by_target == {
        "things": 2.0,  # 1,500 bytes
        "things/TypeIndex": 2.0,  # ALL: the whole item again
        "things/SkinnyIndex": 1.0,  # keys only (title is absent): a few bytes
    }


def test_put_without_the_index_key_skips_the_sparse_index() -> None:
    params = {
        "TableName": "things",
        "Item": item_of_size(100),
        "ConditionExpression": "attribute_not_exists(pk)",
    }
    assert computed("PutItem", params, {}, schemas=schemas).by_target == {"things": 1.0}


def test_put_that_may_replace_an_item_is_a_lower_bound() -> None:
    params = {"TableName": "things", "Item": item_of_size(100)}
    assert computed("PutItem", params, {}, schemas=schemas).precision is Precision.AT_LEAST


def test_update_with_all_new_is_sized_by_the_new_item_but_the_old_is_unknown() -> None:
    new_item = item_of_size(int(2.5 * KB), kind={"S": "like"}, at={"S": "1"})
    params = {
        "TableName": "things",
        "UpdateExpression": "SET #c = if_not_exists(#c, :zero) + :one",
        "ExpressionAttributeNames": {"#c": "pad"},
        "ReturnValues": "ALL_NEW",
    }
    units = computed("UpdateItem", params, {"Attributes": new_item}, schemas=schemas)
    assert units.write == 3.0 + 3.0  # the table, and TypeIndex (projects ALL, item has its key)
    assert units.precision is Precision.AT_LEAST


def test_update_without_the_new_image_is_one_unit_at_least() -> None:
    units = computed("UpdateItem", {"TableName": "things", "ReturnValues": "NONE"}, {})
    assert (units.write, units.precision) == (1.0, Precision.AT_LEAST)


def test_updated_attributes_are_read_from_every_clause() -> None:
    params = {
        "UpdateExpression": "SET #a = list_append(#a, :x), b.c = :y ADD #n :one REMOVE d[0]",
        "ExpressionAttributeNames": {"#a": "tags", "#n": "count"},
    }
    assert updated_attributes(params) == {"tags", "b", "count", "d"}


def test_delete_with_all_old_is_sized_by_the_deleted_item() -> None:
    old = item_of_size(int(1.5 * KB), owner={"S": "u1"})
    params = {"TableName": "things", "ReturnValues": "ALL_OLD"}
    units = computed("DeleteItem", params, {"Attributes": old}, schemas=schemas)
    assert units.by_target == {"things": 2.0, "things/SkinnyIndex": 1.0}
    assert units.precision is Precision.EXACT


def test_transactions_double_every_write() -> None:
    params = {
        "TransactItems": [
            {
                "Put": {
                    "TableName": "other",
                    "Item": item_of_size(int(1.5 * KB)),
                    "ConditionExpression": "attribute_not_exists(pk)",
                }
            },
            {"Update": {"TableName": "other", "Key": {"pk": {"S": "a"}}}},
        ]
    }
    units = computed("TransactWriteItems", params, {})
    assert units.write == 4.0 + 2.0
    assert units.precision is Precision.AT_LEAST


def test_a_condition_check_is_billed_as_a_transactional_write_not_a_read() -> None:
    """AWS's guide does not say; measurements against DynamoDB bill it as a transactional write."""
    params = {
        "TransactItems": [
            {"ConditionCheck": {"TableName": "other", "Key": {"pk": {"S": "a"}}}},
        ]
    }
    units = computed("TransactWriteItems", params, {})
    assert units.write == 2.0 and units.read == 0
    assert units.precision is Precision.AT_LEAST


def test_a_failed_condition_still_costs_a_write() -> None:
    units = computed("PutItem", {"TableName": "things"}, None, succeeded=False)
    assert units.write == 1.0 and units.precision is Precision.AT_LEAST


def test_control_plane_calls_cost_nothing() -> None:
    assert computed("DescribeTable", {"TableName": "things"}, {}).total == 0


# -- what the engine reported ------------------------------------------------------------------


def test_reported_capacity_is_split_by_table_and_index() -> None:
    response = {
        "ConsumedCapacity": {
            "TableName": "things",
            "CapacityUnits": 1.5,
            "Table": {"CapacityUnits": 0.0},
            "GlobalSecondaryIndexes": {"TypeIndex": {"CapacityUnits": 1.5}},
        }
    }
    units = reported("Query", response)
    assert units is not None
    assert (units.read, units.write) == (1.5, 0.0)
    assert units.by_target == {"things": 0.0, "things/TypeIndex": 1.5}


def test_reported_capacity_of_a_batch_is_summed_over_tables() -> None:
    response = {
        "ConsumedCapacity": [
            {"TableName": "a", "CapacityUnits": 2.0},
            {"TableName": "b", "CapacityUnits": 1.0},
        ]
    }
    units = reported("BatchWriteItem", response)
    assert units is not None and units.write == 3.0 and units.by_target == {"a": 2.0, "b": 1.0}


def test_no_consumed_capacity_means_nothing_reported() -> None:
    assert reported("TransactWriteItems", {}) is None
