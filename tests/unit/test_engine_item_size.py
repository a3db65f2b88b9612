"""The kernel's item-size rule sizes moto's stored items and boto3's items alike.

One documented rule (`shared/capacity_rules.py`) serves the engine, which sizes the items moto
stores, and the lens, which sizes the items boto3 hands back. Random items of every attribute
type must get the same size in both forms, or the inspector's "reported" and "computed" columns
would drift apart.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from moto.dynamodb.models.dynamo_type import DynamoType, Item

from engine import capacity as engine_capacity
from engine import sizing
from shared.capacity_rules import item_size

names = st.text(min_size=1, max_size=6)
numbers = st.decimals(
    min_value=Decimal("-1e20"), max_value=Decimal("1e20"), allow_nan=False, places=4
).map(lambda d: str(d.normalize()) if d else "0")
scalars = st.one_of(
    st.text(max_size=8).map(lambda s: {"S": s}),
    numbers.map(lambda n: {"N": n}),
    st.binary(max_size=8).map(lambda b: {"B": b}),
    st.booleans().map(lambda b: {"BOOL": b}),
    st.just({"NULL": True}),
    st.lists(st.text(max_size=4), min_size=1, max_size=3, unique=True).map(lambda v: {"SS": v}),
    st.lists(numbers, min_size=1, max_size=3, unique=True).map(lambda v: {"NS": v}),
    st.lists(st.binary(max_size=4), min_size=1, max_size=3, unique=True).map(lambda v: {"BS": v}),
)
values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3).map(lambda v: {"L": v}),
        st.dictionaries(names, inner, max_size=3).map(lambda v: {"M": v}),
    ),
    max_leaves=8,
)


@settings(max_examples=150, deadline=None)
@given(attributes=st.dictionaries(names, values, min_size=1, max_size=6))
def test_engine_and_lens_size_every_item_alike(attributes: dict[str, Any]) -> None:
    stored = Item(DynamoType({"S": "key"}), None, attributes)
    assert engine_capacity.stored_size(stored) == item_size(attributes)


def test_sizes_follow_the_documented_rule() -> None:
    item = {
        "name": {"S": "ab"},  # 4 + 2
        "count": {"N": "12345"},  # 5 + 3 significant-digit pairs + 1 = 5 + 4
        "tags": {"L": [{"S": "x"}, {"BOOL": True}]},  # 4 + 3 + (1 + 1) + (1 + 1)
    }
    stored = Item(DynamoType({"S": "key"}), None, item)
    assert engine_capacity.stored_size(stored) == 6 + 9 + 11


def _moto_sizes(stored: Item) -> list[int]:
    """Each attribute's size by moto's own method, itself and its members unpatched."""
    patched = DynamoType.size
    DynamoType.size = sizing.STOCK  # type: ignore[method-assign]
    try:
        return [value.size() for value in stored.attrs.values()]
    finally:
        DynamoType.size = patched  # type: ignore[method-assign]


@settings(max_examples=200, deadline=None)
@given(attributes=st.dictionaries(names, values, min_size=1, max_size=6))
def test_the_engine_sizes_every_attribute_as_moto_does(attributes: dict[str, Any]) -> None:
    stored = Item(DynamoType({"S": "key"}), None, attributes)
    assert [sizing.size(value) for value in stored.attrs.values()] == _moto_sizes(stored)


def test_a_member_left_unwrapped_is_sized_as_moto_sizes_it() -> None:
    """Under a map moto sizes a wrapped copy; a list's members it asks for their own size."""
    nested = DynamoType({"M": {"l": {"L": [{"S": "ab"}]}}})
    nested.value["l"].value.append({"N": "123"})  # a raw member, as a careless update leaves it
    stored = Item(DynamoType({"S": "key"}), None, {})
    dict.__setitem__(stored.attrs, "m", nested)
    assert [sizing.size(nested)] == _moto_sizes(stored)
    listed = DynamoType({"L": [{"S": "ab"}]})
    listed.value.append({"N": "1"})
    with pytest.raises(AttributeError):
        sizing.size(listed)
    dict.__setitem__(stored.attrs, "m", listed)
    with pytest.raises(AttributeError):
        _moto_sizes(stored)


def _ours(attributes: dict[str, Any]) -> Item:
    item = Item.__new__(Item)
    sizing.new_item(item, DynamoType({"S": "key"}), None, attributes)
    return item


def _stock_item(attributes: dict[str, Any]) -> Item:
    item = Item.__new__(Item)
    sizing.STOCK_NEW_ITEM(item, DynamoType({"S": "key"}), None, attributes)
    return item


@settings(max_examples=150, deadline=None)
@given(attributes=st.dictionaries(names, values, min_size=0, max_size=8))
def test_a_new_item_holds_what_moto_s_own_constructor_holds(attributes: dict[str, Any]) -> None:
    ours, stock = _ours(attributes), _stock_item(attributes)
    assert type(ours.attrs) is type(stock.attrs)
    assert list(ours.attrs.items()) == list(stock.attrs.items())


@settings(max_examples=150, deadline=None)
@given(
    attributes=st.dictionaries(names, values, min_size=0, max_size=8),
    changed=st.dictionaries(names, values, min_size=1, max_size=3),
)
def test_the_size_kept_for_pages_is_moto_s_own_until_the_item_changes(
    attributes: dict[str, Any], changed: dict[str, Any]
) -> None:
    """A new item's kept size is what moto's `Item.size()` says; after a change in place that
    is counted (`written`), the size is taken afresh; one that is not counted keeps the old."""
    item = _ours(attributes)
    assert sizing.page_size(item) == item.size() == _stock_item(attributes).size()
    before = sizing.page_size(item)
    for name, value in changed.items():
        item.attrs[name] = DynamoType(value)
    assert sizing.page_size(item) == before  # not counted yet: the kept size stands
    sizing.written(item)
    assert sizing.page_size(item) == item.size() == _stock_item({**attributes, **changed}).size()


@pytest.mark.parametrize("over", [-1, 0, 1])
def test_a_new_item_is_refused_at_moto_s_limit_exactly_where_moto_refuses_it(over: int) -> None:
    """Two attributes whose sizes sum to the limit plus `over` bytes: refused only past it, and
    with the same exception, by both."""
    first = {"a": {"S": "x" * 200_000}}
    rest = sizing.MOTO_ITEM_LIMIT - (1 + 200_000) - 1 + over
    attributes = {**first, "b": {"S": "y" * rest}}
    outcomes = []
    for build in (
        lambda: _ours(attributes),
        lambda: _stock_item(attributes),
    ):
        try:
            build()
            outcomes.append("stored")
        except Exception as error:  # noqa: BLE001 - the type is what is compared
            outcomes.append(type(error).__name__)
    assert outcomes[0] == outcomes[1] == ("ItemSizeTooLarge" if over > 0 else "stored")
