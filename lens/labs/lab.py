"""What a lab is: its options, what it proves and mirrors, how it runs and how its results read.

A lab is declared once, in its own module, plus one line in `registry.py`:

* its options are one pydantic model, a subclass of `LabOptions`: each field has a default,
  bounds as `Field` constraints (`ge`, `le`, and `min_length`/`max_length` for a list) and its
  text for people as msgids (`title=N_(...)` is the label, `description=N_(...)` the help);
* a `run` function measures on the tables a `LabContext` gives it and returns the result as
  plain JSON-ready data, and a `view` function turns that result into what a person reads: a
  chart, tables and the sentence saying what the figures show;
* `LAB = Lab(...)` names it and ties these together.

Everything else is generated from the options model: the form on the lab's page and its
checks, the `manage.py lab NAME --option` command, and the JSON API's request schema (with its
constraints in /openapi.json). `option_specs` reads the model's JSON schema, the same document
the API publishes, so the form, the CLI and the API cannot disagree on a bound or a default.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, ValidationError, field_validator, model_validator

from shared.errors import InvalidInput
from shared.i18n import gettext as _

if TYPE_CHECKING:
    from pydantic_core import ErrorDetails

    from lens.labs.charts import Chart
    from lens.labs.context import LabContext

Result = dict[str, Any]
OptionKind = Literal["int", "ints", "choice"]


class LabOptions(BaseModel):
    """The options of one lab. Whole numbers (`int`), a set of whole numbers (`list[int]`,
    written `1000,5000` on the form and the CLI, kept in ascending order without repeats) or
    one of a few words (a `Literal`); every field needs a `title` (its label)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        """A lab that declares an option the form or the CLI cannot draw fails on import, not
        when someone opens its page."""
        super().__pydantic_init_subclass__(**kwargs)
        for name, field in cls.model_fields.items():
            if not field.title:
                raise TypeError(f"{cls.__name__}.{name} needs a title (its label), as N_(...)")
        option_specs(cls)

    @model_validator(mode="before")
    @classmethod
    def _lists_from_text(cls, data: Any) -> Any:
        """`"1000, 5_000"` from a form or a flag is the list [1000, 5000]."""
        if not isinstance(data, Mapping):
            return data
        lists = {spec.name for spec in option_specs(cls) if spec.kind == "ints"}
        return {
            name: _split(value) if name in lists and isinstance(value, str) else value
            for name, value in data.items()
        }

    @field_validator("*", mode="after")
    @classmethod
    def _lists_as_sets(cls, value: Any) -> Any:
        return sorted(set(value)) if isinstance(value, list) else value


def _split(text: str) -> list[str]:
    return [part.strip().replace("_", "") for part in text.split(",") if part.strip()]


@dataclass(frozen=True)
class OptionSpec:
    """One option as the form, the CLI and the labs' JSON show it; read from the JSON schema."""

    name: str
    label: str
    help: str
    kind: OptionKind
    default: Any
    low: int | None = None
    high: int | None = None
    step: int = 1
    min_items: int = 1
    max_items: int | None = None
    choices: tuple[str, ...] = ()

    @property
    def flag(self) -> str:
        return "--" + self.name.replace("_", "-")

    @property
    def text_default(self) -> str:
        """The default as typed on the form or after the flag."""
        if isinstance(self.default, list):
            return ",".join(map(str, self.default))
        return str(self.default)


@cache
def option_specs(options_class: type[LabOptions]) -> tuple[OptionSpec, ...]:
    """Every option of a lab, in declaration order, from its model's JSON schema."""
    schema = options_class.model_json_schema()
    return tuple(
        _spec(name, prop, options_class.__name__) for name, prop in schema["properties"].items()
    )


