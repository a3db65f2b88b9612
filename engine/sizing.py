"""moto's attribute size, the same numbers computed without copies (written against moto 5.2.5).

moto sizes an item (`Item.size()`, the sum of its attributes' `DynamoType.size()`) for the 1 MB
page limit of every Query and Scan, and again at every attribute a write stores (the 400 KB
check of `LimitedSizeDict`). `DynamoType.size()` wraps each member of a map or set in a new
`DynamoType` before sizing it, and wrapping a map or list copies everything beneath it, so a
nested attribute is copied once per level: sizing was a third of a 1,000-item Scan page's CPU.
`size` below walks the same values in the same order of tests (number, set, list, map, bool,
anything else as bytes) and gives the same number for every value, without the copies; a value
that is not a `DynamoType` where moto expects one is wrapped or asked, as moto does, so it
fails or succeeds as it would there.

A new item (`Item.__init__`, every put and every batched put) had the 400 KB check run once per
attribute, each time over every attribute set before: quadratic in the attributes, a fifth of
a BatchWriteItem's CPU. `new_item` below keeps a running sum instead and stops at the same
attribute with the same `ItemSizeTooLarge` (sizes are never negative, so the sum crosses the
limit exactly where moto's check first fails).

That running sum is the new item's `Item.size()`, and it is kept on the item (`page_size`):
Query and Scan pages size every item they visit for the 1 MB limit, and sizing was most of a
1,000-item Scan page's CPU. A kept size carries the item's write count; the index structures
count a write on every item changed in place (`written`, from `indexes.refresh`), so a kept
size is used only while the item is as it was when it was sized. A page that sized an item
while a write was changing it keeps its size under the old count, which no later page uses.

These are moto's sizes, not DynamoDB's documented item size (that is
`shared/capacity_rules.py`, which the capacity figures use).

Upstream shape: `DynamoType.size()` recursing into its members without re-wrapping them.
"""

from __future__ import annotations

from typing import Any

from moto.dynamodb.exceptions import ItemSizeTooLarge
from moto.dynamodb.models.dynamo_type import DynamoType, Item, LimitedSizeDict
from moto.dynamodb.models.utilities import bytesize

_SETS = frozenset({"SS", "NS", "BS"})
_MARK = "_dynamodb_lab_size"
_WRITES = "_dynamodb_lab_writes"  # on an item: writes that changed it in place
_SIZED = "_dynamodb_lab_sized"  # on an item: (its writes then, its size)
STOCK = DynamoType.size  # moto's own, which the unit tests hold `size` equal to
STOCK_NEW_ITEM = Item.__init__
MOTO_ITEM_LIMIT = 405_000
"""The bytes `LimitedSizeDict` allows (moto's own number, between DynamoDB's 400 KB and what
moto's authors measured AWS accepting)."""


def size(value: DynamoType) -> int:
    """`value.size()` as moto 5.2.5 computes it."""
    return _size(value, copied=False)


def _size(value: DynamoType, *, copied: bool) -> int:
    """`copied`: moto would be sizing its copy of `value` (made under a map), in which every
    member of a list or map is a `DynamoType`."""
    kind, inner = value.type, value.value
    if kind == "N":
        return len(str(inner))
    if kind in _SETS:
        if kind == "NS":
            return sum(len(str(member)) for member in inner)
        return sum(_scalar(member) for member in inner)
    if kind == "L":
        if copied:
            return sum(_size(_wrapped(e), copied=True) for e in inner)
        return sum(_size(e, copied=False) if type(e) is DynamoType else e.size() for e in inner)
    if kind == "M":
        return sum(bytesize(k) + _size(_wrapped(v), copied=True) for k, v in inner.items())
    return _scalar(inner)


def _scalar(inner: Any) -> int:
    return 1 if isinstance(inner, bool) else bytesize(inner)


def _wrapped(member: Any) -> DynamoType:
    """A map member as moto's `DynamoType(member)` sees it (a copy only when it is not one)."""
    return member if type(member) is DynamoType else DynamoType(member)


def new_item(
    self: Item, hash_key: DynamoType, range_key: DynamoType | None, attrs: dict[str, Any]
) -> None:
    """moto's `Item.__init__` with the 400 KB check made once per attribute, not per prefix."""
    self.hash_key = hash_key
    self.range_key = range_key
    checked = LimitedSizeDict()
    total = 0
    for key, value in attrs.items():
        typed = DynamoType(value)
        total += bytesize(key) + typed.size()
        if total > MOTO_ITEM_LIMIT:
            raise ItemSizeTooLarge
        dict.__setitem__(checked, key, typed)
    self.attrs = checked
    self.__dict__[_SIZED] = (0, total)


def page_size(item: Item) -> int:
    """`item.size()`, as kept on the item since its last write, else sized and kept now."""
    kept = item.__dict__
    writes = kept.get(_WRITES, 0)
    sized = kept.get(_SIZED)
    if sized is not None and sized[0] == writes:
        return int(sized[1])
    size = int(item.size())
    kept[_SIZED] = (writes, size)
    return size


def written(item: Item) -> None:
    """`item` was changed in place: a size kept before no longer holds."""
    item.__dict__[_WRITES] = item.__dict__.get(_WRITES, 0) + 1


def install() -> None:
    """Patch DynamoType.size and Item.__init__ (idempotent)."""
    if getattr(DynamoType, _MARK, False):
        return
    DynamoType.size = size  # type: ignore[method-assign,assignment]
    Item.__init__ = new_item  # type: ignore[method-assign]
    setattr(DynamoType, _MARK, True)
