"""What a lab is: its options, what it proves and mirrors, how it runs and how its results read.

A lab module defines one `Lab`: an options dataclass (each field an `option`, so the CLI, the
web form and the validation share one description), a `run` function that measures on the
tables a `LabContext` gives it and returns the result as plain JSON-ready data, and a `view`
function that turns that result into what a person reads: a chart, tables and the sentence
saying what the figures show.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from shared.errors import InvalidInput
from shared.i18n import gettext as _

if TYPE_CHECKING:
    from lens.labs.charts import Chart
    from lens.labs.context import LabContext

Result = dict[str, Any]


@dataclass(frozen=True)
class OptionSpec:
    """One option of a lab: its flag, its label on the web form and its bounds."""

    flag: str
    label: str
    low: int
    high: int
    help: str = ""


def option(default: Any, flag: str, label: str, low: int, high: int, help: str = "") -> Any:
    """A dataclass field carrying its `OptionSpec` (a list default for `--sizes`)."""
    spec = OptionSpec(flag, label, low, high, help)
    if isinstance(default, list):
        return field(default_factory=lambda: list(default), metadata={"option": spec})
    return field(default=default, metadata={"option": spec})


def option_specs(options_class: type) -> list[tuple[str, OptionSpec, Any]]:
    """(field name, spec, default) for every option of a lab, in declaration order."""
    defaults = options_class()
    return [
        (f.name, f.metadata["option"], getattr(defaults, f.name))
        for f in dataclasses.fields(options_class)
    ]


def parse_int_list(text: str, *, flag: str) -> list[int]:
    """`"1000, 5000"` -> [1000, 5000]; anything else is a readable 422."""
    parts = [part.strip().replace("_", "") for part in text.split(",") if part.strip()]
    if not parts or not all(part.isdigit() for part in parts):
        raise InvalidInput(
            _("{flag} takes whole numbers separated by commas.").format(flag=flag), field=flag
        )
    return [int(part) for part in parts]


def build_options(options_class: type, raw: Mapping[str, Any]) -> Any:
    """The options from form fields or CLI values (text or numbers), checked against their
    bounds; an unknown or out-of-range value is an `InvalidInput` naming the option."""
    known = {name: (spec, default) for name, spec, default in option_specs(options_class)}
    unknown = sorted(set(raw) - set(known))
    if unknown:
        raise InvalidInput(
            _("Unknown option(s) for this lab: {value}.").format(value=", ".join(unknown))
        )
    values: dict[str, Any] = {}
    for name, value in raw.items():
        spec, default = known[name]
        values[name] = _checked(spec, default, value)
    return options_class(**values)


def _checked(spec: OptionSpec, default: Any, value: Any) -> Any:
    if isinstance(default, list):
        numbers = value if isinstance(value, list) else parse_int_list(str(value), flag=spec.flag)
        if not 1 <= len(numbers) <= 6:
            raise InvalidInput(
                _("{flag} takes one to six values.").format(flag=spec.flag), field=spec.flag
            )
        for number in numbers:
            _in_range(spec, number)
        return sorted(set(numbers))
    text = str(value).strip()
    if not text.isdigit():
        raise InvalidInput(
            _("{flag} must be a whole number.").format(flag=spec.flag), field=spec.flag
        )
    return _in_range(spec, int(text))


def _in_range(spec: OptionSpec, number: int) -> int:
    if not spec.low <= number <= spec.high:
        raise InvalidInput(
            _("{flag} must be between {low:,} and {high:,} (got {number:,}).").format(
                flag=spec.flag, low=spec.low, high=spec.high, number=number
            ),
            field=spec.flag,
        )
    return number


@dataclass(frozen=True)
class Mirror:
    """Where the lesson lives in the app: a model class or a service function (dotted name)."""

    kind: str  # "model" or "service"
    name: str
    why: str


@dataclass(frozen=True)
class ResultTable:
    """A table of figures, drawn by the CLI (rich) and the page (HTML) alike."""

    title: str
    columns: Sequence[str]
    rows: Sequence[Sequence[str]]
    note: str = ""


@dataclass(frozen=True)
class LabView:
    """What a person reads of a result."""

    shows: str
    chart: Chart
    tables: Sequence[ResultTable]


@dataclass(frozen=True)
class Lab:
    name: str
    title: str
    proves: str
    lesson: str
    mirrors: Sequence[Mirror]
    pages: Sequence[str]
    options: type
    run: Callable[[LabContext, Any], Result]
    view: Callable[[Result], LabView]
    engine_options: Callable[[Any], dict[str, Any]] = lambda _options: {}
    elsewhere: Callable[[Any], Sequence[str]] = lambda _options: ()
    """What an engine other than the private one cannot show, said plainly."""
