"""The table design, read from the model classes and the access-pattern registry; the /design page.

Nothing here is written by hand: every registered PynamoDB model (`shared.dynamo`) gives its
keys, attribute types, indexes with their projections, TTL and version attributes; every
`@access_pattern` (`shared.access_patterns`) says which key or index serves which question and
which function serves it; every registered Peewee model gives the RDB side. The /design page,
`manage.py describe` (terminal and `--format json`) and both exports (`lens.exports`) read
this one data model, so changing a class changes all of them, and none can drift from the code.
"""

from __future__ import annotations

import dataclasses
import inspect
import re
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import peewee
from pynamodb.attributes import Attribute, TTLAttribute, VersionAttribute
from pynamodb.models import Model

from shared.access_patterns import AccessPattern, access_patterns
from shared.database import rdb_models
from shared.dynamo import base_table_name, models_by_table, registered_models
from shared.i18n import gettext as _
from shared.settings import PROJECT_ROOT

DEFAULT_BILLING_MODE = "PAY_PER_REQUEST"


@dataclass(frozen=True)
class PatternDesign:
    """One access pattern: the question, the DynamoDB call that answers it, who serves it."""

    name: str
    operation: str
    key: str
    index: str | None
    function: str
    source: str | None
    page: str | None
    notes: str


@dataclass(frozen=True)
class AttributeDesign:
    name: str
    dynamodb_type: str
    pynamodb_type: str
    nullable: bool
    roles: tuple[str, ...]
    item_types: tuple[str, ...]


@dataclass(frozen=True)
class IndexDesign:
    name: str
    kind: str
    hash_key: str
    range_key: str | None
    projection: str
    non_key_attributes: tuple[str, ...]
    patterns: tuple[PatternDesign, ...]


@dataclass(frozen=True)
class ItemTypeDesign:
    """One model class: one kind of item in a table (a table may hold several)."""

    model: str
    summary: str
    summary_ja: str
    attributes: tuple[str, ...]
    required_attributes: tuple[str, ...]
    version_attribute: str | None


@dataclass(frozen=True)
class TableDesign:
    base_name: str
    table_name: str
    item_types: tuple[ItemTypeDesign, ...]
    notes: str
    notes_ja: str
    hash_key: str
    range_key: str | None
    attributes: tuple[AttributeDesign, ...]
    indexes: tuple[IndexDesign, ...]
    ttl_attribute: str | None
    billing_mode: str
    patterns: tuple[PatternDesign, ...]
    problems: tuple[str, ...]

    def attribute(self, name: str) -> AttributeDesign:
        return next(attribute for attribute in self.attributes if attribute.name == name)


@dataclass(frozen=True)
class ColumnDesign:
    name: str
    type: str
    nullable: bool
    unique: bool
    indexed: bool
    references: str | None


@dataclass(frozen=True)
class RdbTableDesign:
    model: str
    table_name: str
    summary: str
    summary_ja: str
    columns: tuple[ColumnDesign, ...]
    indexes: tuple[tuple[str, ...], ...]


@dataclass(frozen=True)
class Design:
    tables: tuple[TableDesign, ...]
    rdb_tables: tuple[RdbTableDesign, ...]
    problems: tuple[str, ...]

    @property
    def all_problems(self) -> tuple[str, ...]:
        return self.problems + tuple(p for table in self.tables for p in table.problems)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


# -- reading the classes -------------------------------------------------------------------------


def describe_design() -> Design:
    """The whole design, as declared in code right now."""
    patterns = access_patterns()
    models = registered_models()
    tables = tuple(describe_table(group, patterns) for group in tables_of(models))
    orphans = tuple(
        _(
            "Access pattern {name!r} ({function}) names {model}, which is not a registered model."
        ).format(name=p.name, function=p.function, model=p.model.__name__)
        for p in patterns
        if p.model not in models
    )
    rdb = tuple(describe_rdb_table(model) for model in rdb_models())
    return Design(tables=tables, rdb_tables=rdb, problems=orphans)


def tables_of(models: Iterable[type[Model]]) -> list[list[type[Model]]]:
    """Registered models grouped by table, in registration order: several classes may share a
    table, one per kind of item (the single-table pattern)."""
    return list(models_by_table(models).values())


