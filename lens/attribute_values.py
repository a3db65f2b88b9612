"""Attribute values between people and DynamoDB: parsed by the attribute's declared type,
shown short, sorted the way DynamoDB sorts keys.

A value typed into the builder or a URL becomes DynamoDB JSON (`{"N": "42"}`) only when it parses
as the type the model classes declare, so a bad value is a readable 4xx before any request.
"""

from __future__ import annotations

import base64
import binascii
import json
from decimal import Decimal, InvalidOperation
from typing import Any

from shared.errors import InvalidInput
from shared.i18n import gettext as _

AttributeValue = dict[str, Any]
Item = dict[str, AttributeValue]
MAX_NUMBER_DIGITS = 38
SHOWN_VALUE_CHARS = 80


def parse_value(text: Any, dynamodb_type: str, attribute: str) -> AttributeValue:
    """A value typed by the learner, as the attribute's DynamoDB type, or InvalidInput."""
    raw = text if isinstance(text, str) else str(text)
    _refuse_unencodable(raw, attribute)
    if dynamodb_type == "S":
        if raw == "":
            raise InvalidInput(
                _("{attribute} is a string key: it cannot be empty.").format(attribute=attribute)
            )
        return {"S": raw}
    if dynamodb_type == "N":
        return {"N": _number(raw.strip(), attribute)}
    if dynamodb_type == "B":
        try:
            base64.b64decode(raw, validate=True)
        except (binascii.Error, ValueError):
            raise InvalidInput(
                _("{attribute} is binary: give its value in base64.").format(attribute=attribute)
            ) from None
        return {"B": raw}
    if dynamodb_type == "BOOL":
        if raw.lower() not in ("true", "false"):
            raise InvalidInput(
                _("{attribute} is a boolean: true or false, not {raw!r}.").format(
                    attribute=attribute, raw=raw
                )
            )
        return {"BOOL": raw.lower() == "true"}
    raise InvalidInput(
        _("{attribute} is of type {dynamodb_type}: the explorer cannot compare it.").format(
            attribute=attribute, dynamodb_type=dynamodb_type
        )
    )


def _refuse_unencodable(raw: str, attribute: str) -> None:
    """A lone surrogate passes JSON decoding and explodes inside boto3: refuse it here."""
    try:
        raw.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidInput(
            _("The value of {attribute} is not valid text.").format(attribute=attribute)
        ) from None


def _number(raw: str, attribute: str) -> str:
    try:
        number = Decimal(raw)
    except InvalidOperation:
        raise InvalidInput(
            _("{attribute} is a number: {raw!r} is not one.").format(attribute=attribute, raw=raw)
        ) from None
    if not number.is_finite():
        raise InvalidInput(
            _("{attribute} is a number: {raw!r} is not a finite one.").format(
                attribute=attribute, raw=raw
            )
        )
    if len(number.as_tuple().digits) > MAX_NUMBER_DIGITS:
        raise InvalidInput(
            _("{attribute}: DynamoDB numbers have at most 38 significant digits.").format(
                attribute=attribute
            )
        )
    return raw


def scalar_text(value: AttributeValue) -> str:
    """A key value as text: what a URL or a cursor carries."""
    ((kind, inner),) = value.items()
    return inner if kind in ("S", "N", "B") else json.dumps(inner)


def display_value(value: AttributeValue) -> str:
    """A short, readable form of any attribute value."""
    ((kind, inner),) = value.items()
    if kind in ("S", "N"):
        text = str(inner)
    elif kind == "BOOL":
        text = "true" if inner else "false"
    elif kind == "NULL":
        text = "null"
    elif kind == "B":
        text = f"<{len(inner)} bytes>"
    else:
        text = json.dumps(inner, ensure_ascii=False, default=str)
    return text if len(text) <= SHOWN_VALUE_CHARS else text[: SHOWN_VALUE_CHARS - 1] + "…"


def sort_value(value: AttributeValue | None) -> tuple[int, Any]:
    """DynamoDB's order: numbers by value, strings by their UTF-8 bytes (= code points)."""
    if value is None:
        return (0, "")
    ((kind, inner),) = value.items()
    return (1, Decimal(inner)) if kind == "N" else (2, str(inner))


def pretty_json(value: Any) -> str:
    """DynamoDB JSON (an item, a request) for people: indented, in the order it was built."""
    return json.dumps(value, indent=2, ensure_ascii=False, default=str)