def _spec(name: str, prop: dict[str, Any], owner: str) -> OptionSpec:
    common = {
        "name": name,
        "label": prop["title"],
        "help": prop.get("description", ""),
        "default": prop.get("default"),
    }
    if prop.get("type") == "integer":
        return OptionSpec(kind="int", **common, **_bounds(prop))
    if prop.get("type") == "array" and prop.get("items", {}).get("type") == "integer":
        return OptionSpec(
            kind="ints",
            **common,
            **_bounds(prop["items"]),
            min_items=prop.get("minItems", 1),
            max_items=prop.get("maxItems"),
        )
    if "enum" in prop:
        return OptionSpec(kind="choice", **common, choices=tuple(map(str, prop["enum"])))
    raise TypeError(f"{owner}.{name}: a lab option is an int, a list[int] or a Literal of words")


def _bounds(prop: dict[str, Any]) -> dict[str, Any]:
    """A number option needs both bounds: each run loads an engine, so no value is unbounded."""
    if "minimum" not in prop or "maximum" not in prop:
        raise TypeError(f"{prop.get('title')!r}: a number option needs Field(ge=..., le=...)")
    return {
        "low": prop.get("minimum"),
        "high": prop.get("maximum"),
        "step": prop.get("multipleOf", 1),
    }


def build_options(options_class: type[LabOptions], raw: Mapping[str, Any]) -> Any:
    """The options from form fields or CLI values (text or numbers), checked by the model; a
    refused value is an `InvalidInput` that names the option and says what it takes."""
    try:
        return options_class.model_validate(dict(raw))
    except ValidationError as error:
        raise refusal(options_class, error) from None


def refusal(options_class: type[LabOptions], error: ValidationError) -> InvalidInput:
    """pydantic's errors as one sentence per option, in the learner's language."""
    specs = {spec.name: spec for spec in option_specs(options_class)}
    errors = error.errors()
    unknown = sorted(str(e["loc"][0]) for e in errors if e["type"] == "extra_forbidden")
    if unknown:
        return InvalidInput(
            _("Unknown option(s) for this lab: {value}.").format(value=", ".join(unknown))
        )
    first = errors[0]
    spec = specs[str(first["loc"][0])]
    return InvalidInput(_sentence(spec, first), field=spec.flag)


def _sentence(spec: OptionSpec, error: ErrorDetails) -> str:
    kind, flag = error["type"], spec.flag
    in_list = len(error["loc"]) > 1
    if kind in ("greater_than_equal", "less_than_equal", "greater_than", "less_than"):
        return _("{flag} must be between {low:,} and {high:,} (got {number:,}).").format(
            flag=flag, low=spec.low, high=spec.high, number=int(error["input"])
        )
    if kind in ("int_parsing", "int_type", "int_from_float") and in_list:
        return _("{flag} takes whole numbers separated by commas.").format(flag=flag)
    if kind in ("int_parsing", "int_type", "int_from_float"):
        return _("{flag} must be a whole number.").format(flag=flag)
    if kind in ("too_short", "too_long"):
        return _("{flag} takes {low} to {high} values.").format(
            flag=flag, low=spec.min_items, high=spec.max_items
        )
    if kind in ("literal_error", "enum"):
        return _("{flag} must be one of: {value}.").format(flag=flag, value=", ".join(spec.choices))
    if kind == "multiple_of":
        return _("{flag} must be a multiple of {step:,}.").format(flag=flag, step=spec.step)
    return f"{flag}: {error['msg']}"


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
    """One lab: `name` is its command (`manage.py lab NAME`) and its page (`/labs/NAME`);
    `title`, `proves` and `lesson` are msgids; `pages` the lesson panels that link to it."""

    name: str
    title: str
    proves: str
    lesson: str
    mirrors: Sequence[Mirror]
    pages: Sequence[str]
    options: type[LabOptions]
    run: Callable[[LabContext, Any], Result]
    view: Callable[[Result], LabView]
    engine_options: Callable[[Any], dict[str, Any]] = lambda _options: {}
    elsewhere: Callable[[Any], Sequence[str]] = lambda _options: ()
    """What an engine other than the private one cannot show, said plainly."""
