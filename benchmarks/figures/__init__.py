"""The figures of the benchmark suite, one module each, found by name (see `benchmarks`)."""

from __future__ import annotations

import importlib
import math
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass, field
from types import ModuleType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from benchmarks.environment import Bench


@dataclass(frozen=True)
class Figure:
    """One measured figure beside its target; `passed` is None when there is nothing to judge."""

    name: str
    measured: str
    target: str
    passed: bool | None
    value: float | None = None
    detail: str = ""
    data: dict[str, Any] = field(default_factory=dict)

    @property
    def verdict(self) -> str:
        return {True: "PASS", False: "FAIL", None: "-"}[self.passed]

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "measured": self.measured,
            "value": self.value,
            "target": self.target,
            "verdict": self.verdict,
            "detail": self.detail,
            "data": self.data,
        }


def ratio(
    name: str,
    value: float,
    *,
    at_least: float | None = None,
    at_most: float | None = None,
    detail: str = "",
    data: dict[str, Any] | None = None,
    unit: str = "",
) -> Figure:
    """A figure judged against a floor or a ceiling (a NaN, from nothing measured, fails)."""
    if at_least is not None:
        target, passed = f">= {at_least:g}{unit}", value >= at_least
    elif at_most is not None:
        target, passed = f"<= {at_most:g}{unit}", value <= at_most
    else:
        target, passed = "-", None
    if math.isnan(value):
        passed = False if passed is not None else None
    return Figure(name, f"{value:.2f}{unit}", target, passed, value, detail, data or {})


def equal(
    name: str, first: float, second: float, *, detail: str = "", data: dict[str, Any] | None = None
) -> Figure:
    """A figure that must come out the same at two sizes."""
    measured = f"{first:g} vs {second:g}"
    return Figure(name, measured, "equal", first == second, second - first, detail, data or {})


Measure = Callable[["Bench"], list[Figure]]


def figure_modules() -> list[ModuleType]:
    """Every module of this package, in the order of its `ORDER`."""
    modules = [
        importlib.import_module(f"{__name__}.{info.name}")
        for info in pkgutil.iter_modules(__path__)
        if not info.name.startswith("_")
    ]
    return sorted(modules, key=lambda module: (module.ORDER, module.__name__))
