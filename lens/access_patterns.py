"""Access patterns, declared once next to the service method that serves each.

DynamoDB design starts from the list of questions the app asks. Each service method that talks
to DynamoDB is decorated with the pattern it serves; the design page, `manage.py describe` and
the tests all read this one registry, so the documentation cannot drift from the code.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

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
