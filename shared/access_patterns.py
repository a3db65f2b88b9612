"""Access patterns, declared once next to the service method that serves each.

DynamoDB design starts from the list of questions the app asks. Each service method that talks
to DynamoDB is decorated with the pattern it serves; the design page, `manage.py describe` and
the tests all read this one registry, so the documentation cannot drift from the code.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import IO, Any, TypeVar

from babel.messages.extract import extract_python
from pynamodb.models import Model

F = TypeVar("F", bound=Callable[..., Any])


@dataclass(frozen=True)
class AccessPattern:
    name: str
    model: type[Model]
    operation: str
    key: str
    index: str | None = None
    page: str | None = None
    notes: str = ""
    function: str = ""

    @property
    def table(self) -> str:
        return self.model.Meta.base_table_name  # type: ignore[attr-defined,no-any-return]


_patterns: list[AccessPattern] = []


def access_pattern(
    *,
    name: str,
    model: type[Model],
    operation: str,
    key: str,
    index: str | None = None,
    page: str | None = None,
    notes: str = "",
) -> Callable[[F], F]:
    """Declare that the decorated function serves this access pattern (it is not wrapped).

    `operation` is the DynamoDB call (Query, GetItem, UpdateItem, BatchGetItem, Scan ...);
    `key` the key condition in readable form; `index` the GSI name when it is not the table;
    `page` a URL where the learner can run it.
    """

    def decorate(func: F) -> F:
        pattern = AccessPattern(
            name=name,
            model=model,
            operation=operation,
            key=key,
            index=index,
            page=page,
            notes=notes,
            function=f"{func.__module__}.{func.__qualname__}",
        )
        if pattern not in _patterns:
            _patterns.append(pattern)
        return func

    return decorate


def access_patterns() -> list[AccessPattern]:
    return list(_patterns)


TRANSLATED_FIELDS = ("name", "notes")
"""What the pages show of a pattern in the learner's language: the question and the note."""


def extract_messages(
    fileobj: IO[bytes], keywords: Any, comment_tags: Any, options: dict[str, Any]
) -> Iterator[Any]:
    """A Babel extractor for service modules (see babel.cfg): their `_()` strings, plus the
    `name` and `notes` of every `@access_pattern`, which the pages translate when they show them.
    The declarations stay plain strings in English, the registry's identity."""
    source = fileobj.read()
    fileobj.seek(0)
    yield from extract_python(fileobj, keywords, comment_tags, options)  # type: ignore[arg-type]
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "access_pattern":
            for keyword in node.keywords:
                text = getattr(keyword.value, "value", None)
                if keyword.arg in TRANSLATED_FIELDS and isinstance(text, str) and text:
                    yield keyword.value.lineno, None, text, []
