"""Expressions parsed once per text, not once per request.

An application sends the same few expressions over and over with different values: PynamoDB
writes `SET #0 = :0, #1 = :1 ADD #2 :2` for every like, whoever clicks. moto parses an
UpdateExpression twice per UpdateItem (once to list the names and values it uses, once to run
it), then deep-copies the tree so its validators can rewrite the copy, and lexes a
ConditionExpression character by character every time: together a third of the engine's work
on the app's like requests.

Here a parsed UpdateExpression is kept per text (with a pickled copy, which loads about twice
as fast as `copy.deepcopy` builds one), and a ConditionExpression's tokens are kept per text.
Nothing that depends on the item or the values is kept: values are substituted, and the item
is read, on every call, exactly as before; an expression that does not parse is parsed (and
refused) again each time. The kept trees are never handed to code that changes them: moto's
validators work on a copy, and the responses only read the tree.

moto's validators walk the tree ten times. The first three walks only check the text against
the attribute names and the table's key attributes (one SET, REMOVE, ADD and DELETE clause
each; no two paths overlapping; no key attribute updated), and either refuse the expression or
leave the tree as it was: a text that passed them with the same names and keys is not walked
by them again. One that was refused is checked (and refused) every time.
"""

from __future__ import annotations

import copy
import functools
import pickle
from collections import deque
from typing import Any

import moto.dynamodb.parsing.validators as validators
from moto.dynamodb.comparisons import ConditionExpressionParser
from moto.dynamodb.parsing.expressions import (  # type: ignore[attr-defined]
    UpdateExpressionParser,
)

KEPT_EXPRESSIONS = 1024  # distinct expression texts kept; an application uses a few dozen
_MARK = "_dynamodb_lab_kept_expressions"
_TEXT_CHECKS = (
    validators.ActionCountValidator,
    validators.OverlappingPathsValidator,
    validators.UpdateHashRangeKeyValidator,
)
_validator_init = validators.UpdateExpressionValidator.__init__
_parse_update = UpdateExpressionParser.make
_lex_condition = ConditionExpressionParser._lex_condition_expression

# id of a kept tree -> (the tree, its pickle, its text); the tree is held so its id is never
# reused while it is here.
_pickles: dict[int, tuple[Any, bytes, str]] = {}
# (text, names, table, key attributes) that passed the checks of the text alone
_checked: set[tuple[Any, ...]] = set()


@functools.lru_cache(maxsize=KEPT_EXPRESSIONS)
def _parsed_update(expression: str) -> Any:
    tree = _parse_update(expression)
    if len(_pickles) >= KEPT_EXPRESSIONS:  # the cache has let older trees go: start afresh
        _pickles.clear()
    _pickles[id(tree)] = (tree, pickle.dumps(tree, pickle.HIGHEST_PROTOCOL), expression)
    return tree


def parse_update(cls: type, expression: str) -> Any:
    """`UpdateExpressionParser.make`, kept per text (the tree must not be changed)."""
    return _parsed_update(expression)


def copy_tree(tree: Any, memo: dict[int, Any] | None = None) -> Any:
    """`copy.deepcopy` for moto's validators: a kept tree is loaded from its pickle."""
    kept = _pickles.get(id(tree))
    if kept is not None and kept[0] is tree:
        return pickle.loads(kept[1])  # noqa: S301 - our own bytes, made from moto's tree above
    return copy.deepcopy(tree, memo)


def _kept_text(tree: Any) -> str | None:
    kept = _pickles.get(id(tree))
    return kept[2] if kept is not None and kept[0] is tree else None


def validator_init(self: Any, expression: Any, *args: Any, **kwargs: Any) -> None:
    """`UpdateExpressionValidator.__init__`, noting the text of a kept tree."""
    self.kept_text = _kept_text(expression)
    _validator_init(self, expression, *args, **kwargs)


def validate(self: Any) -> Any:
    """`Validator.validate`, without the checks of the text alone once the same text, names
    and table have passed them."""
    processors = self.processors
    tree = self.node_to_validate
    checked: tuple[Any, ...] | None = None
    if self.kept_text is not None and tuple(map(type, processors[:3])) == _TEXT_CHECKS:
        names = self.expression_attribute_names or {}
        table = self.table
        key_attributes = tuple(table.table_key_attrs)
        checked = (self.kept_text, tuple(sorted(names.items())), table.name, key_attributes)
        if checked in _checked:
            processors = processors[3:]
            checked = None
    for done, processor in enumerate(processors, start=1):
        tree = processor.traverse(tree)
        if checked is not None and done == len(_TEXT_CHECKS):
            if len(_checked) >= 4 * KEPT_EXPRESSIONS:
                _checked.clear()
            _checked.add(checked)
    return tree


@functools.lru_cache(maxsize=KEPT_EXPRESSIONS)
def _condition_tokens(expression: str) -> tuple[Any, ...]:
    lexer = ConditionExpressionParser(expression, None, None)
    return tuple(_lex_condition(lexer))


def lex_condition(self: ConditionExpressionParser) -> deque[Any]:
    """`_lex_condition_expression`, kept per text; each call gets nodes of its own."""
    return deque(
        node._replace(children=[]) for node in _condition_tokens(self.condition_expression)
    )


def install() -> None:
    """Keep parsed expressions (idempotent)."""
    if getattr(UpdateExpressionParser, _MARK, False):
        return
    UpdateExpressionParser.make = classmethod(parse_update)
    validators.deepcopy = copy_tree  # type: ignore[attr-defined,assignment]
    validators.UpdateExpressionValidator.__init__ = validator_init  # type: ignore[method-assign]
    validators.UpdateExpressionValidator.validate = validate  # type: ignore[method-assign]
    ConditionExpressionParser._lex_condition_expression = lex_condition  # type: ignore[method-assign]
    setattr(UpdateExpressionParser, _MARK, True)