def describe_table(
    models: list[type[Model]], patterns: Iterable[AccessPattern] = ()
) -> TableDesign:
    """One table from the model classes of its items; where they disagree, a problem."""
    first = models[0]
    hash_key, range_key = _keys(first._get_schema()["key_schema"])
    own = [pattern_design(p) for p in patterns if p.model in models]
    indexes = _indexes(models, own)
    ttls = {name for m in models if (name := _attribute_name_of(m, TTLAttribute))}
    modules = [sys.modules[m.__module__] for m in models]
    notes = dict.fromkeys(inspect.getdoc(module) or "" for module in modules)
    notes_ja = dict.fromkeys(japanese_doc(module) for module in modules)
    return TableDesign(
        base_name=base_table_name(first),
        table_name=first.Meta.table_name,
        item_types=tuple(_item_type(model) for model in models),
        notes="\n\n".join(notes),
        notes_ja="\n\n".join(notes_ja),
        hash_key=hash_key,
        range_key=range_key,
        attributes=_attributes(models, hash_key, range_key, indexes, sorted(ttls)),
        indexes=indexes,
        ttl_attribute=min(ttls) if ttls else None,
        billing_mode=getattr(first.Meta, "billing_mode", None) or DEFAULT_BILLING_MODE,
        patterns=tuple(p for p in own if p.index is None),
        problems=_problems(own, indexes) + _disagreements(models, ttls),
    )


def _item_type(model: type[Model]) -> ItemTypeDesign:
    return ItemTypeDesign(
        model=f"{model.__module__}.{model.__qualname__}",
        summary=inspect.getdoc(model) or "",
        summary_ja=japanese_doc(model),
        attributes=tuple(a.attr_name or n for n, a in model.get_attributes().items()),
        required_attributes=tuple(
            a.attr_name or n for n, a in model.get_attributes().items() if not a.null
        ),
        version_attribute=_attribute_name_of(model, VersionAttribute),
    )


@dataclass(frozen=True)
class Package:
    """One top-level package of the house, as the /design page lists it."""

    name: str
    kind: str
    summary: str
    summary_ja: str


_layout: list[Package] = []


def show_layout(kind: str, packages: Iterable[ModuleType]) -> None:
    """The composition root names the packages of each kind (context, kernel, lens, engine);
    the page shows each with the first line of its docstring. Idempotent."""
    for package in packages:
        summary = (inspect.getdoc(package) or "").split("\n\n")[0].replace("\n", " ")
        summary_ja = japanese_doc(package).split("\n\n")[0].replace("\n", "")
        entry = Package(package.__name__, kind, summary, summary_ja)
        if entry not in _layout:
            _layout.append(entry)


def layout() -> list[Package]:
    return list(_layout)


def japanese_doc(owner: object) -> str:
    """The Japanese twin of a class's or module's docstring: `__doc_ja__`, set on the class or
    module itself (a subclass does not inherit its parent's)."""
    text = vars(owner).get("__doc_ja__") if hasattr(owner, "__dict__") else None
    return _unwrapped(inspect.cleandoc(text)) if isinstance(text, str) else ""


_BULLET = re.compile(r"^\s*([-*・]|\d+[.)]) ")


def _unwrapped(text: str) -> str:
    """Japanese sets no spaces between words, so the line breaks that keep the source under 100
    columns are joined back without one (with one where ASCII meets the break, as the text
    writes `GSI の`). Inside a `code span` nothing is ever added: an identifier or a key is
    never split by a space (the sources break lines outside code spans, and never between two
    ASCII letters or digits; a test holds them to it). A line continues the one before when it
    is indented like that line's text; a heading, a list item or a differently indented line
    starts a line of its own, as in the English docstring.
    """
    lines: list[str] = []
    for line in text.split("\n"):
        previous = lines[-1] if lines else ""
        continues = previous.strip() and line.strip() and not _BULLET.match(line)
        if continues and _indent(line) == _text_indent(previous):
            in_code = previous.count("`") % 2 == 1
            spaced = not in_code and _spaced(previous[-1], line.strip()[0])
            lines[-1] = previous + (" " if spaced else "") + line.strip()
            continue
        lines.append(line)
    return "\n".join(lines)


_CLOSE_UP = set("。、，．：）」』（「『")


def _spaced(before: str, after: str) -> bool:
    """A space where ASCII meets the break, as the Japanese text writes `GSI の` or `1 項目`."""
    return (before.isascii() or after.isascii()) and not {before, after} & _CLOSE_UP


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip())


