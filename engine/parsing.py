"""moto's request parser, with what it looks up per value looked up once per shape.

moto turns each request's JSON into parameters by walking botocore's model of the operation:
for every value it builds the name of its handler (`f"_parse_{type_name}"`) and looks it up,
and for every structure (each DynamoDB AttributeValue is one) it visits all ten members of the
shape to find the one that is there. In a BatchWriteItem of 25 items that walk was a quarter of
the engine's time.

Here the handler of each (parser class, shape type) and the members of each structure shape
(name, name on the wire, shape) are kept after their first use. The walk itself is moto's,
step for step: the same members in the same order, `None` values left out, unknown keys
ignored, blobs decoded, so the parameters come out the same.
"""

from __future__ import annotations

from typing import Any

from moto.core.parse import BaseJSONParser

_MARK = "_dynamodb_lab_kept_shapes"
MOTO_PARSE_SHAPE = BaseJSONParser._parse_shape  # moto's own, for the equivalence test
MOTO_PARSE_STRUCTURE = BaseJSONParser._parse_structure

# (parser class, shape type name) -> the unbound handler moto's parser would look up
_handlers: dict[tuple[type, str], Any] = {}
# id(structure shape) -> (the shape, its members as (member name, name on the wire, shape))
_members: dict[int, tuple[Any, tuple[tuple[str, str, Any], ...]]] = {}


def _handler(parser_class: type[BaseJSONParser], type_name: str) -> Any:
    key = (parser_class, type_name)
    handler = _handlers.get(key)
    if handler is None:
        handler = getattr(parser_class, f"_parse_{type_name}", parser_class._default_handle)
        _handlers[key] = handler
    return handler


def parse_shape(self: BaseJSONParser, shape: Any, node: Any) -> Any:
    """`RequestParser._parse_shape` for JSON, with the handler kept per parser class and type."""
    return _handler(type(self), shape.type_name)(self, shape, node)


def _members_of(shape: Any) -> tuple[tuple[str, str, Any], ...]:
    kept = _members.get(id(shape))
    if kept is not None and kept[0] is shape:
        return kept[1]
    members = tuple(
        (name, member.serialization.get("name", name), member)
        for name, member in shape.members.items()
    )
    _members[id(shape)] = (shape, members)
    return members


def parse_structure(self: BaseJSONParser, shape: Any, value: Any) -> Any:
    """`BaseJSONParser._parse_structure`, with the members kept per shape."""
    if shape.is_document_type:
        return value
    if value is None:
        return None
    parsed = self.MAP_TYPE()
    parser_class = type(self)
    for member_name, json_name, member_shape in _members_of(shape):
        raw_value = value.get(json_name)
        if raw_value is not None:
            handler = _handler(parser_class, member_shape.type_name)
            parsed[member_name] = handler(self, member_shape, raw_value)
    return parsed


def install() -> None:
    """Keep handlers and structure members for the JSON protocols (idempotent)."""
    if getattr(BaseJSONParser, _MARK, False):
        return
    BaseJSONParser._parse_shape = parse_shape  # type: ignore[method-assign,assignment]
    BaseJSONParser._parse_structure = parse_structure  # type: ignore[method-assign]
    setattr(BaseJSONParser, _MARK, True)
