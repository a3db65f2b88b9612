"""DynamoDB's item-size and capacity-unit rules, the one place the app computes them.

The engine puts these figures into its responses (`engine/capacity.py`), the lens prices every
call and lab with them (`lens/capacity.py`), and the activity feed prices its pages: one rule,
one module, so "where is capacity computed?" has one answer.

The rules (AWS Developer Guide: "DynamoDB item sizes and formats", "Read and write operations")
* Item size = the sum, over its attributes, of the UTF-8 length of the name plus the size of the
  value. String: UTF-8 bytes. Number: about 1 byte per two significant digits, plus 1 (leading
  and trailing zeroes do not count; "about" is AWS's own word). Binary: raw bytes. Boolean and
  null: 1 byte. List and map: 3 bytes, plus 1 byte and the size of each element (a map element
  also counts its name). Set: the sum of its elements.
* Reads cost 1 unit per 4 KB (1 KB = 1,024 bytes), rounded up, at least one: strongly
  consistent 1 unit, eventually consistent half of that, transactional twice that. GetItem and
  BatchGetItem round every item separately; Query and Scan add up the size of every item they
  read (before any filter is applied) and round the sum once.
* Writes cost 1 unit per 1 KB, rounded up per item, at least one, doubled on the table in a
  transaction (every item of a transaction is written twice, to prepare and to commit it).

A value is DynamoDB's low-level form (`{"S": "..."}`, as boto3 and the wire carry it) or an
object with `type` and `value` (moto's stored `DynamoType`), so the engine sizes what it stores
without copying it into another form.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from typing import Any, Protocol

READ_UNIT_BYTES = 4 * 1024
WRITE_UNIT_BYTES = 1024
DOCUMENT_OVERHEAD_BYTES = 3
ELEMENT_OVERHEAD_BYTES = 1


class TypedValue(Protocol):
    """An attribute value held as an object: its DynamoDB type and its content."""

    type: str
    value: Any


AttributeValue = Mapping[str, Any] | TypedValue
Item = Mapping[str, Any]

_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")


# -- item size --------------------------------------------------------------------------------


def number_size(text: str) -> int:
    """About 1 byte per two significant digits, plus 1 byte."""
    match = _NUMBER.fullmatch(text.strip())
    if match is None:
        raise ValueError(f"not a DynamoDB number: {text!r}")
    significant = match.group(1).replace(".", "").strip("0")
    return math.ceil(len(significant) / 2) + 1


def _binary_size(value: Any) -> int:
    """Raw bytes: boto3 hands over bytes, a DynamoDB JSON file (and moto) may hold base64 text."""
    if isinstance(value, bytes | bytearray):
        return len(value)
    return len(value) * 3 // 4 - str(value).count("=", -2)


def _kind_and_content(value: AttributeValue) -> tuple[str, Any]:
    if isinstance(value, Mapping):
        ((kind, inner),) = value.items()
        return kind, inner
    return value.type, value.value


def value_size(value: AttributeValue) -> int:
    """The size of one attribute value."""
    kind, inner = _kind_and_content(value)
    if kind == "S":
        return len(inner.encode("utf-8"))
    if kind == "N":
        return number_size(str(inner))
    if kind == "B":
        return _binary_size(inner)
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "SS":
        return sum(len(element.encode("utf-8")) for element in inner)
    if kind == "NS":
        return sum(number_size(str(element)) for element in inner)
    if kind == "BS":
        return sum(_binary_size(element) for element in inner)
    if kind == "L":
        elements = [ELEMENT_OVERHEAD_BYTES + value_size(element) for element in inner]
        return DOCUMENT_OVERHEAD_BYTES + sum(elements)
    if kind == "M":
        return DOCUMENT_OVERHEAD_BYTES + sum(
            ELEMENT_OVERHEAD_BYTES + len(name.encode("utf-8")) + value_size(element)
            for name, element in inner.items()
        )
    raise ValueError(f"unknown DynamoDB type {kind!r}")


def item_size(item: Item) -> int:
    """Sum of attribute name lengths (UTF-8) and value sizes."""
    return sum(len(name.encode("utf-8")) + value_size(value) for name, value in item.items())


# -- units from sizes ---------------------------------------------------------------------------


def read_units(size: int, *, consistent: bool, transactional: bool = False) -> float:
    """One read of `size` bytes: 4 KB blocks (at least one), halved or doubled by the mode."""
    blocks = max(1, math.ceil(size / READ_UNIT_BYTES))
    if transactional:
        return 2.0 * blocks
    return float(blocks) if consistent else blocks / 2


def write_units(size: int, *, transactional: bool = False) -> float:
    """One write of `size` bytes: 1 KB blocks (at least one), doubled in a transaction."""
    blocks = max(1, math.ceil(size / WRITE_UNIT_BYTES))
    return 2.0 * blocks if transactional else float(blocks)


def query_read_units(sizes: Iterable[int], *, consistent: bool) -> float:
    """Query and Scan: the sizes of all items read are summed, then rounded up once."""
    return read_units(sum(sizes), consistent=consistent)


def batch_read_units(sizes: Iterable[int], *, consistent: bool) -> float:
    """BatchGetItem: every item is rounded up to 4 KB on its own, then the units are added."""
    return sum(read_units(size, consistent=consistent) for size in sizes)