def _text_indent(line: str) -> int:
    bullet = _BULLET.match(line)
    return bullet.end() if bullet else _indent(line)


def item_type_of(table: TableDesign, attribute_names: Iterable[str]) -> tuple[ItemTypeDesign, bool]:
    """The item type (model class) an item belongs to, told apart by its attributes as the
    design lists them; and whether it fits exactly.

    An item fits a class that declares every attribute it has and whose required (non-null)
    attributes it carries. When none fits, the class sharing the most attributes with it is
    named, so a stray or half-written item still shows where it probably came from.
    """
    names = frozenset(attribute_names)

    def fit(item_type: ItemTypeDesign) -> tuple[bool, bool, int, int]:
        declared = frozenset(item_type.attributes)
        required = frozenset(item_type.required_attributes)
        return names <= declared, required <= names, len(names & declared), -len(declared)

    best = max(table.item_types, key=fit)
    exact, complete, _, _ = fit(best)
    return best, exact and complete


def _keys(key_schema: Iterable[Mapping[str, object]]) -> tuple[str, str | None]:
    keys = {str(entry["KeyType"]): str(entry["AttributeName"]) for entry in key_schema}
    return keys["HASH"], keys.get("RANGE")


def _indexes(models: list[type[Model]], patterns: list[PatternDesign]) -> tuple[IndexDesign, ...]:
    """Every index any item type declares (PynamoDB's own schema: it has no public API)."""
    found: dict[str, IndexDesign] = {}
    for model in models:
        schema = model._get_schema()
        for kind in ("global", "local"):
            for index in schema[f"{kind}_secondary_indexes"]:  # type: ignore[literal-required]
                found.setdefault(index["index_name"], _index_design(index, kind, patterns))
    return tuple(found.values())


def _index_design(index: dict[str, Any], kind: str, patterns: list[PatternDesign]) -> IndexDesign:
    hash_key, range_key = _keys(index["key_schema"])
    projection = index["projection"]
    name = index["index_name"]
    return IndexDesign(
        name=name,
        kind=kind,
        hash_key=hash_key,
        range_key=range_key,
        projection=projection["ProjectionType"],
        non_key_attributes=tuple(projection.get("NonKeyAttributes", ())),
        patterns=tuple(p for p in patterns if p.index == name),
    )


def _attribute_name_of(model: type[Model], kind: type[Attribute[Any]]) -> str | None:
    for name, attribute in model.get_attributes().items():
        if isinstance(attribute, kind):
            return attribute.attr_name or name
    return None


def _attributes(
    models: list[type[Model]],
    hash_key: str,
    range_key: str | None,
    indexes: tuple[IndexDesign, ...],
    ttls: list[str],
) -> tuple[AttributeDesign, ...]:
    """The union of the item types' attributes, keys first."""
    found: dict[str, AttributeDesign] = {}
    for model in models:
        version = _attribute_name_of(model, VersionAttribute)
        for name, attribute in model.get_attributes().items():
            stored = attribute.attr_name or name
            if stored in found:
                known = found[stored]
                types = (*known.item_types, model.__name__)
                found[stored] = dataclasses.replace(known, item_types=types)
                continue
            found[stored] = AttributeDesign(
                name=stored,
                dynamodb_type=attribute.attr_type,
                pynamodb_type=type(attribute).__name__,
                nullable=bool(attribute.null),
                roles=_roles(stored, hash_key, range_key, indexes, ttls, version),
                item_types=(model.__name__,),
            )
    order = {hash_key: 0, range_key: 1}
    return tuple(sorted(found.values(), key=lambda a: order.get(a.name, 2)))


def _roles(
    name: str,
    hash_key: str,
    range_key: str | None,
    indexes: tuple[IndexDesign, ...],
    ttls: list[str],
    version: str | None,
) -> tuple[str, ...]:
    roles = [
        role
        for role, holds in (
            (_("partition key"), name == hash_key),
            (_("sort key"), name == range_key),
            ("TTL", name in ttls),
            (_("version (optimistic locking)"), name == version),
        )
        if holds
    ]
    for index in indexes:
        if name == index.hash_key:
            roles.append(_("{index} partition key").format(index=index.name))
        elif name == index.range_key:
            roles.append(_("{index} sort key").format(index=index.name))
    return tuple(roles)


def _disagreements(models: list[type[Model]], ttls: set[str]) -> tuple[str, ...]:
    """What item types of one table must agree on: the key schema, and the one TTL attribute."""
    problems = []
    keys = {m.__name__: _keys(m._get_schema()["key_schema"]) for m in models}
    if len(set(keys.values())) > 1:
        problems.append(
            _("The item types of one table declare different keys: {keys}.").format(keys=keys)
        )
    types: dict[str, set[str]] = {}
    for model in models:
        for name, attribute in model.get_attributes().items():
            types.setdefault(attribute.attr_name or name, set()).add(attribute.attr_type)
    problems += [
        _("Attribute {name!r} has different types in different item types: {kinds}.").format(
            name=name, kinds=sorted(kinds)
        )
        for name, kinds in types.items()
        if len(kinds) > 1 and any(name in key for key in keys.values())
    ]
    if len(ttls) > 1:
        problems.append(
            _("A table has one TTL attribute, but its item types name {names}.").format(
                names=sorted(ttls)
            )
        )
    return tuple(problems)


def _problems(patterns: list[PatternDesign], indexes: tuple[IndexDesign, ...]) -> tuple[str, ...]:
    declared = {index.name for index in indexes}
    problems = [
        _(
            "Access pattern {name!r} names index {index!r}, which the class does not declare."
        ).format(name=p.name, index=p.index)
        for p in patterns
        if p.index is not None and p.index not in declared
    ]
    problems += [
        _(
            "No access pattern uses {index}: every write of an item that carries its key still "
            "pays for it."
        ).format(index=index.name)
        for index in indexes
        if not index.patterns
    ]
    return tuple(problems)


def pattern_design(pattern: AccessPattern) -> PatternDesign:
    return PatternDesign(
        name=pattern.name,
        operation=pattern.operation,
        key=pattern.key,
        index=pattern.index,
        function=pattern.function,
        source=source_of(pattern.function),
        page=pattern.page,
        notes=pattern.notes,
    )


def source_of(function: str) -> str | None:
    """`engagement/likes/service.py:42` for `engagement.likes.service.like_post`, if found."""
    target = resolve(function)
    return None if target is None else _location(target)


def resolve(function: str) -> Any:
    """The object a dotted name (module path + qualified name) stands for, or None."""
    module_name, _, qualname = function.partition(".")
    while qualname:
        module = sys.modules.get(module_name)
        if module is not None:
            target: Any = module
            for part in qualname.split("."):
                target = getattr(target, part, None)
            if target is not None:
                return target
        head, _, qualname = qualname.partition(".")
        module_name = f"{module_name}.{head}"
    return None


def code_of_access_pattern(function: str) -> tuple[str, str] | None:
    """(location, source) of a function that serves a declared access pattern; None for any
    other name, so the page can never be used to read arbitrary code."""
    if function not in {pattern.function for pattern in access_patterns()}:
        return None
    target = resolve(function)
    try:
        source = inspect.getsource(target)
    except (TypeError, OSError):
        return None
    return _location(target) or function, source


def _location(target: Any) -> str | None:
    try:
        path = inspect.getsourcefile(target)
        line = inspect.getsourcelines(target)[1]
    except (TypeError, OSError):
        return None
    if path is None:
        return None
    try:
        shown = str(Path(path).relative_to(PROJECT_ROOT))
    except ValueError:
        shown = path
    return f"{shown}:{line}"


def describe_rdb_table(model: type[peewee.Model]) -> RdbTableDesign:
    meta = model._meta
    columns = tuple(
        ColumnDesign(
            name=field.column_name,
            type=str(field.field_type),
            nullable=bool(field.null),
            unique=bool(field.unique),
            indexed=bool(field.index or field.unique or field.primary_key),
            references=field.rel_model._meta.table_name
            if isinstance(field, peewee.ForeignKeyField)
            else None,
        )
        for field in meta.sorted_fields
    )
    indexes = tuple(tuple(names) for names, _unique in meta.indexes)
    return RdbTableDesign(
        model=f"{model.__module__}.{model.__qualname__}",
        table_name=meta.table_name,
        summary=inspect.getdoc(model) or "",
        summary_ja=japanese_doc(model),
        columns=columns,
        indexes=indexes,
    )
